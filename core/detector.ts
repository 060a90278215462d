/**
 * The online highlight detector (DESIGN §4): causal, on one concurrency sample per `sampleMs` of event
 * time. Standalone so the evaluation harness can drive it on a bare series; the room engine feeds it
 * and turns its events into HighlightWindow records.
 *
 * Algorithm, per sample x (numbers from DetectorConfig):
 *  1. despike: m = running median of the last `medianSamples` raw samples (a 1–2 sample spike never gets through);
 *  2. level L = EWMA of m over `fastSamples`; noise σ = EWMA of |Δx| / 1.128 (clipped, so ramps and spikes
 *     do not inflate it); spread S = EWMA of |x − B| over `baselineSamples` (clipped at 4 S), learnt while idle:
 *     how far a quiet room wanders around its baseline (daily swings, bursty feeds);
 *  3. baseline B = rolling median of raw x over `baselineSamples`, frozen while a window is open. Right after
 *     a window, until L falls back under B + threshold, rises are measured from the lowest L since that window
 *     (so the tail of one highlight is not the start of the next);
 *  4. threshold = max(minRiseAbs, minLift·B, NOISE_K·σ, spreadK·S). `rising` is emitted once L − B ≥ threshold
 *     has held for `confirmSamples` samples, the despiked lift m − B is at least `confirmLift`·B and the rise is
 *     `minRiseSamples` old (counted from the last sample m was at/below B): a giveaway crowd pours in within
 *     ~30 s and leaves right after the draw, a build-up keeps going. A rise that contains a jump (one step of m
 *     of at least `jumpStep`·B: a crowd, a platform count jump) must also have held `jumpConfirmSamples` since
 *     its first jump, because such steps collapse within a minute. A run that already fell `peakDrop` from its
 *     max before confirmation is never called;
 *  5. onset = the last sample at/below the baseline before the rise; slope = least squares over the rise;
 *  6. `peak` once L drops `peakDrop` of its running max (and ≥ 2σ), or after `peakFlatSamples` without growth;
 *  7. `ended` once L is back within `endWithin` of the lift, or `flatSamples` without growth (the baseline is then
 *     re-seeded at the new level), or on a reset (gap longer than `gapResetSamples`, stream start/end, feed change).
 */
import type { DetectorConfig } from './engine-config.ts';
import type { CrestEvent } from './events.ts';
import { createLead, leadBoughtOnly, leadNote, leadPresent, leadRatio, leadSample, leadStepped, leadZ, LEAD_ACT, LEAD_ORGANIC, LEAD_PAID, type LeadState } from './detector-lead.ts';
import {
  compactMedian,
  createRollingMedian,
  rollingMedianPush,
  rollingMedianReset,
  rollingMedianValue,
  type RollingMedian,
  type RollingMedianJson,
} from './rolling-median.ts';

export type DetectorEventKind = 'building' | 'rising' | 'update' | 'peak' | 'ended' | 'retracted';
/**
 * Why a window ended: back near baseline, flat at a new level, a gap in samples, or an explicit reset; a
 * `building` call that did not confirm: the level fell back, it stopped climbing, or a reset came first.
 */
export type EndReason = 'returned' | 'flat' | 'gap' | 'reset' | 'fell-back' | 'stalled';

/** One transition of the detector's window, with the numbers a HighlightWindow carries. */
export interface DetectorEvent {
  kind: DetectorEventKind;
  /** Sample time of this event. */
  ts: number;
  onsetTs: number;
  /** The first call: `building` when there was one, else `rising`. */
  detectedTs: number;
  /** When `rising` was called (null while only building, and for a retracted call). */
  confirmedTs: number | null;
  peakTs: number | null;
  endTs: number | null;
  baseline: number;
  /** Highest despiked sample so far (after `peak`: of the crest). */
  peak: number;
  /** Smoothed level at `ts`. */
  level: number;
  liftPct: number;
  slopePerMin: number;
  confidence: number;
  forecastPeak: number | null;
  forecastPeakTs: number | null;
  endReason: EndReason | null;
}

/** Phase: 0 = idle (watching), 1 = rising, 2 = peak passed. Numbers so the state stays plain JSON. */
export type DetectorPhase = 0 | 1 | 2;

interface OpenWindow {
  onsetTs: number;
  detectedTs: number;
  confirmedTs: number;
  baseline: number;
  threshold: number;
  /** First sample of the above-threshold run that confirmed the window (for the sustain part of confidence). */
  aboveSinceTs: number;
  maxLevel: number;
  peak: number;
  peakTs: number;
  /** Level at the last growth step and when it happened (plateau / flat detection). */
  growthRef: number;
  growthTs: number;
  slopePerMin: number;
  confidence: number;
  forecastPeak: number | null;
  forecastPeakTs: number | null;
  sinceUpdate: number;
}

/** Everything the detector remembers: plain JSON, bounded (ring sizes come from the config). */
export interface DetectorState {
  /** Time of the last sample, -1 before the first. */
  lastTs: number;
  last: number;
  /** Samples since start or the last reset. */
  n: number;
  spike: number[];
  spikeHead: number;
  m: number;
  level: number;
  meanAbsDiff: number;
  /** Typed while live; a state read back from JSON holds the plain form until its next sample (compactMedian). */
  base: RollingMedian | RollingMedianJson;
  /** False right after a window until the level is back under baseline + threshold; `trough` is the floor meanwhile. */
  armed: boolean;
  trough: number;
  /** Last sample at/below the baseline: the onset estimate. */
  calmTs: number;
  /** Despiked samples since `calmTs` (ring, capped at RISE_CAP), for slope and forecast. */
  rise: number[];
  riseHead: number;
  riseLen: number;
  /** Last sample at which the despiked level m was at/below the baseline: the rise's age counts from here. */
  lowTs: number;
  /** First sample since `lowTs` at which m stepped up by ≥ jumpStep·B in one sample (-1: the rise has no jump). */
  jumpTs: number;
  /** First surge of the current rise (-1: none) and its largest gain of the despiked level over `surgeSamples`
   * (both absent in a state checkpointed before surges existed). */
  surgeTs?: number;
  surgeMax?: number;
  /** The current rise was announced by the leading signals (a build-up, not a giveaway crowd): no surge hold. */
  announced?: boolean;
  /** Mean |x − B| while idle (EWMA over baselineSamples, clipped): the room's wander around its baseline. */
  spread: number;
  above: number;
  aboveSinceTs: number;
  /** Highest level of the current above-threshold run, and whether that run already fell from it. */
  aboveMax: number;
  spent: boolean;
  phase: DetectorPhase;
  win: OpenWindow | null;
  /** The early stage; absent in a state checkpointed before it existed (then created on the next sample). */
  early?: EarlyState;
  /** Leading signals (core/detector-lead.ts); absent in a state checkpointed before them. */
  lead?: LeadState;
}

/** The early `building` stage's memory (see `earlyStep`). */
export interface EarlyState {
  /** False after a retraction until the level has been back at the baseline: one false start per excursion. */
  armed: boolean;
  /** Consecutive samples the leading signals have agreed on a build-up. */
  leadRun?: number;
  /** Last sample at which a leading signal stepped up abruptly (a crowd arriving at once), -1 for none. */
  abruptTs?: number;
  /** Last sample at which interaction and organic entries stepped up together within seconds (a giveaway), -1 for none. */
  stepTs?: number;
  call: BuildingCall | null;
}

/** An open `building` call: what it said and how the rise has gone since. */
interface BuildingCall {
  onsetTs: number;
  ts: number;
  baseline: number;
  maxLevel: number;
  peak: number;
  peakTs: number;
  growthRef: number;
  growthTs: number;
  confidence: number;
}

/** Noise multiplier: σ is of raw samples; the smoothed level's σ is ~⅓ of it, so 1.5σ ≈ 4–5σ of the level. */
const NOISE_K = 1.5;
/** At most this many samples of a rise are kept for slope and forecast (10 min at 1 s). */
const RISE_CAP = 600;
/** Fewest rise samples before a forecast is given. */
const FORECAST_MIN = 12;
/** The forecast peak is where 75 % of the remaining gain is in: τ·ln(1/(1 − 0.75)) ahead. At 90 % (τ·ln 10) the
 * forecast peak came systematically late in `npm run eval` (the slope ratio is clamped at R_MAX, so an
 * accelerating build-up reads as a slow decay), the later the rise is confirmed. */
const FORECAST_LN = Math.log(4);
/** Forecast horizon cap, in samples. */
const FORECAST_MAX_SAMPLES = 1_200;
/** Per-half slope ratio bounds for the forecast (see `forecast`). */
const R_MIN = 0.1;
const R_MAX = 0.75;

/** A fresh detector: no samples yet. */
export function createDetector(cfg: DetectorConfig): DetectorState {
  return {
    lastTs: -1,
    last: 0,
    n: 0,
    spike: [],
    spikeHead: 0,
    m: 0,
    level: 0,
    meanAbsDiff: 0,
    base: createRollingMedian(cfg.baselineSamples),
    armed: true,
    trough: 0,
    calmTs: -1,
    rise: [],
    riseHead: 0,
    riseLen: 0,
    lowTs: -1,
    jumpTs: -1,
    spread: 0,
    above: 0,
    aboveSinceTs: -1,
    aboveMax: 0,
    spent: false,
    phase: 0,
    win: null,
    early: createEarly(),
    lead: createLead(),
  };
}

/** Counts an on-time room event toward the leading signals of the next sample (the engine calls it). */
export function detectorNote(st: DetectorState, ev: CrestEvent): void {
  leadNote((st.lead ??= createLead()), ev);
}

function createEarly(): EarlyState {
  return { armed: true, leadRun: 0, abruptTs: -1, stepTs: -1, call: null };
}

/**
 * Feeds one sample taken at event time `ts`; returns (and appends to `out`, when given) the transitions
 * it caused. Samples at or before the last one are ignored; a short gap is filled by carrying the last
 * value forward, a long one (> gapResetSamples) resets instead so a level change across it is no rise.
 */
export function detectorStep(
  st: DetectorState,
  ts: number,
  value: number,
  cfg: DetectorConfig,
  out: DetectorEvent[] = [],
): DetectorEvent[] {
  // A state checkpointed by the previous version has no rise age, jump or spread yet: start them afresh.
  if (st.spread === undefined) {
    st.lowTs = -1;
    st.jumpTs = -1;
    st.spread = 0;
  }
  if (st.lastTs >= 0) {
    if (ts <= st.lastTs) return out;
    const gap = ts - st.lastTs;
    if (gap > cfg.gapResetSamples * cfg.sampleMs) {
      detectorReset(st, cfg, 'gap', out);
    } else {
      const missing = Math.floor(gap / cfg.sampleMs) - 1;
      for (let i = 1; i <= missing; i++) stepOne(st, st.lastTs + cfg.sampleMs, st.last, cfg, out);
    }
  }
  stepOne(st, ts, value, cfg, out);
  return out;
}

/** Ends any open window at the last sample (reason given) and forgets the level: the next sample starts afresh. */
export function detectorReset(st: DetectorState, cfg: DetectorConfig, reason: EndReason, out: DetectorEvent[]): void {
  if (st.win && st.lastTs >= 0) out.push(closeWindow(st, st.lastTs, reason));
  else if (st.early?.call && st.lastTs >= 0) out.push(retract(st, st.lastTs, 'reset', cfg));
  const lastTs = st.lastTs;
  Object.assign(st, createDetector(cfg));
  // Keep time monotone across a reset: a later sample must still be after this one.
  st.lastTs = lastTs;
  st.n = 0;
}

/** True while a window is open (building, rising or peak). */
export function detectorActive(st: DetectorState): boolean {
  return st.win !== null || !!st.early?.call;
}

function stepOne(st: DetectorState, ts: number, x: number, cfg: DetectorConfig, out: DetectorEvent[]): void {
  const first = st.n === 0;
  leadSample((st.lead ??= createLead()), st.phase === 0 && !st.early?.call, cfg);
  // 1. despike
  const k = Math.max(1, cfg.medianSamples | 0);
  if (first) {
    st.spike.length = 0;
    st.spikeHead = 0;
  }
  if (st.spike.length < k) {
    st.spike.push(x);
    // Full: an exact-size copy (a pushed-to array keeps room for 17 numbers, ~100 B more per room, for good).
    if (st.spike.length === k) st.spike = st.spike.slice();
  } else {
    st.spike[st.spikeHead] = x;
    st.spikeHead = st.spikeHead + 1 === k ? 0 : st.spikeHead + 1;
  }
  const m = smallMedian(st.spike);
  const dm = first ? 0 : m - st.m;
  st.m = m;
  // 2. level and noise (noise is frozen inside a window: a rise is not noise)
  const aFast = 2 / (Math.max(1, cfg.fastSamples) + 1);
  const aSlow = 2 / (Math.max(1, cfg.baselineSamples) + 1);
  if (first) {
    st.level = m;
    st.meanAbsDiff = 0;
  } else {
    st.level += aFast * (m - st.level);
    if (st.phase === 0) {
      const clip = Math.max(4 * st.meanAbsDiff, 0.1 * cfg.minRiseAbs, 1);
      st.meanAbsDiff += aSlow * (Math.min(Math.abs(x - st.last), clip) - st.meanAbsDiff);
    }
  }
  // 3. baseline: learnt while idle, and not while a building call is out either: it then holds where the call
  // found it, so a slow build-up is measured from where it started (a 5-min rolling median trails a ramp by 2.5 min
  // of its climb: live-005, +58 % over 10 min, was called early, then never confirmed against a baseline that
  // climbed with it).
  const base = (st.base = compactMedian(st.base));
  if (st.phase === 0 && !st.early?.call) rollingMedianPush(base, x);
  st.n++;
  st.last = x;
  st.lastTs = ts;
  const level = st.level;
  const sigma = st.meanAbsDiff / 1.128;
  const B0 = rollingMedianValue(base);
  // A rise under way is not wander: once the level has stayed above its baseline for `spreadFreezeSamples`, the
  // spread stops learning until it is back (a slow build-up would otherwise teach the room that it wanders, and
  // raise its own threshold out of reach: seen on the livestream-shaped set, where +2 %/min ramps went uncalled).
  if (st.phase === 0 && st.riseLen < (cfg.spreadFreezeSamples ?? Infinity)) {
    const clip = Math.max(4 * st.spread, 0.1 * cfg.minRiseAbs, 1);
    st.spread += aSlow * (Math.min(Math.abs(x - B0), clip) - st.spread);
  }
  const wander = cfg.spreadK * st.spread;

  if (st.phase === 0) {
    if (!st.armed) {
      if (level < st.trough) st.trough = level;
      if (level - B0 < threshold(B0, sigma, wander, cfg)) st.armed = true;
    }
    const B = st.armed ? B0 : Math.max(B0, st.trough);
    const thr = threshold(B, sigma, wander, cfg);
    // 4. onset tracking: the rise buffer restarts at every calm sample
    if (x <= B || st.calmTs < 0) {
      st.calmTs = ts;
      st.riseLen = 0;
      st.riseHead = 0;
    }
    // The rise's age and its jump are those of the despiked level: one low raw sample does not make a collapsing
    // jump a fresh rise.
    if (m <= B || st.lowTs < 0) {
      st.lowTs = ts;
      st.jumpTs = -1;
      st.surgeTs = -1;
      st.surgeMax = 0;
      st.announced = false;
    }
    if (st.jumpTs < 0 && dm >= cfg.jumpStep * Math.max(B, 1)) st.jumpTs = ts;
    // A surge: a gain of `surgeStep` of the baseline within `surgeSamples` (a giveaway crowd pours in over half a
    // minute; on a 5 s report grid it is never one step). Its fastest gain is kept for the pace check below.
    const sw = cfg.surgeSamples;
    if (sw !== undefined) {
      const mid = st.riseLen > sw ? riseAt(st, st.riseLen - 1 - sw) : B;
      const g = m - mid;
      if (g > (st.surgeMax ?? 0)) st.surgeMax = g;
      // Abrupt only: a build-up that speeds up toward its launch gained nearly as much in the window before.
      const before = mid - (st.riseLen > 2 * sw ? riseAt(st, st.riseLen - 1 - 2 * sw) : B);
      const abrupt = cfg.surgeAbrupt === undefined || before < cfg.surgeAbrupt * g;
      // A crowd the leading signals announced (interaction and entries climbing together, not at once) is a build-up,
      // for the rest of its rise: its leading signals may tire before concurrency does.
      // Not a rise whose leading signals stepped up together within seconds (a giveaway's comments and crowd): that
      // is a crowd arriving, and the surge rule must still judge it.
      const stepped = (st.early?.stepTs ?? -1) >= st.lowTs;
      if ((st.early?.leadRun ?? 0) >= cfg.leadHoldSamples && !stepped) st.announced = true;
      if (st.announced) st.surgeTs = -1;
      else if ((st.surgeTs ?? -1) < 0 && abrupt && g >= (cfg.surgeStep ?? cfg.jumpStep) * Math.max(B, 1)) st.surgeTs = ts;
    }
    risePush(st, m);
    earlyStep(st, ts, m, level, B, thr, cfg, out);
    if (st.n <= cfg.warmupSamples || level - B < thr) {
      st.above = 0;
      st.spent = false;
      return;
    }
    if (st.above === 0) {
      st.aboveSinceTs = ts;
      st.aboveMax = level;
    }
    st.above++;
    if (level > st.aboveMax) st.aboveMax = level;
    // A rise that crests and falls before it is confirmed (a giveaway spike collapsing) is never called:
    // `rising` after the peak would only tell the buyer to pay for the way down.
    if (st.aboveMax - level >= Math.max(cfg.peakDrop * st.aboveMax, 2 * sigma)) st.spent = true;
    if (st.spent) {
      if (st.early!.call) out.push(retract(st, ts, 'fell-back', cfg));
      return;
    }
    if (st.above < cfg.confirmSamples) return;
    if (m - B < cfg.confirmLift * B) return;
    if (ts - st.lowTs < cfg.minRiseSamples * cfg.sampleMs) return;
    if (st.jumpTs >= 0 && ts - st.jumpTs < cfg.jumpConfirmSamples * cfg.sampleMs) return;
    // After a surge the rise must still be climbing at `surgeKeep` of its fastest pace: a giveaway crowd pours in at
    // once and ever slower (then sits until the draw); a build-up keeps its pace or speeds up toward the launch.
    // A crowd still there `surgeHoldSamples` after its surge stayed past any draw: called then, late.
    const surgeTs = st.surgeTs ?? -1;
    const young = surgeTs >= 0 && ts - surgeTs < (cfg.surgeHoldSamples ?? Infinity) * cfg.sampleMs;
    if (surgeTs >= 0 && ts - surgeTs < cfg.jumpConfirmSamples * cfg.sampleMs) return;
    // Nor within the same hold after the leading signals stepped up together (a giveaway's comments and crowd):
    // the crowd is counted by now, but it arrived, it did not build (live set: 4 giveaways called that way).
    const stepTs = st.early?.stepTs ?? -1;
    if (stepTs >= 0 && ts - stepTs < cfg.jumpConfirmSamples * cfg.sampleMs) return;
    if (young && cfg.surgeKeep !== undefined && st.riseLen > (cfg.surgeSamples ?? 30)) {
      const g = m - riseAt(st, st.riseLen - 1 - (cfg.surgeSamples ?? 30));
      if (g < cfg.surgeKeep * (st.surgeMax ?? 0)) return;
    }
    // Nor while the crowd is mostly bought (see earlyStep): on the live set that held back confirmed calls on paid
    // bursts, and on the simulator one on a paid-traffic control (latency: the same on the live set, +1 row there).
    if (cfg.leadPaidHold && leadBoughtOnly(st.lead!, cfg)) return;
    // A building call confirmed: the same window goes on, from the call's onset and first detection.
    const call = st.early!.call;
    st.early!.call = null;
    st.early!.leadRun = 0;
    const w: OpenWindow = {
      onsetTs: call ? call.onsetTs : st.calmTs,
      detectedTs: call ? call.ts : ts,
      confirmedTs: ts,
      baseline: B,
      threshold: thr,
      aboveSinceTs: st.aboveSinceTs,
      maxLevel: level,
      peak: riseMax(st),
      peakTs: ts,
      growthRef: level,
      growthTs: ts,
      slopePerMin: 0,
      confidence: 0,
      forecastPeak: null,
      forecastPeakTs: null,
      sinceUpdate: 0,
    };
    w.peakTs = ts - (st.riseLen - 1 - riseArgMax(st)) * cfg.sampleMs;
    st.win = w;
    st.phase = 1;
    refresh(st, ts, cfg);
    out.push(toEvent(st, 'rising', ts, null, null));
    return;
  }

  const w = st.win!;
  const thr = w.threshold;
  if (st.phase === 1) {
    risePush(st, m);
    trackCrest(w, ts, m, level, thr);
    const drop = Math.max(cfg.peakDrop * w.maxLevel, 2 * sigma);
    const flatFor = (ts - w.growthTs) / cfg.sampleMs;
    if (w.maxLevel - level >= drop || flatFor >= cfg.peakFlatSamples) {
      // Slope stays that of the rise; only confidence moves (it never falls: it uses the running max).
      w.confidence = confidence(w, ts, cfg);
      w.forecastPeak = null;
      w.forecastPeakTs = null;
      st.phase = 2;
      out.push(toEvent(st, 'peak', ts, null, null));
      return;
    }
    if (++w.sinceUpdate >= cfg.updateEverySamples) {
      w.sinceUpdate = 0;
      refresh(st, ts, cfg);
      out.push(toEvent(st, 'update', ts, null, null));
    }
    return;
  }

  // phase 2: peak passed, waiting for the end. The crest is still tracked: a build-up that pauses long enough to
  // look like its peak and then climbs on (live set: a stair-step room paused at +28% for a minute, then went on
  // to +69%) is still this window, and 'flat' must mean flat since the last growth, not since the pause, or the
  // window ends mid-climb and its baseline is reset to a level still rising.
  trackCrest(w, ts, m, level, thr);
  const back = level - w.baseline <= cfg.endWithin * (w.maxLevel - w.baseline);
  const flat = (ts - w.growthTs) / cfg.sampleMs >= cfg.flatSamples;
  if (back || flat) out.push(closeWindow(st, ts, back ? 'returned' : 'flat'));
}

/**
 * The early stage, on every idle sample. Concurrency is the integral of entries minus exits, so a build-up shows
 * in the leading signals (core/detector-lead.ts) first: `building` is called once interaction is up (z ≥ leadZAct)
 * together with organic entries (z ≥ leadZOrganic) or paid ones (z ≥ leadZPaid: a boost into a teaser; paid alone
 * is a bought burst and never enough), for `leadHoldSamples` in a row, with the despiked level at or above its
 * baseline, not falling, and no jump in the rise. A leading signal that steps up at once (fast over baseline ≥
 * leadAbruptRatio: a giveaway crowd) holds the stage for `jumpConfirmSamples`, as a concurrency jump does. Thresholds
 * scale with `earlyScale`. A room that sends only `room.online` gets no early call: a concurrency-only early rule
 * (a CUSUM on the lift) was measured and bought no latency over the confirmed stage, only false starts (docs/detector.md).
 *
 * An open call is retracted when the level falls under its baseline by more than the room's wander or gives back
 * half of a real gain ('fell-back'), when the confirmed stage's run crests before confirming (also 'fell-back'), or
 * when it has not grown for `earlyStallSamples` or not confirmed within `earlyMaxSamples` ('stalled'); after a
 * retraction the stage waits until the level is back at the baseline, so one excursion makes one false start at most.
 */
function earlyStep(
  st: DetectorState,
  ts: number,
  m: number,
  level: number,
  B: number,
  thr: number,
  cfg: DetectorConfig,
  out: DetectorEvent[],
): void {
  const e = (st.early ??= createEarly());
  if (m <= B) e.armed = true;
  const call = e.call;
  if (call) {
    trackCrest(call, ts, m, level, thr);
    const s = cfg.sampleMs;
    const wander = Math.max(st.spread / 0.8, 0.01 * B, 1);
    const gain = call.maxLevel - call.baseline;
    if (m < call.baseline - wander || (gain >= 0.5 * thr && level - call.baseline <= 0.5 * gain)) out.push(retract(st, ts, 'fell-back', cfg));
    else if (ts - call.growthTs >= cfg.earlyStallSamples * s || ts - call.ts >= cfg.earlyMaxSamples * s) {
      out.push(retract(st, ts, 'stalled', cfg));
    }
    return;
  }
  const scale = cfg.earlyScale;
  const lead = st.lead!;
  if (!(scale < Infinity) || st.n <= cfg.warmupSamples || !leadPresent(lead, cfg)) {
    e.leadRun = 0;
    return;
  }
  const za = leadZ(lead, LEAD_ACT, cfg);
  const zo = leadZ(lead, LEAD_ORGANIC, cfg);
  const zp = leadZ(lead, LEAD_PAID, cfg);
  const agree = za >= cfg.leadZAct * scale && (zo >= cfg.leadZOrganic * scale || zp >= cfg.leadZPaid * scale);
  if (leadStepped(lead, LEAD_ACT, cfg.leadBurstAct ?? Infinity, cfg) && leadStepped(lead, LEAD_ORGANIC, cfg.leadBurstOrganic ?? Infinity, cfg)) e.stepTs = ts;
  if (leadRatio(lead, LEAD_ORGANIC, cfg) >= cfg.leadAbruptRatio || leadRatio(lead, LEAD_ACT, cfg) >= cfg.leadAbruptRatio || e.stepTs === ts) e.abruptTs = ts;
  const abrupt = (e.abruptTs ?? -1) >= 0 && ts - e.abruptTs! < cfg.jumpConfirmSamples * cfg.sampleMs;
  e.leadRun = agree && !abrupt ? (e.leadRun ?? 0) + 1 : 0;
  // The leading signals may still announce a rise the buyer is boosting (no surge hold), but a crowd that is mostly
  // bought gets no early call: "boost now — early" on the buyer's own boost is the wrong advice (the live set's paid
  // bursts made 5 of its false alarms that way).
  if (cfg.leadPaidHold && leadBoughtOnly(lead, cfg)) return;
  // A rise that jumped or surged is a crowd until the confirmed stage says otherwise: no early call on it.
  if (e.leadRun < cfg.leadHoldSamples || m < B || !e.armed || st.jumpTs >= 0 || (st.surgeTs ?? -1) >= 0) return;
  const recent = Math.min(st.riseLen, cfg.earlySlopeSamples);
  if (fit(st, st.riseLen - recent, recent).slope < 0) return;
  // How far past its thresholds the evidence is: 0.5 at the bare minimum, toward 0.9 with twice the z's.
  const margin = Math.min(za / (cfg.leadZAct * scale), Math.max(zo / (cfg.leadZOrganic * scale), zp / (cfg.leadZPaid * scale)));
  e.call = {
    onsetTs: st.calmTs,
    ts,
    baseline: B,
    maxLevel: level,
    peak: riseMax(st),
    peakTs: ts,
    growthRef: level,
    growthTs: ts,
    confidence: round3(0.9 * (1 - Math.exp(-margin * 0.77))),
  };
  out.push(callEvent(st, 'building', ts, null, cfg));
}

/** Takes back the open building call (it did not confirm). */
function retract(st: DetectorState, ts: number, reason: EndReason, cfg: DetectorConfig): DetectorEvent {
  const ev = callEvent(st, 'retracted', ts, reason, cfg);
  const e = st.early!;
  e.call = null;
  e.leadRun = 0;
  e.armed = false;
  return ev;
}

function callEvent(st: DetectorState, kind: 'building' | 'retracted', ts: number, endReason: EndReason | null, cfg: DetectorConfig): DetectorEvent {
  const c = st.early!.call!;
  return {
    kind,
    ts,
    onsetTs: c.onsetTs,
    detectedTs: c.ts,
    confirmedTs: null,
    peakTs: null,
    endTs: kind === 'retracted' ? ts : null,
    baseline: round1(c.baseline),
    peak: round1(c.peak),
    level: round1(st.level),
    liftPct: round1(((c.peak - c.baseline) / Math.max(c.baseline, 1)) * 100),
    slopePerMin: round1(fit(st, 0, st.riseLen).slope * (60_000 / cfg.sampleMs)),
    confidence: c.confidence,
    forecastPeak: null,
    forecastPeakTs: null,
    endReason,
  };
}

function threshold(B: number, sigma: number, wander: number, cfg: DetectorConfig): number {
  return Math.max(cfg.minRiseAbs, cfg.minLift * B, NOISE_K * sigma, wander);
}

/** Emits `ended` and leaves the detector watching again, with onset tracking restarted at `ts`. */
function closeWindow(st: DetectorState, ts: number, reason: EndReason): DetectorEvent {
  const ev = toEvent(st, 'ended', ts, ts, reason);
  st.win = null;
  st.phase = 0;
  st.above = 0;
  if (st.early) {
    st.early.leadRun = 0;
    st.early.call = null;
  }
  st.spent = false;
  st.calmTs = ts;
  st.riseLen = 0;
  st.riseHead = 0;
  st.jumpTs = -1;
  st.lowTs = ts;
  if (reason === 'flat') {
    // The plateau is the new normal.
    rollingMedianReset((st.base = compactMedian(st.base)), st.level);
    st.armed = true;
  } else {
    st.armed = false;
    st.trough = st.level;
  }
  return ev;
}

/** Recomputes slope, confidence and forecast of the open window at `ts`. */
function refresh(st: DetectorState, ts: number, cfg: DetectorConfig): void {
  const w = st.win!;
  const perMin = 60_000 / cfg.sampleMs;
  w.slopePerMin = round1(fit(st, 0, st.riseLen).slope * perMin);
  w.confidence = confidence(w, ts, cfg);
  forecast(st, ts, cfg);
}

/**
 * Confidence = (1 − e^(−r)) · (1 − e^(−s)), r = lift of the running max over the threshold, s = samples held
 * above the threshold over confirmSamples. Each factor is in (0, 1) and increasing, so confidence is monotone
 * in lift and in sustain; at the bare minimum (r = 1, s = 1) it is 0.40, at 3× both it is 0.90.
 */
function confidence(w: OpenWindow, ts: number, cfg: DetectorConfig): number {
  const r = Math.max(0, w.maxLevel - w.baseline) / w.threshold;
  const s = (ts - w.aboveSinceTs + cfg.sampleMs) / cfg.sampleMs / Math.max(1, cfg.confirmSamples);
  return round3((1 - Math.exp(-r)) * (1 - Math.exp(-s)));
}

/**
 * Forecast while rising. Compare the least-squares slope of the last W samples (s2) with the W before
 * (s1), W = min(30, half the rise). Model: the slope decays geometrically, by r = s2/s1 every W samples
 * (clamped to [0.1, 0.75]: we always assume some deceleration, since rises end), i.e. exponentially with
 * τ = W / −ln r. The peak is where 75 % of the remaining gain is in (τ·ln 4 ahead, capped at 20 min) and
 * its height is the fitted current level plus s2·τ·(1 − e^(−horizon/τ)). A falling or flat recent slope
 * means the peak is now. Null below FORECAST_MIN rise samples.
 */
function forecast(st: DetectorState, ts: number, cfg: DetectorConfig): void {
  const w = st.win!;
  const n = st.riseLen;
  if (n < FORECAST_MIN) {
    w.forecastPeak = null;
    w.forecastPeakTs = null;
    return;
  }
  const W = Math.min(30, n >> 1);
  const a = fit(st, n - 2 * W, W);
  const b = fit(st, n - W, W);
  if (b.slope <= 0) {
    w.forecastPeak = round1(Math.max(b.end, 0));
    w.forecastPeakTs = ts;
    return;
  }
  const r = a.slope > 0 ? Math.min(R_MAX, Math.max(R_MIN, b.slope / a.slope)) : R_MAX;
  const tau = W / -Math.log(r);
  const horizon = Math.min(tau * FORECAST_LN, FORECAST_MAX_SAMPLES);
  w.forecastPeak = round1(b.end + b.slope * tau * (1 - Math.exp(-horizon / tau)));
  w.forecastPeakTs = ts + Math.round(horizon) * cfg.sampleMs;
}

/** Least squares over rise samples [from, from+count): slope per sample and fitted value at the last one. */
function fit(st: DetectorState, from: number, count: number): { slope: number; end: number } {
  if (count <= 0) return { slope: 0, end: st.m };
  if (count === 1) return { slope: 0, end: riseAt(st, from) };
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < count; i++) {
    const y = riseAt(st, from + i);
    sx += i;
    sy += y;
    sxx += i * i;
    sxy += i * y;
  }
  const den = count * sxx - sx * sx;
  const slope = den === 0 ? 0 : (count * sxy - sx * sy) / den;
  const mean = sy / count;
  return { slope, end: mean + slope * (count - 1 - sx / count) };
}

function risePush(st: DetectorState, m: number): void {
  if (st.riseLen < RISE_CAP) {
    // Linear until full: index i is riseLen-th sample since calm.
    if (st.rise.length > st.riseLen) st.rise[st.riseLen] = m;
    else st.rise.push(m);
    st.riseLen++;
  } else {
    st.rise[st.riseHead] = m;
    st.riseHead = st.riseHead + 1 === RISE_CAP ? 0 : st.riseHead + 1;
  }
}

/** i-th rise sample, oldest first. */
/** An open window's or early call's crest so far; growth counts only a gain of a quarter threshold (not noise). */
function trackCrest(
  c: { maxLevel: number; peak: number; peakTs: number; growthRef: number; growthTs: number },
  ts: number,
  m: number,
  level: number,
  thr: number,
): void {
  if (level > c.maxLevel) c.maxLevel = level;
  if (m > c.peak) {
    c.peak = m;
    c.peakTs = ts;
  }
  if (level >= c.growthRef + 0.25 * thr) {
    c.growthRef = level;
    c.growthTs = ts;
  }
}

function riseAt(st: DetectorState, i: number): number {
  return st.riseLen < RISE_CAP ? st.rise[i] : st.rise[(st.riseHead + i) % RISE_CAP];
}

function riseArgMax(st: DetectorState): number {
  let best = 0;
  for (let i = 1; i < st.riseLen; i++) if (riseAt(st, i) > riseAt(st, best)) best = i;
  return best;
}

function riseMax(st: DetectorState): number {
  return st.riseLen ? riseAt(st, riseArgMax(st)) : st.m;
}

const medScratch: number[] = [];
/** Median of a handful of values (insertion sort into a reused scratch array: no allocation). */
function smallMedian(a: number[]): number {
  const n = a.length;
  medScratch.length = n;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= 0 && medScratch[j] > v) {
      medScratch[j + 1] = medScratch[j];
      j--;
    }
    medScratch[j + 1] = v;
  }
  const h = n >> 1;
  return n & 1 ? medScratch[h] : (medScratch[h - 1] + medScratch[h]) / 2;
}

function toEvent(
  st: DetectorState,
  kind: DetectorEventKind,
  ts: number,
  endTs: number | null,
  endReason: EndReason | null,
): DetectorEvent {
  const w = st.win!;
  return {
    kind,
    ts,
    onsetTs: w.onsetTs,
    detectedTs: w.detectedTs,
    confirmedTs: w.confirmedTs,
    peakTs: st.phase === 2 || kind === 'ended' ? w.peakTs : null,
    endTs,
    baseline: round1(w.baseline),
    peak: round1(w.peak),
    level: round1(st.level),
    liftPct: round1(((w.peak - w.baseline) / Math.max(w.baseline, 1)) * 100),
    slopePerMin: w.slopePerMin,
    confidence: w.confidence,
    forecastPeak: w.forecastPeak,
    forecastPeakTs: w.forecastPeakTs,
    endReason,
  };
}

function round1(x: number): number {
  const r = Math.round(x * 10) / 10;
  return r === 0 ? 0 : r; // no -0: it would not survive a JSON round trip
}

function round3(x: number): number {
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? 0 : r;
}
