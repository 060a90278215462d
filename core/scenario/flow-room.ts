/**
 * A livestream room as flows (issue 13's simulator): viewers arrive per traffic source (follow feed,
 * recommendation feed, paid ads, other) and each leaves after a log-normal watch time, so concurrency is the
 * running sum of entries − exits and moves only after the inflow does. Simulated per second, in aggregate
 * (no viewer ids), so a 200,000-viewer room costs what a 30-viewer one does. Pure and seeded: the same plan
 * always gives the same seconds.
 *
 * Per second s (a quantity "at s" covers (s − 1, s]): the exits due, then the arrivals of every source
 * (Poisson, split over equiprobable watch-time bins, each bin's viewers scheduled to leave together), then
 * the interactions of the viewers present. The room starts at steady state: two hours of base traffic runs
 * before second 0 (as long as the longest watch). What a connector gets of a big room's message stream is thinned (platforms throttle
 * enter and comment messages in big rooms); modelled as a fixed fraction per room so that at most about
 * MSG_CAP_PER_S messages a second arrive per column at base. The online count is the truth with a small
 * reporting jitter; platform faults on it are applied when rows are cut (live-set.ts).
 */
import type { Rng } from './prng.ts';
import { createRng } from './prng.ts';
import { addDrive, giveawayDrawS, type Drive, type LiveEpisode, type ShapeBase } from './live-shapes.ts';

/** follow, public (recommendation feed), paid, other: the contract's traffic sources. */
export const FLOW_SOURCES = ['follow', 'public', 'paid', 'other'] as const;
const PAID = 2;
/** Where a build-up's or teaser's extra organic viewers come from: mostly the recommendation feed. */
export const ORGANIC_EXTRA_MIX = [0.2, 0.7, 0, 0.1];
const CROWD_MIX = [0.3, 0.6, 0, 0.1];
/** Equiprobable watch-time bins per source per second. */
const BINS = 16;
const MAX_WATCH_S = 7200;
/** As long as the longest watch time: second 0 is at steady state. */
const BURN_IN_S = MAX_WATCH_S;
/** Seconds before 0 kept in the output, so the first row of any step has its (prev, ts] span. */
export const FLOW_PRE_S = 60;
export const MSG_CAP_PER_S = 10;
export const NOISE_TAU_S = 60;
export const INTERACT_NOISE_SD = 0.25;
export const INTERACT_NOISE_TAU_S = 30;
const REPORT_JITTER = 0.002;

export interface FlowRoomPlan {
  seed: number;
  durationS: number;
  /** Base true concurrency. */
  viewers: number;
  /** Share of base arrivals per source (sums to 1). */
  shares: readonly number[];
  watchMeanS: readonly number[];
  watchSigma: number;
  /** Log-space sd of the minute-scale inflow noise (Ornstein–Uhlenbeck, per source and shared). */
  noiseSd: number;
  /** ln of the base inflow's change over the stream (slow drift of the audience). */
  drift: number;
  /** Interaction messages per viewer per second at base (comments, likes, follows, clicks). */
  interactRate: number;
  episodes: readonly LiveEpisode[];
}

/** Per second, index i ↔ second i − FLOW_PRE_S (so index FLOW_PRE_S is second 0). */
export interface FlowSeconds {
  durationS: number;
  /** True concurrency at the end of the second. */
  concurrency: number[];
  /** The platform's online count at that instant (truth with reporting jitter), before faults. */
  reported: number[];
  /** Enter messages delivered, per source (FLOW_SOURCES order). */
  entries: number[][];
  /** Interaction messages delivered. */
  interactions: number[];
  /** Fractions of enter and interaction messages delivered (1 = all). */
  entryShare: number;
  interactShare: number;
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Binomial(n, p): exact for small n, normal or Poisson approximation for large. */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const m = n * p;
  if (m * (1 - p) >= 10) return Math.min(n, Math.max(0, Math.round(m + Math.sqrt(m * (1 - p)) * rng.normal())));
  if (n <= 40) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rng.next() < p) k++;
    return k;
  }
  return Math.min(n, rng.poisson(m));
}

/** Mean watch time of a viewer drawn from `mix` (the weights of FLOW_SOURCES). */
export function mixWatchS(plan: Pick<FlowRoomPlan, 'watchMeanS'>, mix: readonly number[]): number {
  let w = 0;
  let t = 0;
  mix.forEach((m, j) => {
    w += m * plan.watchMeanS[j]!;
    t += m;
  });
  return w / t;
}

export function shapeBase(plan: FlowRoomPlan): ShapeBase {
  return { viewers: plan.viewers, organicWatchS: mixWatchS(plan, ORGANIC_EXTRA_MIX), paidWatchS: plan.watchMeanS[PAID]! };
}

/** Runs the room: burn-in at base traffic, then `durationS` seconds with the plan's episodes. */
export function simulateFlow(plan: FlowRoomPlan): FlowSeconds {
  const S = plan.durationS;
  const rng = createRng(plan.seed, 'flow');
  const total = BURN_IN_S + S + 1;
  const exits = new Float64Array(total + 1);
  const baseIn = plan.viewers / mixWatchS(plan, plan.shares);
  const mu = plan.watchMeanS.map((w) => Math.log(w) - (plan.watchSigma * plan.watchSigma) / 2);
  const base = shapeBase(plan);
  const entryShare = Math.min(1, MSG_CAP_PER_S / baseIn);
  const interactShare = Math.min(1, MSG_CAP_PER_S / (plan.viewers * plan.interactRate));
  const out: FlowSeconds = {
    durationS: S,
    concurrency: [],
    reported: [],
    entries: FLOW_SOURCES.map(() => []),
    interactions: [],
    entryShare,
    interactShare,
  };
  const noise = [0, 0, 0, 0, 0];
  const ouStep = (x: number, sd: number, tau: number) => x * (1 - 1 / tau) + sd * Math.sqrt(2 / tau) * rng.normal();
  let interactNoise = 0;
  let C = 0;

  const leaveAt = (abs: number, k: number, source: number, bin: number) => {
    const u = (bin + rng.next()) / BINS;
    const w = Math.min(MAX_WATCH_S, Math.max(1, Math.round(Math.exp(mu[source]! + plan.watchSigma * normalQuantile(u)))));
    if (abs + w < exits.length) exits[abs + w]! += k;
  };
  /** Arrivals of one source at `rate`: Poisson splitting, each watch-time bin's arrivals are Poisson(rate / BINS) on their own. */
  const arrive = (abs: number, rate: number, source: number): number => {
    let n = 0;
    for (let b = 0; b < BINS; b++) {
      const k = rng.poisson(rate / BINS);
      if (k === 0) continue;
      n += k;
      leaveAt(abs, k, source, b);
    }
    return n;
  };
  /** n viewers known to have arrived: spread over the bins exactly (sequential binomials). */
  const place = (abs: number, n: number, source: number) => {
    let left = n;
    for (let b = 0; b < BINS && left > 0; b++) {
      const k = b === BINS - 1 ? left : binomial(rng, left, 1 / (BINS - b));
      left -= k;
      if (k > 0) leaveAt(abs, k, source, b);
    }
  };

  for (let abs = 0; abs < total; abs++) {
    const s = abs - BURN_IN_S;
    C -= exits[abs]!;
    // Half the noise variance per source, half shared (a feed slump hits every source at once).
    for (let j = 0; j < noise.length; j++) noise[j] = ouStep(noise[j]!, plan.noiseSd * Math.SQRT1_2, NOISE_TAU_S);
    interactNoise = ouStep(interactNoise, INTERACT_NOISE_SD, INTERACT_NOISE_TAU_S);
    const drift = Math.exp((plan.drift * Math.max(0, s)) / S);
    const d: Drive = { organic: 0, paid: 0, crowd: 0, engage: 1 };
    if (s >= 0) for (const ep of plan.episodes) addDrive(ep, s, base, d);

    const arrived = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const rate = baseIn * plan.shares[j]! * drift * Math.exp(noise[j]! + noise[4]!) + d.organic * ORGANIC_EXTRA_MIX[j]! + (j === PAID ? d.paid : 0);
      arrived[j] = arrive(abs, rate, j);
    }
    if (d.crowd > 0) {
      const n = rng.poisson(d.crowd);
      const g = activeGiveaway(plan, s)!;
      const stay = binomial(rng, n, g.stayShare);
      place(abs, stay, 1);
      let left = n - stay;
      // They leave after the draw, a few at a time (4 lumps, exponential waits).
      for (let q = 4; q > 0 && left > 0; q--) {
        const k = q === 1 ? left : binomial(rng, left, 1 / q);
        left -= k;
        const at = BURN_IN_S + giveawayDrawS(g) + Math.max(1, Math.round(rng.exponential(g.leaveMeanS)));
        if (at < exits.length) exits[at]! += k;
      }
      let rest = n;
      for (let j = 0; j < 4 && rest > 0; j++) {
        const k = j === 3 ? rest : binomial(rng, rest, CROWD_MIX[j]! / CROWD_MIX.slice(j).reduce((a, b) => a + b, 0));
        arrived[j]! += k;
        rest -= k;
      }
    }
    for (const n of arrived) C += n;

    if (s < -FLOW_PRE_S) continue;
    out.concurrency.push(C);
    out.reported.push(Math.max(0, Math.round(C * (1 + REPORT_JITTER * rng.normal()))));
    for (let j = 0; j < 4; j++) out.entries[j]!.push(binomial(rng, arrived[j]!, entryShare));
    const interactMean = C * plan.interactRate * d.engage * Math.exp(interactNoise) * interactShare;
    out.interactions.push(rng.poisson(interactMean));
  }
  return out;
}

function activeGiveaway(plan: FlowRoomPlan, s: number) {
  for (const ep of plan.episodes) if (ep.kind === 'giveaway' && s >= ep.startS && s < ep.startS + ep.holdS) return ep;
  return null;
}
