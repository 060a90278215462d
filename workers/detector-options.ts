import type { CrestConfig } from '../config/config.ts';
import type { DetectorWorkerOptions } from './detector-worker.ts';

/** The detector worker's settings from Crest's configuration: the server and the big-room bench's child start it alike. */
export function detectorWorkerOptions(config: CrestConfig, redisUrl: string) {
  return {
    redisUrl,
    shards: config.shards,
    leaseMs: config.leaseMs,
    engine: config.engine,
    outStreamMaxLen: config.outStreamMaxLen,
    eventRetentionMs: config.eventRetentionMs,
    deltaSlice: config.deltaSlice,
  } satisfies Partial<DetectorWorkerOptions>;
}
