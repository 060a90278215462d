/**
 * Ad spend as the alert worker sees it on the rooms' ticks, for outcome tracking ("did spend follow a
 * boost.now?", core/outcome.ts). Ticks carry the room's cumulative `adSpend`; each rise becomes one point
 * (tick ts, amount risen). Only changes are written, so a room that reports no spend costs nothing.
 *
 * Idempotent: a tick at or before the last one recorded for the room changes nothing (re-read entries, or
 * two alert workers sharing a shard). Spend reported while no alert worker ran shows at the first tick after.
 */
import type { Redis, Cluster } from 'ioredis';
import { webhookKeys } from './webhook-keys.ts';
import { scripts } from './lua/scripts.ts';

type RedisLike = Redis | Cluster;

/** Points kept per room (one per tick where the spend rose): hours of a busy stream. */
export const SPEND_POINTS_KEPT = 4_096;
export const SPEND_TTL_S = 7 * 24 * 3600;


export interface TickSpend {
  room: string;
  ts: number;
  adSpend: number;
}

/** Remembers each room's last cumulative spend in memory, and writes only when it moved (or is new to us). */
export class SpendRecorder {
  private readonly last = new Map<string, number>();
  constructor(private readonly redis: RedisLike) {}

  /** Ticks in out-stream order. Returns how many spend points were added. */
  async record(ticks: TickSpend[]): Promise<number> {
    let added = 0;
    for (const t of ticks) {
      if (this.last.get(t.room) === t.adSpend) continue;
      added += Number(await scripts.spendRecord.run(this.redis, [webhookKeys.spend(t.room), webhookKeys.spendLast()], [t.room, t.ts, t.adSpend, SPEND_POINTS_KEPT, SPEND_TTL_S]));
      this.last.set(t.room, t.adSpend);
    }
    return added;
  }
}

/** The room's spend points, oldest first, as `ad.spend`-like events for core/outcome.ts. */
export async function readSpend(redis: RedisLike, room: string): Promise<{ type: 'ad.spend'; ts: number; amount: number }[]> {
  return (await redis.lrange(webhookKeys.spend(room), 0, -1)).map((line) => {
    const [ts, amount] = line.split(',').map(Number);
    return { type: 'ad.spend', ts: ts!, amount: amount! };
  });
}
