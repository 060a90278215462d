/**
 * The scorer (issue 3): pure functions from labels (in rows) and alarm rows to figures.
 *
 * Rise F1: each rise is hit by the first alarm inside its hit region; later alarms in the same rise are
 * repeats (not false alarms); an alarm inside another labelled region (a fall, a non-rise point's margin)
 * is neutral; any other alarm is a false alarm. One alarm hits at most one rise (the earliest unhit one
 * whose region holds it). Crest's retracted early calls (`retractedRows`: a `building` taken back) are false
 * alarms wherever they lie, in rises too, and never hit; NAB charges each the full false-positive cost.
 *
 * NAB score: numenta/NAB `nab/sweeper.py` with the standard profile (A_TP 1, A_FP −0.11, A_FN −1),
 * probationary period min(⌊0.15·n⌋, 750) rows ignored, normalised as `nab/runner.py` does:
 * 100 · (raw − null) / (perfect − null), null = no alarms = −A_FN·windows, perfect = A_TP·windows.
 */
import type { RowRange, ScoringLabels } from './types.ts';

export const NAB_STANDARD = { tp: 1, fp: 0.11, fn: 1 } as const;
export type NabProfile = { tp: number; fp: number; fn: number };
export const NAB_PROBATION_PERCENT = 0.15;

export interface NabResult {
  raw: number;
  /** Score of a detector that never alarms. */
  nullScore: number;
  /** Score of a detector that alarms on the first row of every window and nowhere else. */
  perfect: number;
  /** Windows that count (not wholly inside the probationary period). */
  windows: number;
}

export interface SeriesScore {
  n: number;
  alarms: number;
  rises: number;
  tp: number;
  fn: number;
  fp: number;
  /** Alarms in another labelled region (neither hit nor false alarm). */
  neutral: number;
  /** Alarms inside a rise that an earlier alarm already hit (neither hit nor false alarm). */
  repeats: number;
  /** Rows outside every rise region and every other labelled region: where an alarm is a false alarm. */
  unlabelledRows: number;
  /** Retracted early calls (all counted in `fp`). */
  retracted: number;
  /** Rises hit by a later alarm that hold a retracted call before that hit (a false start on a real rise). */
  retractedOnHitRises: number;
  /** Rows from the rise start (window start or labelled point) to the hitting alarm, one per hit. */
  latencies: number[];
  control: boolean;
  nab: NabResult;
  nabUp: NabResult;
}

export interface AggregateScore {
  series: number;
  rises: number;
  tp: number;
  fn: number;
  fp: number;
  precision: number | null;
  recall: number | null;
  /** F1 of the pooled counts over all series. */
  f1: number | null;
  /** Mean of per-series F1 over series that have rises (TCPD-style). */
  f1Mean: number | null;
  unlabelledRows: number;
  /** False alarms per 1,000 unlabelled rows, all series (controls included). */
  faPer1k: number | null;
  controlSeries: number;
  controlRows: number;
  controlFa: number;
  controlFaPer1k: number | null;
  latencyMedian: number | null;
  latencyP90: number | null;
  /**
   * Latency over every rise, a missed one counting as never (Infinity): the median is finite only when at least
   * half the rises are hit. The matched-rate pick uses it, because a median over hits alone rewards a strict
   * setting that hits only the few easy, early rises (seen: 3 of 69 hits at a 10-row median).
   */
  detectMedian: number;
  detectP90: number;
  retracted: number;
  retractedOnHitRises: number;
  /** retractedOnHitRises as a % of the rises hit (issue 13's target: ≤ 5). */
  retractedOnHitPct: number | null;
  /** NAB normalised over the whole set (sums of raw, null and perfect, as NAB does over its corpus). */
  nab: number | null;
  nabUp: number | null;
}

const inRange = (r: RowRange, x: number): boolean => x >= r[0] && x <= r[1];

/** Sorted unique integer rows inside [0, n). */
export function cleanAlarmRows(rows: readonly number[], n: number): number[] {
  return [...new Set(rows.filter((r) => Number.isInteger(r) && r >= 0 && r < n))].sort((a, b) => a - b);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** NAB's scaled sigmoid of the relative position in (or past) a window: −1 = left edge, 0 = right edge. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 * sigmoid(-5 * relativePosition) - 1;
}

/**
 * NAB raw score of one series (nab/sweeper.py calcSweepScore + calcScoreByThreshold at a fixed threshold).
 * `windows` sorted, non-overlapping, inclusive; `ignore` ranges drop alarms before scoring (used by the
 * rise-only variant to make alarms in fall windows neutral).
 */
export function nabScore(
  n: number,
  windows: readonly RowRange[],
  alarmRows: readonly number[],
  profile: NabProfile = NAB_STANDARD,
  ignore: readonly RowRange[] = [],
  forcedFp: readonly number[] = [],
): NabResult {
  const probation = Math.min(Math.floor(NAB_PROBATION_PERCENT * n), NAB_PROBATION_PERCENT * 5000);
  const maxTP = scaledSigmoid(-1);
  // A window wholly inside the probationary period never gets a name in NAB, so it is not counted.
  const counted = windows.map((w) => w[1] >= probation);
  const windowScore = windows.map((_, j) => (counted[j] ? -profile.fn : 0));
  let fpScore = 0;
  for (const a of cleanAlarmRows(alarmRows, n)) {
    if (a < probation) continue;
    if (ignore.some((r) => inRange(r, a)) && !windows.some((w) => inRange(w, a))) continue;
    const j = windows.findIndex((w) => inRange(w, a));
    if (j >= 0) {
      const [s, e] = windows[j]!;
      const width = e - s + 1;
      const pos = -(e - a + 1) / width;
      windowScore[j] = Math.max(windowScore[j]!, (scaledSigmoid(pos) * profile.tp) / maxTP);
      continue;
    }
    let prev = -1;
    for (let k = 0; k < windows.length; k++) if (windows[k]![1] < a) prev = k;
    let pos = 3;
    if (prev >= 0) {
      const [s, e] = windows[prev]!;
      const width = e - s + 1;
      // NAB divides by (width − 1); a one-row window would divide by zero there: treat as far past it.
      pos = width > 1 ? Math.abs(e - a) / (width - 1) : 3;
    }
    fpScore += scaledSigmoid(pos) * profile.fp;
  }
  for (const a of cleanAlarmRows(forcedFp, n)) if (a >= probation) fpScore -= profile.fp;
  const w = counted.filter(Boolean).length;
  return {
    raw: windowScore.reduce((x, y) => x + y, 0) + fpScore,
    nullScore: -profile.fn * w,
    perfect: profile.tp * w,
    windows: w,
  };
}

/** 100 · (raw − null) / (perfect − null); null when there is nothing to normalise by (no windows). */
export function nabNormalised(r: Pick<NabResult, 'raw' | 'nullScore' | 'perfect'>): number | null {
  const d = r.perfect - r.nullScore;
  return d > 0 ? (100 * (r.raw - r.nullScore)) / d : null;
}

/** Scores one series' alarms against its labels. */
export function scoreSeries(labels: ScoringLabels, alarmRowsIn: readonly number[], retractedIn: readonly number[] = []): SeriesScore {
  const { n, rises, neutral } = labels;
  const alarmRows = cleanAlarmRows(alarmRowsIn, n);
  const retractedRows = cleanAlarmRows(retractedIn, n);
  const hitBy: (number | null)[] = rises.map(() => null);
  let fp = 0;
  let neutralCount = 0;
  let repeats = 0;
  for (const a of alarmRows) {
    let first = -1;
    let inAnyRise = false;
    for (let j = 0; j < rises.length; j++) {
      const r = rises[j]!;
      if (a < r.start || a > r.end) continue;
      inAnyRise = true;
      if (hitBy[j] === null && (first < 0 || r.start < rises[first]!.start)) first = j;
    }
    if (first >= 0) hitBy[first] = a;
    else if (inAnyRise) repeats++;
    else if (neutral.some((r) => inRange(r, a))) neutralCount++;
    else fp++;
  }
  fp += retractedRows.length;
  const tp = hitBy.filter((h) => h !== null).length;
  const retractedOnHitRises = rises.filter((r, j) => hitBy[j] !== null && retractedRows.some((x) => x >= r.start && x < hitBy[j]!)).length;
  const covered = new Uint8Array(n);
  for (const r of rises) for (let i = Math.max(0, r.start); i <= Math.min(n - 1, r.end); i++) covered[i] = 1;
  for (const r of neutral) for (let i = Math.max(0, r[0]); i <= Math.min(n - 1, r[1]); i++) covered[i] = 1;
  let unlabelledRows = 0;
  for (let i = 0; i < n; i++) if (!covered[i]) unlabelledRows++;
  const upSet = labels.nabUpWindows;
  return {
    n,
    alarms: alarmRows.length,
    rises: rises.length,
    tp,
    fn: rises.length - tp,
    fp,
    neutral: neutralCount,
    repeats,
    retracted: retractedRows.length,
    retractedOnHitRises,
    unlabelledRows,
    latencies: rises.flatMap((r, j) => (hitBy[j] === null ? [] : [hitBy[j]! - r.start])),
    control: labels.control,
    nab: nabScore(n, labels.nabWindows, alarmRows, NAB_STANDARD, [], retractedRows),
    // Rise-only variant: the rise windows score; alarms in the other labelled regions are ignored.
    nabUp: nabScore(n, upSet, alarmRows, NAB_STANDARD, [...labels.nabWindows, ...labels.neutral], retractedRows),
  };
}

/** F1 from counts; null when there is nothing to score (no rises and no false alarms). */
export function f1Of(tp: number, fp: number, fn: number): number | null {
  if (tp + fp + fn === 0) return null;
  return (2 * tp) / (2 * tp + fp + fn);
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Pools series scores into one set's figures. */
export function aggregate(scores: readonly SeriesScore[]): AggregateScore {
  const sum = (f: (s: SeriesScore) => number) => scores.reduce((a, s) => a + f(s), 0);
  const tp = sum((s) => s.tp);
  const fp = sum((s) => s.fp);
  const fn = sum((s) => s.fn);
  const withRises = scores.filter((s) => s.rises > 0);
  const perSeriesF1 = withRises.map((s) => f1Of(s.tp, s.fp, s.fn) ?? 0);
  const unlabelledRows = sum((s) => s.unlabelledRows);
  const controls = scores.filter((s) => s.control);
  const controlRows = controls.reduce((a, s) => a + s.n, 0);
  const controlFa = controls.reduce((a, s) => a + s.fp, 0);
  const lat = scores.flatMap((s) => s.latencies);
  const pool = (k: 'nab' | 'nabUp') =>
    nabNormalised({
      raw: sum((s) => s[k].raw),
      nullScore: sum((s) => s[k].nullScore),
      perfect: sum((s) => s[k].perfect),
    });
  return {
    series: scores.length,
    rises: sum((s) => s.rises),
    tp,
    fn,
    fp,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    f1: f1Of(tp, fp, fn),
    f1Mean: perSeriesF1.length ? perSeriesF1.reduce((a, b) => a + b, 0) / perSeriesF1.length : null,
    unlabelledRows,
    faPer1k: unlabelledRows ? (1000 * fp) / unlabelledRows : null,
    controlSeries: controls.length,
    controlRows,
    controlFa,
    controlFaPer1k: controlRows ? (1000 * controlFa) / controlRows : null,
    latencyMedian: median(lat),
    latencyP90: percentile(lat, 90),
    detectMedian: median([...lat, ...Array<number>(fn).fill(Infinity)]) ?? Infinity,
    detectP90: percentile([...lat, ...Array<number>(fn).fill(Infinity)], 90) ?? Infinity,
    retracted: sum((s) => s.retracted),
    retractedOnHitRises: sum((s) => s.retractedOnHitRises),
    retractedOnHitPct: tp ? (100 * sum((s) => s.retractedOnHitRises)) / tp : null,
    nab: pool('nab'),
    nabUp: pool('nabUp'),
  };
}
