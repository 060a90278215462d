/**
 * Fan-out: ≥ 5,000 socket.io clients (websocket transport, in a separate process from the server) over
 * 500 rooms, one tick per room per second: delivered ticks/s and delivery lag.
 *
 * The Crest under test (API + gateway + detector in one child process) gets one `room.online` per room
 * right after each wall-clock second boundary, so each room's tick for that boundary is emitted at once
 * (the engine ticks on event time). Lag = receipt − tick.ts (the boundary's event time): it includes the
 * few ms between the boundary and our post, and the whole pipeline. Same machine, same clock.
 * The client process's event-loop delay is reported: if the clients, not the server, were the bottleneck
 * it would show there.
 *   node --import tsx bench/fanout.ts [--quick] [--clients 5000] [--rooms 500] [--seconds 30] [--json FILE]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { argNumber, main, QUICK, sleep, type PartResult } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';
import { EventPoster } from './support/http-post.ts';
import { CpuMeter } from './support/proc.ts';
import { startBenchRedis } from './support/redis.ts';
import { spawnCrest, type CrestChild } from './support/spawn-crest.ts';

type Reply = Record<string, unknown>;

export async function runFanout(): Promise<PartResult> {
  const clients = argNumber('clients', QUICK ? 1_000 : 5_000);
  const roomCount = argNumber('rooms', QUICK ? 100 : 500);
  const seconds = argNumber('seconds', QUICK ? 5 : 30);
  const redis = await startBenchRedis();
  let crest: CrestChild | null = null;
  const kids = fork(fileURLToPath(new URL('./support/fanout-clients.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Reply[] = [];
  let wake: (() => void) | null = null;
  kids.on('message', (m: Reply) => {
    replies.push(m);
    wake?.();
  });
  const nextReply = async (): Promise<Reply> => {
    while (replies.length === 0) await new Promise<void>((ok) => (wake = ok));
    return replies.shift()!;
  };
  try {
    await nextReply(); // ready
    crest = await spawnCrest({ redisUrl: redis.url, roles: 'api,detector', env: { CREST_SHARDS: '8' }, profileName: 'fanout' });
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
    kids.send({ cmd: 'connect', url: crest.url, token: crest.token('operator'), clients, rooms: roomCount });
    const conn = await nextReply();
    if (conn.error) throw new Error(`clients: ${String(conn.error)} (${String(conn.connected)} connected)`);

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
    const meter = new CpuMeter({ server: crest.pid, redis: redisPid, clients: kids.pid! });
    kids.send({ cmd: 'measure' });
    await sleep(seconds * 1000);
    kids.send({ cmd: 'report' });
    const rep = (await nextReply()) as { received: number; seconds: number; stillConnected: number; lag: Record<string, number>; loopDelayP99Ms: number; rss: number };
    const cpu = meter.stop();
    driving = false;
    await driver;
    poster.close();
    if (postFailures > 0) throw new Error(`${postFailures} driving requests were not fully accepted`);
    const delivered = rep.received / rep.seconds;
    const expected = clients; // one tick per client per second
    return {
      part: 'fanout',
      seconds: 0,
      figures: [
        {
          key: 'fanout_delivered',
          label: `fan-out: ticks delivered (${clients.toLocaleString('en')} sockets, ${roomCount} rooms)`,
          value: delivered,
          unit: 'msg/s',
          ceiling: { label: 'expected (1/socket/s)', value: expected, unit: 'msg/s' },
          target: { of: 'ratio', op: '>=', value: 0.99 },
          note: `${Number(conn.connected).toLocaleString('en')} connected in ${Number(conn.seconds).toFixed(1)} s, ${rep.stillConnected} still connected after ${rep.seconds.toFixed(0)} s; CPU cores: server ${cpu.server}, redis ${cpu.redis}, clients ${cpu.clients}; client loop delay p99 ${rep.loopDelayP99Ms.toFixed(1)} ms, client RSS ${(rep.rss / 2 ** 20).toFixed(0)} MB`,
        },
        {
          key: 'fanout_lag_p99',
          label: 'fan-out: tick lag p99 (tick event time → receipt)',
          value: rep.lag.p99!,
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 500 },
          note: `p50 ${rep.lag.p50} ms, p99 ${rep.lag.p99} ms, max ${rep.lag.max} ms over ${rep.lag.n} deliveries`,
        },
      ],
      details: { clients, rooms: roomCount, seconds, connect: conn, report: rep, cpu },
    };
  } finally {
    kids.send({ cmd: 'close' });
    await crest?.stop();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(runFanout);
