import type { BaselineSpec, OnlineDetector } from '../types.ts';
import { edgeTrigger } from './edge-trigger.ts';
import { RunningStats } from './running-stats.ts';

export interface EwmaOptions {
  /** Smoothing of the fast EWMA (λ of the Roberts 1959 chart). */
  lambda: number;
  /** Memory of the baseline mean/σ (weight of a new row). */
  alpha: number;
  warmup: number;
  /** Alarm when the EWMA is this many of its own σ above the baseline mean. */
  L: number;
  /** Re-armed once z falls below this. */
  rearm: number;
}

export const EWMA_DEFAULTS: EwmaOptions = { lambda: 0.2, alpha: 0.01, warmup: 20, L: 3, rearm: 1 };

/**
 * EWMA z-score chart: z = (EWMA_λ − μ) / (σ·√(λ/(2−λ))), μ and σ a slow running baseline learnt
 * before each row. Edge-triggered: one alarm per excursion above L.
 */
export function createEwma(o: EwmaOptions = EWMA_DEFAULTS): OnlineDetector {
  const base = new RunningStats(o.alpha);
  const factor = Math.sqrt(o.lambda / (2 - o.lambda));
  const alarm = edgeTrigger(o.L, o.rearm);
  let e = NaN;
  return {
    push(x: number): boolean {
      e = Number.isNaN(e) ? x : o.lambda * x + (1 - o.lambda) * e;
      const fire = base.count >= o.warmup && alarm((e - base.mean) / (base.sigma() * factor));
      base.push(x);
      return fire;
    },
  };
}

export const ewma: BaselineSpec = {
  name: 'ewma',
  settings: 'λ 0.2, L 3 over running mean/σ (α 0.01, 20-row warm-up); re-armed below z 1',
  create: () => createEwma(),
};
