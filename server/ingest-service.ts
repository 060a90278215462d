/**
 * Ingest: validate every event against contract v1, check the token may write its room, group by
 * shard and append each shard's group atomically with dedupe (server/lua/ingest.lua). Used by the
 * HTTP API and, in-process, by the demo simulator, so both take exactly the same path.
 */
import { parseEvent, type CrestEvent } from '../core/events.ts';
import type { IngestResult } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import { canAccessRoom, type TokenClaims } from './auth/token.ts';
import { HttpError, unavailable } from './http-error.ts';
import { keys } from './redis-keys.ts';
import { scripts, type RedisClient } from './lua/scripts.ts';

export interface IngestOptions {
  shards: number;
  dedupeHorizonS: number;
  maxLag: number;
}

/** Stands in for an input item that was not even JSON (an NDJSON line), so it is reported at its index. */
export class UnparseableItem {
  constructor(readonly reason: string) {}
}

export interface IngestCounters {
  accepted: number;
  duplicate: number;
  rejected: number;
}

export class IngestService {
  readonly counters: IngestCounters = { accepted: 0, duplicate: 0, rejected: 0 };

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: IngestOptions,
  ) {}

  /**
   * Validates and appends `items`. Throws HttpError 429 when every target shard's backlog is over the
   * limit (nothing written; see append), 503 when Redis is unreachable (the caller retries; ids make it safe).
   */
  async ingest(items: readonly unknown[], claims: Pick<TokenClaims, 'rooms'>): Promise<IngestResult> {
    const result: IngestResult = { accepted: 0, duplicate: 0, rejected: 0, duplicates: [], errors: [] };
    const byShard = new Map<number, { index: number; event: CrestEvent }[]>();
    items.forEach((item, index) => {
      if (item instanceof UnparseableItem) {
        result.errors.push({ index, field: '', reason: item.reason });
        return;
      }
      const r = parseEvent(item);
      if (!r.ok) {
        result.errors.push({ index, ...r.error });
        return;
      }
      if (!canAccessRoom(claims, r.event.room)) {
        result.errors.push({ index, field: 'room', reason: `this token may not write room "${r.event.room}"` });
        return;
      }
      const shard = shardOf(r.event.room, this.opts.shards);
      let group = byShard.get(shard);
      if (!group) byShard.set(shard, (group = []));
      group.push({ index, event: r.event });
    });
    result.rejected = result.errors.length;
    if (byShard.size > 0) await this.append(byShard, result);
    this.counters.accepted += result.accepted;
    this.counters.duplicate += result.duplicate;
    this.counters.rejected += result.rejected;
    return result;
  }

  /**
   * One ingest.lua call per shard, all in flight at once. The backlog check runs inside each script (no
   * separate read round trip), so a lagging shard writes nothing; when every shard of the request lags the
   * answer is 429 and nothing at all was written, otherwise the lagging shards' events are rejected one by
   * one ("not stored, resend later") beside the accepted ones.
   */
  private async append(byShard: Map<number, { index: number; event: CrestEvent }[]>, result: IngestResult): Promise<void> {
    const lagging: number[] = [];
    const runs = [...byShard].map(async ([shard, group]) => {
      const keyList: string[] = new Array(group.length + 2);
      const args: (string | number)[] = new Array(group.length + 2);
      keyList[0] = keys.events(shard);
      keyList[1] = keys.checkpoint(shard);
      args[0] = this.opts.dedupeHorizonS;
      args[1] = this.opts.maxLag;
      for (let i = 0; i < group.length; i++) {
        const ev = group[i]!.event;
        keyList[i + 2] = keys.dedupe(shard, ev.room, ev.id);
        args[i + 2] = JSON.stringify(ev);
      }
      try {
        const status = (await scripts.ingest.run(this.redis, keyList, args)) as number[];
        group.forEach((g, i) => {
          if (status[i] === 1) result.accepted++;
          else {
            result.duplicate++;
            result.duplicates.push({ index: g.index, id: g.event.id });
          }
        });
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('CREST_LAG')) {
          lagging.push(shard);
          return;
        }
        throw err;
      }
    });
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw redisDown(failed.reason);
    if (lagging.length === byShard.size) {
      throw new HttpError(429, 'backlog', `detector backlog over ${this.opts.maxLag} events on shard ${lagging.sort((a, b) => a - b).join(', ')}: retry later`, {
        headers: { 'Retry-After': '1' },
      });
    }
    for (const shard of lagging) {
      // Not written (the script refused before any write): the caller may resend these as they are.
      for (const g of byShard.get(shard)!) result.errors.push({ index: g.index, field: '', reason: 'detector backlog over limit: not stored, resend later' });
      result.rejected += byShard.get(shard)!.length;
    }
    result.duplicates.sort((a, b) => a.index - b.index);
    result.errors.sort((a, b) => a.index - b.index);
  }
}

function redisDown(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  // Some shards may have been written before the failure; resending the same request is safe (ids dedupe).
  return unavailable(`event store unavailable (${msg}); nothing acknowledged: resend the same request, ids make it safe`);
}
