/**
 * Messages between startCrest's main thread and the detector running on its own worker thread
 * (workers/detector-thread.ts ↔ workers/detector-thread-main.ts). Options cross as workerData, so they
 * must be plain data (structured clone): everything of DetectorWorkerOptions but the logger and the metrics
 * (the thread makes its own registry and sends its JSON when asked).
 */
import type { DetectorWorkerOptions } from './detector-worker.ts';
import type { LogLevel } from '../server/logger.ts';
import type { MetricsJson } from '../server/metrics-registry.ts';

export type DetectorThreadOptions = Omit<DetectorWorkerOptions, 'log' | 'metrics'>;

export interface DetectorStats {
  events: number;
  batches: number;
  invalid: number;
  leaseLost: number;
  viewsDeferred: number;
}

/** Thread → main. */
export type FromDetectorThread =
  | { type: 'started'; workerId: string; threadId: number }
  | { type: 'stats'; stats: DetectorStats; owned: number[] }
  | { type: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  /** After a full GC: the thread's own V8 heap (the main thread's process.memoryUsage() does not see it). */
  | { type: 'gc-done'; heapUsed: number }
  /** The thread's prom-client registry (its DetectorWorker's metrics), asked for by each /metrics scrape. */
  | { type: 'metrics'; json: MetricsJson }
  | { type: 'stopped' };

/** Main → thread. */
export type ToDetectorThread = { type: 'stop' } | { type: 'stats' } | { type: 'gc' } | { type: 'metrics' };
