/**
 * The room engine: a reducer on event time. `applyEvent` / `advanceTo` mutate a RoomState in place and
 * append outputs (ticks, window changes, suggestions). Same events in → same outputs out, however the
 * sequence is batched, replayed or checkpointed (the state is plain JSON and holds everything that matters).
 *
 * Clock rules: the watermark only moves forward. Crossing sample boundaries (every `detector.sampleMs`)
 * feeds the detector the concurrency as it stood just before the boundary (events stamped exactly on it come
 * after); crossing tick boundaries emits ONE tick, for the newest boundary crossed. A jump of more than
 * `detector.gapResetSamples` samples is not replayed sample by sample: the detector gets the newest boundary
 * only and resets on the gap.
 */
import type { CrestEvent } from './events.ts';
import type { EngineConfig } from './engine-config.ts';
import type { HighlightWindow, RoomMetrics, RoomUpdate, Suggestion } from './protocol.ts';
import { detectorNote, detectorReset, detectorStep, type DetectorEvent } from './detector.ts';
import {
  applyToRoom,
  concurrencyAt,
  createRoomState as createRoom,
  expireViewers,
  metricsAt,
  openSessions,
  metricsDetailAt,
  rememberId,
  rotateTo,
  runtimeOf,
  startStream,
  ordersLastSeconds,
  paidSince,
  WINDOWS_KEPT,
  type RoomLimits,
  type RoomRuntime,
  type RoomState,
} from './room-state.ts';
import { policyOnTick, policyOnWindow } from './suggestion-policy.ts';
import { sampleAt } from './metrics-rolling.ts';
import { closeWindowAt, movePeak, openWindowSpend } from './metrics-windows.ts';
import { planOnTick } from './plans.ts';

export type { RoomState } from './room-state.ts';
export type RoomOutput = RoomUpdate;
export type ApplyResult = 'applied' | 'duplicate' | 'late';

/** A fresh, empty room (limits: see room-state.ts; the defaults suit production). */
export function createRoomState(room: string, cfg: EngineConfig, limits?: Partial<RoomLimits>): RoomState {
  return createRoom(room, cfg, limits);
}

// Scratch arrays reused across calls: the core is synchronous, so no call sees another's leftovers.
const detScratch: DetectorEvent[] = [];
const sugScratch: Suggestion[] = [];

/**
 * Applies one validated event; pushes any outputs (ticks when event time crosses a tick boundary, window
 * changes, suggestions) to `out`. Returns 'applied' | 'duplicate' | 'late' (late = applied to totals but
 * behind watermark by > allowedLatenessMs, not re-windowed).
 */
export function applyEvent(st: RoomState, ev: CrestEvent, cfg: EngineConfig, out: RoomOutput[]): ApplyResult {
  const rt = runtimeOf(st);
  if (!rememberId(st, ev.id, cfg.recentIdsKept)) {
    st.duplicateEvents++;
    return 'duplicate';
  }
  st.events++;
  const ts = ev.ts;
  let late = false;
  if (st.clock < 0) start(st, ts, cfg);
  else if (ts > st.clock) advanceClock(st, rt, ts, cfg, out);
  else if (st.clock - ts > cfg.allowedLatenessMs) {
    late = true;
    st.lateEvents++;
  }
  if (ev.type === 'stream.start') {
    // A new stream: its audience starts from zero, so the detector forgets the last stream's level (no rise or
    // drop against it) and the open window closes; then the stream-to-date figures restart (room-state.ts).
    resetDetector(st, cfg, out);
    startStream(st, rt, ts);
    st.events = 1; // the stream.start itself, as in a fresh room
    if (late) st.lateEvents = 1;
  }
  const wasLive = st.live;
  // On-time orders and ad spend are credited to the window their event time falls in (metrics-windows.ts).
  applyToRoom(st, rt, ev, cfg, late);
  if (!late) detectorNote(st.detector, ev);
  if (!late && ev.type === 'stream.end' && st.live !== wasLive) {
    // A stream ending is a level reset too: what comes after is no rise over what came before.
    resetDetector(st, cfg, out);
  }
  return late ? 'late' : 'applied';
}

/**
 * Advances the room's clock to event-time `ts` with no event (the live worker calls this from a per-shard
 * clock record written into the stream, so quiet rooms still tick and idle viewers expire deterministically).
 * Never moves time backwards.
 */
export function advanceTo(st: RoomState, ts: number, cfg: EngineConfig, out: RoomOutput[]): void {
  const rt = runtimeOf(st); // first use after a restore also upgrades an older state
  if (st.clock < 0) start(st, ts, cfg);
  else if (ts > st.clock) advanceClock(st, rt, ts, cfg, out);
}

/** The room's event-time clock (its watermark): what `roomMetrics(st).ts` reports, without building the metrics. */
export function roomClock(st: RoomState): number {
  return Math.max(0, st.clock);
}

/** Current metrics for API/snapshots, with the detail ticks leave out (rolling windows, splits, top products). */
export function roomMetrics(st: RoomState): RoomMetrics {
  const t = roomClock(st);
  runtimeOf(st); // upgrades a state restored from an older checkpoint before it is read
  return { ...metricsAt(st, t), detail: metricsDetailAt(st, t) };
}

/** Windows kept in state (bounded, e.g. last 20) and the active one. */
export function roomWindows(st: RoomState): HighlightWindow[] {
  return st.windows.map((w) => ({ ...w }));
}

/** The open highlight window, or null. */
export function activeWindow(st: RoomState): HighlightWindow | null {
  return st.windowOpen ? { ...st.windows[st.windows.length - 1] } : null;
}

function start(st: RoomState, ts: number, cfg: EngineConfig): void {
  st.originTs = ts;
  st.clock = ts;
  const s = cfg.detector.sampleMs;
  st.nextSampleTs = Math.floor(ts / s) * s + s;
  st.lastTickTs = Math.floor(ts / cfg.tickMs) * cfg.tickMs;
  rotateTo(st, Math.floor(ts / 1000));
}

function advanceClock(st: RoomState, rt: RoomRuntime, T: number, cfg: EngineConfig, out: RoomOutput[]): void {
  st.clock = T;
  const sMs = cfg.detector.sampleMs;
  const tick = Math.floor(T / cfg.tickMs) * cfg.tickMs;
  let tickPending = tick > st.lastTickTs;
  if (st.nextSampleTs <= T) {
    let b = st.nextSampleTs;
    const lastB = Math.floor(T / sMs) * sMs;
    if ((lastB - b) / sMs > cfg.detector.gapResetSamples) b = lastB;
    for (; b <= T; b += sMs) {
      if (tickPending && tick < b) {
        emitTick(st, rt, tick, cfg, out);
        tickPending = false;
      }
      bringTo(st, rt, b, cfg);
      sample(st, b, cfg, out);
      // The policy looks at every sample, not only at the ticks emitted: a jump emits one tick for many
      // seconds, so deciding on ticks would make a cue's second depend on how often the clock was advanced.
      if (st.windowOpen) policyAt(st, b, cfg, out);
    }
    st.nextSampleTs = b;
  }
  if (tickPending) emitTick(st, rt, tick, cfg, out);
  bringTo(st, rt, T, cfg);
}

function bringTo(st: RoomState, rt: RoomRuntime, t: number, cfg: EngineConfig): void {
  rotateTo(st, Math.floor(t / 1000));
  expireViewers(st, rt, t, cfg.viewerIdleMs);
}

function sample(st: RoomState, b: number, cfg: EngineConfig, out: RoomOutput[]): void {
  const dcfg = cfg.detector;
  const conc = concurrencyAt(st, b);
  if (conc > st.peakConcurrency) st.peakConcurrency = conc;
  st.viewerMs += conc * dcfg.sampleMs;
  st.sampledMs += dcfg.sampleMs;
  sampleAt(st.rolling, b, conc, dcfg.sampleMs);
  // The detector's feed: a platform count is carried forward across short silences (a missed report is not a
  // drop to our own session count), up to the gap-reset horizon; switching feeds resets the detector.
  let feed: 1 | 2 = 2;
  let value = openSessions(st);
  if (st.onlineTs >= 0 && b - st.onlineTs <= dcfg.gapResetSamples * dcfg.sampleMs) {
    feed = 1;
    value = st.online;
  }
  const evs = detScratch;
  evs.length = 0;
  if (st.feed !== 0 && st.feed !== feed) detectorReset(st.detector, dcfg, 'reset', evs);
  st.feed = feed;
  detectorStep(st.detector, b, value, dcfg, evs);
  handleDetectorEvents(st, evs, cfg, out);
}

function resetDetector(st: RoomState, cfg: EngineConfig, out: RoomOutput[]): void {
  const evs = detScratch;
  evs.length = 0;
  detectorReset(st.detector, cfg.detector, 'reset', evs);
  handleDetectorEvents(st, evs, cfg, out);
}

function handleDetectorEvents(st: RoomState, evs: DetectorEvent[], cfg: EngineConfig, out: RoomOutput[]): void {
  for (let i = 0; i < evs.length; i++) {
    const d = evs[i];
    let w: HighlightWindow;
    const open = st.windowOpen ? st.windows[st.windows.length - 1] : null;
    if (d.kind === 'building' || (d.kind === 'rising' && open?.state !== 'building')) {
      const fromSec = Math.floor(d.onsetTs / 1000);
      // A window after a retracted call can share its onset: the id must still be new (clients upsert by it).
      let id = `${st.room}:${d.onsetTs}`;
      if (st.windows.some((x) => x.id === id)) id += `:${d.detectedTs}`;
      w = {
        id,
        room: st.room,
        state: d.kind,
        onsetTs: d.onsetTs,
        detectedTs: d.detectedTs,
        confirmedTs: d.confirmedTs,
        retractReason: null,
        peakTs: null,
        endTs: null,
        updatedTs: d.ts,
        baseline: d.baseline,
        peak: d.peak,
        liftPct: d.liftPct,
        slopePerMin: d.slopePerMin,
        confidence: d.confidence,
        // Orders between onset and detection, from the per-second order log; later ones are added as they come.
        gmv: paidSince(st, fromSec, 2),
        orders: paidSince(st, fromSec, 1),
        forecastPeak: d.forecastPeak,
        forecastPeakTs: d.forecastPeakTs,
      };
      st.windows.push(w);
      st.streamWindows = Math.min(st.streamWindows + 1, WINDOWS_KEPT);
      if (st.windows.length > WINDOWS_KEPT) st.windows.shift();
      st.windowOpen = true;
      openWindowSpend(st, w);
    } else {
      if (!st.windowOpen) continue;
      w = st.windows[st.windows.length - 1];
      const prevPeakTs = w.peakTs;
      w.state = d.kind === 'update' ? w.state : d.kind;
      w.confirmedTs = d.confirmedTs;
      if (d.kind === 'retracted') w.retractReason = d.endReason === 'stalled' || d.endReason === 'reset' ? d.endReason : 'fell-back';
      if (d.kind === 'rising') w.baseline = d.baseline;
      w.peakTs = d.peakTs;
      w.endTs = d.endTs;
      w.updatedTs = d.ts;
      w.peak = d.peak;
      w.liftPct = d.liftPct;
      w.slopePerMin = d.slopePerMin;
      w.confidence = d.confidence;
      w.forecastPeak = d.forecastPeak;
      w.forecastPeakTs = d.forecastPeakTs;
      movePeak(st, w, prevPeakTs);
      if (d.kind === 'ended' || d.kind === 'retracted') {
        st.windowOpen = false;
        if (w.endTs !== null) {
          const endSec = Math.floor(w.endTs / 1000);
          closeWindowAt(st, w, paidSince(st, endSec, 2), paidSince(st, endSec, 1));
        }
      }
    }
    out.push({ type: 'window', room: st.room, window: { ...w } });
    const sugs = sugScratch;
    sugs.length = 0;
    policyOnWindow(st.policy, d.kind, w, concurrencyAt(st, d.ts), cfg.policy, sugs);
    pushSuggestions(st, sugs, out);
  }
}

function emitTick(st: RoomState, rt: RoomRuntime, t: number, cfg: EngineConfig, out: RoomOutput[]): void {
  bringTo(st, rt, t, cfg);
  st.lastTickTs = t;
  const metrics = metricsAt(st, t);
  planOnTick(st, t, metrics.concurrency, cfg, out);
  out.push({ type: 'tick', room: st.room, tick: { room: st.room, ts: t, metrics } });
}

function policyAt(st: RoomState, b: number, cfg: EngineConfig, out: RoomOutput[]): void {
  const sugs = sugScratch;
  sugs.length = 0;
  policyOnTick(
    st.policy,
    {
      room: st.room,
      ts: b,
      window: st.windows[st.windows.length - 1],
      concurrency: concurrencyAt(st, b),
      ordersLastMin: ordersLastSeconds(st, 60),
      ordersLast2Min: ordersLastSeconds(st, 120),
    },
    cfg.policy,
    sugs,
  );
  pushSuggestions(st, sugs, out);
}

function pushSuggestions(st: RoomState, sugs: Suggestion[], out: RoomOutput[]): void {
  for (let i = 0; i < sugs.length; i++) out.push({ type: 'suggestion', room: st.room, suggestion: sugs[i] });
}
