/**
 * Outcome tracking: did ad spend follow a `boost.now`? For each boost advice, the `ad.spend` reported in the
 * `withinMs` after it (event time) against the same span before it, and whether anyone acknowledged it.
 * Pure: a function of the room's suggestions, events (or just its spend) and acks, so the live report and a
 * report over an archived stream give the same answer.
 */
import type { Ack, Suggestion } from './protocol.ts';

/** Default look-ahead: spend reported within 10 minutes of the advice counts as following it. */
export const DEFAULT_OUTCOME_WITHIN_MS = 10 * 60_000;

/** Any event with a type and time; only `ad.spend` (with its `amount`, minor units) is read. */
export interface SpendLike {
  type: string;
  ts: number;
  amount?: number;
}

export type OutcomeVerdict = 'followed' | 'not-followed' | 'pending';

export interface BoostOutcome {
  suggestionId: string;
  createdAt: number;
  windowId: string | null;
  /** Spend (minor units) and spend events in (createdAt, createdAt + withinMs]. */
  spendAfter: number;
  spendEventsAfter: number;
  /** Spend in (createdAt − withinMs, createdAt]: spend that was already running shows here. */
  spendBefore: number;
  /** Time from the advice to the first spend after it; null when none. */
  firstSpendAfterMs: number | null;
  /** followed: spend came within the span; pending: none yet and the span is not over (by the events' clock). */
  verdict: OutcomeVerdict;
  ackBy: string | null;
  ackAt: number | null;
}

/**
 * One outcome per unsuppressed `boost.now`, oldest first. `clock` is the event time the room has reached
 * (default: the newest event's ts); spans not yet over without spend are `pending`, not `not-followed`.
 */
export function boostOutcomes(input: {
  suggestions: readonly Suggestion[];
  events: readonly SpendLike[];
  acks?: readonly Ack[];
  withinMs?: number;
  clock?: number;
}): BoostOutcome[] {
  const within = input.withinMs ?? DEFAULT_OUTCOME_WITHIN_MS;
  const spends = input.events.filter((e) => e.type === 'ad.spend' && typeof e.amount === 'number').sort((a, b) => a.ts - b.ts);
  const clock = input.clock ?? input.events.reduce((m, e) => Math.max(m, e.ts), -Infinity);
  const acks = new Map((input.acks ?? []).map((a) => [a.suggestionId, a]));
  return input.suggestions
    .filter((s) => s.kind === 'boost.now' && s.suppressed === null)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((s) => {
      let spendAfter = 0;
      let spendEventsAfter = 0;
      let spendBefore = 0;
      let first: number | null = null;
      for (const e of spends) {
        if (e.ts > s.createdAt && e.ts <= s.createdAt + within) {
          spendAfter += e.amount!;
          spendEventsAfter++;
          first ??= e.ts - s.createdAt;
        } else if (e.ts > s.createdAt - within && e.ts <= s.createdAt) spendBefore += e.amount!;
      }
      const verdict: OutcomeVerdict = spendEventsAfter > 0 ? 'followed' : clock < s.createdAt + within ? 'pending' : 'not-followed';
      const ack = acks.get(s.id);
      return {
        suggestionId: s.id,
        createdAt: s.createdAt,
        windowId: s.windowId,
        spendAfter,
        spendEventsAfter,
        spendBefore,
        firstSpendAfterMs: first,
        verdict,
        ackBy: ack?.by ?? null,
        ackAt: ack?.at ?? null,
      };
    });
}
