/**
 * The detector's leading signals (issue 13): in a real room, entries (by traffic source) and interaction rise
 * before the online count does, because concurrency is their integral. Counted per detector sample from the
 * room's own events; each signal has a fast rate (EWMA over `leadFastSamples`) and a quiet-time baseline rate
 * (EWMA over `baselineSamples`, learnt only while no call is open), and a Poisson z of fast over baseline.
 * Paid entries are kept apart: bought traffic rising is a known cause (a boost), not evidence by itself.
 * Plain JSON, fixed size; a room that sends only `room.online` leaves every rate at 0 (`leadPresent` false).
 */
import type { CrestEvent } from './events.ts';
import type { DetectorConfig } from './engine-config.ts';

/** Signals: organic entries (follow, public, other), paid entries, interaction (comments, likes, shares, follows, gifts, clicks). */
export const LEAD_ORGANIC = 0;
export const LEAD_PAID = 1;
export const LEAD_ACT = 2;
const SIGNALS = 3;

export interface LeadState {
  /** Events counted since the last sample. */
  acc: number[];
  fast: number[];
  slow: number[];
  /** A very fast rate (EWMA over `leadBurstSamples`) that sees a step within seconds; absent in older checkpoints. */
  burst?: number[];
  /** Last sample (`n`) at which each burst rate was near its baseline (≤ 1.3×). */
  calm?: number[];
  /** Samples seen since the start or a reset (the slow rates need some before they mean anything). */
  n: number;
}

export function createLead(): LeadState {
  return { acc: [0, 0, 0], fast: [0, 0, 0], slow: [0, 0, 0], burst: [0, 0, 0], calm: [0, 0, 0], n: 0 };
}

/** Counts one on-time event toward the next sample (interaction counts events, not a like event's `count`). */
export function leadNote(lead: LeadState, ev: CrestEvent): void {
  switch (ev.type) {
    case 'viewer.enter':
      lead.acc[ev.source === 'paid' ? LEAD_PAID : LEAD_ORGANIC]++;
      return;
    case 'engage.like':
    case 'engage.comment':
    case 'engage.share':
    case 'engage.follow':
    case 'engage.gift':
    case 'product.click':
      lead.acc[LEAD_ACT]++;
      return;
    default:
      return;
  }
}

/** Closes one sample: fast rates always move, baseline rates only while `learn` (no call or window open). */
export function leadSample(lead: LeadState, learn: boolean, cfg: DetectorConfig): void {
  const aFast = ewmaWeight(cfg.leadFastSamples);
  const aSlow = ewmaWeight(cfg.baselineSamples);
  const aBurst = ewmaWeight(cfg.leadBurstSamples ?? 1);
  const burst = (lead.burst ??= [...lead.fast]);
  const calm = (lead.calm ??= [lead.n, lead.n, lead.n]);
  const first = lead.n === 0;
  for (let k = 0; k < SIGNALS; k++) {
    const x = lead.acc[k];
    lead.acc[k] = 0;
    if (first) {
      lead.fast[k] = x;
      lead.slow[k] = x;
      burst[k] = x;
      continue;
    }
    lead.fast[k] += aFast * (x - lead.fast[k]);
    burst[k] += aBurst * (x - burst[k]);
    if (burst[k] <= 1.3 * baseRate(lead, k, cfg)) calm[k] = lead.n;
    // The baseline learns fast at first (1/n), then at the slow rate.
    // A boost under way (paid z ≥ leadZPaid) is learnt `leadPaidLearnSlowdown` times slower: it is not the room's
    // usual traffic yet, and learning it at the usual rate let the paid hold lapse 2–3 minutes into every paid
    // burst (the live set's confirmed paid-burst false alarms). A boost left on for good is still learnt, in about
    // an hour at 10×.
    const boosting = k === LEAD_PAID && lead.n > cfg.warmupSamples && leadZ(lead, LEAD_PAID, cfg) >= cfg.leadZPaid;
    const rate = boosting ? aSlow / (cfg.leadPaidLearnSlowdown ?? 1) : Math.max(aSlow, 1 / (lead.n + 1));
    if (learn) lead.slow[k] += rate * (x - lead.slow[k]);
  }
  lead.n++;
}

/** True when the room sends viewer events at all (entries at a usable rate), so the leading signals can be read. */
export function leadPresent(lead: LeadState, cfg: DetectorConfig): boolean {
  return lead.n > cfg.warmupSamples && lead.slow[LEAD_ORGANIC] + lead.slow[LEAD_PAID] >= cfg.leadMinRate;
}

/** Signal k's baseline rate, floored so that a signal the room barely sends does not divide by ~0. */
function baseRate(lead: LeadState, k: number, cfg: DetectorConfig): number {
  return Math.max(lead.slow[k], cfg.leadMinRate / 4);
}

/** Weight of an EWMA over `samples` samples. */
function ewmaWeight(samples: number): number {
  return 2 / (Math.max(1, samples) + 1);
}

/** z of an EWMA (weight a) of Poisson counts with mean mu: its variance is a/(2−a)·mu. */
function ewmaPoissonZ(x: number, mu: number, a: number): number {
  return (x - mu) / Math.sqrt((a / (2 - a)) * mu);
}

/** Poisson z of signal k's fast rate over its baseline (the variance of an EWMA of Poisson counts is α/(2−α)·μ). */
export function leadZ(lead: LeadState, k: number, cfg: DetectorConfig): number {
  const a = ewmaWeight(cfg.leadFastSamples);
  return ewmaPoissonZ(lead.fast[k], baseRate(lead, k, cfg), a);
}

/**
 * Signal k stepped up at once: its burst rate (EWMA over `leadBurstSamples`, a few seconds) at `ratio` × its baseline
 * or more, clear of Poisson noise (z ≥ `leadBurstZ`), and near its baseline (≤ 1.3×) within the last
 * `leadStepSamples`. The detector asks it of interaction and organic entries together: a giveaway's comments and
 * crowd arrive in the same seconds, while a hype build-up's interaction leads its entries by 10–60 s and a feed-led
 * one barely moves interaction. The 20-sample fast rate sees such a step only after the leading signals' agreement
 * has been held (live set seed 12: a giveaway announced as a build-up and confirmed 30 s in). Off without
 * `leadBurstSamples`.
 */
export function leadStepped(lead: LeadState, k: number, ratio: number, cfg: DetectorConfig): boolean {
  const b = cfg.leadBurstSamples;
  if (b === undefined || !lead.burst || !lead.calm) return false;
  if (lead.n - lead.calm[k] > (cfg.leadStepSamples ?? Infinity)) return false;
  const a = ewmaWeight(b);
  const mu = baseRate(lead, k, cfg);
  const x = lead.burst[k];
  return x >= ratio * mu && ewmaPoissonZ(x, mu, a) >= (cfg.leadBurstZ ?? 4);
}

/** Fast rate over baseline rate of signal k (1 = as usual). */
export function leadRatio(lead: LeadState, k: number, cfg: DetectorConfig): number {
  return lead.fast[k] / baseRate(lead, k, cfg);
}

/**
 * Bought traffic, mostly: paid entries well above their usual rate, and at least twice as many extra paid entries
 * as extra organic ones. A crowd the buyer paid for is the boost working, not a build-up to buy into (a build-up
 * brings organic entries too). An excess, not a z: organic entries are over-dispersed (bursty), so their z is
 * often past 2 in a quiet room.
 */
export function leadBoughtOnly(lead: LeadState, cfg: DetectorConfig): boolean {
  if (!leadPresent(lead, cfg) || leadZ(lead, LEAD_PAID, cfg) < cfg.leadZPaid) return false;
  const extra = (k: number) => Math.max(0, lead.fast[k] - lead.slow[k]);
  return extra(LEAD_PAID) >= 2 * extra(LEAD_ORGANIC);
}
