/**
 * Planned highlight moments in the pure core (DESIGN §4 Plans). The plan scheduler's jobs do not talk to
 * sockets: each writes a PlanRecord into the room's shard stream, and the detector applies it here, so a
 * planned cue goes out through the same checkpointed, exactly-once path as every other suggestion.
 *
 * - `countdown` → host `cue.countdown` (params.atTs, product), `launch` → host `cue.launch`,
 *   `build-up` (at T − leadMin) → buyer `boost.now` when a budget is planned, and arms the at-risk watch;
 *   `cancel` (the API, on edit or delete) disarms it.
 * - `plan.at-risk` (operator): while an armed moment is within its lead time (and the build-up has had
 *   AT_RISK_TREND_MS, or half the lead time, to show), concurrency over the last AT_RISK_TREND_MS is flat or
 *   falling and no rising window is open. Decided on ticks (`planOnTick`), at most once per plan version.
 *
 * Cue ids are `room:kind:planId:version:offsetMin` and cue times come from the record (the planned time,
 * not the arrival time), so a record applied twice or replayed yields the same suggestion; a record whose
 * id was already emitted is dropped (a bounded memory of recent ids).
 */
import { z } from 'zod';
import type { EngineConfig } from './engine-config.ts';
import { ROOM_ID_PATTERN } from './events.ts';
import type { Audience, PlanRecord, ReasonCode, RoomUpdate, Suggestion, SuggestionKind } from './protocol.ts';
import type { RoomState } from './room-state.ts';

/** What a room remembers about plans. Plain JSON, kept in the policy state (optional: older checkpoints lack it). */
export interface PlanMemory {
  /** Moments in their build-up, watched for at-risk until their time. */
  armed: ArmedPlan[];
  /** [event time, concurrency] every TREND_STEP_MS, oldest first, bounded: what the at-risk rule reads. */
  trend: [number, number][];
  /** Ids of the plan suggestions emitted lately (bounded): a record applied twice emits once. */
  sent: string[];
}

export interface ArmedPlan {
  planId: string;
  version: number;
  atTs: number;
  leadStartTs: number;
  product: string;
  warned: boolean;
}

/** Flat or falling means: grown by less than this fraction (or AT_RISK_FLAT_ABS viewers) over the trend span. */
export const AT_RISK_TREND_MS = 3 * 60_000;
export const AT_RISK_FLAT_FRACTION = 0.05;
export const AT_RISK_FLAT_ABS = 5;
export const TREND_STEP_MS = 30_000;
const TREND_KEPT = AT_RISK_TREND_MS / TREND_STEP_MS + 1;
const SENT_KEPT = 64;
const ARMED_KEPT = 16;

function memoryOf(st: RoomState): PlanMemory {
  return (st.policy.plans ??= { armed: [], trend: [], sent: [] });
}

/** The id a plan record's suggestion carries (also the scheduler's fire-once key). */
export function planCueId(room: string, kind: SuggestionKind, planId: string, version: number, offset: number | 'lead'): string {
  return `${room}:${kind}:${planId}:${version}:${offset}`;
}

/** The suggestion kind a plan record causes (null for `cancel`). */
export function planCueKind(kind: PlanRecord['kind']): SuggestionKind | null {
  return kind === 'countdown' ? 'cue.countdown' : kind === 'launch' ? 'cue.launch' : kind === 'build-up' ? 'boost.now' : null;
}

const productOf = (rec: Pick<PlanRecord, 'name' | 'sku'>): string => rec.name ?? rec.sku;

/** Applies one plan record; pushes the suggestions it causes to `out`. Returns false when it was a repeat. */
export function applyPlanRecord(st: RoomState, rec: PlanRecord, cfg: EngineConfig, out: RoomUpdate[]): boolean {
  const mem = memoryOf(st);
  if (rec.kind === 'cancel') {
    mem.armed = mem.armed.filter((a) => a.planId !== rec.planId || a.version > rec.version);
    return true;
  }
  const kind = planCueKind(rec.kind)!;
  const id = planCueId(rec.room, kind, rec.planId, rec.version, rec.offsetMin);
  if (mem.sent.includes(id) || mem.armed.some((a) => a.planId === rec.planId && a.version > rec.version)) return false;
  const product = productOf(rec);
  const base = { product, sku: rec.sku, atTs: rec.atTs, ...(rec.welfare ? { welfare: rec.welfare } : {}) };
  const firedAt = rec.atTs - Math.round(rec.offsetMin * 60_000);
  if (rec.kind === 'countdown') {
    emit(st, mem, out, id, 'host', kind, firedAt, rec.atTs, { ...base, offsetMin: rec.offsetMin },
      `Planned moment for ${product} in ${rec.offsetMin} min — get it ready`, rec.planId);
  } else if (rec.kind === 'launch') {
    mem.armed = mem.armed.filter((a) => a.planId !== rec.planId);
    emit(st, mem, out, id, 'host', kind, rec.atTs, rec.atTs + cfg.policy.ttlMs, base,
      `Planned moment: launch ${product} now${rec.welfare ? ` (${rec.welfare})` : ''}`, rec.planId);
  } else {
    mem.armed = mem.armed.filter((a) => a.planId !== rec.planId);
    mem.armed.push({ planId: rec.planId, version: rec.version, atTs: rec.atTs, leadStartTs: firedAt, product, warned: false });
    if (mem.armed.length > ARMED_KEPT) mem.armed.shift();
    if (rec.budget !== null) {
      emit(st, mem, out, id, 'buyer', kind, firedAt, rec.atTs, { ...base, budget: rec.budget, leadMin: rec.leadMin, boostMin: rec.leadMin },
        `Planned moment for ${product} in ${rec.leadMin} min — start the build-up boost now`, rec.planId, rec.atTs, rec.leadMin);
    }
    if (st.clock >= firedAt) checkAtRisk(st, mem, st.clock, cfg, out);
  }
  return true;
}

/** Per-tick part: samples the concurrency trend and raises `plan.at-risk` for armed moments. */
export function planOnTick(st: RoomState, ts: number, concurrency: number, cfg: EngineConfig, out: RoomUpdate[]): void {
  const mem = memoryOf(st);
  const last = mem.trend[mem.trend.length - 1];
  if (!last || ts - last[0] >= TREND_STEP_MS) {
    mem.trend.push([ts, concurrency]);
    if (mem.trend.length > TREND_KEPT) mem.trend.shift();
  }
  if (mem.armed.length > 0) checkAtRisk(st, mem, ts, cfg, out);
}

/**
 * A moment in its lead time is at risk when concurrency has not grown over the trend span (flat or
 * falling) and no rising window is open: the build-up is not coming on its own, so boost earlier or move
 * the launch. Needs a full trend span of samples: a room just started says nothing yet.
 */
export function isAtRisk(trend: readonly [number, number][], ts: number, rising: boolean): { from: number; to: number } | null {
  if (rising) return null;
  const from = trend.find((p) => p[0] >= ts - AT_RISK_TREND_MS - TREND_STEP_MS / 2);
  const to = trend[trend.length - 1];
  if (!from || !to || to[0] - from[0] < AT_RISK_TREND_MS - TREND_STEP_MS / 2) return null;
  const grew = to[1] - from[1];
  return grew < Math.max(AT_RISK_FLAT_ABS, from[1] * AT_RISK_FLAT_FRACTION) ? { from: from[1], to: to[1] } : null;
}

function checkAtRisk(st: RoomState, mem: PlanMemory, ts: number, cfg: EngineConfig, out: RoomUpdate[]): void {
  mem.armed = mem.armed.filter((a) => a.atTs > ts);
  const w = st.windowOpen ? st.windows[st.windows.length - 1] : undefined;
  for (const a of mem.armed) {
    // The build-up gets a chance first: judge only a trend that lies (mostly) inside the lead time.
    if (a.warned || ts < a.leadStartTs + Math.min(AT_RISK_TREND_MS, (a.atTs - a.leadStartTs) / 2)) continue;
    const trend = isAtRisk(mem.trend, ts, w?.state === 'rising' || w?.state === 'building');
    if (!trend) continue;
    a.warned = true;
    const inMin = Math.max(1, Math.round((a.atTs - ts) / 60_000));
    emit(st, mem, out, planCueId(st.room, 'plan.at-risk', a.planId, a.version, 'lead'), 'operator', 'plan.at-risk', ts, a.atTs,
      { product: a.product, atTs: a.atTs, inMin, from: trend.from, concurrency: trend.to },
      `Planned moment for ${a.product} in ~${inMin} min but viewers are flat or falling (${trend.from} → ${trend.to}) — boost earlier or delay the launch`,
      a.planId, null, null, 'plan-flat', 0.8);
  }
}

function emit(
  st: RoomState,
  mem: PlanMemory,
  out: RoomUpdate[],
  id: string,
  audience: Audience,
  kind: SuggestionKind,
  createdAt: number,
  expiresAt: number,
  params: Record<string, number | string>,
  reason: string,
  planId: string,
  forecastPeakTs: number | null = null,
  suggestedBoostMin: number | null = null,
  reasonCode: ReasonCode = 'planned-moment',
  confidence = 1,
): void {
  mem.sent.push(id);
  if (mem.sent.length > SENT_KEPT) mem.sent.shift();
  const suggestion: Suggestion = {
    id,
    room: st.room,
    audience,
    kind,
    reasonCode,
    params,
    reason,
    confidence,
    createdAt,
    expiresAt,
    // Per plan: a planned cue is never held back by (nor holds back) the detector's cues of the same kind.
    cooldownKey: `${st.room}:${kind}:${planId}`,
    windowId: null,
    forecastPeakTs,
    suggestedBoostMin,
    suppressed: null,
  };
  out.push({ type: 'suggestion', room: st.room, suggestion });
}

const nullableText = (max: number) => z.string().max(max).nullable();
const planRecordSchema = z.strictObject({
  room: z.string().regex(ROOM_ID_PATTERN),
  planId: z.string().min(1).max(64),
  version: z.number().int().min(1),
  kind: z.enum(['countdown', 'launch', 'build-up', 'cancel']),
  offsetMin: z.number().min(0).max(1440),
  atTs: z.number().int().min(0),
  sku: z.string().max(128),
  name: nullableText(200),
  welfare: nullableText(500),
  budget: z.number().int().min(0).nullable(),
  leadMin: z.number().min(0).max(1440),
});

/** Validates a plan record read back from a stream entry (field `p`); null when it is not one. */
export function parsePlanRecord(json: string): PlanRecord | null {
  try {
    const r = planRecordSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}
