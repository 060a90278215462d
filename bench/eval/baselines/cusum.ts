import type { BaselineSpec, OnlineDetector } from '../types.ts';
import { RunningStats } from './running-stats.ts';

export interface CusumOptions {
  /** Memory of the running mean/σ the values are standardised on (weight of a new row). */
  alpha: number;
  /** Rows of history (after start or after an alarm) before it may accumulate. */
  warmup: number;
  /** Allowance per row, in σ. */
  k: number;
  /** Decision interval, in σ. */
  h: number;
}

export const CUSUM_DEFAULTS: CusumOptions = { alpha: 0.01, warmup: 20, k: 0.5, h: 5 };

/**
 * One-sided upward CUSUM (Page 1954) on values standardised by a running mean/σ learnt before each row.
 * After an alarm the sum and the running statistics restart, so it learns the new level instead of
 * alarming again on it.
 */
export function createCusum(o: CusumOptions = CUSUM_DEFAULTS): OnlineDetector {
  const stats = new RunningStats(o.alpha);
  let s = 0;
  return {
    push(x: number): boolean {
      if (stats.count >= o.warmup) {
        const z = (x - stats.mean) / stats.sigma();
        s = Math.max(0, s + z - o.k);
        if (s > o.h) {
          s = 0;
          stats.reset();
          stats.push(x);
          return true;
        }
      }
      stats.push(x);
      return false;
    },
  };
}

export const cusum: BaselineSpec = {
  name: 'cusum',
  settings: 'one-sided upward, z on running mean/σ (α 0.01, 20-row warm-up), k 0.5σ, h 5σ, restart after alarm',
  create: () => createCusum(),
};
