/**
 * Read side of a room (what the detector committed) and the one write the API makes on it:
 * acknowledging a suggestion. Shared by the REST routes and the socket gateway.
 */
import type { Ack, HighlightWindow, RoomSnapshot, RoomSummary, SeriesPoint, Suggestion, Role } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import { keys } from './redis-keys.ts';
import { listPlans } from './plan-store.ts';
import { scripts, type RedisClient } from './lua/scripts.ts';

/** The per-room record in the shard's view hash: a summary plus its bounded window list. */
export interface RoomView extends RoomSummary {
  windows: HighlightWindow[];
}

export type AckOutcome = { ok: true; ack: Ack; first: boolean } | { ok: false; reason: 'not-found' };

export class RoomStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly shards: number,
    private readonly outStreamMaxLen: number,
  ) {}

  shardOf(room: string): number {
    return shardOf(room, this.shards);
  }

  async view(room: string): Promise<RoomView | null> {
    const raw = await this.redis.hget(keys.view(this.shardOf(room)), room);
    return raw ? (JSON.parse(raw) as RoomView) : null;
  }

  /** Every known room's summary, filtered by `allowed`. */
  async list(allowed: (room: string) => boolean): Promise<RoomSummary[]> {
    // One call per shard, not a pipeline: on a Redis Cluster the shards' hashes live in different slots.
    const hashes = await Promise.all(Array.from({ length: this.shards }, (_, s) => this.redis.hgetall(keys.view(s))));
    const out: RoomSummary[] = [];
    for (const hash of hashes) {
      for (const [room, json] of Object.entries(hash)) {
        if (!allowed(room)) continue;
        const { windows: _w, ...summary } = JSON.parse(json) as RoomView;
        out.push(summary);
      }
    }
    return out.sort((a, b) => a.room.localeCompare(b.room));
  }

  /** Newest first. Hosts and buyers see only their own audience and never suppressed ones. */
  async suggestions(room: string, role: Role, limit = 500): Promise<Suggestion[]> {
    const raw = await this.redis.lrange(keys.suggestions(this.shardOf(room), room), 0, limit - 1);
    return raw.map((j) => JSON.parse(j) as Suggestion).filter((s) => visibleTo(s, role));
  }

  async acks(room: string): Promise<Ack[]> {
    const raw = await this.redis.hgetall(keys.acks(this.shardOf(room), room));
    return Object.values(raw).map((j) => JSON.parse(j) as Ack).sort((a, b) => a.at - b.at);
  }

  /** The last `limit` 1 s points of the room's chart series, oldest first. */
  async series(room: string, limit = 3_600): Promise<SeriesPoint[]> {
    const raw = await this.redis.lrange(keys.series(this.shardOf(room), room), -limit, -1);
    return raw.map((line) => {
      const [ts, concurrency, gmv, orders] = line.split(',').map(Number);
      return { ts: ts!, concurrency: concurrency!, gmv: gmv!, orders: orders! };
    });
  }

  /** Id of the newest out-stream entry of the room's shard ('0-0' when empty). */
  async cursor(room: string): Promise<string> {
    const last = (await this.redis.xrevrange(keys.out(this.shardOf(room)), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? '0-0';
  }

  /**
   * Everything a view needs to draw the room. The cursor is read first, so anything committed after
   * it is also pushed live; clients upsert by id, so an overlap shows nothing twice.
   */
  async snapshot(room: string, role: Role): Promise<RoomSnapshot> {
    const cursor = await this.cursor(room);
    const [view, suggestions, acks, series, plans] = await Promise.all([
      this.view(room),
      this.suggestions(room, role, 200),
      this.acks(room),
      role === 'buyer' ? Promise.resolve([]) : this.series(room),
      listPlans(this.redis, this.shards, room),
    ]);
    return { room, metrics: view?.metrics ?? null, windows: view?.windows ?? [], suggestions, acks, series, plans, cursor };
  }

  /**
   * Records who acknowledged a suggestion (the first acknowledgement stands) and announces it on the
   * out stream in the same transaction, so every gateway node tells its sockets.
   */
  async ack(room: string, suggestionId: string, by: string, role: Role, now = Date.now()): Promise<AckOutcome> {
    const shard = this.shardOf(room);
    const found = (await this.suggestions(room, 'admin')).find((s) => s.id === suggestionId);
    if (!found || !visibleTo(found, role)) return { ok: false, reason: 'not-found' };
    const ack: Ack = { suggestionId, room, by, role, at: now };
    const update = JSON.stringify({ type: 'ack', room, ack });
    const [first, storedJson] = (await scripts.ack.run(
      this.redis,
      [keys.acks(shard, room), keys.out(shard)],
      [suggestionId, JSON.stringify(ack), room, update, this.outStreamMaxLen],
    )) as [number, string];
    const stored = JSON.parse(storedJson) as Ack;
    return { ok: true, ack: stored, first: first === 1 };
  }
}

/** Operators and admins see every suggestion (suppressed ones too, with why); others their own audience. */
export function visibleTo(s: Suggestion, role: Role): boolean {
  if (role === 'operator' || role === 'admin') return true;
  return s.audience === role && s.suppressed === null;
}
