/**
 * The live set (issue 13): livestream-shaped rooms from the flow model (flow-room.ts) and the event shapes
 * (live-shapes.ts), cut into rows at 5 s or 1 s in the format of ../shared/data/public (series rows +
 * a labels.json entry with step_ms), so the harness scores them as it scores any folder, and an export of
 * them replays exactly as they were scored. Pure: a seed and a step in, rows and labels out.
 *
 * A room is a function of its seed alone. Seeds ≡ 0 (mod 3) are no-event controls (flat, noisy or slowly
 * drifting, with giveaways and glitches); the others hold one build-up and up to two distractors
 * (giveaway, teaser flop, paid burst). Seeds ≡ 2 (mod 4) send concurrency only (just `ts,value`). Everything
 * else — size (log-uniform 30–200,000 viewers), traffic mix, watch times, noise, drift, shapes, placement,
 * glitches — is drawn from the seed. The 1 s and 5 s rows of a seed are the same room, sampled twice: a
 * 5 s row's value is the 1 s row's at the same instant, its counts the sum of the 1 s rows since the last.
 *
 * **Labels, defined once.** A labelled rise (`windows_up`) runs from the build-up's start — the second its
 * cause starts: for a hype-led one the interactions' rise, entries following `lagS` later; for a feed-led
 * one the extra entries themselves — to the top of true concurrency (15 s centred mean, highest from the
 * start to 60 s after the hold ends). The generator knows that start; no detector sees it, and concurrency
 * moves only after the entries do and then by integration, so a detector that reads concurrency alone has
 * a latency above 0 from it by construction (that is what the leading signals are for). `windows` (NAB,
 * and neutral for the scorer) runs on from the top to the first second the true concurrency is back within
 * 20 % of the lift above its level before the start (mean of the 2 min before), or the shape's settling
 * time (4 decay times after the hold), or the next episode's start, or the stream's end, whichever is first. Giveaways, teaser flops and paid bursts are no window: an alarm on one is a
 * false alarm. They and the glitches are listed under `episodes` and `glitches`, for reports only.
 */
import { createRng, type Rng } from './prng.ts';
import { simulateFlow, FLOW_PRE_S, type FlowRoomPlan, type FlowSeconds } from './flow-room.ts';
import {
  drawBuildUp,
  drawGiveaway,
  drawPaidBurst,
  drawTeaser,
  episodeSpanS,
  type BuildUp,
  type Glitch,
  type LiveEpisode,
} from './live-shapes.ts';

export const LIVE_DURATION_S = 3000;
export const LIVE_START_TS = 1_700_000_000_000;
export const LIVE_VIEWERS_MIN = 30;
export const LIVE_VIEWERS_MAX = 200_000;
export const LIVE_STEPS_MS = [1000, 5000] as const;
export type LiveStepMs = (typeof LIVE_STEPS_MS)[number];
/** No episode before 8 min: a detector needs a baseline first. */
const FIRST_EPISODE_S = 480;
/** The report grid of the platform's count (glitches sit on it). */
const REPORT_GRID_S = 5;

export interface LiveRoomPlan {
  seed: number;
  name: string;
  control: boolean;
  concurrencyOnly: boolean;
  flow: FlowRoomPlan;
  glitches: Glitch[];
}

/** A labelled build-up in seconds since stream start (see the module comment for the definition). */
export interface LiveRiseLabel {
  startS: number;
  peakS: number;
  endS: number;
  /** True concurrency: mean of the 2 min before the start, and at the top (15 s centred mean). */
  before: number;
  top: number;
}

export interface LiveRoom {
  plan: LiveRoomPlan;
  seconds: FlowSeconds;
  rises: LiveRiseLabel[];
}

/** What labels.json holds for one series (the loader reads windows, windows_up and step_ms; the rest is for reports). */
export interface LiveLabelsEntry {
  windows: [number, number][];
  windows_up: [number, number][];
  n: number;
  step_ms: number;
  source: string;
  viewers: number;
  concurrency_only: boolean;
  episodes: ({ kind: LiveEpisode['kind']; start_ts: number; end_ts: number } & Record<string, unknown>)[];
  glitches: ({ kind: Glitch['kind']; ts: number } & Record<string, unknown>)[];
}

export interface LiveSeries {
  name: string;
  seed: number;
  stepMs: number;
  ts: number[];
  value: number[];
  /** Messages per row in (previous row's ts, this row's ts]; absent for concurrency-only rooms. */
  extra?: { entries_organic: number[]; entries_paid: number[]; interactions: number[] };
  /** True concurrency at each row's instant (not exported). */
  truth: number[];
  labels: LiveLabelsEntry;
  control: boolean;
  concurrencyOnly: boolean;
}

const logUniform = (rng: Rng, lo: number, hi: number): number => Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));

export function liveRoomName(seed: number): string {
  const control = seed % 3 === 0;
  const online = seed % 4 === 2;
  return `live-${String(seed).padStart(3, '0')}-${control ? 'control' : 'buildup'}${online ? '-online' : ''}`;
}

/** Draws everything about room `seed` but its seconds. */
export function liveRoomPlan(seed: number): LiveRoomPlan {
  if (!Number.isInteger(seed) || seed < 1) throw new RangeError('seed: must be a whole number ≥ 1');
  const rng = createRng(seed, 'live-plan');
  const control = seed % 3 === 0;
  const concurrencyOnly = seed % 4 === 2;
  const S = LIVE_DURATION_S;
  const viewers = Math.round(logUniform(rng, LIVE_VIEWERS_MIN, LIVE_VIEWERS_MAX));
  const follow = rng.uniform(0.15, 0.35);
  const paid = rng.chance(0.5) ? rng.uniform(0.03, 0.15) : 0;
  const other = rng.uniform(0.05, 0.12);
  const flowBase = {
    seed,
    durationS: S,
    viewers,
    shares: [follow, 1 - follow - paid - other, paid, other],
    watchMeanS: [rng.uniform(150, 360), rng.uniform(60, 150), rng.uniform(30, 60), rng.uniform(80, 200)],
    watchSigma: rng.uniform(0.8, 1.2),
    noiseSd: rng.uniform(0.03, 0.15),
    drift: rng.uniform(-0.25, 0.25),
    interactRate: logUniform(rng, 0.002, 0.02),
  };

  const eps: LiveEpisode[] = [];
  if (control) {
    for (let k = rng.int(0, 2); k > 0; k--) eps.push(drawGiveaway(rng, 0));
  } else {
    eps.push(drawBuildUp(rng, 0));
    const draws = [drawGiveaway, drawTeaser, drawPaidBurst] as const;
    for (let k = rng.int(0, 2); k > 0; k--) eps.push(rng.pick(draws)(rng, 0));
  }
  const gaps = eps.map(() => rng.int(60, 240));
  // Fisher–Yates: the build-up may come first, between or last.
  for (let i = eps.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [eps[i], eps[j]] = [eps[j]!, eps[i]!];
  }
  let t = FIRST_EPISODE_S + rng.int(0, 120);
  const placed: LiveEpisode[] = [];
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i]!;
    const need = ep.kind === 'buildup' ? ep.lagS + ep.growS + ep.holdS + 120 : episodeSpanS(ep);
    const rest = eps.slice(i + 1).find((e) => e.kind === 'buildup');
    // A distractor that would leave no room for a build-up still to come is dropped.
    const reserve = rest && rest.kind === 'buildup' ? rest.lagS + rest.growS + rest.holdS + 120 + gaps[i]! : 0;
    if (t + need + reserve > S) continue;
    placed.push({ ...ep, startS: t });
    t += Math.round(episodeSpanS(ep)) + gaps[i]!;
  }

  const glitches: Glitch[] = [];
  const gridS = (lo: number, hi: number) => REPORT_GRID_S * rng.int(Math.ceil(lo / REPORT_GRID_S), Math.floor(hi / REPORT_GRID_S));
  for (let k = rng.int(0, 3); k > 0; k--) {
    const kind = rng.pick(['freeze', 'repeat', 'drop'] as const);
    if (kind === 'freeze') glitches.push({ kind, startS: gridS(60, S - 200), durationS: gridS(20, 120) });
    else glitches.push({ kind, atS: gridS(60, S - 10) });
  }
  return { seed, name: liveRoomName(seed), control, concurrencyOnly, flow: { ...flowBase, episodes: placed }, glitches };
}

/** Generates room `seed`: its seconds and its labelled rises. */
export function generateLiveRoom(seed: number): LiveRoom {
  const plan = liveRoomPlan(seed);
  const seconds = simulateFlow(plan.flow);
  return { plan, seconds, rises: riseLabels(plan, seconds) };
}

function riseLabels(plan: LiveRoomPlan, sec: FlowSeconds): LiveRiseLabel[] {
  const S = sec.durationS;
  const c = (s: number) => sec.concurrency[s + FLOW_PRE_S]!;
  const smooth = (s: number) => {
    let sum = 0;
    let k = 0;
    for (let x = Math.max(0, s - 7); x <= Math.min(S, s + 7); x++, k++) sum += c(x);
    return sum / k;
  };
  const starts = plan.flow.episodes.map((e) => e.startS).sort((a, b) => a - b);
  const out: LiveRiseLabel[] = [];
  for (const ep of plan.flow.episodes) {
    if (ep.kind !== 'buildup') continue;
    const b: BuildUp = ep;
    let before = 0;
    for (let s = b.startS - 120; s < b.startS; s++) before += c(s) / 120;
    const topTo = Math.min(S - 1, b.startS + b.lagS + b.growS + b.holdS + 60);
    let peakS = b.startS;
    let top = -Infinity;
    for (let s = b.startS; s <= topTo; s++) {
      const v = smooth(s);
      if (v > top) [top, peakS] = [v, s];
    }
    const next = starts.find((x) => x > b.startS);
    // The shape has settled 4 decay times after its top, whatever the drift has done to the level meanwhile.
    const limit = Math.min(S - 1, next === undefined ? S - 1 : next - 1, b.startS + episodeSpanS(b));
    let endS = limit;
    for (let s = peakS + 1; s <= limit; s++) {
      if (smooth(s) <= before + 0.2 * (top - before)) {
        endS = s;
        break;
      }
    }
    out.push({ startS: b.startS, peakS, endS, before, top });
  }
  return out;
}

/** The platform's count for the row at second s, through the room's glitches; null: the report was dropped. */
function reportedAt(room: LiveRoom, s: number): number | null {
  const r = (x: number) => room.seconds.reported[Math.max(-FLOW_PRE_S, x) + FLOW_PRE_S]!;
  const gs = room.plan.glitches;
  if (gs.some((g) => g.kind === 'drop' && g.atS === s)) return null;
  // A frozen count wins over a stale repeat inside it: the platform sends the one stuck value.
  const frozen = gs.find((g) => g.kind === 'freeze' && s >= g.startS && s < g.startS + g.durationS);
  if (frozen && frozen.kind === 'freeze') return r(frozen.startS);
  if (gs.some((g) => g.kind === 'repeat' && g.atS === s)) return r(s - REPORT_GRID_S);
  return r(s);
}

/** Room `room` as rows every `stepMs` (1000 or 5000), with its labels.json entry. */
export function liveSeries(room: LiveRoom, stepMs: number): LiveSeries {
  if (!(LIVE_STEPS_MS as readonly number[]).includes(stepMs)) throw new RangeError(`stepMs: expected one of ${LIVE_STEPS_MS.join(', ')}`);
  const { plan, seconds: sec } = room;
  const stepS = stepMs / 1000;
  const S = sec.durationS;
  const tsOf = (s: number) => LIVE_START_TS + s * 1000;
  const ts: number[] = [];
  const value: number[] = [];
  const truth: number[] = [];
  const organic: number[] = [];
  const paid: number[] = [];
  const interactions: number[] = [];
  let prevS = -stepS;
  for (let s = 0; s < S; s += stepS) {
    const v = reportedAt(room, s);
    if (v === null) continue;
    let o = 0;
    let p = 0;
    let a = 0;
    // Messages in (previous row, this row]: a dropped row's fall into the next one.
    for (let x = prevS + 1; x <= s; x++) {
      const i = x + FLOW_PRE_S;
      o += sec.entries[0]![i]! + sec.entries[1]![i]! + sec.entries[3]![i]!;
      p += sec.entries[2]![i]!;
      a += sec.interactions[i]!;
    }
    prevS = s;
    ts.push(tsOf(s));
    value.push(v);
    truth.push(sec.concurrency[s + FLOW_PRE_S]!);
    organic.push(o);
    paid.push(p);
    interactions.push(a);
  }
  const labels: LiveLabelsEntry = {
    windows: room.rises.map((r) => [tsOf(r.startS), tsOf(r.endS)]),
    windows_up: room.rises.map((r) => [tsOf(r.startS), tsOf(r.peakS)]),
    n: ts.length,
    step_ms: stepMs,
    source: `crest live set (core/scenario/live-set.ts), seed ${plan.seed}`,
    viewers: plan.flow.viewers,
    concurrency_only: plan.concurrencyOnly,
    episodes: plan.flow.episodes.map((e) => {
      const { kind, startS, ...rest } = e;
      return { kind, start_ts: tsOf(startS), end_ts: tsOf(Math.min(S, startS + episodeSpanS(e))), ...roundAll(rest) };
    }),
    glitches: plan.glitches.map((g) =>
      g.kind === 'freeze' ? { kind: g.kind, ts: tsOf(g.startS), duration_s: g.durationS } : { kind: g.kind, ts: tsOf(g.atS) },
    ),
  };
  return {
    name: plan.name,
    seed: plan.seed,
    stepMs,
    ts,
    value,
    ...(plan.concurrencyOnly ? {} : { extra: { entries_organic: organic, entries_paid: paid, interactions } }),
    truth,
    labels,
    control: plan.control,
    concurrencyOnly: plan.concurrencyOnly,
  };
}

const roundAll = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v]));

/** Rooms of seeds firstSeed … firstSeed + count − 1, as rows every stepMs. */
export function liveSet(count: number, firstSeed: number, stepMs: number): LiveSeries[] {
  const out: LiveSeries[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) out.push(liveSeries(generateLiveRoom(seed), stepMs));
  return out;
}

/** The series' CSV text: `ts,value[,entries_organic,entries_paid,interactions]`. */
export function liveCsv(s: LiveSeries): string {
  const lines = [s.extra ? 'ts,value,entries_organic,entries_paid,interactions' : 'ts,value'];
  for (let i = 0; i < s.ts.length; i++) {
    lines.push(s.extra ? `${s.ts[i]},${s.value[i]},${s.extra.entries_organic[i]},${s.extra.entries_paid[i]},${s.extra.interactions[i]}` : `${s.ts[i]},${s.value[i]}`);
  }
  return lines.join('\n') + '\n';
}
