/**
 * Reads a folder in the format of ../shared/data/public (README there): one `ts,value` CSV per series
 * and a labels.json keyed by file name without `.csv`. Robust to odd input: bad rows are reported and
 * skipped, out-of-order rows are sorted (reported), negative and fractional ts and values are fine.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedSeries, Rise, RowRange, ScoringLabels } from './types.ts';

/** TCPD's margin: a point-labelled rise is hit by an alarm from the point to this many rows after it. */
export const POINT_MARGIN_ROWS = 5;
/** Half-width of the window the README puts around TCPD points; reused for derived labels and NAB↑. */
export const POINT_WINDOW_HALF = 5;

/** Optional event-count columns (a simulator export): events in (previous row's ts, this row's ts]. */
export const EXTRA_COLUMNS = ['entries_organic', 'entries_paid', 'interactions'] as const;
export type ExtraCounts = Record<(typeof EXTRA_COLUMNS)[number], number[]>;

export interface ParsedCsv {
  ts: number[];
  values: number[];
  /** Present when the header names every extra column; a missing or bad cell reads as 0 (reported). */
  extra?: ExtraCounts;
  warnings: string[];
}

const MAX_REPORTED = 5;

/** Parses `ts,value` CSV text. Header required (columns found by name, any order, extra columns ignored). */
export function parseSeriesCsv(text: string, name = 'series'): ParsedCsv {
  const warnings: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let h = 0;
  while (h < lines.length && lines[h]!.trim() === '') h++;
  const header = (lines[h] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  const tsCol = header.indexOf('ts');
  const valCol = header.indexOf('value');
  if (tsCol < 0 || valCol < 0) {
    return { ts: [], values: [], warnings: [`${name}: header must name columns ts and value (got "${lines[h] ?? ''}"); series skipped`] };
  }
  const extraCols = EXTRA_COLUMNS.map((c) => header.indexOf(c));
  const hasExtra = extraCols.every((c) => c >= 0);
  if (!hasExtra && extraCols.some((c) => c >= 0)) {
    warnings.push(`${name}: header names only some of ${EXTRA_COLUMNS.join(', ')}; extra columns ignored (concurrency only)`);
  }
  let badExtra = 0;
  const rows: { ts: number; value: number; line: number; extra: number[] }[] = [];
  const bad: string[] = [];
  let badCount = 0;
  for (let i = h + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const cells = raw.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    const tsText = cells[tsCol];
    const valText = cells[valCol];
    const t = tsText === undefined || tsText === '' ? NaN : Number(tsText);
    const v = valText === undefined || valText === '' ? NaN : Number(valText);
    if (!Number.isFinite(t) || !Number.isFinite(v)) {
      badCount++;
      if (bad.length < MAX_REPORTED) bad.push(`line ${i + 1} "${raw.slice(0, 60)}"`);
      continue;
    }
    const extra = hasExtra
      ? extraCols.map((c) => {
          const x = Number(cells[c] ?? '');
          if (cells[c] === undefined || cells[c] === '' || !Number.isInteger(x) || x < 0) {
            badExtra++;
            return 0;
          }
          return x;
        })
      : [];
    rows.push({ ts: t, value: v, line: i + 1, extra });
  }
  if (badCount) {
    warnings.push(`${name}: skipped ${badCount} row(s) without a finite ts and value: ${bad.join('; ')}${badCount > bad.length ? '; …' : ''}`);
  }
  let outOfOrder = 0;
  let dup = 0;
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.ts < rows[i - 1]!.ts) outOfOrder++;
    else if (rows[i]!.ts === rows[i - 1]!.ts) dup++;
  }
  if (outOfOrder) {
    // Stable sort keeps file order among equal ts; labels are in ts, so rows must be ascending.
    rows.sort((a, b) => a.ts - b.ts || a.line - b.line);
    warnings.push(`${name}: ${outOfOrder} row(s) out of ts order; sorted by ts`);
  }
  if (dup) warnings.push(`${name}: ${dup} row(s) repeat the previous ts; kept as separate rows`);
  if (badExtra) warnings.push(`${name}: ${badExtra} extra-column cell(s) not a whole count ≥ 0; read as 0`);
  const out: ParsedCsv = { ts: rows.map((r) => r.ts), values: rows.map((r) => r.value), warnings };
  if (hasExtra) {
    out.extra = {
      entries_organic: rows.map((r) => r.extra[0]!),
      entries_paid: rows.map((r) => r.extra[1]!),
      interactions: rows.map((r) => r.extra[2]!),
    };
  }
  return out;
}

/** First row with ts >= t (n when none). */
export function rowAtOrAfter(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Last row with ts <= t (-1 when none). */
export function rowAtOrBefore(ts: readonly number[], t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

const mean = (xs: readonly number[], a: number, b: number): number => {
  let s = 0;
  for (let i = a; i < b; i++) s += xs[i]!;
  return s / (b - a);
};

/** Merges overlapping inclusive ranges (touching ones stay apart: two labelled windows stay two). */
export function mergeRanges(ranges: readonly RowRange[]): RowRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

const isTsList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

interface LabelEntry {
  windows?: unknown;
  windows_up?: unknown;
  points?: unknown;
  points_up?: unknown;
  annotators?: unknown;
  step_ms?: unknown;
}

/**
 * Resolves one labels.json entry against the series' ts into the scorer's roles:
 * rises = `windows_up` when the entry has that key, else `points_up` (hit region [p, p+5] rows), else derived
 * by the README's rule; neutral = every other labelled window and point margin; NAB windows = all `windows`.
 */
export function resolveLabels(
  name: string,
  entry: LabelEntry,
  ts: readonly number[],
  values: readonly number[],
): { labels: ScoringLabels; riseSource: LoadedSeries['riseSource']; warnings: string[] } {
  const warnings: string[] = [];
  const n = ts.length;
  const windowsOf = (key: 'windows' | 'windows_up'): RowRange[] => {
    const raw = entry[key];
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      warnings.push(`${name}: labels.${key} is not a list; ignored`);
      return [];
    }
    const out: RowRange[] = [];
    for (const w of raw) {
      if (!isTsList(w) || w.length !== 2 || w[0]! > w[1]!) {
        warnings.push(`${name}: labels.${key} entry ${JSON.stringify(w)} is not [start_ts, end_ts]; ignored`);
        continue;
      }
      const s = rowAtOrAfter(ts, w[0]!);
      const e = rowAtOrBefore(ts, w[1]!);
      if (s > e || s >= n || e < 0) {
        warnings.push(`${name}: labels.${key} window ${JSON.stringify(w)} holds no row of the series; ignored`);
        continue;
      }
      out.push([s, e]);
    }
    return out;
  };
  const pointsOf = (key: 'points' | 'points_up'): number[] => {
    const raw = entry[key];
    if (raw === undefined) return [];
    if (!isTsList(raw)) {
      warnings.push(`${name}: labels.${key} is not a list of ts; ignored`);
      return [];
    }
    const out: number[] = [];
    for (const p of raw) {
      const r = rowAtOrAfter(ts, p);
      if (r >= n) {
        warnings.push(`${name}: labels.${key} point ${p} is after the last row; ignored`);
        continue;
      }
      if (ts[r] !== p) warnings.push(`${name}: labels.${key} point ${p} is not a row's ts; using the next row (${ts[r]})`);
      out.push(r);
    }
    return [...new Set(out)].sort((a, b) => a - b);
  };

  const windows = mergeRanges(windowsOf('windows'));
  const points = pointsOf('points');
  let riseSource: LoadedSeries['riseSource'] = 'none';
  let rises: Rise[] = [];
  let upWindowRanges: RowRange[] = [];
  const pointRise = (p: number): Rise => ({ start: p, end: Math.min(n - 1, p + POINT_MARGIN_ROWS), kind: 'point' });
  const pointWindow = (p: number): RowRange => [Math.max(0, p - POINT_WINDOW_HALF), Math.min(n - 1, p + POINT_WINDOW_HALF)];

  if (entry.windows_up !== undefined) {
    riseSource = 'windows_up';
    upWindowRanges = mergeRanges(windowsOf('windows_up'));
    rises = upWindowRanges.map(([s, e]) => ({ start: s, end: e, kind: 'window' }));
  } else if (entry.points_up !== undefined) {
    riseSource = 'points_up';
    const up = pointsOf('points_up');
    rises = up.map(pointRise);
    upWindowRanges = mergeRanges(up.map(pointWindow));
  } else if (windows.length && entry.annotators === undefined) {
    // README rule for windows_up: the window's mean is above the mean of the equal-length segment before it.
    riseSource = 'derived windows_up';
    upWindowRanges = windows.filter(([s, e]) => {
      const len = e - s + 1;
      const a = Math.max(0, s - len);
      return s > a && mean(values, s, e + 1) > mean(values, a, s);
    });
    rises = upWindowRanges.map(([s, e]) => ({ start: s, end: e, kind: 'window' }));
  } else if (points.length) {
    // README rule for points_up: the mean of the 5 rows after the point is above the mean of the 5 rows before.
    riseSource = 'derived points_up';
    const up = points.filter((p) => {
      const a = Math.max(0, p - 5);
      const b = Math.min(n, p + 5);
      return p > a && b > p && mean(values, p, b) > mean(values, a, p);
    });
    rises = up.map(pointRise);
    upWindowRanges = mergeRanges(up.map(pointWindow));
  }
  if (riseSource.startsWith('derived')) {
    warnings.push(`${name}: no windows_up/points_up in labels.json; rises ${riseSource.replace('derived ', '')} derived by the README rule`);
  }

  const neutral = mergeRanges([...windows, ...points.map((p) => [p, Math.min(n - 1, p + POINT_MARGIN_ROWS)] as RowRange)]);
  const labels: ScoringLabels = {
    n,
    rises,
    neutral,
    nabWindows: windows,
    nabUpWindows: upWindowRanges,
    control: windows.length === 0 && points.length === 0 && rises.length === 0,
  };
  return { labels, riseSource, warnings };
}

/** Loads every `*.csv` in `dir` that has a labels.json entry; everything odd goes to `warnings`. */
export function loadFolder(dir: string): { series: LoadedSeries[]; warnings: string[] } {
  const warnings: string[] = [];
  if (!existsSync(dir)) throw new Error(`data folder ${dir} does not exist; pass --data DIR`);
  const labelPath = join(dir, 'labels.json');
  let labelsJson: Record<string, LabelEntry> = {};
  if (!existsSync(labelPath)) {
    warnings.push(`${labelPath} missing: nothing can be scored`);
  } else {
    const parsed: unknown = JSON.parse(readFileSync(labelPath, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${labelPath} must be an object keyed by series name`);
    }
    labelsJson = parsed as Record<string, LabelEntry>;
  }
  const files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
  const series: LoadedSeries[] = [];
  for (const f of files) {
    const name = f.slice(0, -4);
    const entry = labelsJson[name];
    if (entry === undefined || typeof entry !== 'object' || entry === null) {
      warnings.push(`${name}: no entry in labels.json; series skipped (unlabelled is not the same as "no event")`);
      continue;
    }
    const csv = parseSeriesCsv(readFileSync(join(dir, f), 'utf8'), name);
    if (csv.values.length === 0) {
      warnings.push(...csv.warnings, `${name}: no usable rows; series skipped`);
      continue;
    }
    const r = resolveLabels(name, entry, csv.ts, csv.values);
    const step = entry.step_ms;
    const stepMs = typeof step === 'number' && Number.isFinite(step) && step > 0 ? step : null;
    if (step !== undefined && step !== null && stepMs === null) r.warnings.push(`${name}: labels.step_ms ${JSON.stringify(step)} is not a positive number; ignored`);
    series.push({
      name,
      ts: csv.ts,
      values: csv.values,
      ...(csv.extra ? { extra: csv.extra } : {}),
      stepMs,
      labels: r.labels,
      riseSource: r.riseSource,
      warnings: [...csv.warnings, ...r.warnings],
    });
  }
  for (const k of Object.keys(labelsJson)) {
    if (!files.some((f) => f.slice(0, -4) === k)) warnings.push(`labels.json names ${k} but ${k}.csv is missing`);
  }
  return { series, warnings };
}
