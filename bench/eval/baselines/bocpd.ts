import type { BaselineSpec, OnlineDetector } from '../types.ts';
import { RunningStats } from './running-stats.ts';

export interface BocpdOptions {
  /** Constant hazard: prior probability of a change point at any row. */
  hazard: number;
  /** Run-length distribution truncated to this many most probable run lengths (speed). */
  maxRuns: number;
  /** Normal-Gamma prior of a new run: κ0 (pseudo-rows behind the prior mean), α0. */
  kappa0: number;
  alpha0: number;
  /** Memory of the running mean/variance that sets a new run's prior mean μ0 and β0 = α0·σ². */
  priorAlpha: number;
  /** A run this short (rows, the current one included) means "a change just happened". */
  shortRun: number;
  /** Alarm when P(run length ≤ shortRun) reaches this, and the new run's mean is above the old one. */
  threshold: number;
  /** Rows before the pre-change mean is taken from (just before the new run). */
  preRows: number;
  /** No alarm before this many rows (at the start every run is short). */
  warmup: number;
}

export const BOCPD_DEFAULTS: BocpdOptions = {
  hazard: 1 / 250,
  maxRuns: 300,
  kappa0: 0.1,
  alpha0: 1,
  priorAlpha: 0.01,
  shortRun: 10,
  threshold: 0.5,
  preRows: 50,
  warmup: 30,
};

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/**
 * Bayesian online change-point detection (Adams & MacKay 2007), Gaussian with unknown mean and
 * variance: Normal-Gamma conjugate prior, Student-t predictive, constant hazard. Convention: a new run
 * begins with the current row, so P(run length ≤ shortRun) rises as soon as recent rows fit a fresh
 * segment better than the old one. The prior of a new run is empirical and causal: μ0 and σ² are the
 * running mean and variance of the rows before it.
 */
export function createBocpd(o: BocpdOptions = BOCPD_DEFAULTS): OnlineDetector {
  const core = createBocpdCore(o);
  const alarm = bocpdAlarm(o.threshold);
  return { push: (x: number): boolean => alarm(core.push(x)) };
}

/** BOCPD's alarm rule: once per likely short run (P ≥ threshold) whose mean is up; re-armed once P falls below. */
function bocpdAlarm(threshold: number): (row: BocpdRow) => boolean {
  let armed = true;
  return ({ pShort, up }) => {
    if (pShort < threshold) {
      armed = true;
      return false;
    }
    if (!armed || !up) return false;
    armed = false;
    return true;
  };
}

/** One row of BOCPD's posterior: P(run ≤ shortRun), and whether the short run's mean is above the rows before it. */
export interface BocpdRow {
  pShort: number;
  up: boolean;
}

/**
 * The posterior alone, with no threshold: the threshold only decides alarms and re-arming, never the
 * run-length distribution, so one pass serves every threshold of a sweep (alarmsAtThreshold).
 */
export function createBocpdCore(o: BocpdOptions = BOCPD_DEFAULTS): { push(x: number): BocpdRow } {
  const cap = o.maxRuns + 1;
  let len = new Int32Array(cap), lp = new Float64Array(cap), mu = new Float64Array(cap);
  let ka = new Float64Array(cap), al = new Float64Array(cap), be = new Float64Array(cap);
  let nLen = new Int32Array(cap), nLp = new Float64Array(cap), nMu = new Float64Array(cap);
  let nKa = new Float64Array(cap), nAl = new Float64Array(cap), nBe = new Float64Array(cap);
  let runs = 0;
  const logH = Math.log(o.hazard);
  const log1mH = Math.log1p(-o.hazard);
  const gammaTerm = new Map<number, number>();
  const recentCap = o.shortRun + o.preRows;
  const recent = new Float64Array(recentCap);
  const stats = new RunningStats(o.priorAlpha);
  let t = 0;
  const order: number[] = [];

  const logT = (x: number, m: number, k: number, a: number, b: number): number => {
    let g = gammaTerm.get(a);
    if (g === undefined) {
      g = lgamma(a + 0.5) - lgamma(a);
      gammaTerm.set(a, g);
    }
    const nu = 2 * a;
    const s2 = (b * (k + 1)) / (a * k);
    return g - 0.5 * Math.log(nu * Math.PI * s2) - ((nu + 1) / 2) * Math.log1p(((x - m) * (x - m)) / (nu * s2));
  };

  return {
    push(x: number): BocpdRow {
      const m0 = stats.count ? stats.mean : x;
      const sd = stats.sigma();
      const b0 = o.alpha0 * sd * sd;
      // New run, starting with this row.
      let count = 0;
      nLen[0] = 1;
      nLp[0] = logH + logT(x, m0, o.kappa0, o.alpha0, b0);
      nMu[0] = (o.kappa0 * m0 + x) / (o.kappa0 + 1);
      nKa[0] = o.kappa0 + 1;
      nAl[0] = o.alpha0 + 0.5;
      nBe[0] = b0 + (o.kappa0 * (x - m0) ** 2) / (2 * (o.kappa0 + 1));
      count = 1;
      // Every existing run grows by this row.
      for (let j = 0; j < runs; j++) {
        const k = ka[j]!, m = mu[j]!, a = al[j]!, b = be[j]!;
        nLen[count] = len[j]! + 1;
        nLp[count] = lp[j]! + log1mH + logT(x, m, k, a, b);
        nMu[count] = (k * m + x) / (k + 1);
        nKa[count] = k + 1;
        nAl[count] = a + 0.5;
        nBe[count] = b + (k * (x - m) ** 2) / (2 * (k + 1));
        count++;
      }
      // Truncate: keep the maxRuns most probable run lengths.
      if (count > o.maxRuns) {
        order.length = count;
        for (let j = 0; j < count; j++) order[j] = j;
        order.sort((p, q) => nLp[q]! - nLp[p]!);
        const keep = order.slice(0, o.maxRuns).sort((p, q) => p - q);
        for (let j = 0; j < keep.length; j++) {
          const src = keep[j]!;
          nLen[j] = nLen[src]!; nLp[j] = nLp[src]!; nMu[j] = nMu[src]!;
          nKa[j] = nKa[src]!; nAl[j] = nAl[src]!; nBe[j] = nBe[src]!;
        }
        count = keep.length;
      }
      let max = -Infinity;
      for (let j = 0; j < count; j++) if (nLp[j]! > max) max = nLp[j]!;
      let z = 0;
      for (let j = 0; j < count; j++) z += Math.exp(nLp[j]! - max);
      const logZ = max + Math.log(z);
      let pShort = 0;
      let bestShort = -1;
      let bestShortLp = -Infinity;
      for (let j = 0; j < count; j++) {
        nLp[j] = nLp[j]! - logZ;
        if (nLen[j]! <= o.shortRun) {
          pShort += Math.exp(nLp[j]!);
          if (nLp[j]! > bestShortLp) {
            bestShortLp = nLp[j]!;
            bestShort = nLen[j]!;
          }
        }
      }
      [len, nLen] = [nLen, len];
      [lp, nLp] = [nLp, lp];
      [mu, nMu] = [nMu, mu];
      [ka, nKa] = [nKa, ka];
      [al, nAl] = [nAl, al];
      [be, nBe] = [nBe, be];
      runs = count;

      recent[t % recentCap] = x;
      t++;
      stats.push(x);
      let up = false;
      if (t >= o.warmup && bestShort > 0) {
        // Upward only: the mean of the new run against the mean of the rows just before it.
        const at = (back: number) => recent[(t - 1 - back) % recentCap]!;
        let post = 0;
        for (let b = 0; b < bestShort; b++) post += at(b);
        post /= bestShort;
        const preLen = Math.min(o.preRows, t - bestShort);
        let pre = 0;
        for (let b = bestShort; b < bestShort + preLen; b++) pre += at(b);
        pre /= preLen;
        up = preLen > 0 && post > pre;
      }
      return { pShort, up };
    },
  };
}

export const bocpd: BaselineSpec = {
  name: 'bocpd',
  settings:
    'Adams & MacKay 2007, Normal-Gamma/Student-t, hazard 1/250, top 300 run lengths; prior μ0,σ² = running mean/var (α 0.01), κ0 0.1, α0 1; alarm when P(run ≤ 10 rows) ≥ 0.5 and the new run\'s mean > the 50 rows before it',
  create: () => createBocpd(),
};

/** BOCPD's alarms at `threshold` from a precomputed posterior trace (same rows as createBocpd with that threshold). */
export function alarmsAtThreshold(trace: readonly BocpdRow[], threshold: number): number[] {
  const alarm = bocpdAlarm(threshold);
  const rows: number[] = [];
  for (let i = 0; i < trace.length; i++) if (alarm(trace[i]!)) rows.push(i);
  return rows;
}
