/**
 * What the big-room bench reads back from Redis: how far behind each shard's detector is, the rooms'
 * figures as the detector published them (the view hash the API serves) checked against the reference,
 * the size of the big room's checkpoint parts, and the Lua scripts' longest runs (SLOWLOG).
 */
import type { Redis } from 'ioredis';
import type { RoomMetrics } from '../../core/protocol.ts';
import { shardOf } from '../../core/sharding.ts';
import { scripts } from '../../server/lua/scripts.ts';
import { CHECKPOINT_FIELDS, keys } from '../../server/redis-keys.ts';
import { readShardCounters, unapplied, unshown } from '../../server/shard-counters.ts';
import type { SaleTotals } from './big-room-sale.ts';

/** Per shard: events added and not yet applied by its detector, and not yet shown (server/shard-counters.ts). */
export async function shardLag(redis: Redis, shards: number): Promise<{ unapplied: number[]; unshown: number[] }> {
  const counters = await readShardCounters(redis, shards);
  return { unapplied: counters.map(unapplied), unshown: counters.map(unshown) };
}

export async function roomMetricsOf(redis: Redis, shards: number, room: string): Promise<RoomMetrics | null> {
  const json = await redis.hget(keys.view(shardOf(room, shards)), room);
  return json ? (JSON.parse(json) as { metrics: RoomMetrics }).metrics : null;
}

/** The big room's published figures against the reference: every exact one equal; unique is the HLL's estimate. */
export function compareTotals(m: RoomMetrics | null, want: SaleTotals): { mismatches: string[]; got: Record<string, unknown>; uniqueErrorPct: number } {
  if (!m) return { mismatches: ['no published summary'], got: {}, uniqueErrorPct: NaN };
  const got = {
    entries: Object.values(m.entriesTotal).reduce((a, b) => a + b, 0),
    concurrency: m.concurrency,
    orders: m.orders,
    gmv: m.gmv,
    payingViewers: m.payingViewers,
    likes: m.likes,
    gmvBySource: m.detail?.gmvBySource,
    gmvUnattributed: m.detail?.gmvUnattributed,
  };
  const mismatches: string[] = [];
  for (const [k, v] of Object.entries(got)) {
    const w = want[k as keyof SaleTotals];
    if (canonical(v) !== canonical(w)) mismatches.push(`${k}: got ${JSON.stringify(v)}, want ${JSON.stringify(w)}`);
  }
  return { mismatches, got: { ...got, uniqueViewers: m.uniqueViewers }, uniqueErrorPct: ((m.uniqueViewers - want.uniqueViewers) / want.uniqueViewers) * 100 };
}

/** JSON with object keys sorted, so a per-source record compares whatever order its keys came in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** Normal rooms whose published event count is not what they accepted. */
export async function normalRoomMismatches(redis: Redis, shards: number, accepted: Map<string, number>): Promise<string[]> {
  const bad: string[] = [];
  for (const [room, n] of accepted) {
    const m = await roomMetricsOf(redis, shards, room);
    if (m?.events !== n) bad.push(`${room}: ${m?.events} events shown, ${n} accepted`);
  }
  return bad;
}

/** The big room's checkpoint: its JSON, and its sessions hash (entries, bytes per entry as stored, Redis memory). */
export async function bigRoomParts(redis: Redis, shards: number, room: string) {
  const shard = shardOf(room, shards);
  const jsonBytes = await redis.hstrlen(keys.checkpoint(shard), CHECKPOINT_FIELDS.room(room));
  const sessions = await redis.hlen(keys.sessions(shard, room));
  // A sample of stored sessions: field (viewer) + value ("src,enter,seen"), what a slice carries per session.
  // (Flat on RESP2, field/value pairs on RESP3.)
  const sample = ((await redis.call('HRANDFIELD', keys.sessions(shard, room), '2000', 'WITHVALUES')) as (string | string[])[]).flat();
  const meanEntryBytes = sample.length ? sample.reduce((n, s) => n + Buffer.byteLength(s), 0) / (sample.length / 2) : 0;
  const redisBytes = Number(await redis.call('MEMORY', 'USAGE', keys.sessions(shard, room)));
  return { jsonBytes, sessions, meanEntryBytes, redisBytes };
}

/** Longest runs per Lua script (and others) that SLOWLOG kept (runs over the threshold set at the start). */
export async function slowScripts(redis: Redis): Promise<Record<string, { count: number; maxMs: number }>> {
  const names = new Map(Object.entries(scripts).map(([name, s]) => [s.sha, name]));
  const log = (await redis.call('SLOWLOG', 'GET', '100000')) as [number, number, number, string[]][];
  const out: Record<string, { count: number; maxMs: number }> = {};
  for (const [, , us, args] of log) {
    const cmd = String(args[0]).toUpperCase();
    const name = cmd === 'EVALSHA' ? (names.get(String(args[1])) ?? 'evalsha?') : cmd;
    const o = (out[name] ??= { count: 0, maxMs: 0 });
    o.count++;
    o.maxMs = Math.max(o.maxMs, Math.round(us / 100) / 10);
  }
  return out;
}
