/**
 * Detector-worker memory per room, and checkpoint size per room.
 *
 * A detector-only Crest child (CREST_ROLES=detector, 8 shards) is measured after a forced full GC
 * (--expose-gc; three readings per point, see `mem`) at three points: empty; after 10,000 rooms opened
 * (stream.start + one room.online each: "idle" rooms, kept in memory and advanced by the clock, with no traffic); after the same rooms got
 * `--events-per-room` events of the realistic mix ("active" rooms: viewers with open sessions, distinct
 * viewers, recent ids, orders). Per room = RSS delta from empty ÷ rooms. Events go in through IngestService
 * (the same validation + dedupe + Lua append the HTTP API uses) from this process; a phase ends when the
 * detector has processed everything (@processed = @added on every shard). The detector runs on its own
 * worker thread (CREST_DETECTOR_THREAD): RSS is the whole process's, and the heap figure adds the thread's
 * heap, which the child collects and reads in the thread (bench/support/crest-child.ts).
 *
 * One run's RSS figure moves by several KB per room from run to run (on this 2-core machine, 17–24 KB per
 * active room for the same tree: how far V8 grew the heap for batches in flight, how fragmented it is at the
 * measurement, whether a young generation grew or shrank), so the measurement is repeated `--runs` times, each
 * with a fresh Redis and a fresh Crest process; the figures are the medians, with every run's value and the
 * spread in the note. Slow runs (a busy machine) measure more: bigger batches in flight, more clock samples per room.
 * The child gets a long shard lease (CREST_LEASE_MS=60000): it is the only worker, and on a busy machine a
 * renewal that slipped past the default 5 s made it drop every shard and load all its rooms again, again and
 * again (one such run measured 33.8 KB per room at 5.4k ev/s), which measures the reload churn, not the rooms.
 * Lost leases are still counted per run and flagged in the note.
 * Also: the checkpoint JSON per room (HSTRLEN of r:<room>) and Redis used_memory per room.
 *   node --import tsx bench/memory.ts [--quick] [--runs 3] [--rooms 10000] [--events-per-room 30]
 *     [--busy-rooms 1000] [--busy-events-per-room 600] [--json FILE]
 */
import { Redis } from 'ioredis';
import { keys, CHECKPOINT_FIELDS } from '../server/redis-keys.ts';
import { IngestService } from '../server/ingest-service.ts';
import { shardOf } from '../core/sharding.ts';
import { argNumber, main, QUICK, sleep, until, type PartResult } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';
import { startBenchRedis, sumPipeline, type BenchRedis } from './support/redis.ts';
import { spawnCrest, type CrestChild } from './support/spawn-crest.ts';

const SHARDS = 8;
const KB = 1024;

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}

/** One fresh-process measurement. */
interface Run {
  activeRss: number;
  idleRss: number;
  activeHeap: number;
  idleHeap: number;
  checkpointMean: number;
  checkpointMax: number;
  redisPerRoom: number;
  accepted: number;
  idleSec: number;
  activeSec: number;
  leaseLost: number;
  m0: Mem;
  m1: Mem;
  m2: Mem;
}

/** Lease of the measured child: see the header (a load artifact, not what the figure is about). */
const LEASE_MS = 60_000;

async function ingestAll(ingest: IngestService, events: string[]): Promise<number> {
  let accepted = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < events.length; i += 1_000) {
    const batch = events.slice(i, i + 1_000).map((e) => JSON.parse(e) as unknown);
    inFlight.push(
      ingest.ingest(batch, { rooms: '*' }).then((r) => {
        if (r.rejected > 0) throw new Error(`rejected: ${JSON.stringify(r.errors[0])}`);
        accepted += r.accepted;
      }),
    );
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return accepted;
}

async function drained(redis: Redis): Promise<boolean> {
  const s = Array.from({ length: SHARDS }, (_, i) => i);
  const added = await sumPipeline(redis, (p) => s.forEach((i) => p.hget(keys.checkpoint(i), '@added')));
  const processed = await sumPipeline(redis, (p) => s.forEach((i) => p.hget(keys.checkpoint(i), '@processed')));
  return processed >= added;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

async function measureOnce(roomCount: number, perRoom: number): Promise<Run> {
  let redis: BenchRedis | null = null;
  let crest: CrestChild | null = null;
  try {
    redis = await startBenchRedis();
    const r = redis.client;
    crest = await spawnCrest({ redisUrl: redis.url, roles: 'detector', env: { CREST_SHARDS: String(SHARDS), CREST_LEASE_MS: String(LEASE_MS) }, profileName: 'memory' });
    const c = crest;
    await until('the detector to hold all shards', 20_000, async () => (await c.request<{ detector: { owned: number } }>('stats')).detector.owned === SHARDS);
    const ingest = new IngestService(r, { shards: SHARDS, dedupeHorizonS: 86_400, maxLag: 100_000_000 });
    const rooms = roomNames(roomCount, 'mem');
    const maker = new EventMaker('mem');
    // A reading can catch a commit's payload or a read reply in flight, which no GC can free (one run read
    // 168 MB of heap with idle rooms and 154 MB after they got traffic). So each point is three readings 0.5 s
    // apart: the heap figure takes the smallest (the rooms, not the batch in flight). RSS errs against us: the
    // empty process's smallest reading, the loaded process's largest.
    const mem = async (empty = false): Promise<Mem> => {
      const reads: Mem[] = [];
      for (let i = 0; i < 3; i++) {
        if (i > 0) await sleep(500);
        reads.push(await c.request<Mem>('mem'));
      }
      return {
        rss: (empty ? Math.min : Math.max)(...reads.map((m) => m.rss)),
        heapUsed: Math.min(...reads.map((m) => m.heapUsed)),
        external: Math.min(...reads.map((m) => m.external)),
      };
    };
    const m0 = await mem(true);
    const redis0 = await usedMemory(r);

    // Idle rooms: opened, then silent (the clock still advances them every second).
    const t0 = Date.now();
    const opening = rooms.flatMap((room) => [maker.streamStart(room, Date.now()), maker.online(room, Date.now(), 100)]);
    await ingestAll(ingest, opening);
    await until('the detector to process the idle-room events', 120_000, () => drained(r), 200);
    const idleSec = (Date.now() - t0) / 1000;
    await sleep(2_500); // a couple of clock rounds over every room
    const m1 = await mem();

    // Active rooms: the realistic mix, `perRoom` events each, rooms interleaved as a live shard sees them.
    const t1 = Date.now();
    const traffic: string[] = [];
    for (let k = 0; k < perRoom; k++) for (const room of rooms) traffic.push(maker.mixed(room, Date.now()));
    const accepted = await ingestAll(ingest, traffic);
    await until('the detector to process the active-room events', 240_000, () => drained(r), 200);
    const activeSec = (Date.now() - t1) / 1000;
    await sleep(1_500);
    const m2 = await mem();
    const redis2 = await usedMemory(r);

    const p = r.pipeline();
    for (const room of rooms) p.hstrlen(keys.checkpoint(shardOf(room, SHARDS)), CHECKPOINT_FIELDS.room(room));
    const lens = ((await p.exec()) ?? []).map(([, v]) => Number(v));

    const stats = await c.request<{ detector: { leaseLost: number } }>('stats');
    return {
      activeRss: (m2.rss - m0.rss) / roomCount,
      idleRss: (m1.rss - m0.rss) / roomCount,
      activeHeap: (m2.heapUsed - m0.heapUsed) / roomCount,
      idleHeap: (m1.heapUsed - m0.heapUsed) / roomCount,
      checkpointMean: lens.reduce((a, b) => a + b, 0) / lens.length,
      checkpointMax: Math.max(...lens),
      redisPerRoom: (redis2 - redis0) / roomCount,
      accepted,
      idleSec,
      activeSec,
      leaseLost: stats.detector.leaseLost,
      m0,
      m1,
      m2,
    };
  } finally {
    await crest?.stop();
    await redis?.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const kb = (x: number) => (x / KB).toFixed(1);
/** "18.2 KB (runs 17.9 / 18.2 / 19.0, spread 1.1)": every run's value, so a reader sees the noise. */
const spread = (xs: number[]) => `runs ${xs.map(kb).join(' / ')}, spread ${kb(Math.max(...xs) - Math.min(...xs))}`;

export async function runMemory(): Promise<PartResult> {
  const roomCount = argNumber('rooms', QUICK ? 1_000 : 10_000);
  const perRoom = argNumber('events-per-room', 30);
  const runCount = argNumber('runs', QUICK ? 1 : 3);
  const runs: Run[] = [];
  for (let i = 0; i < runCount; i++) {
    const r = await measureOnce(roomCount, perRoom);
    console.error(`   memory run ${i + 1}/${runCount}: ${kb(r.activeRss)} KB RSS per active room (${kb(r.activeHeap)} KB heap), ${kb(r.idleRss)} KB per idle room${r.leaseLost ? `, ${r.leaseLost} leases lost` : ''}`);
    runs.push(r);
  }
  // Busier rooms, once: the young rooms above have not filled their rings yet (recent ids, rolling windows,
  // sessions); these show what a room costs once they have.
  const busyRooms = argNumber('busy-rooms', QUICK ? 200 : 1_000);
  const busyEvents = argNumber('busy-events-per-room', 600);
  const busy = await measureOnce(busyRooms, busyEvents);
  console.error(`   memory, busy rooms: ${kb(busy.activeRss)} KB RSS per room (${kb(busy.activeHeap)} KB heap)`);
  const col = (f: (r: Run) => number) => runs.map(f);
  const lost = runs.reduce((a, r) => a + r.leaseLost, 0);
  const rate = col((r) => r.accepted / r.activeSec);
  // The run nearest the median: its RSS endpoints are printed, so the figure can be retraced.
  const m = median(col((r) => r.activeRss));
  const mid = runs.reduce((a, b) => (Math.abs(b.activeRss - m) < Math.abs(a.activeRss - m) ? b : a));
  return {
    part: 'memory',
    seconds: 0,
    figures: [
      {
        key: 'memory_active_room',
        label: `detector RSS per active room (${roomCount.toLocaleString('en')} rooms)`,
        value: median(col((r) => r.activeRss)) / KB,
        unit: 'KB',
        target: { of: 'value', op: '<=', value: 10 },
        note:
          `median of ${runCount} fresh processes (${spread(col((r) => r.activeRss))}); ${perRoom} mixed events per room (≈${Math.round(perRoom * 0.25)} viewers entered); ` +
          `${kb(median(col((r) => r.activeHeap)))} KB heap per room (${spread(col((r) => r.activeHeap))}); RSS ${(mid.m0.rss / 2 ** 20).toFixed(0)} → ${(mid.m2.rss / 2 ** 20).toFixed(0)} MB in the run nearest the median; ` +
          `${Math.round(median(rate)).toLocaleString('en')} ev/s through the worker (median; ${rate.map((x) => Math.round(x).toLocaleString('en')).join(' / ')})` +
          (lost ? `; ${lost} shard leases LOST during the runs: those figures include reloading rooms` : ''),
      },
      {
        key: 'memory_idle_room',
        label: `detector RSS per idle room (${roomCount.toLocaleString('en')} rooms)`,
        value: median(col((r) => r.idleRss)) / KB,
        unit: 'KB',
        note: `median of ${runCount} (${spread(col((r) => r.idleRss))}); opened with 2 events, then silent but clocked; ${kb(median(col((r) => r.idleHeap)))} KB heap per room; opening took ${median(col((r) => r.idleSec)).toFixed(1)} s`,
      },
      {
        key: 'memory_busy_room',
        label: `detector heap per busy room (${busyRooms.toLocaleString('en')} rooms × ${busyEvents} events)`,
        value: busy.activeHeap / KB,
        unit: 'KB',
        // Heap, not RSS: over a thousand rooms RSS moves by ±10 KB per room from run to run.
        note: `one run; ≈${Math.round(busyEvents * 0.25)} viewers entered per room (open sessions), id ring full; RSS ${kb(busy.activeRss)} KB per room (±10 KB at this room count); checkpoint ${kb(busy.checkpointMean)} KB per room`,
      },
      { key: 'checkpoint_room', label: 'checkpoint JSON per active room', value: median(col((r) => r.checkpointMean)) / KB, unit: 'KB', note: `mean HSTRLEN of r:<room> over ${roomCount} rooms (median of the runs)` },
      { key: 'redis_room', label: 'Redis used_memory per active room', value: median(col((r) => r.redisPerRoom)) / KB, unit: 'KB', note: 'state + view + series + suggestions + event streams + dedupe keys' },
    ],
    details: { rooms: roomCount, eventsPerRoom: perRoom, leaseMs: LEASE_MS, runs, busy: { rooms: busyRooms, eventsPerRoom: busyEvents, run: busy } },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main(runMemory);
