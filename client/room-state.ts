/**
 * What the client knows about one room, and the pure updates that fold server messages into it.
 * Every update is idempotent (dedupe by window id, suggestion id, ack suggestion id, tick time), so a
 * reconnect that replays messages the client already has, or a snapshot that overlaps live messages,
 * changes nothing. Each update returns a new object when something changed (Lit sees the change by
 * identity) and the same object when nothing did.
 */
import type {
  Ack,
  HighlightWindow,
  PlannedMoment,
  RoomMetrics,
  RoomSnapshot,
  SeriesPoint,
  Suggestion,
  Tick,
} from '../core/protocol.ts';

export interface RoomState {
  metrics: RoomMetrics | null;
  /** Ascending by ts, at most SERIES_SPAN_MS of event time. */
  series: readonly SeriesPoint[];
  /** Ascending by onsetTs. */
  windows: readonly HighlightWindow[];
  /** Newest first. */
  suggestions: readonly Suggestion[];
  acks: ReadonlyMap<string, Ack>;
  /** Planned moments, by time. */
  plans: readonly PlannedMoment[];
  /** Last out-stream id seen: passed back as `since` when re-joining. */
  cursor: string | null;
}

/** Keep about one hour of the curve: the chart shows no more, and memory stays bounded. */
export const SERIES_SPAN_MS = 60 * 60 * 1000;
const MAX_SUGGESTIONS = 500;
const MAX_WINDOWS = 200;

export const EMPTY_ROOM: RoomState = {
  metrics: null,
  series: [],
  windows: [],
  suggestions: [],
  acks: new Map(),
  plans: [],
  cursor: null,
};

/**
 * Orders out-stream ids. Redis stream ids are `ms-seq`; they compare numerically part by part. Anything
 * else falls back to string order, which is still right for fixed-width ids.
 */
export function compareCursor(a: string, b: string): number {
  const pa = /^(\d+)-(\d+)$/.exec(a);
  const pb = /^(\d+)-(\d+)$/.exec(b);
  if (pa && pb) return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function withCursor(s: RoomState, cursor: string | undefined): RoomState {
  if (!cursor || (s.cursor !== null && compareCursor(cursor, s.cursor) <= 0)) return s;
  return { ...s, cursor };
}

function trimSeries(points: SeriesPoint[]): SeriesPoint[] {
  const last = points[points.length - 1];
  if (!last) return points;
  const from = last.ts - SERIES_SPAN_MS;
  let i = 0;
  while (i < points.length && points[i].ts < from) i++;
  return i ? points.slice(i) : points;
}

function mergeSeries(a: readonly SeriesPoint[], b: readonly SeriesPoint[]): SeriesPoint[] {
  const byTs = new Map<number, SeriesPoint>();
  for (const p of a) byTs.set(p.ts, p);
  for (const p of b) byTs.set(p.ts, p);
  return trimSeries([...byTs.values()].sort((x, y) => x.ts - y.ts));
}

export function applyTick(s: RoomState, tick: Tick): RoomState {
  const m = tick.metrics;
  const point: SeriesPoint = { ts: tick.ts, concurrency: m.concurrency, gmv: m.gmv, orders: m.orders };
  const last = s.series[s.series.length - 1];
  let series = s.series;
  if (!last || tick.ts > last.ts) series = trimSeries([...s.series, point]);
  else if (tick.ts === last.ts) series = [...s.series.slice(0, -1), point];
  // An older tick (replayed after a reconnect) is already in the curve: leave it.
  const metrics = !s.metrics || tick.ts >= s.metrics.ts ? m : s.metrics;
  if (series === s.series && metrics === s.metrics) return s;
  return { ...s, series, metrics };
}

export function upsertWindow(s: RoomState, w: HighlightWindow): RoomState {
  const i = s.windows.findIndex((x) => x.id === w.id);
  if (i >= 0) {
    // A replayed, older update of the same window must not undo a newer state (peak → rising).
    if (s.windows[i].updatedTs > w.updatedTs) return s;
    const windows = s.windows.slice();
    windows[i] = w;
    return { ...s, windows };
  }
  const windows = [...s.windows, w].sort((a, b) => a.onsetTs - b.onsetTs);
  return { ...s, windows: windows.length > MAX_WINDOWS ? windows.slice(-MAX_WINDOWS) : windows };
}

const newestFirst = (a: Suggestion, b: Suggestion): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function addSuggestion(s: RoomState, sg: Suggestion): RoomState {
  if (s.suggestions.some((x) => x.id === sg.id)) return s;
  const suggestions = [...s.suggestions, sg].sort(newestFirst);
  return { ...s, suggestions: suggestions.length > MAX_SUGGESTIONS ? suggestions.slice(0, MAX_SUGGESTIONS) : suggestions };
}

/** The first acknowledgement of a suggestion is the one shown; later ones (a second person) are ignored. */
export function addAck(s: RoomState, ack: Ack): RoomState {
  if (s.acks.has(ack.suggestionId)) return s;
  const acks = new Map(s.acks);
  acks.set(ack.suggestionId, ack);
  return { ...s, acks };
}

/** A plan created or edited (`plan`), or deleted (null). An older version never replaces a newer one. */
export function applyPlan(s: RoomState, id: string, plan: PlannedMoment | null): RoomState {
  const old = s.plans.find((p) => p.id === id);
  if (plan && old && old.version >= plan.version) return s;
  if (!plan && !old) return s;
  const plans = s.plans.filter((p) => p.id !== id);
  if (plan) plans.push(plan);
  return { ...s, plans: plans.sort((a, b) => a.at - b.at) };
}

/**
 * Folds a join snapshot in. Always a merge: live messages can arrive while the join is in flight, and a
 * re-join with `since` gets replayed messages the client may already hold. (A resync starts from
 * EMPTY_ROOM before re-joining, so stale state does not survive it.)
 */
export function applySnapshot(prev: RoomState, snap: RoomSnapshot): RoomState {
  const newer = !prev.metrics || (snap.metrics !== null && snap.metrics.ts >= prev.metrics.ts);
  let s: RoomState = {
    ...prev,
    series: mergeSeries(prev.series, snap.series),
    metrics: newer ? snap.metrics : prev.metrics,
    // The stored list is the truth at join time (deletions included); older snapshots may lack it.
    plans: snap.plans ?? prev.plans,
  };
  for (const w of snap.windows) s = upsertWindow(s, w);
  for (const sg of snap.suggestions) s = addSuggestion(s, sg);
  for (const a of snap.acks) s = addAck(s, a);
  return withCursor(s, snap.cursor);
}
