/**
 * Redis side of history: each room's list of streams (open and archived) and the per-minute rollups of
 * archived streams. Keys carry the room's shard tag, like every other per-room key. The index is small
 * (one record per stream) and kept; the rollups expire after the configured number of days.
 */
import { shardOf } from '../core/sharding.ts';
import { shardTag } from './redis-keys.ts';
import type { RedisClient } from './lua/scripts.ts';
import type { MinuteRollup } from './history-core-replay.ts';

/**
 * Field of the shard checkpoint hash (crest:{sN}:ckpt) holding the archiver's cursor and hold,
 * "<stream id> <hold-until ms>": checkpoint.lua does not trim the event stream past it while the hold lasts.
 */
export const ARCHIVED_FIELD = '@archived';

export const historyKeys = {
  /** Which archiver owns the shard (value = archiver id, PX = lease). */
  lease: (s: number) => `crest:${shardTag(s)}:arch-lease`,
  /** Streams of a room: stream id scored by start time (event time). */
  streams: (s: number, room: string) => `crest:${shardTag(s)}:hist:streams:${room}`,
  /** Stream id → StreamMeta JSON. */
  meta: (s: number, room: string) => `crest:${shardTag(s)}:hist:meta:${room}`,
  /** Minute start (ms) → MinuteRollup JSON; expires. */
  rollups: (s: number, room: string, streamId: string) => `crest:${shardTag(s)}:hist:roll:${room}:${streamId}`,
} as const;

export type StreamEndReason = 'stream.end' | 'next-start' | 'idle';

export interface StreamSummary {
  peakConcurrency: number;
  uniqueViewers: number;
  gmv: number;
  orders: number;
  adSpend: number;
  follows: number;
  windows: number;
  suggestions: number;
}

export interface StreamMeta {
  id: string;
  room: string;
  /** open: the archiver is still collecting it; archived: its file is written. */
  status: 'open' | 'archived';
  /** Event time of the stream's first entry (its stream.start when it had one). */
  startTs: number;
  endTs: number | null;
  /** What opened it: its stream.start, or an event of a room with no open stream. */
  openedBy: 'stream.start' | 'event';
  endedBy: StreamEndReason | null;
  events: number | null;
  /** Archive file relative to the archive folder, its size in bytes and its line count. */
  archive: { file: string; bytes: number; lines: number } | null;
  summary: StreamSummary | null;
  /** When the per-minute rollups expire (wall clock, ms). */
  rollupsExpireAt: number | null;
}

export class HistoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly shards: number,
  ) {}

  private shard(room: string): number {
    return shardOf(room, this.shards);
  }

  async markOpen(meta: StreamMeta): Promise<void> {
    const s = this.shard(meta.room);
    await this.redis
      .multi()
      .zadd(historyKeys.streams(s, meta.room), meta.startTs, meta.id)
      .hset(historyKeys.meta(s, meta.room), meta.id, JSON.stringify(meta))
      .exec();
  }

  /** Records an archived stream and its rollups in one transaction (idempotent: the same input writes the same). */
  async markArchived(meta: StreamMeta, rollups: readonly MinuteRollup[], rollupTtlS: number): Promise<void> {
    const s = this.shard(meta.room);
    const rk = historyKeys.rollups(s, meta.room, meta.id);
    const m = this.redis
      .multi()
      .zadd(historyKeys.streams(s, meta.room), meta.startTs, meta.id)
      .hset(historyKeys.meta(s, meta.room), meta.id, JSON.stringify(meta))
      .del(rk);
    if (rollups.length > 0) {
      const flat: string[] = [];
      for (const r of rollups) flat.push(String(r.ts), JSON.stringify(r));
      m.hset(rk, ...flat).expire(rk, rollupTtlS);
    }
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  /** Newest first. */
  async list(room: string, limit = 100): Promise<StreamMeta[]> {
    const s = this.shard(room);
    const ids = await this.redis.zrevrange(historyKeys.streams(s, room), 0, limit - 1);
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(historyKeys.meta(s, room), ...ids);
    return raw.filter((j): j is string => !!j).map((j) => JSON.parse(j) as StreamMeta);
  }

  async get(room: string, streamId: string): Promise<StreamMeta | null> {
    const raw = await this.redis.hget(historyKeys.meta(this.shard(room), room), streamId);
    return raw ? (JSON.parse(raw) as StreamMeta) : null;
  }

  /** Oldest first; empty when none were kept or they expired. */
  async rollups(room: string, streamId: string): Promise<MinuteRollup[]> {
    const raw = await this.redis.hgetall(historyKeys.rollups(this.shard(room), room, streamId));
    return Object.values(raw)
      .map((j) => JSON.parse(j) as MinuteRollup)
      .sort((a, b) => a.ts - b.ts);
  }

  async rollupTtlS(room: string, streamId: string): Promise<number> {
    return this.redis.ttl(historyKeys.rollups(this.shard(room), room, streamId));
  }
}
