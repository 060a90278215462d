/**
 * "Caught up": every event accepted on a shard is applied and shown (`@processed` = `@added`; events whose
 * room summary is still deferred wait in `@owed`, outside `@processed`: workers/detector-worker.ts). The
 * tests compare totals only from here, so an overshoot fails as surely as a shortfall.
 */
import type { RedisClient } from '../../server/lua/scripts.ts';
import { keys } from '../../server/redis-keys.ts';
import { waitFor } from './crest.ts';

/** Summed `@added` and `@processed` over `shards` (a count: shards 0..n-1, or a list). */
export async function shardCounters(redis: RedisClient, shards: number | readonly number[]): Promise<{ added: number; processed: number }> {
  const list = typeof shards === 'number' ? Array.from({ length: shards }, (_, s) => s) : shards;
  let added = 0;
  let processed = 0;
  for (const s of list) {
    const [a, p] = await redis.hmget(keys.checkpoint(s), '@added', '@processed');
    added += Number(a ?? 0);
    processed += Number(p ?? 0);
  }
  return { added, processed };
}

/** True when every one of `shards` is caught up, undefined otherwise (a waitFor probe). */
export async function caughtUp(redis: RedisClient, shards: number | readonly number[]): Promise<true | undefined> {
  const list = typeof shards === 'number' ? Array.from({ length: shards }, (_, s) => s) : shards;
  for (const s of list) {
    const [a, p] = await redis.hmget(keys.checkpoint(s), '@added', '@processed');
    if (Number(a ?? 0) !== Number(p ?? 0)) return undefined;
  }
  return true;
}

/** Waits until every one of `shards` is caught up. */
export function waitCaughtUp(redis: RedisClient, shards: number | readonly number[], ms = 30_000, what = 'detector caught up'): Promise<true> {
  return waitFor(what, ms, () => caughtUp(redis, shards));
}
