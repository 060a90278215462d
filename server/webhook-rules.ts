/**
 * Alert rules storage and the delivery-time decision (core/quiet-rules.ts holds the logic). One decision
 * per suggestion, recorded with its holds (held or not) so that re-reading an out-stream entry, or a second
 * alert worker, gets the same answer and counts nothing twice.
 */
import type { Redis, Cluster } from 'ioredis';
import type { Audience, Suggestion, SuggestionKind } from '../core/protocol.ts';
import { alertRulesSchema, applyAlertRules, emptyQuietState, type AlertRules, type Hold, type QuietState } from '../core/quiet-rules.ts';
import { webhookKeys } from './webhook-keys.ts';
import { scripts } from './lua/scripts.ts';

type RedisLike = Redis | Cluster;

/** How long decisions and rate state are kept after a room's last decision. */
export const HOLDS_TTL_S = 7 * 24 * 3600;

/** One suggestion's delivery decision, as the operator log shows it. `holds` is empty when it went out. */
export interface HoldRecord {
  suggestionId: string;
  kind: SuggestionKind;
  audience: Audience;
  createdAt: number;
  holds: Partial<Record<Audience, Hold>>;
}


export async function readRules(redis: RedisLike, room: string): Promise<AlertRules | null> {
  const raw = await redis.hget(webhookKeys.rules(), room);
  if (!raw) return null;
  const r = alertRulesSchema.safeParse(JSON.parse(raw));
  return r.success ? r.data : null;
}

/** Replaces the room's rules; an object with no audience removes them. */
export async function writeRules(redis: RedisLike, room: string, rules: AlertRules): Promise<void> {
  if (Object.keys(rules).length === 0) await redis.hdel(webhookKeys.rules(), room);
  else await redis.hset(webhookKeys.rules(), room, JSON.stringify(rules));
}

/** The holds for `s` (empty when it may go to everyone). Rooms without rules cost one HGET and write nothing. */
export async function decide(redis: RedisLike, s: Suggestion): Promise<Partial<Record<Audience, Hold>>> {
  const rules = await readRules(redis, s.room);
  if (!rules) return {};
  const stateKey = webhookKeys.quietState(s.room);
  const holdsKey = webhookKeys.holds(s.room);
  for (let attempt = 0; attempt < 20; attempt++) {
    const [prior, rawState] = await Promise.all([redis.hget(holdsKey, s.id), redis.get(stateKey)]);
    if (prior) return (JSON.parse(prior) as HoldRecord).holds;
    const state: QuietState = rawState ? (JSON.parse(rawState) as QuietState) : emptyQuietState();
    const out = applyAlertRules(rules, state, s);
    const record: HoldRecord = { suggestionId: s.id, kind: s.kind, audience: s.audience, createdAt: s.createdAt, holds: out.holds };
    const stood = await scripts.alertDecide.run(redis, [stateKey, holdsKey], [rawState ?? '', JSON.stringify(out.state), s.id, JSON.stringify(record), HOLDS_TTL_S]);
    if (typeof stood === 'string') return (JSON.parse(stood) as HoldRecord).holds;
  }
  throw new Error(`alert rules of room "${s.room}": the state kept changing under 20 decisions in a row`);
}

/** The room's held suggestions (at least one audience held), newest first. */
export async function listHolds(redis: RedisLike, room: string): Promise<HoldRecord[]> {
  const all = await redis.hgetall(webhookKeys.holds(room));
  return Object.values(all)
    .map((j) => JSON.parse(j) as HoldRecord)
    .filter((r) => Object.keys(r.holds).length > 0)
    .sort((a, b) => b.createdAt - a.createdAt);
}
