/**
 * The suggestion policy (DESIGN §4): turns window transitions and a few per-tick figures into Suggestions
 * for buyers and hosts. Pure and event-timed; its memory is a small plain-JSON PolicyState kept in the room
 * state. Operators see every suggestion (the gateway sends them all audiences), so none is duplicated for
 * them here.
 *
 * Planned moments (`cue.countdown`, planned `boost.now`/`cue.launch`, the operator-only `plan.at-risk`) are
 * core/plans.ts: they come from plan records the scheduler writes into the stream, and keep their memory in
 * `PolicyState.plans`.
 */
import type { DetectorEventKind } from './detector.ts';
import type { PolicyConfig } from './engine-config.ts';
import type { PlanMemory } from './plans.ts';
import type { Audience, HighlightWindow, ReasonCode, Suggestion, SuggestionKind } from './protocol.ts';

/** What the policy remembers between calls. Plain JSON. */
export interface PolicyState {
  /** [cooldownKey, createdAt] of the last suggestion per key that was not suppressed. */
  fired: [string, number][];
  /** The window the flags below are about (null when none is open). */
  windowId: string | null;
  /** A boost.now went out for this window and no boost.stop yet. */
  boostOn: boolean;
  /** A tease cue went out for this window (so a retraction tells the host). Absent in older checkpoints. */
  teaseSent?: boolean;
  launchSent: boolean;
  holdSent: boolean;
  /** When a launch went out at the peak itself, the hold cue follows this much later (-1: none due). */
  holdDueTs: number;
  /** Best paid orders per minute seen while this window's boost was on. */
  bestOrdersPerMin: number;
  /** Planned moments' memory (core/plans.ts); created on first use, absent in older checkpoints. */
  plans?: PlanMemory;
}

/** Per-tick figures the policy needs (the engine computes them only while a window is open). */
export interface TickContext {
  room: string;
  ts: number;
  /** The open window, or null. */
  window: HighlightWindow | null;
  concurrency: number;
  /** Paid orders in the last 60 s and the last 120 s of event time. */
  ordersLastMin: number;
  ordersLast2Min: number;
}

/** Cue the launch this long before the forecast peak: the host needs a moment to put the item up. */
export const LAUNCH_LEAD_MS = 30_000;
/** After a launch cued at the peak itself, the hold cue follows this much later. */
export const HOLD_AFTER_LAUNCH_MS = 60_000;
/** Bounds of the suggested boost duration, minutes. */
export const MIN_BOOST_MIN = 2;
export const MAX_BOOST_MIN = 30;
/**
 * Conversion collapsing: paid orders per minute over the last 2 min below a third of the window's best
 * minute, once that best minute had at least COLLAPSE_MIN_BEST orders and the window is at least
 * COLLAPSE_MIN_AGE_MS old (so a handful of orders, or the first minutes, never trigger it).
 */
export const COLLAPSE_RATIO = 1 / 3;
export const COLLAPSE_MIN_BEST = 6;
export const COLLAPSE_MIN_AGE_MS = 120_000;

/** An empty policy memory. */
export function createPolicyState(): PolicyState {
  return {
    fired: [],
    windowId: null,
    boostOn: false,
    teaseSent: false,
    launchSent: false,
    holdSent: false,
    holdDueTs: -1,
    bestOrdersPerMin: 0,
  };
}

/** Reacts to one window transition (`w` is the window after it); appends suggestions to `out`. */
export function policyOnWindow(
  ps: PolicyState,
  kind: DetectorEventKind,
  w: HighlightWindow,
  concurrency: number,
  cfg: PolicyConfig,
  out: Suggestion[],
): void {
  const ts = w.updatedTs;
  const lift = Math.round(w.liftPct);
  if (kind === 'building') {
    // The early call: the host may tease and the buyer may boost now, told it is early; a retraction follows if
    // it does not hold.
    resetFor(ps, w.id);
    const forSec = Math.round((ts - w.onsetTs) / 1000);
    const base = Math.round(w.baseline);
    ps.boostOn = suggest(ps, out, cfg, w, 'buyer', 'boost.now', 'building', ts, w.confidence,
      { liftPct: lift, baseline: base, forSec, boostMin: cfg.defaultBoostMin, early: 1 },
      `Viewers starting to rise: up ${lift}% over baseline ${base} for ${forSec} s — boost now (early call, confidence ${Math.round(w.confidence * 100)}%)`,
      null, cfg.defaultBoostMin);
    ps.teaseSent = suggest(ps, out, cfg, w, 'host', 'cue.tease', 'building', ts, w.confidence,
      { liftPct: lift, baseline: base },
      `Viewers starting to rise (+${lift}%) — tease the hot item`);
    return;
  }
  if (kind === 'retracted') {
    if (ps.windowId !== w.id) return;
    const base = Math.round(w.baseline);
    const level = Math.round(concurrency);
    const params: Record<string, number> = w.retractReason === 'stalled' ? { stalledAt: level, baseline: base } : { fellTo: level, baseline: base };
    const why = w.retractReason === 'stalled' ? `the rise stalled at ${level}` : `viewers back at ${level}`;
    if (ps.boostOn) {
      ps.boostOn = false;
      suggest(ps, out, cfg, w, 'buyer', 'boost.stop', 'retracted', ts, w.confidence, params,
        `The early rise did not hold (${why}, baseline ${base}) — stop the early boost`);
    }
    if (ps.teaseSent) {
      suggest(ps, out, cfg, w, 'host', 'cue.retract', 'retracted', ts, w.confidence, params,
        `False start: ${why} — carry on as planned`);
    }
    ps.windowId = null;
    return;
  }
  if (kind === 'rising' && ps.windowId === w.id) {
    // Confirmed after an early call: its boost and tease already went out; only the launch timing is new.
    maybeLaunch(ps, w, ts, cfg, out);
    return;
  }
  if (kind === 'rising') {
    resetFor(ps, w.id);
    const forSec = Math.round((ts - w.onsetTs) / 1000);
    const toPeakMin = w.forecastPeakTs === null ? null : Math.max(0, (w.forecastPeakTs - ts) / 60_000);
    const boostMin =
      toPeakMin === null ? cfg.defaultBoostMin : Math.min(MAX_BOOST_MIN, Math.max(MIN_BOOST_MIN, Math.round(toPeakMin)));
    const base = Math.round(w.baseline);
    const peakText = toPeakMin === null ? '' : `; peak expected in ~${Math.max(1, Math.round(toPeakMin))} min`;
    ps.boostOn = suggest(ps, out, cfg, w, 'buyer', 'boost.now', 'rising', ts, w.confidence,
      { liftPct: lift, baseline: base, forSec, boostMin, ...(toPeakMin === null ? {} : { peakInMin: round1(toPeakMin) }) },
      `Viewers rising ${lift}% over baseline ${base} for ${forSec} s — boost now${peakText}`,
      w.forecastPeakTs, boostMin);
    ps.teaseSent = suggest(ps, out, cfg, w, 'host', 'cue.tease', 'rising', ts, w.confidence,
      { liftPct: lift, concurrency },
      `Viewers rising ${lift}% (now ${concurrency}) — tease the hot item`);
    maybeLaunch(ps, w, ts, cfg, out);
    return;
  }
  if (ps.windowId !== w.id) return;
  if (kind === 'update') {
    maybeLaunch(ps, w, ts, cfg, out);
    return;
  }
  if (kind === 'peak') {
    const peak = Math.round(w.peak);
    if (ps.boostOn) {
      ps.boostOn = false;
      suggest(ps, out, cfg, w, 'buyer', 'boost.stop', 'peak-passed', ts, w.confidence,
        { peak, liftPct: lift },
        `Peak passed at ${peak} viewers (+${lift}%) — stop the boost`);
    }
    if (!ps.launchSent) {
      ps.launchSent = true;
      suggest(ps, out, cfg, w, 'host', 'cue.launch', 'near-peak', ts, w.confidence,
        { peak, concurrency },
        `Viewers at their peak (${peak}, now ${concurrency}) — launch now`);
      ps.holdDueTs = ts + HOLD_AFTER_LAUNCH_MS;
    } else {
      hold(ps, w, ts, concurrency, cfg, out);
    }
    return;
  }
  // ended
  if (ps.boostOn) {
    ps.boostOn = false;
    const peak = Math.round(w.peak);
    suggest(ps, out, cfg, w, 'buyer', 'boost.stop', 'peak-passed', ts, w.confidence,
      { peak, liftPct: lift },
      `Highlight over (peak ${peak} viewers, +${lift}%) — stop the boost`);
  }
  ps.windowId = null;
}

/** A new window's flags. */
function resetFor(ps: PolicyState, windowId: string): void {
  ps.windowId = windowId;
  ps.boostOn = false;
  ps.teaseSent = false;
  ps.launchSent = false;
  ps.holdSent = false;
  ps.holdDueTs = -1;
  ps.bestOrdersPerMin = 0;
}

/** Time-driven rules (launch near the forecast peak, delayed hold, conversion collapsing); call once per tick. */
export function policyOnTick(ps: PolicyState, ctx: TickContext, cfg: PolicyConfig, out: Suggestion[]): void {
  const w = ctx.window;
  if (!w || ps.windowId !== w.id) return;
  const ts = ctx.ts;
  maybeLaunch(ps, w, ts, cfg, out);
  if (ps.holdDueTs >= 0 && ts >= ps.holdDueTs && !ps.holdSent && w.state === 'peak') {
    hold(ps, w, ts, ctx.concurrency, cfg, out);
  }
  if (ps.boostOn) {
    if (ctx.ordersLastMin > ps.bestOrdersPerMin) ps.bestOrdersPerMin = ctx.ordersLastMin;
    const rate = ctx.ordersLast2Min / 2;
    const best = ps.bestOrdersPerMin;
    if (best >= COLLAPSE_MIN_BEST && ts - w.detectedTs >= COLLAPSE_MIN_AGE_MS && rate < best * COLLAPSE_RATIO) {
      ps.boostOn = false;
      suggest(ps, out, cfg, w, 'buyer', 'boost.stop', 'conversion-collapsing', ts, w.confidence,
        { ordersPerMin: round1(rate), bestOrdersPerMin: best },
        `Paid orders fell to ${round1(rate)}/min from ${best}/min at this highlight's best minute — stop the boost`);
    }
  }
}

function maybeLaunch(ps: PolicyState, w: HighlightWindow, ts: number, cfg: PolicyConfig, out: Suggestion[]): void {
  if (ps.launchSent || w.state !== 'rising' || w.forecastPeakTs === null) return;
  if (ts < w.forecastPeakTs - LAUNCH_LEAD_MS) return;
  ps.launchSent = true;
  const inSec = Math.max(0, Math.round((w.forecastPeakTs - ts) / 1000));
  const fp = Math.round(w.forecastPeak ?? w.peak);
  suggest(ps, out, cfg, w, 'host', 'cue.launch', 'near-peak', ts, w.confidence,
    { peakInSec: inSec, forecastPeak: fp },
    `Peak expected in ~${inSec} s at about ${fp} viewers — launch now`);
}

function hold(ps: PolicyState, w: HighlightWindow, ts: number, concurrency: number, cfg: PolicyConfig, out: Suggestion[]): void {
  ps.holdSent = true;
  const peak = Math.round(w.peak);
  suggest(ps, out, cfg, w, 'host', 'cue.hold', 'falling-after-peak', ts, w.confidence,
    { peak, concurrency },
    `Viewers falling from ${peak} (now ${concurrency}) — hold them: release the giveaway or a coupon`);
}

/** Appends one suggestion; returns false when the cooldown held it back (it is still appended, marked). */
function suggest(
  ps: PolicyState,
  out: Suggestion[],
  cfg: PolicyConfig,
  w: HighlightWindow,
  audience: Audience,
  kind: SuggestionKind,
  reasonCode: ReasonCode,
  ts: number,
  confidence: number,
  params: Record<string, number | string>,
  reason: string,
  forecastPeakTs: number | null = null,
  suggestedBoostMin: number | null = null,
): boolean {
  const cooldownKey = `${w.room}:${kind}`;
  let slot = -1;
  for (let i = 0; i < ps.fired.length; i++) if (ps.fired[i][0] === cooldownKey) slot = i;
  const suppressed = slot >= 0 && ts - ps.fired[slot][1] < cfg.cooldownMs ? 'cooldown' : null;
  if (!suppressed) {
    if (slot >= 0) ps.fired[slot][1] = ts;
    else ps.fired.push([cooldownKey, ts]);
  }
  out.push({
    id: `${w.room}:${kind}:${ts}`,
    room: w.room,
    audience,
    kind,
    reasonCode,
    params,
    reason,
    confidence,
    createdAt: ts,
    expiresAt: ts + cfg.ttlMs,
    cooldownKey,
    windowId: w.id,
    forecastPeakTs,
    suggestedBoostMin,
    suppressed,
  });
  return suppressed === null;
}

function round1(x: number): number {
  const r = Math.round(x * 10) / 10;
  return r === 0 ? 0 : r;
}
