/**
 * Fan-out: 10,000 socket.io clients (websocket transport, in processes of their own, never the server's) over
 * 1,000 rooms, one tick per room per second, through one gateway and then through two.
 *
 * The Crest under test (API + gateway + detector in one child process, as `crest start`) gets one `room.online`
 * per room right after each wall-clock second boundary, so each room's tick for that boundary is emitted at once
 * (the engine ticks on event time). Lag = receipt − tick.ts (the boundary's event time): it includes the few ms
 * between the boundary and our post, and the whole pipeline. Same machine, same clock. Delivered = receipts of
 * the boundaries inside the sample (counted per boundary, by each tick's event time, from receipts up to 1.5 s
 * after the sample) over clients × boundaries. With two gateways the second is a `crest worker api` process
 * (API + socket.io, no detector) on the same Redis; the client processes split between the two (process i on
 * gateway i mod 2), as a load balancer would spread viewers.
 * The clients run in `--client-procs` processes (default 2, one per core of the bench machine), each with
 * its share of the sockets. With all 5,000 in one process, that process needed ~290 ms of CPU to take in
 * one second's burst of 5,000 ticks, so the lag it measured was mostly its own queue (commit → receipt p50
 * 123 ms, client loop delay p99 70 ms, at 0.33 server cores). Real viewers are 10,000 separate devices.
 * Each client process's event-loop delay is reported: if the clients, not the server, were the
 * bottleneck it would show there.
 *   node --import tsx bench/fanout.ts [--quick] [--clients 10000] [--rooms 1000] [--seconds 30] [--client-procs 2] [--gateways 1,2] [--json FILE]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { argNumber, argValue, main, pct, QUICK, sleep, summarize, type Figure, type PartResult } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';
import { parsePrometheus, type Scrape } from '../test/support/prom-text.ts';
import { EventPoster } from './support/http-post.ts';
import { CpuMeter } from './support/proc.ts';
import { startBenchRedis } from './support/redis.ts';
import { spawnCrest, type CrestChild } from './support/spawn-crest.ts';

type Reply = Record<string, unknown>;
interface ClientReport {
  received: number;
  seconds: number;
  stillConnected: number;
  lags: number[];
  toCommit: number[];
  commitToSocket: number[];
  loopDelayP99Ms: number;
  rss: number;
  bySecond: Record<string, number>;
}

/** One client process and its replies, in order. */
function clientProcess() {
  const child = fork(fileURLToPath(new URL('./support/fanout-clients.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Reply[] = [];
  let wake: (() => void) | null = null;
  child.on('message', (m: Reply) => {
    replies.push(m);
    wake?.();
  });
  const next = async (): Promise<Reply> => {
    while (replies.length === 0) await new Promise<void>((ok) => (wake = ok));
    return replies.shift()!;
  };
  return { child, next };
}

/** Cumulative `crest_event_to_socket_seconds{type="tick"}` buckets of one gateway's /metrics, read by the tests' strict parser. */
async function tickEmitBuckets(url: string): Promise<Scrape> {
  return parsePrometheus(await (await fetch(`${url}/metrics`)).text());
}

/**
 * The server's side of the lag (detector and gateway), from the sample's bucket deltas: the share of tick broadcasts it finished
 * (every socket of the room written) within 100 and 250 ms of the append of the event (or clock record) that made the tick.
 * Beside the clients' receipts it tells the server's delay from the clients' own queue.
 */
function emitShares(before: Scrape, after: Scrape): { n: number; within100: number; within250: number } {
  const at = (s: Scrape, le: string) => s.sum('crest_event_to_socket_seconds_bucket', { type: 'tick', le });
  const d = (le: string) => at(after, le) - at(before, le);
  const n = d('+Inf');
  return { n, within100: n > 0 ? d('0.1') / n : 0, within250: n > 0 ? d('0.25') / n : 0 };
}

export async function runFanout(): Promise<PartResult> {
  const opts = {
    clients: argNumber('clients', QUICK ? 1_000 : 10_000),
    roomCount: argNumber('rooms', QUICK ? 100 : 1_000),
    seconds: argNumber('seconds', QUICK ? 5 : 30),
    procs: argNumber('client-procs', 2),
  };
  const gatewayRuns = (argValue('gateways') ?? (QUICK ? '1' : '1,2')).split(',').map(Number);
  if (gatewayRuns.some((g) => !(g === 1 || g === 2))) throw new Error('--gateways: a comma list of 1 and/or 2');
  const runs: { figures: Figure[]; details: Record<string, unknown> }[] = [];
  for (const gateways of gatewayRuns) runs.push(await fanoutRun({ ...opts, gateways }));
  return { part: 'fanout', seconds: 0, figures: runs.flatMap((r) => r.figures), details: { runs: runs.map((r) => r.details) } };
}

async function fanoutRun(o: { clients: number; roomCount: number; seconds: number; procs: number; gateways: number }): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const { clients, roomCount, seconds, procs, gateways } = o;
  const redis = await startBenchRedis();
  let crest: CrestChild | null = null;
  let second: CrestChild | null = null;
  const kids = Array.from({ length: procs }, clientProcess);
  try {
    await Promise.all(kids.map((k) => k.next())); // ready
    // Every bench socket joins with one token: the per-token limit (meant for people) would meter the load generator.
    const env = { CREST_SHARDS: '8', CREST_RATE_LIMIT_PER_S: '0' };
    crest = await spawnCrest({ redisUrl: redis.url, roles: 'api,detector', env, profileName: `fanout-${gateways}` });
    if (gateways === 2) second = await spawnCrest({ redisUrl: redis.url, roles: 'api', env, profileName: 'fanout-2-api' });
    const urls = second ? [crest.url, second.url] : [crest.url];
    const rooms = roomNames(roomCount);
    const poster = new EventPoster(crest.url, crest.token('ingest'), 16);
    const maker = new EventMaker('fan');
    let postFailures = 0;
    const postSecond = async () => {
      const ts = Date.now();
      const bodies: string[] = [];
      const sec = Math.floor(ts / 1000);
      for (let i = 0; i < roomCount; i += 100) bodies.push(`[${rooms.slice(i, i + 100).map((r, k) => maker.online(r, ts, 300 + ((sec + k) % 20))).join(',')}]`);
      for (const r of await Promise.all(bodies.map((b) => poster.post(b)))) {
        if (r.status !== 200 || r.rejected > 0) postFailures++;
      }
    };
    // Rooms exist (and have state to snapshot) before the clients join.
    await postSecond();
    const token = crest.token('operator');
    const share = (k: number) => Math.floor((clients * (k + 1)) / procs) - Math.floor((clients * k) / procs);
    kids.forEach((k, i) => k.child.send({ cmd: 'connect', url: urls[i % urls.length], token, first: Math.floor((clients * i) / procs), clients: share(i), rooms: roomCount }));
    const conns = await Promise.all(kids.map((k) => k.next()));
    const failed = conns.find((c) => c.error);
    if (failed) throw new Error(`clients: ${String(failed.error)} (${String(failed.connected)} connected)`);
    const conn = { connected: conns.reduce((a, c) => a + Number(c.connected), 0), seconds: Math.max(...conns.map((c) => Number(c.seconds))) };

    // Drive: one event per room just after every second boundary, for warm-up + the sample.
    let driving = true;
    const driver = (async () => {
      while (driving) {
        await sleep(1000 - (Date.now() % 1000) + 5);
        if (driving) await postSecond();
      }
    })();
    await sleep(3_000);
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.client.info('server'))![1]);
    const meter = new CpuMeter({ server: crest.pid, ...(second ? { server2: second.pid } : {}), redis: redisPid, ...Object.fromEntries(kids.map((k, i) => [`clients${i}`, k.child.pid!])) });
    const emitBefore = await Promise.all(urls.map(tickEmitBuckets));
    for (const k of kids) k.child.send({ cmd: 'measure' });
    const sampleFrom = Date.now();
    await sleep(seconds * 1000);
    const sampleTo = Date.now();
    // Ticks of the sample's last boundaries still on their way count if they land within 1.5 s.
    await sleep(1_500);
    for (const k of kids) k.child.send({ cmd: 'report' });
    const emits = (await Promise.all(urls.map(tickEmitBuckets))).map((after, g) => emitShares(emitBefore[g]!, after));
    const reports = (await Promise.all(kids.map((k) => k.next()))) as unknown as ClientReport[];
    const cpuEach = meter.stop();
    const clientCpu = kids.map((_, i) => cpuEach[`clients${i}`]!);
    const cpu = { server: cpuEach.server, ...(second ? { server2: cpuEach.server2 } : {}), redis: cpuEach.redis, clients: Math.round(clientCpu.reduce((a, b) => a + b, 0) * 100) / 100 };
    const boundaries: number[] = [];
    for (let b = Math.ceil(sampleFrom / 1000) * 1000; b <= sampleTo; b += 1000) boundaries.push(b);
    const deliveredTicks = boundaries.reduce((a, b) => a + reports.reduce((c, r) => c + (r.bySecond[String(b)] ?? 0), 0), 0);
    const rep = {
      received: reports.reduce((a, r) => a + r.received, 0),
      seconds: Math.min(...reports.map((r) => r.seconds)),
      stillConnected: reports.reduce((a, r) => a + r.stillConnected, 0),
      lag: summarize(reports.flatMap((r) => r.lags)),
      stages: { toCommit: summarize(reports.flatMap((r) => r.toCommit)), commitToSocket: summarize(reports.flatMap((r) => r.commitToSocket)) },
      loopDelayP99Ms: reports.map((r) => r.loopDelayP99Ms),
      rss: reports.reduce((a, r) => a + r.rss, 0),
    };
    driving = false;
    await driver;
    poster.close();
    if (postFailures > 0) throw new Error(`${postFailures} driving requests were not fully accepted`);
    // Per boundary: every client's tick for every second boundary inside the sample.
    const delivered = deliveredTicks / boundaries.length;
    const expected = clients;
    const key = gateways === 1 ? 'fanout' : `fanout${gateways}`;
    const where = gateways === 1 ? 'one gateway' : `${gateways} gateways`;
    return {
      figures: [
        {
          key: `${key}_delivered`,
          label: `fan-out, ${where}: ticks delivered (${clients.toLocaleString('en')} sockets, ${roomCount.toLocaleString('en')} rooms)`,
          value: delivered,
          unit: 'msg/s',
          ceiling: { label: 'expected (1/socket/s)', value: expected, unit: 'msg/s' },
          target: { of: 'ratio', op: '>=', value: 0.999 },
          note: `${deliveredTicks.toLocaleString('en')} of ${(clients * boundaries.length).toLocaleString('en')} ticks over ${boundaries.length} boundaries; ${Number(conn.connected).toLocaleString('en')} connected in ${Number(conn.seconds).toFixed(1)} s, ${rep.stillConnected} still connected after ${rep.seconds.toFixed(0)} s; CPU cores: server ${cpu.server}${second ? `, second gateway ${cpu.server2}` : ''}, redis ${cpu.redis}, clients ${cpu.clients} (${procs} processes); client loop delay p99 ${rep.loopDelayP99Ms.map((d) => d.toFixed(1)).join(' / ')} ms, client RSS ${(rep.rss / 2 ** 20).toFixed(0)} MB`,
        },
        {
          key: `${key}_lag_p99`,
          label: `fan-out, ${where}: tick lag p99 (tick event time → receipt)`,
          value: rep.lag.p99!,
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 250 },
          note:
            `p50 ${rep.lag.p50} ms, p99 ${rep.lag.p99} ms, max ${rep.lag.max} ms over ${rep.lag.n} deliveries; ` +
            `stages: boundary → detector commit p50 ${rep.stages.toCommit.p50} / p99 ${rep.stages.toCommit.p99} ms, commit → socket p50 ${rep.stages.commitToSocket.p50} / p99 ${rep.stages.commitToSocket.p99} ms; ` +
            `server side, per gateway (crest_event_to_socket_seconds: driving event appended → tick written to all the room's sockets): ${emits.map((e) => `${pct(e.within100)} within 100 ms, ${pct(e.within250)} within 250 ms`).join('; ')}`,
        },
      ],
      details: { gateways, clients, rooms: roomCount, seconds, clientProcesses: procs, connect: conn, report: rep, gatewayEmits: emits, cpu, boundaries: boundaries.length, deliveredTicks },
    };
  } finally {
    for (const k of kids) k.child.send({ cmd: 'close' });
    await second?.stop();
    await crest?.stop();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(runFanout);
