/**
 * A shard checkpoint's progress counters (workers/detector-worker.ts keeps them): `@added` events appended by
 * ingest, `@processed` applied and shown, `@owed` applied but their room summary not yet shown. The tests' "caught
 * up" and the benches' lag read them here.
 */
import type { RedisClient } from './lua/scripts.ts';
import { CHECKPOINT_FIELDS as F, keys } from './redis-keys.ts';

export interface ShardCounters {
  shard: number;
  added: number;
  processed: number;
  owed: number;
}

/** The counters of `shards` (a count: shards 0..n-1, or a list), one HMGET each (on a Cluster they live in different slots). */
export function readShardCounters(redis: RedisClient, shards: number | readonly number[]): Promise<ShardCounters[]> {
  const list = typeof shards === 'number' ? Array.from({ length: shards }, (_, s) => s) : shards;
  return Promise.all(
    list.map(async (shard) => {
      const [added, processed, owed] = await redis.hmget(keys.checkpoint(shard), F.added, F.processed, F.owed);
      return shardCounters(shard, added, processed, owed);
    }),
  );
}

/** The counters from the checkpoint hash's `@added`, `@processed`, `@owed` fields as HMGET gives them (absent = 0). */
export function shardCounters(shard: number, added: string | null, processed: string | null, owed: string | null): ShardCounters {
  return { shard, added: Number(added ?? 0), processed: Number(processed ?? 0), owed: Number(owed ?? 0) };
}

/** Events appended and not yet applied by the detector: the lag ingest.lua refuses work over. */
export const unapplied = (c: ShardCounters): number => c.added - c.processed - c.owed;

/** Events appended and not yet shown (applied ones whose room summary is deferred count too). */
export const unshown = (c: ShardCounters): number => c.added - c.processed;
