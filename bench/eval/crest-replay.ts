/**
 * Drives the live core (core/engine.ts) over a series or a generated room, so the code scored is the
 * code that runs live. Each window id is tracked from its first call (`building` or `rising`, at the row of
 * the event that produced it: when a buyer could first have known) to its confirmation or retraction.
 */
import type { CrestEvent } from '../../core/events.ts';
import type { EngineConfig } from '../../core/engine-config.ts';
import type { HighlightWindow, RoomUpdate } from '../../core/protocol.ts';

/** The engine API (core/engine.ts), declared here so the harness loads it lazily and says so when it is missing. */
export interface EngineApi {
  createRoomState(room: string, cfg: EngineConfig): unknown;
  applyEvent(state: unknown, ev: CrestEvent, cfg: EngineConfig, out: RoomUpdate[]): 'applied' | 'duplicate' | 'late';
  /** Moves the room's clock with no event (the live worker does this from a per-shard clock record). */
  advanceTo?(state: unknown, ts: number, cfg: EngineConfig, out: RoomUpdate[]): void;
}

/** Loads core/engine.ts; null (with the reason) when it does not exist yet or lacks the API. */
export async function loadEngine(): Promise<{ engine: EngineApi | null; reason: string }> {
  const path = new URL('../../core/engine.ts', import.meta.url).href;
  try {
    const m = (await import(path)) as Partial<EngineApi>;
    if (typeof m.createRoomState !== 'function' || typeof m.applyEvent !== 'function') {
      return { engine: null, reason: 'core/engine.ts does not export createRoomState and applyEvent' };
    }
    return { engine: m as EngineApi, reason: '' };
  } catch (e) {
    return { engine: null, reason: `core/engine.ts could not be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * One step of a replay: an event, or a clock advance to `ts` (outputs it causes are attributed to `row`,
 * the last row whose data the engine had).
 */
export type ReplayStep = { ev: CrestEvent } | { advance: number; row: number };

/**
 * Why a row step must be a whole number of detector samples, and no longer than the gap the engine carries a
 * platform count across (detector.gapResetSamples samples): beyond that the engine treats the silence between
 * two rows as a gap, resets the detector and falls back to its own session count. Null when `rowMs` is fine.
 */
export function rowMsProblem(rowMs: number, cfg: EngineConfig): string | null {
  const s = cfg.detector.sampleMs;
  const max = cfg.detector.gapResetSamples * s;
  if (!Number.isInteger(rowMs) || rowMs < s || rowMs % s !== 0) return `must be a whole multiple of the detector's sampleMs (${s} ms)`;
  if (rowMs > max) return `must be at most ${max} ms (gapResetSamples × sampleMs: a longer silence between rows is a gap to the engine)`;
  return null;
}

/** Every series starts here in replay (2023-11-14T22:13:20Z): a valid contract-v1 event time. */
export const REPLAY_T0 = 1_700_000_000_000;

/** One crest window as the replay saw it: its first call, its confirmation, its retraction. */
export interface CrestWindowCall {
  windowId: string;
  /** Row and event time of the first call (`building` or `rising`, whichever came first). */
  row: number;
  ts: number;
  firstState: 'building' | 'rising';
  /** Row of the first `rising` (null: never confirmed). */
  risingRow: number | null;
  risingTs: number | null;
  /** Set when the window ended `retracted` (a building that did not confirm). */
  retracted: string | null;
  onsetTs: number;
  /** What the forecast said at the first `rising`. */
  forecastPeak: number | null;
  forecastPeakTs: number | null;
  /** Row of the window's end as the detector later reported it (null: never ended in the replay). */
  endRow: number | null;
}

/** One crest alarm with what the forecast said at that moment (forecastErrors' input). */
export interface CrestAlarm {
  row: number;
  ts: number;
  windowId: string;
  onsetTs: number;
  forecastPeak: number | null;
  forecastPeakTs: number | null;
  endRow: number | null;
}

export interface CrestRun {
  /** Every window in order of its first call. */
  windows: CrestWindowCall[];
  /** First `rising` of each window id (confirmed alarms; the forecast is judged from here). */
  alarms: CrestAlarm[];
  /** Engine verdicts other than 'applied' (duplicates, late events), for the report. */
  notApplied: number;
}

/**
 * What the harness scores as alarms. 'first-call' (default): the first `building` or `rising` of each window
 * id at its row; a window that ended `retracted` is a false alarm wherever it lies (`retractedRows`), never a
 * hit. 'rising': the first `rising` only (the confirmed stage, as scored before the early stage existed).
 */
export type AlarmOn = 'first-call' | 'rising';

export function crestAlarmRows(run: CrestRun, on: AlarmOn): { rows: number[]; retractedRows: number[]; openAtEnd: number } {
  if (on === 'rising') return { rows: run.alarms.map((a) => a.row), retractedRows: [], openAtEnd: 0 };
  const rows: number[] = [];
  const retractedRows: number[] = [];
  let openAtEnd = 0;
  for (const w of run.windows) {
    if (w.retracted !== null) retractedRows.push(w.row);
    else {
      rows.push(w.row);
      if (w.risingRow === null) openAtEnd++;
    }
  }
  return { rows, retractedRows, openAtEnd };
}

/**
 * Feeds steps (events in arrival order, clock advances) through one room of the engine. `rowOf` maps
 * event time to a row; an output caused by an event is attributed to the row of the watermark.
 */
export function runEngine(
  engine: EngineApi,
  cfg: EngineConfig,
  room: string,
  steps: Iterable<ReplayStep>,
  rows: number,
  rowOf: (ts: number) => number,
): CrestRun {
  const state = engine.createRoomState(room, cfg);
  const out: RoomUpdate[] = [];
  const windows: CrestWindowCall[] = [];
  const byId = new Map<string, CrestWindowCall>();
  const clampRow = (r: number) => Math.min(rows - 1, Math.max(0, r));
  let watermark = -Infinity;
  let notApplied = 0;
  for (const step of steps) {
    out.length = 0;
    let row: number;
    if ('ev' in step) {
      if (engine.applyEvent(state, step.ev, cfg, out) !== 'applied') notApplied++;
      if (step.ev.ts > watermark) watermark = step.ev.ts;
      row = clampRow(rowOf(watermark));
    } else {
      if (!engine.advanceTo) continue;
      engine.advanceTo(state, step.advance, cfg, out);
      if (step.advance > watermark) watermark = step.advance;
      row = clampRow(step.row);
    }
    for (const u of out) if (u.type === 'window') onWindow(u.window, row);
  }
  function onWindow(w: HighlightWindow, row: number): void {
    let c = byId.get(w.id);
    if (!c) {
      if (w.state !== 'rising' && w.state !== 'building') return;
      c = {
        windowId: w.id,
        row,
        ts: watermark,
        firstState: w.state,
        risingRow: null,
        risingTs: null,
        retracted: null,
        onsetTs: w.onsetTs,
        forecastPeak: null,
        forecastPeakTs: null,
        endRow: null,
      };
      windows.push(c);
      byId.set(w.id, c);
    }
    if (w.state === 'rising' && c.risingRow === null) {
      c.risingRow = row;
      c.risingTs = watermark;
      c.forecastPeak = w.forecastPeak;
      c.forecastPeakTs = w.forecastPeakTs;
    }
    if (w.state === 'retracted') c.retracted = w.retractReason ?? 'fell-back';
    if ((w.state === 'ended' || w.state === 'retracted') && w.endTs !== null) c.endRow = Math.min(rows - 1, Math.max(c.row, rowOf(w.endTs)));
  }
  const alarms: CrestAlarm[] = windows
    .filter((c) => c.risingRow !== null)
    .map((c) => ({
      row: c.risingRow!,
      ts: c.risingTs!,
      windowId: c.windowId,
      onsetTs: c.onsetTs,
      forecastPeak: c.forecastPeak,
      forecastPeakTs: c.forecastPeakTs,
      endRow: c.endRow,
    }));
  return { windows, alarms, notApplied };
}

/** Per-row event counts a folder may carry beside concurrency (load.ts `extra`). */
export interface RowEventCounts {
  entries_organic: readonly number[];
  entries_paid: readonly number[];
  interactions: readonly number[];
}

/**
 * The events of row i beside its count: entries_organic `viewer.enter` (source 'public': the contract has no
 * 'recommend'; the detector counts every non-paid source as organic), entries_paid ones (source 'paid') and
 * interactions `engage.like` events, each kind spread evenly over the span [from, to) the row's counts cover
 * (one row step, or more after rows the folder lacks: their messages are in the next row), so a 5 s row feeds the
 * detector's per-sample rates five samples' worth, not one burst. One like event per interaction, not one event
 * with count = interactions: core/detector-lead.ts counts interaction events, not a like's `count`. Ids and viewer
 * ids are synthetic and unique (`x<row>.<k>`); the whole thing is deterministic.
 */
export function rowEvents(room: string, i: number, from: number, to: number, extra: RowEventCounts): CrestEvent[] {
  const evs: CrestEvent[] = [];
  const span = to - from;
  const spread = (m: number, make: (k: number, ts: number) => CrestEvent) => {
    for (let k = 0; k < m; k++) evs.push(make(k, from + Math.floor(((k + 0.5) * span) / m)));
  };
  spread(extra.entries_organic[i] ?? 0, (k, ts) => ({ id: `o${i}.${k}`, room, ts, type: 'viewer.enter', viewer: `x${i}.${k}`, source: 'public' }));
  const o = extra.entries_organic[i] ?? 0;
  spread(extra.entries_paid[i] ?? 0, (k, ts) => ({ id: `p${i}.${k}`, room, ts, type: 'viewer.enter', viewer: `x${i}.${o + k}`, source: 'paid' }));
  spread(extra.interactions[i] ?? 0, (k, ts) => ({ id: `l${i}.${k}`, room, ts, type: 'engage.like', viewer: `x${i}.l${k}`, count: 1 }));
  // Stable: equal ts keep the order above.
  return evs.sort((a, b) => a.ts - b.ts);
}

/**
 * Replay time of each row: T0 plus its offset from the first row when every row sits on the `rowMs` grid (so a
 * row the folder lacks — a dropped platform report — leaves its gap, as it did live), else T0 + i·rowMs.
 */
export function replayRowTimes(ts: readonly number[] | undefined, n: number, rowMs: number): number[] {
  const onGrid = ts !== undefined && ts.length === n && ts.every((t, i) => i === 0 || (t > ts[i - 1]! && (t - ts[0]!) % rowMs === 0));
  return Array.from({ length: n }, (_, i) => REPLAY_T0 + (onGrid ? ts[i]! - ts[0]! : i * rowMs));
}

/** The row a replay time falls in (the last row at or before it; row 0 before the first). */
export function rowAt(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Replays a count series as a room: row i → `room.online` {count: counts[i]} at T0 + i·rowMs (then, when the
 * folder has them, the row's entry and interaction events: rowEvents), then the clock advances to the next
 * row's boundary (as the live worker's clock record would), so the samples holding row i reach the detector
 * before row i + 1 exists — a baseline also alarms at row i on x_i. rowMs defaults to the detector's sampleMs
 * (one row = one sample); a longer row is seen as rowMs/sampleMs samples of the same count, as the engine
 * carries a platform count forward between reports.
 */
export function replayCounts(
  engine: EngineApi,
  cfg: EngineConfig,
  room: string,
  counts: readonly number[],
  rowMs: number = cfg.detector.sampleMs,
  extra?: RowEventCounts,
  times: readonly number[] = replayRowTimes(undefined, counts.length, rowMs),
): CrestRun {
  function* steps(): Generator<ReplayStep> {
    for (let i = 0; i < counts.length; i++) {
      const t = times[i]!;
      const online: CrestEvent = { id: `r${i}`, room, ts: t, type: 'room.online', count: counts[i]! };
      // A row's messages cover the time since the previous row's boundary: after a missing row, they start before
      // this row's count (and go to the engine first, in time order).
      const evs = extra ? rowEvents(room, i, i === 0 ? t : times[i - 1]! + rowMs, t + rowMs, extra) : [];
      for (const ev of evs) if (ev.ts < t) yield { ev };
      yield { ev: online };
      for (const ev of evs) if (ev.ts >= t) yield { ev };
      yield { advance: t + rowMs, row: i };
    }
  }
  return runEngine(engine, cfg, room, steps(), counts.length, (ts) => rowAt(times, ts));
}

export interface ForecastError {
  /** |forecast − actual| / actual · 100, actual = highest count from the alarm row to the window's end. */
  heightAbsPct: number;
  /** Forecast peak row − actual peak row (negative: forecast too early). */
  timeRows: number;
}

/**
 * Forecast against what then happened: the highest count of the series from the alarm to the window's
 * end (the detector's own `ended`, else the end of the series), and the first row it was reached.
 */
export function forecastErrors(alarms: readonly CrestAlarm[], counts: readonly number[], rowOf: (ts: number) => number): ForecastError[] {
  const errs: ForecastError[] = [];
  for (const a of alarms) {
    if (a.forecastPeak === null || a.forecastPeakTs === null) continue;
    const end = a.endRow ?? counts.length - 1;
    let best = -Infinity;
    let bestRow = a.row;
    for (let r = a.row; r <= end && r < counts.length; r++) {
      if (counts[r]! > best) {
        best = counts[r]!;
        bestRow = r;
      }
    }
    if (!(best > 0)) continue;
    errs.push({ heightAbsPct: (100 * Math.abs(a.forecastPeak - best)) / best, timeRows: rowOf(a.forecastPeakTs) - bestRow });
  }
  return errs;
}

/** A room id the contract accepts, from a series name. */
export function roomIdFor(name: string): string {
  return `eval.${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 64);
}
