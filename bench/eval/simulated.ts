/**
 * The simulated set: rooms from the scenario generator (core/scenario), scored like the public set.
 * Rows are detector samples (sampleMs) since stream start. A labelled highlight becomes a rise window
 * onset → peak (hit = an alarm in it); its decay (peak → end) is neutral, so an alarm after the top of
 * a real highlight is neither a hit nor a false alarm. Rooms without highlights are the controls.
 */
import type { CrestEvent } from '../../core/events.ts';
import type { ReplayStep } from './crest-replay.ts';
import type { RowRange, ScoringLabels } from './types.ts';

export interface ScenarioLabelLike {
  onsetTs: number;
  peakTs: number;
  endTs: number;
}

export interface GeneratedRoomLike {
  events: CrestEvent[];
  labels: ScenarioLabelLike[];
  truth: { ts: number; concurrency: number }[];
}

export interface ScenarioApi {
  SCENARIOS: readonly string[];
  generateRoom(opts: { room: string; scenario: string; seed: number; startTs: number; durationMs: number }): GeneratedRoomLike;
}

export async function loadScenario(): Promise<{ api: ScenarioApi | null; reason: string }> {
  const path = new URL('../../core/scenario/generate-room.ts', import.meta.url).href;
  try {
    const m = (await import(path)) as Partial<ScenarioApi>;
    if (typeof m.generateRoom !== 'function' || !Array.isArray(m.SCENARIOS)) {
      return { api: null, reason: 'core/scenario/generate-room.ts does not export generateRoom and SCENARIOS' };
    }
    return { api: m as ScenarioApi, reason: '' };
  } catch (e) {
    return { api: null, reason: `core/scenario could not be loaded: ${(e as Error).message.split('\n')[0]}` };
  }
}

export const SIM_START_TS = 1_700_000_000_000;
/** 30 minutes: enough baseline before the first build-up (the generator places it ~9 min in). */
export const SIM_DURATION_MS = 30 * 60_000;

export interface SimulatedRoom {
  name: string;
  scenario: string;
  seed: number;
  events: CrestEvent[];
  n: number;
  labels: ScoringLabels;
  /**
   * What the baselines see: the platform's `room.online` counts, one per row, carried forward between
   * reports (every ~5 s) and through gaps and freezes — the same counts the engine receives. Late
   * reports (behind the latest seen by more than the row) are not written back.
   */
  counts: number[];
  /** True concurrency per row (the generator's truth, last value at or before the row start). */
  truth: number[];
  /** First row with a report: baselines start here (before it there is nothing to see). */
  firstRow: number;
  rowOf: (ts: number) => number;
}

/**
 * Rooms k = firstSeed − 1 … firstSeed − 2 + count: scenarios in turn (SCENARIOS order), seed k + 1. The default
 * set is seeds 1–24; a later range (`--seed-from 25`) is rooms the profiles were never looked at on.
 */
export function simulatedRooms(api: ScenarioApi, count: number, sampleMs: number, firstSeed = 1): SimulatedRoom[] {
  const rooms: SimulatedRoom[] = [];
  const n = Math.floor(SIM_DURATION_MS / sampleMs);
  const rowOf = (ts: number) => Math.floor((ts - SIM_START_TS) / sampleMs);
  for (let k = firstSeed - 1; k < firstSeed - 1 + count; k++) {
    const scenario = api.SCENARIOS[k % api.SCENARIOS.length]!;
    const seed = k + 1;
    const name = `sim-${String(k).padStart(2, '0')}-${scenario}`;
    const g = api.generateRoom({ room: name, scenario, seed, startTs: SIM_START_TS, durationMs: SIM_DURATION_MS });
    const rises = g.labels.map((l) => ({ start: clampRow(rowOf(l.onsetTs), n), end: clampRow(rowOf(l.peakTs), n), kind: 'window' as const }));
    const neutral: RowRange[] = g.labels
      .map((l) => [clampRow(rowOf(l.peakTs) + 1, n), clampRow(rowOf(l.endTs), n)] as RowRange)
      .filter(([s, e]) => s <= e);
    const windows: RowRange[] = rises.map((r) => [r.start, r.end]);
    rooms.push({
      name,
      scenario,
      seed,
      events: g.events,
      n,
      labels: { n, rises, neutral, nabWindows: windows, nabUpWindows: windows, control: rises.length === 0 },
      ...onlineCounts(g.events, n, rowOf),
      truth: truthPerRow(g.truth, n, rowOf),
      rowOf,
    });
  }
  return rooms;
}

const clampRow = (r: number, n: number) => Math.min(n - 1, Math.max(0, r));

function onlineCounts(events: readonly CrestEvent[], n: number, rowOf: (ts: number) => number): { counts: number[]; firstRow: number } {
  const at = new Array<number>(n).fill(NaN);
  let watermark = -Infinity;
  for (const ev of events) {
    if (ev.ts > watermark) watermark = ev.ts;
    if (ev.type !== 'room.online') continue;
    const r = rowOf(ev.ts);
    // A report that arrives after a later row's was seen is late: a live monitor would not rewrite the past.
    if (r < 0 || r >= n || r < rowOf(watermark)) continue;
    at[r] = ev.count;
  }
  let last = NaN;
  let firstRow = n;
  for (let r = 0; r < n; r++) {
    if (!Number.isNaN(at[r]!)) {
      last = at[r]!;
      if (firstRow === n) firstRow = r;
    }
    at[r] = Number.isNaN(last) ? 0 : last;
  }
  return { counts: at, firstRow };
}

function truthPerRow(truth: readonly { ts: number; concurrency: number }[], n: number, rowOf: (ts: number) => number): number[] {
  const out = new Array<number>(n).fill(NaN);
  for (const p of truth) {
    const r = rowOf(p.ts);
    if (r >= 0 && r < n) out[r] = p.concurrency;
  }
  let last = 0;
  return out.map((c) => (Number.isNaN(c) ? last : (last = c)));
}

/**
 * The engine's input for a generated room: events in arrival order, with the clock advanced to every
 * sample boundary as event time passes it (the live worker's clock record does the same), so an alarm
 * is attributed to the last row whose data the engine had.
 */
export function* simulatedSteps(room: SimulatedRoom, sampleMs: number): Generator<ReplayStep> {
  let boundary = SIM_START_TS + sampleMs;
  const end = SIM_START_TS + room.n * sampleMs;
  for (const ev of room.events) {
    while (boundary <= ev.ts && boundary <= end) {
      yield { advance: boundary, row: room.rowOf(boundary) - 1 };
      boundary += sampleMs;
    }
    yield { ev };
  }
  for (; boundary <= end; boundary += sampleMs) yield { advance: boundary, row: room.rowOf(boundary) - 1 };
}
