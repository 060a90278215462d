/**
 * /metrics of a running Crest (API + gateway + detector thread + alert worker, as `crest start` runs them)
 * under load, and while the requests are in flight: the output is Prometheus text that prom-client's own
 * format rules accept (one # TYPE per family), and between two scrapes the series move by what the test did: events accepted, ingest requests
 * timed, events through the detector, updates to sockets, a webhook delivered; and a worker process without an API
 * (`crest worker alerts`) shows its own process metrics there, apart from the API's.
 */
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { parsePrometheus, type Scrape } from './support/prom-text.ts';
import { createRedis } from '../server/redis-connection.ts';
import type { RedisClient } from '../server/lua/scripts.ts';
import { WorkerMetrics } from '../server/metrics-registry.ts';
import { spawnWorker } from './support/detector-process.ts';
import { MetricsPublisher } from '../server/metrics-publisher.ts';
import { silentLogger } from '../server/logger.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
let redis: RedisClient;
let receiver: Server;
let receiverUrl = '';
let delivered = 0;
/** The scrape after the load test: every series Crest has shows in it. */
let loaded: Scrape | null = null;
/** A scrape while a `crest worker alerts` process publishes: its process metrics show in it. */
let workerScrape: Scrape | null = null;

before(async () => {
  crest = await startTestCrest({ CREST_RATE_LIMIT_PER_S: '0' });
  redis = createRedis(crest.redisUrl);
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered++;
      res.end('ok');
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
after(async () => {
  redis.disconnect();
  await crest.close();
  await new Promise((ok) => receiver.close(ok));
});
exitsWithin();

async function scrape(): Promise<{ text: string; m: Scrape }> {
  const r = await crest.api('/metrics');
  assert.equal(r.status, 200, 'GET /metrics answers 200');
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/, 'Prometheus text content type');
  const text = await r.text();
  return { text, m: parsePrometheus(text) };
}

/** Realistic filler traffic over `rooms` rooms, event time = now. */
function filler(batch: number, size: number, rooms: number): Record<string, unknown>[] {
  const now = Date.now();
  return Array.from({ length: size }, (_, i) => {
    const room = `load-${(batch * size + i) % rooms}`;
    const id = `f-${batch}-${i}`;
    return i % 10 === 0
      ? { id, room, ts: now, type: 'room.online', count: 100 + i }
      : { id, room, ts: now, type: 'viewer.enter', viewer: `v${batch}-${i}`, source: 'public' };
  });
}

test('under load, /metrics is valid Prometheus text and its series move: ingest, detector, sockets, webhooks, process', async () => {
  const room = 'metrics-rise';
  const op = crest.token('operator', [room]);
  const sub = await crest.api('/api/v1/webhooks', {
    method: 'POST',
    token: op,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiverUrl, room, audience: 'buyer' }),
  });
  assert.equal(sub.status, 201, await sub.text());
  const socket = await crest.socket(crest.token('operator', '*'));
  assert.equal((await join(socket, room)).ok, true, 'the socket joins the room');

  const first = await scrape();
  const m1 = first.m;
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.ok(m1.has(name), `default process metric ${name} present`);
  }
  assert.equal(m1.sum('crest_sockets'), 1, 'one socket connected');
  assert.equal(m1.types.get('crest_ingest_request_duration_seconds'), 'histogram', 'ingest request time is a histogram');

  // Load: the scripted rise (its boost.now goes to the webhook) and filler over 50 rooms, 6 requests in flight.
  const { events } = scriptedRise(room, Date.now() - 15 * 60_000);
  const bodies: Record<string, unknown>[][] = [];
  for (let i = 0; i < events.length; i += 200) bodies.push(events.slice(i, i + 200));
  for (let b = 0; b < 40; b++) bodies.push(filler(b, 250, 50));
  const sent = bodies.reduce((n, b) => n + b.length, 0);
  const started = Date.now();
  let next = 0;
  let posting = true;
  // Scraped while the requests are in flight too, as Prometheus would: each answer is whole, valid text, and the
  // ingest count it shows only grows.
  const during: number[] = [];
  const posters = Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < bodies.length) {
        const r = await crest.post(bodies[next++]);
        assert.equal(r.status, 200, await r.text());
      }
    }),
  ).finally(() => (posting = false));
  const scraper = (async () => {
    while (posting) {
      during.push((await scrape()).m.sum('crest_ingest_request_duration_seconds_count'));
      await new Promise((ok) => setTimeout(ok, 50));
    }
  })();
  await Promise.all([posters, scraper]);
  const postMs = Date.now() - started;
  const refused = await crest.api('/api/v1/events', { method: 'POST', token: crest.token('ingest', '*'), body: 'not json', headers: { 'content-type': 'application/json' } });
  assert.equal(refused.status, 400, 'a body that is not JSON is refused');
  await waitCaughtUp(redis, crest.config.shards, 20_000);
  await waitFor('the webhook delivered', 20_000, () => (delivered > 0 ? true : undefined));

  const second = await scrape();
  const m2 = second.m;
  loaded = m2;
  const d = (name: string, where?: Record<string, string>) => m2.sum(name, where) - m1.sum(name, where);
  assert.equal(d('crest_ingest_events_accepted_total'), sent, 'every event sent counted as accepted');
  // How many fit depends on the machine (4 in 1.2 s at load 7); the first starts with the requests.
  assert.ok(during.length >= 1, 'scraped while the load ran');
  assert.ok(during.every((c, i) => c >= (during[i - 1] ?? 0) && c <= m2.sum('crest_ingest_request_duration_seconds_count')), `the ingest count only grows across scrapes under load: ${during}`);
  assert.equal(d('crest_ingest_request_duration_seconds_count', { status: '200' }), bodies.length, 'every ingest request timed');
  assert.ok(d('crest_ingest_request_duration_seconds_sum') > 0, 'ingest request time summed');
  assert.equal(d('crest_ingest_request_duration_seconds_count', { status: '400' }), 1, 'a refused ingest request is timed under its status');
  assert.equal(d('crest_http_errors_total', { status: '400' }), 1, 'the refusal counted as an HTTP error');
  // Histograms of the detector thread and the alert worker come through the worker aggregation.
  assert.ok(d('crest_detector_lag_seconds_count') >= sent, `detector lag observed per event (${d('crest_detector_lag_seconds_count')} of ${sent})`);
  const shardsSeen = new Set(m2.samples.filter((s) => s.name === 'crest_detector_lag_seconds_count').map((s) => s.labels.shard));
  assert.ok(shardsSeen.size >= 2, `detector lag per shard (${[...shardsSeen].join(',')})`);
  assert.ok(d('crest_event_to_socket_seconds_count', { type: 'tick' }) > 0, 'event→socket lag observed for ticks');
  assert.ok(d('crest_webhook_delivery_seconds_count', { result: 'delivered' }) >= 1, 'webhook delivery timed as delivered');
  assert.ok(d('process_cpu_user_seconds_total') > 0, 'process CPU moved');
  assert.ok(m2.sum('crest_live_rooms') >= 51, `live rooms counted (${m2.sum('crest_live_rooms')})`);
  assert.equal(m2.sum('crest_detector_backlog_events'), 0, 'no backlog once caught up');
  assert.ok(m2.samples.some((s) => s.name === 'crest_queue_jobs' && s.labels.queue === 'crest-webhooks'), 'webhook queue depth reported');
  assert.ok(m2.samples.some((s) => s.name === 'crest_queue_jobs' && s.labels.queue === 'crest-plans'), 'plan queue depth reported');

  // Histogram shape: cumulative buckets ending at +Inf = _count, for every labelled series.
  for (const [family, type] of m2.types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, number[]>();
    for (const s of m2.samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s.value]);
      if (s.labels.le === '+Inf') assert.equal(s.value, m2.sum(`${family}_count`, rest), `${family}${key}: +Inf bucket = _count`);
    }
    for (const [key, counts] of series) assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]!), `${family}${key}: buckets cumulative`);
  }
  const ingestCount = m2.sum('crest_ingest_request_duration_seconds_count');
  const ingestSum = m2.sum('crest_ingest_request_duration_seconds_sum');
  console.log(`# ${sent} events in ${bodies.length} requests, ${postMs} ms, ${during.length} scrapes meanwhile; mean ingest request ${((ingestSum / ingestCount) * 1000).toFixed(1)} ms; /metrics ${second.text.length} bytes, ${m2.samples.length} samples`);
});

test('a worker process without an API (crest worker alerts) shows on /metrics through Redis, summed with the local one, until it stops', async () => {
  const before = (await scrape()).m;
  const remote = new WorkerMetrics();
  for (const s of [0.05, 0.2, 3]) remote.webhookDelivery.observe({ result: 'dead-lettered' }, s);
  const publisher = new MetricsPublisher(redis, 'test-worker-1', async () => [await remote.json()], silentLogger);
  await publisher.publish();
  const during = (await scrape()).m;
  const dead = (m: Scrape) => m.sum('crest_webhook_delivery_seconds_count', { result: 'dead-lettered' });
  assert.equal(dead(during) - dead(before), 3, 'the remote registry is added to the local one');
  assert.equal(during.sum('crest_webhook_delivery_seconds_bucket', { result: 'dead-lettered', le: '0.25' }) - before.sum('crest_webhook_delivery_seconds_bucket', { result: 'dead-lettered', le: '0.25' }), 2, 'buckets add up');
  await publisher.stop();
  assert.equal(dead((await scrape()).m), dead(before), 'a stopped worker drops out');
});

test('a `crest worker alerts` process publishes its own process metrics, named and labelled apart from the API\'s, and they move', async () => {
  const child = spawnWorker('alerts', crest);
  const exited = new Promise((ok) => child.once('exit', ok));
  const cpuOf = (m: Scrape) =>
    m.samples.filter((s) => s.name === 'crest_worker_process_cpu_user_seconds_total' && s.labels.role === 'alerts' && s.labels.proc?.includes(`:${child.pid}:`));
  try {
    const first = await waitFor('the worker process metrics on /metrics', 30_000, async () => {
      const found = cpuOf((await scrape()).m);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(first.length, 1, `one CPU series for the worker process: ${JSON.stringify(first)}`);
    const { proc } = first[0]!.labels;
    const m = (await scrape()).m;
    workerScrape = m;
    const ofProc = (name: string) => m.samples.filter((s) => s.name === name && s.labels.proc === proc);
    assert.ok(ofProc('crest_worker_process_resident_memory_bytes')[0]!.value > 10e6, 'the worker\'s RSS is its own (not a sum)');
    const startS = ofProc('crest_worker_process_start_time_seconds')[0]?.value ?? 0;
    assert.ok(Math.abs(startS - Date.now() / 1000) < 120, `the worker\'s start time is kept (${startS})`);
    assert.ok(ofProc('crest_worker_nodejs_heap_size_used_bytes').length === 1, 'heap metrics published too');
    // The API's own process metrics keep their names and carry no worker label.
    const apiCpu = m.samples.filter((s) => s.name === 'process_cpu_user_seconds_total');
    assert.equal(apiCpu.length, 1, 'one API process CPU series');
    assert.equal(apiCpu[0]!.labels.proc, undefined, 'the API process series has no proc label');
    // A later publish (every 5 s) brings the worker's CPU time on.
    await waitFor('the worker CPU time moved', 20_000, async () => ((cpuOf((await scrape()).m)[0]?.value ?? 0) > first[0]!.value ? true : undefined));
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  // Its publisher removed its entry on the way out.
  assert.equal(cpuOf((await scrape()).m).length, 0, 'a stopped worker process drops out');
});

test('every metric the Grafana dashboard queries is in a real scrape, with the labels it groups by', () => {
  assert.ok(loaded, 'the load test ran first and kept its scrape');
  assert.ok(workerScrape, 'the worker process test ran first and kept its scrape');
  const dash = JSON.parse(readFileSync(new URL('../docs/grafana/crest-dashboard.json', import.meta.url), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 15, `the dashboard has queries (${exprs.length})`);
  const names = new Set<string>();
  for (const { panel, expr } of exprs) {
    const used = expr.match(/\b(?:crest|process|nodejs)_[a-z0-9_]+/g) ?? [];
    assert.ok(used.length > 0, `${panel}: ${expr} names a metric`);
    for (const name of used) {
      names.add(name);
      const samples = [...loaded.samples, ...(workerScrape?.samples ?? [])].filter((s) => s.name === name);
      assert.ok(samples.length > 0, `${panel}: ${name} is in the scrape`);
      // Prometheus adds `instance`; `le` is every bucket's.
      for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of by[1]!.split(',').map((l) => l.trim()).filter((l) => l !== 'instance')) {
          assert.ok(samples.some((s) => label in s.labels), `${panel}: ${name} has label ${label}`);
        }
      }
    }
  }
  console.log(`# dashboard: ${dash.panels.length} panels, ${exprs.length} queries, ${names.size} metric names, all in the scrape`);
});
