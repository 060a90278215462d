/**
 * The room's chart series at 1 s, 10 s and 1 min (issue 5, Metrics). The detector checkpoint writes the 1 s
 * points (last hour); the 10 s and 1 min points are rolled up from them by series-rollup.lua — on every read,
 * so an answer is never behind, and by SeriesRoller every ROLL_EVERY_MS for rooms nobody is reading, so their
 * older buckets are kept after the 1 s points are trimmed. Rolling up is idempotent, so any number of API
 * processes may run it at once.
 *
 * Retention: 1 s → 3,600 points (1 h, set by the checkpoint); 10 s → 2,160 (6 h); 1 min → 1,440 (24 h). The
 * rollup lists of a room that stops ticking expire ROLLUP_TTL_S after their last write.
 */
import type { SeriesBucketPoint, SeriesResolution } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import { keys, shardTag } from './redis-keys.ts';
import { LuaScript, type RedisClient } from './lua/scripts.ts';
import type { Logger } from './logger.ts';

export const SERIES_RESOLUTIONS: readonly SeriesResolution[] = ['1s', '10s', '1m'];
/** Points kept, and the default number answered, per resolution. */
export const SERIES_KEPT: Record<SeriesResolution, number> = { '1s': 3_600, '10s': 2_160, '1m': 1_440 };
export const SERIES_DEFAULT_LIMIT: Record<SeriesResolution, number> = { '1s': 3_600, '10s': 360, '1m': 240 };
export const ROLLUP_TTL_S = 25 * 3_600;
export const ROLL_EVERY_MS = 30_000;

const rollupScript = new LuaScript('series-rollup');

export const seriesKeys = {
  rollup: (s: number, room: string, res: '10s' | '1m') => `crest:${shardTag(s)}:series-${res}:${room}`,
};

function scriptKeys(shard: number, room: string): string[] {
  return [keys.series(shard, room), seriesKeys.rollup(shard, room, '10s'), seriesKeys.rollup(shard, room, '1m')];
}

const baseArgs = () => [SERIES_KEPT['10s'], SERIES_KEPT['1m'], ROLLUP_TTL_S];

/** Rolls a room's complete 10 s / 1 min buckets up; returns how many were appended. */
export async function rollUpRoom(redis: RedisClient, shards: number, room: string): Promise<number> {
  return rollUpInShard(redis, shardOf(room, shards), room);
}

async function rollUpInShard(redis: RedisClient, shard: number, room: string): Promise<number> {
  return Number(await rollupScript.run(redis, scriptKeys(shard, room), [...baseArgs(), '', 0]));
}

function parseBucket(line: string, partial: boolean): SeriesBucketPoint {
  const [ts, sum, n, peak, gmv, orders] = line.split(',').map(Number) as [number, number, number, number, number, number];
  return { ts, concurrency: n > 0 ? Math.round((sum / n) * 10) / 10 : 0, concurrencyPeak: peak, gmv, orders, samples: n, partial };
}

/**
 * The newest `limit` points at `res`, oldest first. For 10 s and 1 min the last point is the still-filling
 * bucket (`partial: true`) when the room has 1 s points in it.
 */
export async function readSeries(
  redis: RedisClient,
  shards: number,
  room: string,
  res: '10s' | '1m',
  limit: number,
): Promise<SeriesBucketPoint[]> {
  const shard = shardOf(room, shards);
  const [complete, partial] = (await rollupScript.run(redis, scriptKeys(shard, room), [...baseArgs(), res, limit])) as [string[], string];
  const points = complete.map((l) => parseBucket(l, false));
  if (partial !== '') points.push(parseBucket(partial, true));
  return points.slice(-limit);
}

/** Rolls every known room up every ROLL_EVERY_MS, so rooms nobody reads keep their 10 s / 1 min history. */
export class SeriesRoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly shards: number,
    private readonly log: Logger,
    private readonly everyMs = ROLL_EVERY_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.rollAll().finally(() => (this.running = null));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every room of every shard; a failure is logged and retried on the next pass. */
  async rollAll(): Promise<void> {
    try {
      for (let s = 0; s < this.shards; s++) {
        const rooms = await this.redis.hkeys(keys.view(s));
        for (let i = 0; i < rooms.length; i += 200) {
          await Promise.all(rooms.slice(i, i + 200).map((room) => rollUpInShard(this.redis, s, room)));
        }
      }
    } catch (err) {
      this.log.warn('series roll-up pass failed; retrying on the next pass', { error: (err as Error).message });
    }
  }
}
