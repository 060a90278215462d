/**
 * "Caught up": every event accepted on a shard is applied and shown (`@processed` = `@added`; events whose
 * room summary is still deferred wait in `@owed`, outside `@processed`: workers/detector-worker.ts). The
 * tests compare totals only from here, so an overshoot fails as surely as a shortfall.
 */
import type { RedisClient } from '../../server/lua/scripts.ts';
import { readShardCounters, unshown } from '../../server/shard-counters.ts';
import { waitFor } from './crest.ts';

/** Summed `@added` and `@processed` over `shards`. */
export async function shardCounters(redis: RedisClient, shards: number | readonly number[]): Promise<{ added: number; processed: number }> {
  return (await readShardCounters(redis, shards)).reduce((t, c) => ({ added: t.added + c.added, processed: t.processed + c.processed }), { added: 0, processed: 0 });
}

/** True when every one of `shards` is caught up, undefined otherwise (a waitFor probe). */
export async function caughtUp(redis: RedisClient, shards: number | readonly number[]): Promise<true | undefined> {
  return (await readShardCounters(redis, shards)).every((c) => unshown(c) === 0) ? true : undefined;
}
/** Waits until every one of `shards` is caught up. */
export function waitCaughtUp(redis: RedisClient, shards: number | readonly number[], ms = 30_000, what = 'detector caught up'): Promise<true> {
  return waitFor(what, ms, () => caughtUp(redis, shards));
}
