/**
 * Ingest: validate every event against contract v1, check the token may write its room, group by
 * shard and append each shard's group atomically with dedupe (server/lua/ingest.lua). Used by the
 * HTTP API and, in-process, by the demo simulator, so both take exactly the same path.
 */
import { parseEvent } from '../core/events.ts';
import type { IngestResult } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import { canAccessRoom, type TokenClaims } from './auth/token.ts';
import { HttpError, unavailable } from './http-error.ts';
import { keys } from './redis-keys.ts';
import { luaJsonArray } from './lua/json-argument.ts';
import { scripts, type RedisClient } from './lua/scripts.ts';
import { isCluster } from './redis-connection.ts';

export interface IngestOptions {
  shards: number;
  dedupeHorizonS: number;
  maxLag: number;
  /** Replicas that must have a batch before it is acknowledged (WAIT), and how long to wait for them. */
  replicas?: { min: number; waitMs: number };
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

/** One shard's part of a request, in request order: what ingest.lua gets, and how to map its answer back. */
interface ShardBatch {
  /** Request index of each event. */
  index: number[];
  ids: string[];
  /** Dedupe members, `<room>:<id>` (see dedupeMember). */
  members: string[];
  /** The events as stored: JSON.stringify of the validated event (contract v1, what the detector reads), or
   * the request's own text of it where that is the same string (core/canonical-json.ts). */
  json: string[];
}

/**
 * The dedupe identity of an event inside its shard's bucket set. A room id never holds ':' (contract v1),
 * so the first ':' splits it from the id, whatever the id holds: no two (room, id) pairs share a member.
 */
export const dedupeMember = (room: string, id: string): string => `${room}:${id}`;

/**
 * ingest.lua's per-group counts and its two list arguments: every group's dedupe members as one JSON array, and
 * every group's events joined by newlines (JSON text, canonical or JSON.stringify's, never holds a raw one). Two
 * arguments instead of two per event: ioredis encodes each argument apart, the largest part of the API thread's
 * cost of a call; the events are not put in the JSON, which would escape every quote in them (and Redis unescape).
 */
export function ingestArgs(groups: readonly Pick<ShardBatch, 'members' | 'json'>[]): { counts: number[]; members: string; events: string } {
  const members: string[] = [];
  const events: string[] = [];
  const counts: number[] = [];
  for (const batch of groups) {
    counts.push(batch.members.length);
    for (const m of batch.members) members.push(m);
    for (const j of batch.json) events.push(j);
  }
  return { counts, members: luaJsonArray(members), events: events.join('\n') };
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
  async ingest(
    items: readonly unknown[],
    claims: Pick<TokenClaims, 'rooms'>,
    opts: { requestId?: string; texts?: readonly (string | undefined)[] } = {},
  ): Promise<IngestResult> {
    const result: IngestResult = { accepted: 0, duplicate: 0, rejected: 0, duplicates: [], errors: [] };
    const byShard: (ShardBatch | undefined)[] = new Array(this.opts.shards);
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      if (item instanceof UnparseableItem) {
        result.errors.push({ index, field: '', reason: item.reason });
        continue;
      }
      const r = parseEvent(item);
      if (!r.ok) {
        result.errors.push({ index, ...r.error });
        continue;
      }
      const ev = r.event;
      if (!canAccessRoom(claims, ev.room)) {
        result.errors.push({ index, field: 'room', reason: `this token may not write room "${ev.room}"` });
        continue;
      }
      const shard = shardOf(ev.room, this.opts.shards);
      const batch = (byShard[shard] ??= { index: [], ids: [], members: [], json: [] });
      batch.index.push(index);
      batch.ids.push(ev.id);
      batch.members.push(dedupeMember(ev.room, ev.id));
      // The item's text only where the event is the parsed item itself (validated as it came), never zod's copy.
      const text = ev === item ? opts.texts?.[index] : undefined;
      batch.json.push(text ?? JSON.stringify(ev));
    }
    result.rejected = result.errors.length;
    const groups: [number, ShardBatch][] = [];
    byShard.forEach((batch, shard) => batch && groups.push([shard, batch]));
    if (groups.length > 0) await this.append(groups, result, opts.requestId ?? '');
    this.counters.accepted += result.accepted;
    this.counters.duplicate += result.duplicate;
    this.counters.rejected += result.rejected;
    return result;
  }

  /**
   * ingest.lua: on a standalone Redis one call for every shard of the request, on a cluster one call per
   * shard (its keys share that shard's slot), all in flight at once. The backlog check runs inside the
   * script (no separate read round trip), so a lagging shard writes nothing; when every shard of the
   * request lags the answer is 429 and nothing at all was written, otherwise the lagging shards' events are
   * rejected one by one ("not stored, resend later") beside the accepted ones.
   */
  private async append(groups: [number, ShardBatch][], result: IngestResult, requestId: string): Promise<void> {
    const lagging: number[] = [];
    const calls = this.redis.isCluster ? groups.map((g) => [g]) : [groups];
    const runs = calls.map(async (call) => {
      const replies = await this.runScript(call, requestId);
      call.forEach(([shard, batch], g) => {
        const status = replies[g]!;
        if (typeof status === 'string') {
          if (!status.startsWith('CREST_LAG')) throw new Error(`ingest.lua: unexpected answer "${status}"`);
          lagging.push(shard);
          return;
        }
        for (let i = 0; i < status.length; i++) {
          if (status[i] === 1) result.accepted++;
          else {
            result.duplicate++;
            result.duplicates.push({ index: batch.index[i]!, id: batch.ids[i]! });
          }
        }
      });
    });
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw redisDown(failed.reason);
    if (lagging.length === groups.length) {
      throw new HttpError(429, 'backlog', `detector backlog over ${this.opts.maxLag} events on shard ${lagging.sort((a, b) => a - b).join(', ')}: retry later`, {
        headers: { 'Retry-After': '1' },
      });
    }
    for (const [shard, batch] of groups) {
      if (!lagging.includes(shard)) continue;
      // Not written (the script refused before any write): the caller may resend these as they are.
      for (const index of batch.index) result.errors.push({ index, field: '', reason: 'detector backlog over limit: not stored, resend later' });
      result.rejected += batch.index.length;
    }
    result.duplicates.sort((a, b) => a.index - b.index);
    result.errors.sort((a, b) => a.index - b.index);
  }

  /**
   * One ingest.lua call for `call`'s shards; per shard, its 0/1 answers or "CREST_LAG <lag>". The dedupe
   * bucket is named from this clock, but Redis time decides: when they disagree (near a bucket edge, or a
   * skewed clock) the script writes nothing and names its bucket, and the call is made again with it.
   */
  private async runScript(call: [number, ShardBatch][], requestId: string): Promise<(number[] | string)[]> {
    const width = this.opts.dedupeHorizonS;
    let bucket = Math.floor(Date.now() / 1000 / width);
    const { counts, members, events } = ingestArgs(call.map(([, batch]) => batch));
    for (let attempt = 1; ; attempt++) {
      const keyList: string[] = [];
      for (const [shard] of call) {
        keyList.push(keys.events(shard), keys.checkpoint(shard), keys.dedupe(shard, bucket), keys.dedupe(shard, bucket - 1), keys.dedupe(shard, bucket - 2));
      }
      try {
        return await this.runOnce(keyList, [width, bucket, this.opts.maxLag, requestId, ...counts, members, events]);
      } catch (err) {
        const redisBucket = err instanceof Error ? /^CREST_BUCKET (\d+)/.exec(err.message) : null;
        // Twice is enough for any clock: the second call already names Redis's bucket.
        if (!redisBucket || attempt >= 3) throw err;
        bucket = Number(redisBucket[1]);
      }
    }
  }

  /**
   * ingest.lua, and with CREST_MIN_REPLICAS, WAIT in the same pipeline: on a cluster the pipeline goes to the
   * node of the script's keys (WAIT has none), and WAIT counts the replicas that have every write this
   * connection made before it, so a resent batch (all duplicates) also confirms its first write. Too few
   * replicas in time: 503, though the primary has the events; the resend answers them as duplicates.
   */
  private async runOnce(keyList: string[], args: (string | number)[]): Promise<(number[] | string)[]> {
    const replicas = this.opts.replicas;
    if (!replicas || replicas.min === 0) return (await scripts.ingest.run(this.redis, keyList, args)) as (number[] | string)[];
    const run = () => scripts.ingest.runPiped(this.redis, keyList, args, (p) => p.wait(replicas.min, replicas.waitMs));
    let replies = await run();
    for (let redirects = 0; redirects < 3 && isCluster(this.redis) && /^(MOVED|ASK) /.test(replies[0]![0]?.message ?? ''); redirects++) {
      // The slot moved (a failover, a reshard): ioredis follows MOVED by itself for single commands, but
      // not for a pipeline whose other command (WAIT, keyless) ran fine. Nothing ran there: ask again.
      const cluster = this.redis;
      await new Promise<void>((ok) => cluster.refreshSlotsCache(() => ok()));
      replies = await run();
    }
    const [[scriptErr, result], [waitErr, acked]] = replies as [[Error | null, unknown], [Error | null, unknown]];
    if (scriptErr) throw scriptErr;
    if (waitErr) throw waitErr;
    if (Number(acked) < replicas.min) {
      throw unavailable(
        `stored on the primary but confirmed by ${Number(acked)} of ${replicas.min} replica(s) within ${replicas.waitMs} ms: resend the same request (ids make it safe; its events then answer as duplicates, i.e. stored)`,
      );
    }
    return result as (number[] | string)[];
  }
}

/**
 * For each (room, id): whether dedupe remembers it now, i.e. whether resending it would answer
 * "duplicate". For tests and tools that ask what was stored; the same buckets ingest.lua looks in, by
 * Redis time.
 */
export async function dedupeRemembers(
  redis: RedisClient,
  opts: Pick<IngestOptions, 'shards' | 'dedupeHorizonS'>,
  events: readonly { room: string; id: string }[],
): Promise<boolean[]> {
  const [seconds] = await redis.time();
  const bucket = Math.floor(Number(seconds) / opts.dedupeHorizonS);
  const byShard = new Map<number, number[]>();
  events.forEach((e, i) => {
    const shard = shardOf(e.room, opts.shards);
    const at = byShard.get(shard);
    if (at) at.push(i);
    else byShard.set(shard, [i]);
  });
  const known = events.map(() => false);
  await Promise.all(
    [...byShard].flatMap(([shard, at]) =>
      [bucket, bucket - 1].map(async (b) => {
        const found = await redis.smismember(keys.dedupe(shard, b), ...at.map((i) => dedupeMember(events[i]!.room, events[i]!.id)));
        found.forEach((f, j) => f === 1 && (known[at[j]!] = true));
      }),
    ),
  );
  return known;
}

function redisDown(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  // Some shards may have been written before the failure; resending the same request is safe (ids dedupe).
  return unavailable(`event store unavailable (${msg}); nothing acknowledged: resend the same request, ids make it safe`);
}
