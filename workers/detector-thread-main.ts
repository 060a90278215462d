/**
 * Entry of the detector's worker thread (started by workers/detector-thread.ts): one DetectorWorker with
 * the options from workerData, its log records and counters posted to the main thread, and a clean stop
 * (leases given back, connections closed) when the main thread asks; the thread then ends by itself.
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { Logger, LogLevel } from '../server/logger.ts';
import { WorkerMetrics } from '../server/metrics-registry.ts';
import { DetectorWorker } from './detector-worker.ts';
import type { DetectorThreadOptions, FromDetectorThread, ToDetectorThread } from './detector-thread-protocol.ts';

/** How often counters and owned shards go to the main thread (what /metrics, the bench and tests read). */
const STATS_EVERY_MS = 250;

const port = parentPort;
if (!port) throw new Error('detector-thread-main.ts runs only as a worker thread (workers/detector-thread.ts)');
const post = (m: FromDetectorThread) => port.postMessage(m);

const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => post({ type: 'log', level, msg, fields });
const log: Logger = { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };

const metrics = new WorkerMetrics();
const worker = new DetectorWorker({ ...(workerData as DetectorThreadOptions), log, metrics });
const sendStats = () => post({ type: 'stats', stats: { ...worker.stats }, owned: worker.ownedShards() });
let statsTimer: NodeJS.Timeout | null = null;
let stopping: Promise<void> | null = null;
const starting = worker.start();

port.on('message', (m: ToDetectorThread) => {
  if (m.type === 'stats') sendStats();
  else if (m.type === 'metrics') void metrics.json().then((json) => post({ type: 'metrics', json }));
  else if (m.type === 'gc') {
    // For the bench's memory part: --expose-gc is a V8 flag of the whole process, so every isolate has gc.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    post({ type: 'gc-done', heapUsed: process.memoryUsage().heapUsed });
  } else if (m.type === 'stop') {
    stopping ??= (async () => {
      // A stop that arrives while the worker is still starting waits for it, so no lease stays held.
      await starting.catch(() => undefined);
      if (statsTimer) clearInterval(statsTimer);
      await worker.stop();
      sendStats();
      post({ type: 'stopped' });
      // Nothing holds the event loop any more (connections closed, timers cleared): the thread ends.
      port.close();
    })();
  }
});

await starting;
post({ type: 'started', workerId: worker.id, threadId });
sendStats();
if (!stopping) statsTimer = setInterval(sendStats, STATS_EVERY_MS);
