/**
 * Runs an archived stream through the pure core, from an empty room, exactly as the live detector applied
 * it (events, clock advances, plan records in archive order): the windows, suggestions, 1 s series and
 * per-minute rollups of that stream alone. No I/O and no clock, so a past stream's report is a pure
 * function of its archive file.
 *
 * Why from an empty room: a past stream's figures are that stream's own, as the live totals restart at each
 * stream.start (core/stream-reset.test.ts); test/history.test.ts proves live and replay agree.
 */
import { advanceTo, applyEvent, createRoomState, roomMetrics, roomWindows, type RoomState } from '../core/engine.ts';
import type { EngineConfig } from '../core/engine-config.ts';
import { applyPlanRecord } from '../core/plans.ts';
import type { HighlightWindow, RoomMetrics, RoomUpdate, Suggestion, Tick } from '../core/protocol.ts';
import type { ReportSeriesPoint } from '../core/report.ts';
import type { ArchiveLine } from '../workers/stream-archive-format.ts';

/** One minute of a stream: what the rollups in Redis keep after the archive is written. */
export interface MinuteRollup {
  /** Start of the minute, ms since epoch (event time). */
  ts: number;
  concurrencyMax: number;
  concurrencyMean: number;
  entries: number;
  gmv: number;
  orders: number;
  adSpend: number;
  follows: number;
  likes: number;
  comments: number;
  events: number;
}

export interface CoreReplay {
  room: string;
  state: RoomState;
  metrics: RoomMetrics | null;
  /** Every window the core kept (bounded like live), latest state of each. */
  windows: HighlightWindow[];
  /** Every suggestion, oldest first. */
  suggestions: Suggestion[];
  /** Every output in order: what the live out stream held for the room. */
  outputs: RoomUpdate[];
  series: ReportSeriesPoint[];
  rollups: MinuteRollup[];
  events: number;
  firstTs: number | null;
  lastTs: number | null;
}

/** Replays `lines` (one room's archive) through the core. `onLine` sees progress (line index) if given. */
export function replayThroughCore(room: string, lines: readonly ArchiveLine[], engine: EngineConfig, onLine?: (i: number) => void): CoreReplay {
  const state = createRoomState(room, engine);
  const outputs: RoomUpdate[] = [];
  let events = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if ('type' in line) {
      applyEvent(state, line, engine, outputs);
      events++;
      firstTs ??= line.ts;
      lastTs = lastTs === null ? line.ts : Math.max(lastTs, line.ts);
    } else if ('clock' in line) advanceTo(state, line.clock, engine, outputs);
    else applyPlanRecord(state, line.plan, engine, outputs);
    onLine?.(i);
  }
  const suggestions: Suggestion[] = [];
  const ticks: Tick[] = [];
  for (const o of outputs) {
    if (o.type === 'suggestion') suggestions.push(o.suggestion);
    else if (o.type === 'tick') ticks.push(o.tick);
  }
  return {
    room,
    state,
    metrics: events > 0 ? roomMetrics(state) : null,
    windows: roomWindows(state),
    suggestions,
    outputs,
    series: ticks.map((t) => ({ ts: t.ts, concurrency: t.metrics.concurrency, gmv: t.metrics.gmv, orders: t.metrics.orders, adSpend: t.metrics.adSpend })),
    rollups: rollupsOf(ticks),
    events,
    firstTs,
    lastTs,
  };
}

const entriesOf = (m: RoomMetrics) => m.entriesTotal.follow + m.entriesTotal.public + m.entriesTotal.paid + m.entriesTotal.other;

/** Per-minute buckets of the 1 s ticks: concurrency max/mean, and what the running totals added in the minute. */
export function rollupsOf(ticks: readonly Tick[]): MinuteRollup[] {
  const out: MinuteRollup[] = [];
  let prev: RoomMetrics | null = null;
  let cur: { r: MinuteRollup; sum: number; n: number; last: RoomMetrics } | null = null;
  const close = () => {
    if (!cur) return;
    const base = prev;
    const m = cur.last;
    const d = (f: (x: RoomMetrics) => number) => f(m) - (base ? f(base) : 0);
    cur.r.concurrencyMean = Math.round((cur.sum / cur.n) * 10) / 10;
    cur.r.entries = d(entriesOf);
    cur.r.gmv = d((x) => x.gmv);
    cur.r.orders = d((x) => x.orders);
    cur.r.adSpend = d((x) => x.adSpend);
    cur.r.follows = d((x) => x.follows);
    cur.r.likes = d((x) => x.likes);
    cur.r.comments = d((x) => x.comments);
    cur.r.events = d((x) => x.events);
    out.push(cur.r);
    prev = m;
    cur = null;
  };
  for (const t of ticks) {
    const minute = Math.floor(t.ts / 60_000) * 60_000;
    if (cur && cur.r.ts !== minute) close();
    if (!cur) {
      cur = {
        r: { ts: minute, concurrencyMax: 0, concurrencyMean: 0, entries: 0, gmv: 0, orders: 0, adSpend: 0, follows: 0, likes: 0, comments: 0, events: 0 },
        sum: 0,
        n: 0,
        last: t.metrics,
      };
    }
    cur.r.concurrencyMax = Math.max(cur.r.concurrencyMax, t.metrics.concurrency);
    cur.sum += t.metrics.concurrency;
    cur.n++;
    cur.last = t.metrics;
  }
  close();
  return out;
}
