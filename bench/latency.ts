/**
 * Event-to-socket latency under load: from the HTTP accept of an event to a socket.io client receiving
 * the tick that event produced, at ≥ 20,000 events/s over 1,000 rooms.
 *
 * Method. The Crest under test (API + gateway + detector in one child process, as `crest start` runs
 * them) gets batches of 100 events (the realistic mix, event time = now) at a paced `--rate`. A room's
 * tick for second boundary B is emitted when the first event with ts ≥ B reaches the detector (the engine
 * ticks on event time). The generator knows, for every room, which event first crossed each boundary and
 * in which request it went; a socket client joined to every room (10 sockets × 100 rooms, websocket
 * transport) stamps each `room:tick` on receipt. Latency = receipt − the moment that request's 200 came
 * back (the accept), so it covers stream append → detector read → checkpoint → out stream → gateway →
 * socket. Ticks whose receipt precedes the request's send were produced by the detector's clock record,
 * not by our event: they are counted and left out. The first `--warm` seconds are not measured.
 * The load generator and the sockets share this process; its event-loop delay is reported, since a busy
 * loop would inflate (never hide) latency. Clocks: one machine, Date.now() on both sides.
 *   node --import tsx bench/latency.ts [--quick] [--rate 20000] [--seconds 25] [--rooms 1000] [--json FILE]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../core/protocol.ts';
import { argNumber, main, QUICK, sleep, summarize, type PartResult } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';
import { EventPoster } from './support/http-post.ts';
import { CpuMeter } from './support/proc.ts';
import { startBenchRedis } from './support/redis.ts';
import { spawnCrest, type CrestChild } from './support/spawn-crest.ts';
import { idMs } from '../workers/stream-entry.ts';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
const BATCH = 100;
const ROOMS_PER_SOCKET = 100;

export async function connectSocket(url: string, token: string): Promise<ClientSocket> {
  const s: ClientSocket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((ok, fail) => {
    s.once('connect', () => ok());
    s.once('connect_error', (e) => fail(e));
  });
  return s;
}

export async function joinRoom(s: ClientSocket, room: string): Promise<void> {
  const r = await s.timeout(30_000).emitWithAck('room:join', { room });
  if (!r.ok) throw new Error(`join ${room}: ${r.error.reason}`);
}

export async function runLatency(): Promise<PartResult> {
  const rate = argNumber('rate', 20_000);
  const seconds = argNumber('seconds', QUICK ? 5 : 25);
  const warm = argNumber('warm', QUICK ? 2 : 5);
  const roomCount = argNumber('rooms', 1_000);
  const redis = await startBenchRedis();
  let crest: CrestChild | null = null;
  const sockets: ClientSocket[] = [];
  try {
    // Every bench socket joins with one token: the per-token limit (meant for people) would meter the load generator.
    crest = await spawnCrest({ redisUrl: redis.url, roles: 'api,detector', env: { CREST_SHARDS: '8', CREST_RATE_LIMIT_PER_S: '0' }, profileName: 'latency' });
    const rooms = roomNames(roomCount);
    const opToken = crest.token('operator');

    // Per request: when it was sent and when its 200 came back. Per (room, boundary): the request whose event crossed it.
    const sentAt: number[] = [];
    const ackAt: number[] = [];
    const crossing = new Map<string, number>();
    const lastSec = new Map<string, number>();
    const fromAccept: number[] = [];
    const fromSend: number[] = [];
    // Stages: the tick's cursor is its out-stream id, whose ms is when the detector's commit landed in Redis.
    const toCommit: number[] = [];
    const commitToSocket: number[] = [];
    let clockTicks = 0;
    const early = new Set<string>();
    let measuring = false;
    const onTick = (msg: { room: string; cursor: string; tick: { ts: number } }) => {
      const now = Date.now();
      const key = `${msg.room}|${msg.tick.ts}`;
      const req = crossing.get(key);
      if (req === undefined) {
        // Either no event of ours crosses this boundary (the clock after the load stopped), or the
        // detector's clock record crossed it before our event was even sent: counted when that send comes.
        if (measuring) early.add(key);
        return;
      }
      crossing.delete(key);
      if (!measuring) return;
      if (now < sentAt[req]!) {
        clockTicks++;
        return;
      }
      fromSend.push(now - sentAt[req]!);
      // A tick can beat the 200 back to us (the detector runs as soon as the append lands): that is latency 0.
      fromAccept.push(Math.max(0, now - (ackAt[req] ?? now)));
      const committed = idMs(msg.cursor);
      toCommit.push(Math.max(0, committed - (ackAt[req] ?? committed)));
      commitToSocket.push(now - committed);
    };
    for (let i = 0; i < roomCount; i += ROOMS_PER_SOCKET) {
      const s = await connectSocket(crest.url, opToken);
      sockets.push(s);
      s.on('room:tick', onTick);
      await Promise.all(rooms.slice(i, i + ROOMS_PER_SOCKET).map((r) => joinRoom(s, r)));
    }

    const poster = new EventPoster(crest.url, crest.token('ingest'), 64);
    const maker = new EventMaker('lat');
    let cursor = 0;
    let sent = 0;
    let acceptedEvents = 0;
    let inFlight = 0;
    let failed = 0;
    const maxInFlight = 64;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const t0 = Date.now();
    const measureFrom = t0 + warm * 1000;
    const end = measureFrom + seconds * 1000;
    let meter: CpuMeter | null = null;
    let backlogged = 0;
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.client.info('server'))![1]);
    const sendOne = () => {
      const req = sentAt.length;
      const ts = Date.now();
      const parts: string[] = new Array(BATCH);
      for (let j = 0; j < BATCH; j++) {
        const room = rooms[cursor++ % roomCount]!;
        const sec = Math.floor(ts / 1000);
        if (sec > (lastSec.get(room) ?? 0)) {
          lastSec.set(room, sec);
          const key = `${room}|${sec * 1000}`;
          if (early.delete(key)) clockTicks++;
          else crossing.set(key, req);
        }
        parts[j] = maker.mixed(room, ts);
      }
      sentAt.push(ts);
      inFlight++;
      poster
        .post(`[${parts.join(',')}]`)
        .then((r) => {
          ackAt[req] = Date.now();
          if (r.status === 200) acceptedEvents += r.accepted;
          else failed++;
        })
        .catch(() => failed++)
        .finally(() => inFlight--);
      sent++;
    };
    while (Date.now() < end) {
      const now = Date.now();
      if (!measuring && now >= measureFrom) {
        measuring = true;
        loopDelay.enable();
        meter = new CpuMeter({ server: crest.pid, redis: redisPid, client: process.pid });
        acceptedEvents = 0;
        failed = 0;
      }
      const due = Math.floor((((now - t0) / 1000) * rate) / BATCH);
      while (sent < due && inFlight < maxInFlight) sendOne();
      if (sent < due) backlogged++;
      await sleep(5);
    }
    const cpu = (meter as CpuMeter | null)?.stop() ?? {};
    loopDelay.disable();
    while (inFlight > 0) await sleep(10);
    await sleep(2_000); // let the last ticks arrive before the sample closes
    measuring = false;
    poster.close();
    const unmatched = early.size;
    // Redis's own pauses during the run: an AOF rewrite forks and rewrites the whole data set on these cores.
    const persistence = await redis.client.info('persistence');
    const stats = await redis.client.info('stats');
    const infoNum = (text: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(text)?.[1] ?? NaN);
    const aofRewrites = infoNum(persistence, 'aof_rewrites');
    const aofDelayedFsync = infoNum(persistence, 'aof_delayed_fsync');
    const lastForkMs = infoNum(stats, 'latest_fork_usec') / 1000;

    const acc = summarize(fromAccept);
    const snd = summarize(fromSend);
    const stageDetector = summarize(toCommit);
    const stageGateway = summarize(commitToSocket);
    const achieved = acceptedEvents / seconds;
    return {
      part: 'latency',
      seconds: 0,
      figures: [
        {
          key: 'latency_p99',
          label: 'event→socket tick latency p99',
          value: acc.p99,
          unit: 'ms',
          target: { of: 'value', op: '<=', value: 100 },
          note:
            `p50 ${acc.p50} ms, p99 ${acc.p99} ms, max ${acc.max} ms from the 200 (from send: p50 ${snd.p50}, p99 ${snd.p99}, max ${snd.max}); ` +
            `${acc.n.toLocaleString('en')} ticks matched, ${clockTicks} clock-made ticks left out, ${unmatched} unmatched; ` +
            `load achieved ${Math.round(achieved).toLocaleString('en')} ev/s of ${rate.toLocaleString('en')} asked over ${roomCount} rooms for ${seconds} s` +
            `${failed ? `, ${failed} failed requests` : ''}; CPU cores: server ${cpu.server}, redis ${cpu.redis}, client ${cpu.client}; ` +
            `client loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms; ` +
            `stages: 200 → detector commit p50 ${stageDetector.p50} / p99 ${stageDetector.p99} ms, commit → socket p50 ${stageGateway.p50} / p99 ${stageGateway.p99} ms; ` +
            `Redis: ${aofRewrites} AOF rewrites (last fork ${lastForkMs.toFixed(1)} ms), ${aofDelayedFsync} delayed fsyncs`,
        },
        { key: 'latency_p50', label: 'event→socket tick latency p50', value: acc.p50, unit: 'ms' },
        { key: 'latency_max', label: 'event→socket tick latency max', value: acc.max, unit: 'ms' },
        {
          key: 'latency_load',
          label: 'latency: load achieved',
          value: achieved,
          unit: 'ev/s',
          target: { of: 'value', op: '>=', value: 20_000 },
        },
      ],
      details: { rate, seconds, warm, rooms: roomCount, fromAccept: acc, fromSend: snd, stages: { toCommit: stageDetector, commitToSocket: stageGateway }, clockTicks, unmatched, failed, redis: { aofRewrites, aofDelayedFsync, lastForkMs }, backloggedPacingSteps: backlogged, cpu, clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6 },
    };
  } finally {
    for (const s of sockets) s.disconnect();
    await crest?.stop();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(runLatency);
