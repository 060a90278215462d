/**
 * Shapes shared by the evaluation harness (bench/eval). Everything is in row indices: row i is the
 * i-th sample of a series, replayed as one detector sample, so sampling steps from 5 s to a year
 * all read the same way.
 */

/** One alarm as the harness records it and as `--alarms FILE` writes it. */
export interface Alarm {
  row: number;
  /** Event time the alarm was emitted at, in the replay's time base (T0 + row * stepMs). */
  ts: number;
  /** 'rising': an alarm (a first call, building or rising); 'retracted': an early call taken back (a false alarm). */
  state: 'rising' | 'retracted';
}

/** Inclusive row range [start, end]. */
export type RowRange = readonly [number, number];

/** A labelled upward change: hit region [start, end]; latency is measured from `start`. */
export interface Rise {
  start: number;
  end: number;
  kind: 'window' | 'point';
}

/** The labels of one series, resolved to rows and to the roles the scorer gives them. */
export interface ScoringLabels {
  n: number;
  /** The rises a detector is scored on (rise F1, latency). */
  rises: Rise[];
  /** Other labelled regions (falls, windows around non-rise points): alarms there are neither hit nor false alarm. */
  neutral: RowRange[];
  /** Windows for the NAB score: every labelled window, as NAB does. */
  nabWindows: RowRange[];
  /** Windows for the rise-only NAB variant; alarms in `nabWindows` outside these are ignored there. */
  nabUpWindows: RowRange[];
  /** No windows and no points at all: any alarm is a false alarm. */
  control: boolean;
}

/** A series ready to replay: values as read, plus labels in rows. */
export interface LoadedSeries {
  name: string;
  ts: number[];
  values: number[];
  /** Event counts per row (entries by source, interactions), when the CSV has those columns. */
  extra?: { entries_organic: number[]; entries_paid: number[]; interactions: number[] };
  /** labels.json `step_ms` (null: none given). */
  stepMs: number | null;
  labels: ScoringLabels;
  /** Where the rise labels came from: the file's `windows_up` / `points_up`, or derived by the README rule. */
  riseSource: 'windows_up' | 'points_up' | 'derived windows_up' | 'derived points_up' | 'none';
  /** Problems met while loading (skipped rows, labels off the series, ...), reported, never fatal. */
  warnings: string[];
}

/** An online, causal detector over one series: fed one row at a time, answers whether it alarms now. */
export interface OnlineDetector {
  push(x: number): boolean;
}

export interface BaselineSpec {
  name: string;
  /** The one default setting, in words, printed with the results. */
  settings: string;
  create(): OnlineDetector;
}
