/**
 * X-Request-Id from ingest to the webhook delivery it caused, through a real Crest: the API echoes the id
 * (or makes one), logs it with the ingest, the request's first stream entry per shard carries it for all its
 * entries, the detector's suggestion carries it on, and the alert worker's "webhook delivered" line names it. The log of the whole
 * run (at debug, JSON) holds none of the run's secrets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scriptedRise, startTestCrest, TEST_SECRET, waitFor, type TestCrest } from './support/crest.ts';
import { createLogger } from '../server/logger.ts';
import { createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { shardOf } from '../core/sharding.ts';
import { fieldOf } from '../workers/stream-entry.ts';
import { DetectorWorker } from '../workers/detector-worker.ts';
import { silentLogger } from '../server/logger.ts';
import { exitsWithin } from './support/exit-watch.ts';

const lines: string[] = [];
let crest: TestCrest;
let receiver: Server;
let receiverUrl = '';
const WEBHOOK_SECRET = 'whsec-request-id-test-0123456789';

before(async () => {
  crest = await startTestCrest({}, { log: createLogger('debug', { json: true, write: (l) => lines.push(l), secrets: [TEST_SECRET] }) });
  receiver = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
after(async () => {
  await crest.close();
  await new Promise((ok) => receiver.close(ok));
});
exitsWithin();

const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

test('a request id, the caller\'s or one made here, travels from the ingest request to the webhook delivery it caused, and into no secret-bearing line', async () => {
  // Two rooms: one whose client sends its own ids, one whose client sends none (the API makes them).
  const rooms = ['rid-room', 'rid-made'] as const;
  const op = crest.token('operator', [...rooms]);
  const ingestToken = crest.token('ingest', '*');
  for (const room of rooms) {
    const sub = await crest.api('/api/v1/webhooks', {
      method: 'POST',
      token: op,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl, room, audience: 'buyer', secret: WEBHOOK_SECRET }),
    });
    assert.equal(sub.status, 201, await sub.text());
  }

  const sent = new Map<string, Set<string>>(rooms.map((r) => [r, new Set<string>()]));
  for (const room of rooms) {
    const { events } = scriptedRise(room, Date.now() - 15 * 60_000);
    for (let i = 0, n = 0; i < events.length; i += 100, n++) {
      const given = room === 'rid-room' ? `rise-${n}` : undefined;
      const r = await crest.api('/api/v1/events', { method: 'POST', token: ingestToken, body: JSON.stringify(events.slice(i, i + 100)), headers: { 'content-type': 'application/json', ...(given ? { 'x-request-id': given } : {}) } });
      assert.equal(r.status, 200, await r.text());
      const id = r.headers.get('x-request-id') ?? '';
      if (given) assert.equal(id, given, 'the given id is echoed');
      else assert.match(id, /^[A-Za-z0-9_-]{14,}$/, 'a made id is echoed');
      sent.get(room)!.add(id);
    }
  }

  const stored = createRedis(crest.redisUrl);
  try {
    const first = (await stored.xrange(keys.events(shardOf('rid-room', crest.config.shards)), '-', '+', 'COUNT', 3)) as [string, string[]][];
    assert.equal(fieldOf(first[0]![1], 'q'), 'rise-0', 'the first stream entry of a request carries its id');
    assert.equal(fieldOf(first[0]![1], 'qn'), '100', '… and how many entries the request appended there');
    assert.equal(fieldOf(first[1]![1], 'q'), undefined, 'the request\'s other entries do not repeat it');
  } finally {
    stored.disconnect();
  }

  for (const room of rooms) {
    const delivery = await waitFor(`a "webhook delivered" line for ${room}`, 20_000, () => records().find((r) => r.msg === 'webhook delivered' && r.room === room));
    assert.ok(typeof delivery.requestId === 'string' && sent.get(room)!.has(delivery.requestId), `the delivery names a request of ${room} (${String(delivery.requestId)})`);
    assert.ok(
      records().some((r) => r.msg === 'ingest' && r.requestId === delivery.requestId && Number(r.accepted) > 0),
      'the ingest of that request is logged under the same id',
    );
  }

  // Made ids differ from one request to the next.
  const room = 'rid-room';
  const made = (await crest.post([{ id: 'x1', room, ts: Date.now(), type: 'stream.end' }])).headers.get('x-request-id');
  const again = (await crest.post([{ id: 'x2', room, ts: Date.now(), type: 'stream.end' }])).headers.get('x-request-id');
  assert.notEqual(again, made, 'made ids differ');
  const odd = await crest.api('/api/v1/events', { method: 'POST', token: ingestToken, body: 'not json', headers: { 'x-request-id': 'has space "quote"' } });
  assert.notEqual(odd.headers.get('x-request-id'), 'has space "quote"', 'an unsafe id is replaced');
  assert.ok(records().some((r) => r.msg === 'request refused' && r.requestId === odd.headers.get('x-request-id') && r.status === 400), 'the refusal is logged with its id');

  const log = lines.join('\n');
  for (const secret of [TEST_SECRET, op, ingestToken, ingestToken.split('.')[2]!, WEBHOOK_SECRET]) {
    assert.ok(!log.includes(secret), `no secret in the log: ${secret.slice(0, 8)}…`);
  }
});

test('a request id reaches every output of its events, though the detector reads them in batches that cut requests apart', async () => {
  const api = await startTestCrest({ CREST_ROLES: 'api', CREST_SHARDS: '1' });
  const d = new DetectorWorker({
    redisUrl: api.redisUrl,
    shards: 1,
    leaseMs: api.config.leaseMs,
    engine: api.config.engine,
    outStreamMaxLen: api.config.outStreamMaxLen,
    eventRetentionMs: api.config.eventRetentionMs,
    log: silentLogger,
    // 37 entries a batch against 100 events a request: most requests start in one batch and end in the next.
    batchSize: 37,
  });
  const redis = createRedis(api.redisUrl);
  try {
    // One event a second, request k holding seconds [100k, 100k + 100) of event time: a tick at second T is
    // made by the event just after it, which belongs to request floor(T / 100) except at a request's edges.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60 * 60_000;
    const REQUESTS = 6;
    for (let k = 0; k < REQUESTS; k++) {
      const events = Array.from({ length: 100 }, (_, j) => {
        const s = k * 100 + j;
        return { id: `b${s}`, room: 'rid-batches', ts: t0 + s * 1000, type: 'viewer.enter', viewer: `u${s}`, source: 'public' };
      });
      const r = await api.api('/api/v1/events', { method: 'POST', token: api.token('ingest', '*'), body: JSON.stringify(events), headers: { 'content-type': 'application/json', 'x-request-id': `req-${k}` } });
      assert.equal(r.status, 200, await r.text());
    }
    await d.start();
    const ticks = await waitFor('the ticks of every request', 20_000, async () => {
      const out = (await redis.xrange(keys.out(0), '-', '+')) as [string, string[]][];
      const found: { s: number; rid?: string }[] = [];
      for (const [, fields] of out) {
        for (const v of fields) {
          if (!v.startsWith('{')) continue;
          const u = JSON.parse(v) as { type?: string; tick?: { ts: number }; rid?: string };
          if (u.type === 'tick' && u.tick) found.push({ s: (u.tick.ts - t0) / 1000, rid: u.rid });
        }
      }
      return found.some((t) => t.s >= (REQUESTS - 1) * 100 + 90) ? found : undefined;
    });
    assert.ok(ticks.length >= 400, `ticks made: ${ticks.length}`);
    const wrong = ticks.filter((t) => t.s % 100 >= 2 && t.s % 100 <= 97 && t.rid !== `req-${Math.floor(t.s / 100)}`);
    assert.deepEqual(wrong.slice(0, 5), [], `ticks named with another request's id, or none (${wrong.length} of ${ticks.length})`);
  } finally {
    await d.stop();
    redis.disconnect();
    await api.close();
  }
});
