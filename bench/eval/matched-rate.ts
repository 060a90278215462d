/**
 * Latency at a matched false-alarm rate (`npm run eval -- --matched`).
 *
 * The headline latency is a median over hits, and a detector that alarms often hits a labelled window early
 * by chance: its first alarm in a window is usually a noise alarm that happened to fall there. So beside the
 * default-setting table, each baseline's one alarm knob is swept from its default toward stricter settings,
 * and for each baseline the setting that is at least as quiet as Crest balanced (FA per 1k unlabelled rows
 * and FA on the controls both ≤ Crest's) with the lowest median latency is reported. A `chance` reference
 * alarms at random rows (seeded, deterministic) at fixed rates and never looks at the data: the latency
 * that alarm rate alone buys. The knob grid is fixed here, the same for both sets and every series.
 */
import { createBocpd, BOCPD_DEFAULTS } from './baselines/bocpd.ts';
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
  knob: string;
  value: number;
  aggregate: AggregateScore;
}

export interface MatchedSet {
  crest: AggregateScore;
  points: SweepPoint[];
  /** Per family: the quietest-enough setting with the lowest median latency (null: no setting is as quiet as Crest). */
  matched: Record<string, SweepPoint | null>;
  /** Per family: the setting with recall ≥ Crest's and the fewest false alarms (null: none reaches Crest's recall). */
  sameRecall: Record<string, SweepPoint | null>;
}

/** Stable per-series seed for the chance reference. */
function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 2147483646 + 1;
}

function runOn(items: readonly Item[], make: (seed: number) => OnlineDetector): AggregateScore {
  return aggregate(
    items.map((it) => {
      const d = make(seedOf(it.name));
      const rows: number[] = [];
      for (let i = it.baselineFrom; i < it.counts.length; i++) if (d.push(it.counts[i]!)) rows.push(i);
      return scoreSeries(it.labels, rows);
    }),
  );
}

/** Fewer control false alarms, then fewer per 1k unlabelled rows, then the earlier median. */
function quieter(a: AggregateScore, b: AggregateScore): boolean {
  if (a.controlFa !== b.controlFa) return a.controlFa < b.controlFa;
  if ((a.faPer1k ?? 0) !== (b.faPer1k ?? 0)) return (a.faPer1k ?? 0) < (b.faPer1k ?? 0);
  return (a.latencyMedian ?? Infinity) < (b.latencyMedian ?? Infinity);
}

/** Sweeps every knob on one set and picks each family's matched setting against Crest's aggregate. */
export function matchedRate(items: readonly Item[], crest: AggregateScore): MatchedSet {
  const points: SweepPoint[] = [];
  const matched: Record<string, SweepPoint | null> = {};
  const sameRecall: Record<string, SweepPoint | null> = {};
  for (const sw of SWEEPS) {
    let best: SweepPoint | null = null;
    let quietest: SweepPoint | null = null;
    for (const value of sw.values) {
      const p: SweepPoint = { family: sw.family, knob: sw.knob, value, aggregate: runOn(items, (seed) => sw.create(value, seed)) };
      points.push(p);
      const a = p.aggregate;
      if ((a.recall ?? 0) >= (crest.recall ?? 0) && a.tp > 0) {
        if (!quietest || quieter(a, quietest.aggregate)) quietest = p;
      }
      const quiet = (a.faPer1k ?? 0) <= (crest.faPer1k ?? 0) && a.controlFa <= crest.controlFa;
      if (!quiet || a.latencyMedian === null) continue;
      if (!best || a.latencyMedian < best.aggregate.latencyMedian! || (a.latencyMedian === best.aggregate.latencyMedian && (a.f1 ?? 0) > (best.aggregate.f1 ?? 0))) {
        best = p;
      }
    }
    matched[sw.family] = best;
    sameRecall[sw.family] = quietest;
  }
  return { crest, points, matched, sameRecall };
}

const f = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** The printed block of one set: every sweep point, then the matched line per family. */
export function formatMatched(setName: string, m: MatchedSet): string {
  const head = `${'detector'.padEnd(14)}${'knob'.padEnd(16)}${'value'.padStart(9)}${'F1'.padStart(8)}${'recall'.padStart(8)}${'hits'.padStart(6)}${'FA/1k'.padStart(8)}${'ctrl FA'.padStart(9)}${'lat med'.padStart(9)}${'lat p90'.padStart(9)}`;
  const row = (fam: string, knob: string, value: string, a: AggregateScore, mark = '') =>
    `${fam.padEnd(14)}${knob.padEnd(16)}${value.padStart(9)}${f(a.f1, 3).padStart(8)}${f(a.recall, 3).padStart(8)}${String(a.tp).padStart(6)}${f(a.faPer1k, 2).padStart(8)}${String(a.controlFa).padStart(9)}${f(a.latencyMedian, 1).padStart(9)}${f(a.latencyP90, 1).padStart(9)}${mark}`;
  const lines = [`== latency at a matched false-alarm rate — ${setName}`, head, '-'.repeat(head.length)];
  lines.push(row('crest-balanced', 'default', '', m.crest, '   ← the rate to match'));
  for (const p of m.points) {
    const hit = m.matched[p.family] === p;
    lines.push(row(p.family, p.knob, String(p.value), p.aggregate, hit ? '   ← matched' : ''));
  }
  lines.push('matched (as quiet as crest-balanced on both FA figures, lowest median latency):');
  for (const [fam, p] of Object.entries(m.matched)) {
    lines.push(
      p
        ? `  ${fam.padEnd(13)} ${p.knob} ${p.value}: F1 ${f(p.aggregate.f1, 3)}, ${p.aggregate.tp} hits, latency ${f(p.aggregate.latencyMedian, 1)} rows (crest ${f(m.crest.latencyMedian, 1)}, F1 ${f(m.crest.f1, 3)}, ${m.crest.tp} hits)`
        : `  ${fam.padEnd(13)} no setting in the grid is as quiet as crest-balanced`,
    );
  }
  lines.push(`same recall (recall ≥ crest-balanced's ${f(m.crest.recall, 3)}, fewest false alarms):`);
  for (const [fam, p] of Object.entries(m.sameRecall)) {
    lines.push(
      p
        ? `  ${fam.padEnd(13)} ${p.knob} ${p.value}: recall ${f(p.aggregate.recall, 3)}, FA/1k ${f(p.aggregate.faPer1k, 2)}, control FA ${p.aggregate.controlFa}, latency ${f(p.aggregate.latencyMedian, 1)} rows (crest FA/1k ${f(m.crest.faPer1k, 2)}, control FA ${m.crest.controlFa}, latency ${f(m.crest.latencyMedian, 1)})`
        : `  ${fam.padEnd(13)} no setting in the grid reaches crest-balanced's recall`,
    );
  }
  return lines.join('\n');
}
