/**
 * Latency at matched false-alarm rates (printed by `npm run eval`; `--no-sweep` skips it).
 *
 * The headline latency is a median over hits, and a detector that alarms often hits a labelled window early
 * by chance. So every detector's alarm knob is swept (Crest's in crest-sweep.ts, the baselines' here, from
 * the default toward stricter), and at each matched rate (0, 0.1, 0.5, 1, 2 false alarms per 1,000 unlabelled rows;
 * 0 on the controls) each detector is shown at its setting with the lowest median latency among those that
 * are at least that quiet. A `chance` reference alarms at random rows (seeded, deterministic) at fixed rates
 * and never looks at the data: the latency that alarm rate alone buys. The grids are fixed here, the same
 * for both sets and every series.
 */
import { alarmsAtThreshold, createBocpd, createBocpdCore, BOCPD_DEFAULTS, type BocpdRow } from './baselines/bocpd.ts';
import { createCusum, CUSUM_DEFAULTS } from './baselines/cusum.ts';
import { createEwma, EWMA_DEFAULTS } from './baselines/ewma.ts';
import { createRollingMean, ROLLING_MEAN_DEFAULTS } from './baselines/rolling-mean.ts';
import { aggregate, scoreSeries, type AggregateScore } from './score.ts';
import type { Item } from './items.ts';
import type { OnlineDetector } from './types.ts';

/** One baseline and its alarm knob: values from the default (first) toward stricter. */
export interface KnobSweep {
  family: string;
  knob: string;
  values: readonly number[];
  create(value: number, seed: number): OnlineDetector;
}

/** Rows between alarms of the chance reference are geometric with this mean rate (alarms per 1,000 rows). */
function chance(perThousand: number, seed: number): OnlineDetector {
  let s = seed % 2147483647 || 1;
  const p = perThousand / 1000;
  return {
    push: () => {
      // Park–Miller LCG: fixed and dependency-free, so the reference is the same on every machine.
      s = (s * 48271) % 2147483647;
      return s / 2147483647 < p;
    },
  };
}

export const SWEEPS: readonly KnobSweep[] = [
  {
    family: 'rolling-mean',
    knob: 'k σ',
    values: [3, 4, 5, 6, 8, 10, 13, 16, 20],
    create: (k) => createRollingMean({ ...ROLLING_MEAN_DEFAULTS, k }),
  },
  { family: 'cusum', knob: 'h σ', values: [5, 8, 12, 16, 24, 32, 48, 64, 96], create: (h) => createCusum({ ...CUSUM_DEFAULTS, h }) },
  { family: 'ewma', knob: 'L', values: [3, 4, 5, 6, 8, 10, 13, 16, 20], create: (L) => createEwma({ ...EWMA_DEFAULTS, L }) },
  {
    family: 'bocpd',
    // The hazard barely moves its alarm rate (1/250 → 1/1,000,000 still leaves 77 control FAs on the simulator):
    // the posterior threshold is the knob that does.
    knob: 'P(run≤10) ≥',
    values: [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999],
    create: (threshold) => createBocpd({ ...BOCPD_DEFAULTS, threshold }),
  },
  { family: 'chance', knob: 'alarms/1k rows', values: [20, 10, 5, 2, 1, 0.5, 0.25], create: chance },
];

export interface SweepPoint {
  family: string;
  /** The setting in words ("h σ 12", "early ×1.5, confirm ×1"). */
  setting: string;
  /** Default setting of its family (the main table's). */
  isDefault: boolean;
  aggregate: AggregateScore;
}

/** The matched false-alarm rates: a setting qualifies when its figure is at or below the rate. */
export const RATES: readonly { label: string; ok: (a: AggregateScore) => boolean }[] = [
  { label: 'FA/1k ≤ 0', ok: (a) => (a.faPer1k ?? 0) <= 0 },
  { label: 'FA/1k ≤ 0.1', ok: (a) => (a.faPer1k ?? 0) <= 0.1 },
  { label: 'FA/1k ≤ 0.5', ok: (a) => (a.faPer1k ?? 0) <= 0.5 },
  // Where no one reaches the strict rates with half the rises hit (the live set), these still rank the detectors.
  { label: 'FA/1k ≤ 1', ok: (a) => (a.faPer1k ?? 0) <= 1 },
  { label: 'FA/1k ≤ 2', ok: (a) => (a.faPer1k ?? 0) <= 2 },
  { label: '0 FA on controls', ok: (a) => a.controlFa === 0 },
];

/** Stable per-series seed for the chance reference. */
function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 2147483646 + 1;
}

/** BOCPD's posterior per item, computed once: the default run and every threshold of the sweep read it. */
const bocpdTraces = new WeakMap<Item, BocpdRow[]>();
export function bocpdTrace(it: Item): BocpdRow[] {
  let tr = bocpdTraces.get(it);
  if (!tr) {
    const core = createBocpdCore(BOCPD_DEFAULTS);
    tr = [];
    for (let i = it.baselineFrom; i < it.counts.length; i++) tr.push(core.push(it.counts[i]!));
    bocpdTraces.set(it, tr);
  }
  return tr;
}

/** BOCPD's alarm rows on one item at `threshold` (same as createBocpd; the trace is shared). */
export function bocpdAlarms(it: Item, threshold: number): number[] {
  return alarmsAtThreshold(bocpdTrace(it), threshold).map((r) => r + it.baselineFrom);
}

function alarmRows(it: Item, sw: KnobSweep, value: number): number[] {
  if (sw.family === 'bocpd') return bocpdAlarms(it, value);
  const d = sw.create(value, seedOf(it.name));
  const rows: number[] = [];
  for (let i = it.baselineFrom; i < it.counts.length; i++) if (d.push(it.counts[i]!)) rows.push(i);
  return rows;
}

/** Every baseline knob (and the chance reference) over its grid on one set. */
export function baselineSweep(items: readonly Item[]): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const sw of SWEEPS) {
    sw.values.forEach((value, k) => {
      const aggregateScore = aggregate(items.map((it) => scoreSeries(it.labels, alarmRows(it, sw, value))));
      points.push({ family: sw.family, setting: `${sw.knob} ${value}`, isDefault: k === 0 && sw.family !== 'chance', aggregate: aggregateScore });
    });
  }
  return points;
}

/**
 * Per family and rate: among the settings at or below the rate, the one with the lowest median latency over all
 * rises (a miss counts as never, so a setting that hits under half the rises has none); ties go to more hits, then
 * the lower p90. Null ("—") when no setting reaches the rate with at least half the rises hit.
 */
export function pickAtRates(points: readonly SweepPoint[]): Map<string, (SweepPoint | null)[]> {
  const out = new Map<string, (SweepPoint | null)[]>();
  for (const p of points) if (!out.has(p.family)) out.set(p.family, RATES.map(() => null));
  for (const p of points) {
    const a = p.aggregate;
    if (!Number.isFinite(a.detectMedian)) continue;
    const picks = out.get(p.family)!;
    RATES.forEach((r, k) => {
      if (!r.ok(a)) return;
      const b = picks[k]?.aggregate;
      const better =
        !b ||
        a.detectMedian < b.detectMedian ||
        (a.detectMedian === b.detectMedian && (a.tp > b.tp || (a.tp === b.tp && a.detectP90 < b.detectP90)));
      if (better) picks[k] = p;
    });
  }
  return out;
}

const f = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** The printed block of one set: the picks at each matched rate, then every sweep point (the curve). */
export function formatRates(setName: string, points: readonly SweepPoint[], picks: Map<string, (SweepPoint | null)[]>): string {
  const cw = 30;
  const lines = [
    `== latency at matched false-alarm rates — ${setName}`,
    'cell: median / p90 latency (rows) over every rise, a miss counting as never (∞), and hits/rises, at the setting with the lowest such median among those at or below the rate; — = no setting reaches the rate with half the rises hit',
    'detector'.padEnd(16) + RATES.map((r) => r.label.padStart(cw)).join(''),
  ];
  lines.push('-'.repeat(lines[2]!.length));
  for (const [fam, ps] of picks) {
    const cells = ps.map((p) => (p ? `${f(p.aggregate.detectMedian, 1)} / ${p.aggregate.detectP90 === Infinity ? '∞' : f(p.aggregate.detectP90, 0)} (${p.aggregate.tp}/${p.aggregate.rises})` : '—'));
    lines.push(fam.padEnd(16) + cells.map((c) => c.padStart(cw)).join(''));
    lines.push(''.padEnd(16) + ps.map((p) => (p ? p.setting : '').slice(0, cw - 2).padStart(cw)).join(''));
  }
  const head = `${'detector'.padEnd(16)}${'setting'.padEnd(28)}${'F1'.padStart(7)}${'recall'.padStart(8)}${'FA/1k'.padStart(8)}${'ctrl FA'.padStart(9)}${'retr'.padStart(6)}${'lat med'.padStart(9)}${'lat p90'.padStart(9)}`;
  lines.push('', 'every setting swept (* = the main table\'s default):', head, '-'.repeat(head.length));
  for (const p of points) {
    const a = p.aggregate;
    lines.push(
      `${p.family.padEnd(16)}${((p.isDefault ? '* ' : '  ') + p.setting).padEnd(28)}${f(a.f1, 3).padStart(7)}${f(a.recall, 3).padStart(8)}${f(a.faPer1k, 2).padStart(8)}${String(a.controlFa).padStart(9)}${String(a.retracted).padStart(6)}${f(a.latencyMedian, 1).padStart(9)}${f(a.latencyP90, 0).padStart(9)}`,
    );
  }
  return lines.join('\n');
}
