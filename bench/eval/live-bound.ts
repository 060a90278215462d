/**
 * How early any detector could call the live set's build-ups (issue 13 asks for a median of 6 rows, 30 s).
 *
 * A clairvoyant observer: it knows each build-up's start, its shape, the room's base rates and the generator's
 * noise model (flow-room.ts: Poisson messages on top of Ornstein–Uhlenbeck wander of the inflow, σ `noiseSd`
 * over 60 s, and of the per-viewer interaction rate, σ 0.25 over 30 s), and reads the delivered organic entries
 * and interactions row by row. Its best test of "build-up" against "no build-up" after n rows is the matched
 * filter: d² = sᵀ Σ⁻¹ s, s the expected extra messages per row, Σ the rows' noise covariance (Gaussian
 * approximation; the two signals independent, so their d² add). It calls when d ≥ k. A real detector knows
 * none of this and must scan every row for a start, so at the same k it can only be later: the rows printed
 * are a floor, not a target. Concurrency is left out (it is the integral of the entries: little information
 * the entries do not carry), so concurrency-only rooms get no figure.
 *
 *   node --import tsx bench/eval/live-bound.ts [--rooms 48] [--seed-from 1] [--step-ms 5000] [--k 3,4]
 */
import { parseArgs } from 'node:util';
import { addDrive, type BuildUp } from '../../core/scenario/live-shapes.ts';
import {
  INTERACT_NOISE_SD,
  INTERACT_NOISE_TAU_S,
  MSG_CAP_PER_S,
  mixWatchS,
  NOISE_TAU_S,
  shapeBase,
  type FlowRoomPlan,
} from '../../core/scenario/flow-room.ts';
import { liveRoomPlan } from '../../core/scenario/live-set.ts';
import { median, percentile } from './score.ts';

/** One message stream: a base rate per second with OU wander in it, and the extra a build-up adds per row. */
export interface NoisyStream {
  /** Poisson rate per second at base. */
  rate: number;
  /** Variance of the wander's rate, in (messages/s)²: its share of rate² times the log-noise variance. */
  wanderVar: number;
  wanderTauS: number;
}

/** ∫∫ over two blocks of h seconds, m blocks apart, of e^(−|t−s|/τ). */
export function ouBlockKernel(h: number, tau: number, m: number): number {
  if (m === 0) return 2 * tau * (h - tau * (1 - Math.exp(-h / tau)));
  const edge = tau * (1 - Math.exp(-h / tau));
  return edge * edge * Math.exp((-(m - 1) * h) / tau);
}

/**
 * Matched-filter d after each row: `extra[i]` the expected extra messages in row i (rows of `h` seconds from the
 * start). Incremental Cholesky: appending a row never changes the earlier rows' factors, so d² is a running sum.
 */
export function matchedFilterD(stream: NoisyStream, h: number, extra: readonly number[]): number[] {
  const n = extra.length;
  const L: Float64Array[] = [];
  const y: number[] = [];
  const out: number[] = [];
  const cov = (i: number, j: number) =>
    (i === j ? stream.rate * h : 0) + stream.wanderVar * ouBlockKernel(h, stream.wanderTauS, Math.abs(i - j));
  let d2 = 0;
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(i + 1);
    for (let j = 0; j <= i; j++) {
      const lj = j === i ? row : L[j]!;
      let s = cov(i, j);
      for (let k = 0; k < j; k++) s -= row[k]! * lj[k]!;
      row[j] = j === i ? Math.sqrt(Math.max(s, 1e-12)) : s / lj[j]!;
    }
    L.push(row);
    let s = extra[i]!;
    for (let k = 0; k < i; k++) s -= row[k]! * y[k]!;
    y.push(s / row[i]!);
    d2 += y[i]! * y[i]!;
    out.push(Math.sqrt(d2));
  }
  return out;
}

export interface BoundRow {
  seed: number;
  viewers: number;
  led: BuildUp['led'];
  slow: boolean;
  lagS: number;
  /** First row (counted as the harness does: rows after the labelled start) at which d ≥ each k; null: not within the growth. */
  rows: (number | null)[];
}

/** The clairvoyant's latency for the build-up of live room `seed` at each of `ks`; null for controls and concurrency-only rooms. */
export function buildUpBound(seed: number, stepMs: number, ks: readonly number[]): BoundRow | null {
  const plan = liveRoomPlan(seed);
  if (plan.control || plan.concurrencyOnly) return null;
  const flow: FlowRoomPlan = plan.flow;
  const b = flow.episodes.find((e): e is BuildUp => e.kind === 'buildup')!;
  const h = stepMs / 1000;
  const drift = Math.exp((flow.drift * b.startS) / flow.durationS);
  const baseIn0 = flow.viewers / mixWatchS(flow, flow.shares);
  const entryShare = Math.min(1, MSG_CAP_PER_S / baseIn0);
  const baseIn = baseIn0 * drift;
  const organic = [0, 1, 3].map((j) => baseIn * flow.shares[j]! * entryShare);
  const sum = organic.reduce((a, x) => a + x, 0);
  // Half the log-noise variance per source, half shared (flow-room.ts): var of Σ b_j·x_j.
  const entries: NoisyStream = {
    rate: sum,
    wanderVar: ((flow.noiseSd * flow.noiseSd) / 2) * (sum * sum + organic.reduce((a, x) => a + x * x, 0)),
    wanderTauS: NOISE_TAU_S,
  };
  const viewers = flow.viewers * drift;
  const interactShare = Math.min(1, MSG_CAP_PER_S / (flow.viewers * flow.interactRate));
  const act = viewers * flow.interactRate * interactShare;
  const interactions: NoisyStream = { rate: act, wanderVar: act * act * INTERACT_NOISE_SD * INTERACT_NOISE_SD, wanderTauS: INTERACT_NOISE_TAU_S };

  const base = shapeBase(flow);
  const rowsMax = Math.ceil((b.lagS + b.growS) / h);
  const extraEntries: number[] = [];
  const extraActs: number[] = [];
  for (let r = 0; r < rowsMax; r++) {
    let e = 0;
    let a = 0;
    for (let s = 0; s < h; s++) {
      const d = { organic: 0, paid: 0, crowd: 0, engage: 1 };
      addDrive(b, b.startS + r * h + s, base, d);
      e += d.organic * entryShare;
      // The interaction lift on the base crowd only (the extra viewers' own messages come later and are left out).
      a += act * (d.engage - 1);
    }
    extraEntries.push(e);
    extraActs.push(a);
  }
  const de = matchedFilterD(entries, h, extraEntries);
  const da = matchedFilterD(interactions, h, extraActs);
  const d = de.map((x, i) => Math.hypot(x, da[i]!));
  // The harness counts latency from the labelled start's row to the alarm's row: the row ending h s after the start is 1.
  const rows = ks.map((k) => {
    const i = d.findIndex((x) => x >= k);
    return i < 0 ? null : i + 1;
  });
  return { seed, viewers: flow.viewers, led: b.led, slow: b.slow, lagS: b.lagS, rows };
}

function main(): void {
  const { values } = parseArgs({ options: { rooms: { type: 'string', default: '48' }, 'seed-from': { type: 'string', default: '1' }, 'step-ms': { type: 'string', default: '5000' }, k: { type: 'string', default: '3,4' } } });
  const ks = values.k.split(',').map(Number);
  const step = Number(values['step-ms']);
  const first = Number(values['seed-from']);
  const rows: BoundRow[] = [];
  for (let seed = first; seed < first + Number(values.rooms); seed++) {
    const r = buildUpBound(seed, step, ks);
    if (r) rows.push(r);
  }
  console.log(`clairvoyant floor on the live set (seeds ${first}–${first + Number(values.rooms) - 1}, ${step / 1000} s rows; build-ups with leading signals: ${rows.length})`);
  console.log(`seed  viewers  led   slow lag_s  ${ks.map((k) => `rows@d≥${k}`).join('  ')}`);
  for (const r of rows) console.log(`${String(r.seed).padStart(4)} ${String(r.viewers).padStart(8)}  ${r.led.padEnd(5)} ${r.slow ? 'yes ' : 'no  '} ${String(r.lagS).padStart(5)}  ${r.rows.map((x) => String(x ?? '—').padStart(8)).join('  ')}`);
  ks.forEach((k, j) => {
    // A build-up the floor never reaches within its growth counts as the longest (it is past every target).
    const got = rows.map((r) => r.rows[j] ?? Infinity);
    const within6 = got.filter((x) => x <= 6).length;
    const fmt = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '∞');
    // The harness's own median and p90 (nearest rank), so the floor reads against its latency figures.
    console.log(`d ≥ ${k}: median ${fmt(median(got)!)} rows, p90 ${fmt(percentile(got, 90)!)} rows; within 6 rows: ${within6} of ${got.length}; not within the growth: ${got.filter((x) => x === Infinity).length}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
