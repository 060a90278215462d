/**
 * "Caught up": every event accepted on a shard is applied and shown (`@processed` = `@added`; events whose
 * room summary is still deferred wait in `@owed`, outside `@processed`: workers/detector-worker.ts). The
 * tests compare totals only from here, so an overshoot fails as surely as a shortfall.
 */
import type { RedisClient } from '../../server/lua/scripts.ts';
import { keys } from '../../server/redis-keys.ts';
import { waitFor } from './crest.ts';

/** `@added` and `@processed` of each of `shards` (a count: shards 0..n-1, or a list). */
async function countersPerShard(redis: RedisClient, shards: number | readonly number[]): Promise<{ added: number; processed: number }[]> {
  const list = typeof shards === 'number' ? Array.from({ length: shards }, (_, s) => s) : shards;
  const out: { added: number; processed: number }[] = [];
  for (const s of list) {
    const [a, p] = await redis.hmget(keys.checkpoint(s), '@added', '@processed');
    out.push({ added: Number(a ?? 0), processed: Number(p ?? 0) });
  }
  return out;
}

/** Summed `@added` and `@processed` over `shards`. */
export async function shardCounters(redis: RedisClient, shards: number | readonly number[]): Promise<{ added: number; processed: number }> {
  return (await countersPerShard(redis, shards)).reduce((t, c) => ({ added: t.added + c.added, processed: t.processed + c.processed }), { added: 0, processed: 0 });
}

/** True when every one of `shards` is caught up, undefined otherwise (a waitFor probe). */
export async function caughtUp(redis: RedisClient, shards: number | readonly number[]): Promise<true | undefined> {
  return (await countersPerShard(redis, shards)).every((c) => c.added === c.processed) ? true : undefined;
}

/** Waits until every one of `shards` is caught up. */
export function waitCaughtUp(redis: RedisClient, shards: number | readonly number[], ms = 30_000, what = 'detector caught up'): Promise<true> {
  return waitFor(what, ms, () => caughtUp(redis, shards));
}
