/**
 * Series value → `room.online` count (a non-negative integer), causally: the mapping of row i uses rows
 * 0..i only. Parameters are estimated on an expanding prefix and frozen at row WARMUP_ROWS - 1, so the
 * first rows see the estimate from the rows so far and every later row sees a fixed affine map.
 *
 * Two modes, chosen from the prefix (and frozen with it):
 * - ratio   (no negative value in the prefix: counts, rates, prices, levels):
 *           count = round(x · LEVEL / m), m = median of the prefix. A pure scaling, so every ratio the
 *           detector looks at (lift over baseline) is exactly the source's; the series reads as a room
 *           of ~LEVEL viewers at its start. A later negative value clamps to 0 (counted in `clamped`).
 * - signed  (a negative value in the prefix: growth rates, standardised measurements — no natural zero,
 *           so "+15 %" means nothing): count = round(LEVEL + (x − m) · SIGNED_SIGMA_FRACTION · LEVEL / s),
 *           m = median, s = robust σ (1.4826·MAD, else std) of the prefix: one prefix σ reads as
 *           SIGNED_SIGMA_FRACTION of the room (5 % of 1,000 = 50 viewers). Clamped to [0, MAX_COUNT].
 */

import { median as medianOrNull } from './score.ts';

/** Room size a series reads as at its start. */
export const LEVEL = 1000;
/** Rows used to estimate the mapping (expanding before, frozen after). */
export const WARMUP_ROWS = 10;
/** Signed mode: one robust σ of the prefix maps to this fraction of LEVEL. */
export const SIGNED_SIGMA_FRACTION = 0.05;
/** Contract v1's bound on counts. */
export const MAX_COUNT = 1_000_000_000;

export interface TransformInfo {
  mode: 'ratio' | 'signed';
  /** count = round(offset + scale · x), for rows from WARMUP_ROWS - 1 on. */
  scale: number;
  offset: number;
  /** Rows whose mapped value fell outside [0, MAX_COUNT] and was clamped. */
  clamped: number;
}

/** Median of a non-empty list. */
const median = (xs: number[]): number => medianOrNull(xs)!;

function robustSigma(xs: number[], m: number): number {
  const mad = median(xs.map((x) => Math.abs(x - m))) * 1.4826;
  if (mad > 0) return mad;
  const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
  if (sd > 0) return sd;
  return Math.abs(m) > 0 ? Math.abs(m) : 1;
}

function fit(prefix: number[]): { mode: 'ratio' | 'signed'; scale: number; offset: number } {
  if (prefix.every((x) => x >= 0)) {
    let m = median(prefix);
    if (!(m > 0)) m = prefix.reduce((a, b) => a + b, 0) / prefix.length;
    // All zeros so far: any scale maps them to 0; a unit scale stands in until a positive value shows up.
    return { mode: 'ratio', scale: m > 0 ? LEVEL / m : 1, offset: 0 };
  }
  const m = median(prefix);
  const s = robustSigma(prefix, m);
  const scale = (SIGNED_SIGMA_FRACTION * LEVEL) / s;
  return { mode: 'signed', scale, offset: LEVEL - m * scale };
}

/** Maps a whole series row by row, causally; returns the counts and the frozen mapping. */
export function toCounts(values: readonly number[]): { counts: number[]; info: TransformInfo } {
  const counts = new Array<number>(values.length);
  let clamped = 0;
  let p = { mode: 'ratio' as 'ratio' | 'signed', scale: 1, offset: 0 };
  const prefix: number[] = [];
  let frozen = false;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!frozen) {
      prefix.push(x);
      // A ratio prefix of zeros only has no scale yet: keep estimating (on the last WARMUP_ROWS rows)
      // until a positive value is in.
      if (prefix.length > WARMUP_ROWS) prefix.shift();
      p = fit(prefix);
      frozen = prefix.length >= WARMUP_ROWS && !(p.mode === 'ratio' && prefix.every((v) => v === 0));
    }
    const y = Math.round(p.offset + p.scale * x);
    const c = Math.min(MAX_COUNT, Math.max(0, y));
    if (c !== y) clamped++;
    counts[i] = c;
  }
  return { counts, info: { mode: p.mode, scale: p.scale, offset: p.offset, clamped } };
}
