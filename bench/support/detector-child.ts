/**
 * One detector worker (workers/detector-worker.ts) alone in its own process, on that process's main thread,
 * so the bench can kill -9 it and can watch the one event loop that runs it:
 *   forked by bench/support/spawn-detector.ts, env = Crest config (REDIS_URL, CREST_SHARDS, …)
 * It builds the worker with the options `crest start` gives it (server/crest.ts) and watches its loop with
 * perf_hooks.monitorEventLoopDelay (1 ms resolution): every synchronous block the thread runs (a batch, a
 * slice, a restore, a GC pause) delays the histogram's timer by that much. Over IPC:
 *   {cmd:'stats', reset?}  → worker counters, owned shards, loop delay since the last reset (and since start)
 *   {cmd:'mem'}            → rss / heapUsed / arrayBuffers (typed arrays: the session store) after a full GC (needs --expose-gc)
 * and it announces {ready, startMs} once worker.start() resolved (leases taken and owned shards loaded).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { loadConfig } from '../../config/config.ts';
import { createLogger } from '../../server/logger.ts';
import { DetectorWorker } from '../../workers/detector-worker.ts';
import { detectorWorkerOptions } from '../../workers/detector-options.ts';

const config = loadConfig(process.env);
if (!config.redisUrl) throw new Error('detector-child: REDIS_URL is not set (spawnDetector sets it)');
const worker = new DetectorWorker({ ...detectorWorkerOptions(config, config.redisUrl), log: createLogger(config.logLevel) });

const sinceStart = monitorEventLoopDelay({ resolution: 1 });
let window = monitorEventLoopDelay({ resolution: 1 });
sinceStart.enable();
window.enable();
const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;
const delay = (h: IntervalHistogram) => ({ maxMs: ms(h.max), p99Ms: ms(h.percentile(99)), p999Ms: ms(h.percentile(99.9)), samples: h.count });
const send = (m: object) => process.send?.(m);

process.on('message', (msg: { id: number; cmd: string; reset?: boolean }) => {
  if (msg.cmd === 'stats') {
    const out = { id: msg.id, stats: { ...worker.stats }, owned: worker.ownedShards(), loop: delay(window), loopSinceStart: delay(sinceStart), rss: process.memoryUsage().rss };
    if (msg.reset) {
      window.disable();
      window = monitorEventLoopDelay({ resolution: 1 });
      window.enable();
    }
    send(out);
  } else if (msg.cmd === 'mem') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    send({ id: msg.id, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, gc: Boolean(gc) });
  }
});

const t0 = performance.now();
await worker.start();
send({ ready: true, startMs: performance.now() - t0, workerId: worker.id });
