import type { BaselineSpec, OnlineDetector } from '../types.ts';
import { edgeTrigger } from './edge-trigger.ts';

export interface RollingMeanOptions {
  /** Rows in the recent mean. */
  recent: number;
  /** Rows in the reference segment just before the recent rows. */
  reference: number;
  /** Fewest reference rows before it may alarm. */
  minReference: number;
  /** Alarm when recent mean > reference mean + k · σ(reference). */
  k: number;
  /** Re-armed once the recent mean is back below reference mean + rearmK · σ. */
  rearmK: number;
}

export const ROLLING_MEAN_DEFAULTS: RollingMeanOptions = { recent: 10, reference: 100, minReference: 20, k: 3, rearmK: 1 };

/**
 * Fixed threshold on a rolling mean: the mean of the last `recent` rows against the mean and σ of the
 * `reference` rows before them. Edge-triggered (one alarm per excursion) so a long rise is one alarm.
 */
export function createRollingMean(o: RollingMeanOptions = ROLLING_MEAN_DEFAULTS): OnlineDetector {
  const cap = o.recent + o.reference;
  const buf = new Float64Array(cap);
  const alarm = edgeTrigger(o.k, o.rearmK);
  let seen = 0;
  return {
    push(x: number): boolean {
      buf[seen % cap] = x;
      seen++;
      const refLen = Math.min(o.reference, seen - o.recent);
      if (refLen < o.minReference) return false;
      const at = (back: number) => buf[(seen - 1 - back) % cap]!;
      let rs = 0;
      for (let b = 0; b < o.recent; b++) rs += at(b);
      const recentMean = rs / o.recent;
      let ms = 0;
      for (let b = o.recent; b < o.recent + refLen; b++) ms += at(b);
      const refMean = ms / refLen;
      let vs = 0;
      for (let b = o.recent; b < o.recent + refLen; b++) vs += (at(b) - refMean) ** 2;
      const sigma = Math.max(Math.sqrt(vs / refLen), 0.5, 0.001 * Math.abs(refMean));
      return alarm((recentMean - refMean) / sigma);
    },
  };
}

export const rollingMean: BaselineSpec = {
  name: 'rolling-mean',
  settings: 'mean of last 10 rows > mean of the 100 rows before + 3σ of those rows (≥20 rows of history); re-armed below +1σ',
  create: () => createRollingMean(),
};
