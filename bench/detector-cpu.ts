/**
 * Detector-worker cost per event in CPU time (not wall time, so a busy shared machine changes it little):
 * the events are appended first (IngestService, as the API does) with no detector running, then one
 * DetectorWorker in this process drains them; CPU µs/event = this process's user+system CPU during the
 * drain ÷ events, and ev/s per core = its inverse. Two shapes:
 *  - backlog: everything waiting at once, so batches are full (`--batch`, default the worker's 2,000);
 *  - paced:   the same events appended in slices of `--paced-slice` events (default 800: 100 per shard)
 *             while the worker runs, so it commits small batches as at a steady live load; the appends'
 *             own CPU in this process is measured separately and taken off.
 *   node --import tsx bench/detector-cpu.ts [--quick] [--rooms 1000] [--events 200000] [--state-flush-ms N] [--json FILE]
 */
import { loadConfig } from '../config/config.ts';
import { keys } from '../server/redis-keys.ts';
import { IngestService } from '../server/ingest-service.ts';
import { silentLogger } from '../server/logger.ts';
import { DetectorWorker } from '../workers/detector-worker.ts';
import { argNumber, argValue, main, QUICK, sleep, until, type Figure, type PartResult } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';
import { startBenchRedis, sumPipeline, type BenchRedis } from './support/redis.ts';

const SHARDS = 8;

async function append(ingest: IngestService, events: string[]): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < events.length; i += 1_000) {
    inFlight.push(ingest.ingest(events.slice(i, i + 1_000).map((e) => JSON.parse(e) as unknown), { rooms: '*' }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

async function drained(redis: BenchRedis): Promise<boolean> {
  const s = Array.from({ length: SHARDS }, (_, i) => i);
  const added = await sumPipeline(redis.client, (p) => s.forEach((i) => p.hget(keys.checkpoint(i), '@added')));
  const processed = await sumPipeline(redis.client, (p) => s.forEach((i) => p.hget(keys.checkpoint(i), '@processed')));
  return processed >= added;
}

function makeEvents(rooms: string[], n: number, tag: string): string[] {
  const maker = new EventMaker(tag);
  const out: string[] = new Array(n);
  const t0 = Date.now() - 60 * 60_000;
  // Rooms interleaved as a live shard sees them; event time advances 100 ms per pass over the rooms.
  for (let i = 0; i < n; i++) out[i] = maker.mixed(rooms[i % rooms.length]!, t0 + Math.floor(i / rooms.length) * 100);
  return out;
}

async function run(redis: BenchRedis, shape: 'backlog' | 'paced', opts: { rooms: number; events: number; stateFlushMs?: number; slice: number }) {
  await redis.reset();
  const config = loadConfig({ CREST_TOKEN_SECRET: 'bench-secret-0123456789abcdef', CREST_SHARDS: String(SHARDS), REDIS_URL: redis.url });
  const ingest = new IngestService(redis.client, { shards: SHARDS, dedupeHorizonS: 86_400, maxLag: 100_000_000 });
  const events = makeEvents(roomNames(opts.rooms, 'cpu'), opts.events, `cpu${shape}`);
  const worker = new DetectorWorker({
    redisUrl: redis.url,
    shards: SHARDS,
    leaseMs: 5_000,
    engine: config.engine,
    outStreamMaxLen: config.outStreamMaxLen,
    eventRetentionMs: config.eventRetentionMs,
    log: silentLogger,
    ...(opts.stateFlushMs !== undefined ? { stateFlushMs: opts.stateFlushMs } : {}),
  });
  let cpu0: NodeJS.CpuUsage;
  let t0: number;
  if (shape === 'backlog') {
    await append(ingest, events);
    cpu0 = process.cpuUsage();
    t0 = Date.now();
    await worker.start();
  } else {
    await worker.start();
    cpu0 = process.cpuUsage();
    t0 = Date.now();
    // The appends' own CPU (JSON.parse + validation + Lua call here) is measured apart and taken off.
    for (let i = 0; i < events.length; i += opts.slice) {
      await append(ingest, events.slice(i, i + opts.slice));
      await sleep(2);
    }
  }
  await until('the detector to drain', 600_000, () => drained(redis), 50);
  const cpu = process.cpuUsage(cpu0);
  const wall = (Date.now() - t0) / 1000;
  const batches = worker.stats.batches;
  await worker.stop();
  let appendUs = 0;
  if (shape === 'paced') {
    // What the appends alone cost in this process (same slices, no detector), to subtract.
    await redis.reset();
    const again = makeEvents(roomNames(opts.rooms, 'cpu'), opts.events, 'cpuappend');
    const a0 = process.cpuUsage();
    for (let i = 0; i < again.length; i += opts.slice) await append(ingest, again.slice(i, i + opts.slice));
    const a = process.cpuUsage(a0);
    appendUs = a.user + a.system;
  }
  const usPerEvent = (cpu.user + cpu.system - appendUs) / opts.events;
  return { shape, usPerEvent, perCore: 1e6 / usPerEvent, wall, batches, eventsPerBatch: opts.events / Math.max(1, batches) };
}

export async function runDetectorCpu(): Promise<PartResult> {
  const rooms = argNumber('rooms', QUICK ? 200 : 1_000);
  const events = argNumber('events', QUICK ? 20_000 : 200_000);
  const flush = argValue('state-flush-ms');
  const stateFlushMs = flush === undefined ? undefined : Number(flush);
  const slice = argNumber('paced-slice', SHARDS * 100);
  const redis = await startBenchRedis();
  try {
    const runs = [];
    for (const shape of ['backlog', 'paced'] as const) runs.push(await run(redis, shape, { rooms, events, stateFlushMs, slice }));
    const figures: Figure[] = runs.map((r) => ({
      key: `detector_cpu_${r.shape}`,
      label: `detector CPU per event, ${r.shape === 'backlog' ? 'backlog (full batches)' : 'paced (small batches)'}`,
      value: r.usPerEvent,
      unit: 'µs',
      note:
        `${rooms.toLocaleString('en')} rooms, ${events.toLocaleString('en')} events, ${SHARDS} shards, state flush ${stateFlushMs ?? 'default'} ms; ` +
        `${Math.round(r.perCore).toLocaleString('en')} ev/s per core; ${r.batches} batches (${Math.round(r.eventsPerBatch)} events each); drain wall ${r.wall.toFixed(1)} s`,
    }));
    return { part: 'detector-cpu', seconds: 0, figures, details: { rooms, events, shards: SHARDS, stateFlushMs, slice, runs } };
  } finally {
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(runDetectorCpu);
