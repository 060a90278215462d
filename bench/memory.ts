/**
 * Detector-worker memory per room, and checkpoint size per room.
 *
 * A detector-only Crest child (CREST_ROLES=detector, 8 shards) is measured after a forced full GC
 * (--expose-gc) at three points: empty; after 10,000 rooms opened (stream.start + one room.online each:
 * "idle" rooms, kept in memory and advanced by the clock, with no traffic); after the same rooms got
 * `--events-per-room` events of the realistic mix ("active" rooms: viewers with open sessions, distinct
 * viewers, recent ids, orders). Per room = RSS delta from empty ÷ rooms. Events go in through IngestService
 * (the same validation + dedupe + Lua append the HTTP API uses) from this process; a phase ends when the
 * detector has processed everything (@processed = @added on every shard). The detector runs on its own
 * worker thread (CREST_DETECTOR_THREAD): RSS is the whole process's, and the heap figure adds the thread's
 * heap, which the child collects and reads in the thread (bench/support/crest-child.ts).
 * Also: the checkpoint JSON per room (HSTRLEN of r:<room>) and Redis used_memory per room.
 *   node --import tsx bench/memory.ts [--quick] [--rooms 10000] [--events-per-room 30] [--json FILE]
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

export async function runMemory(): Promise<PartResult> {
  const roomCount = argNumber('rooms', QUICK ? 1_000 : 10_000);
  const perRoom = argNumber('events-per-room', 30);
  let redis: BenchRedis | null = null;
  let crest: CrestChild | null = null;
  try {
    redis = await startBenchRedis();
    const r = redis.client;
    crest = await spawnCrest({ redisUrl: redis.url, roles: 'detector', env: { CREST_SHARDS: String(SHARDS) }, profileName: 'memory' });
    const c = crest;
    await until('the detector to hold all shards', 20_000, async () => (await c.request<{ detector: { owned: number } }>('stats')).detector.owned === SHARDS);
    const ingest = new IngestService(r, { shards: SHARDS, dedupeHorizonS: 86_400, maxLag: 100_000_000 });
    const rooms = roomNames(roomCount, 'mem');
    const maker = new EventMaker('mem');
    const mem = () => c.request<Mem>('mem');
    const m0 = await mem();
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
    const ckptMean = lens.reduce((a, b) => a + b, 0) / lens.length;

    const idlePerRoom = (m1.rss - m0.rss) / roomCount;
    const activePerRoom = (m2.rss - m0.rss) / roomCount;
    const heap = (m: Mem) => `${((m.heapUsed - m0.heapUsed) / roomCount / KB).toFixed(1)} KB heap`;
    return {
      part: 'memory',
      seconds: 0,
      figures: [
        {
          key: 'memory_active_room',
          label: `detector RSS per active room (${roomCount.toLocaleString('en')} rooms)`,
          value: activePerRoom / KB,
          unit: 'KB',
          target: { of: 'value', op: '<=', value: 20 },
          note: `${perRoom} mixed events per room (≈${Math.round(perRoom * 0.25)} viewers entered); ${heap(m2)} per room; RSS ${(m0.rss / 2 ** 20).toFixed(0)} → ${(m2.rss / 2 ** 20).toFixed(0)} MB; ${accepted.toLocaleString('en')} events processed in ${activeSec.toFixed(1)} s (${Math.round(accepted / activeSec).toLocaleString('en')} ev/s through the worker)`,
        },
        {
          key: 'memory_idle_room',
          label: `detector RSS per idle room (${roomCount.toLocaleString('en')} rooms)`,
          value: idlePerRoom / KB,
          unit: 'KB',
          note: `opened with 2 events, then silent but clocked; ${heap(m1)} per room; opening took ${idleSec.toFixed(1)} s`,
        },
        { key: 'checkpoint_room', label: 'checkpoint JSON per active room', value: ckptMean / KB, unit: 'KB', note: `mean HSTRLEN of r:<room> over ${lens.length} rooms` },
        { key: 'redis_room', label: 'Redis used_memory per active room', value: (redis2 - redis0) / roomCount / KB, unit: 'KB', note: 'state + view + series + suggestions + event streams + dedupe keys' },
      ],
      details: { rooms: roomCount, eventsPerRoom: perRoom, m0, m1, m2, redis0, redis2, checkpointMeanBytes: ckptMean, checkpointMaxBytes: Math.max(...lens), idleSec, activeSec },
    };
  } finally {
    await crest?.stop();
    await redis?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(runMemory);
