/**
 * The printed table of one set: series down, detectors across, then the aggregate figures and the
 * ratios against the best baseline for each figure.
 */
import type { SetResult } from './run.ts';
import { median, type AggregateScore } from './score.ts';

const fmt = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);

type Better = 'high' | 'low';

interface MetricRow {
  label: string;
  get: (a: AggregateScore) => number | null;
  digits: number;
  better: Better;
  /** How a crest figure is compared with the best baseline's: ratio, or difference (for scores around 0). */
  compare: 'ratio' | 'diff';
  /** Only Crest makes retractable early calls: blank for the baselines, no comparison row. */
  crestOnly?: boolean;
}

const METRICS: MetricRow[] = [
  { label: 'rise F1 (pooled)', get: (a) => a.f1, digits: 3, better: 'high', compare: 'ratio' },
  { label: 'precision', get: (a) => a.precision, digits: 3, better: 'high', compare: 'ratio' },
  { label: 'recall', get: (a) => a.recall, digits: 3, better: 'high', compare: 'ratio' },
  { label: 'rise F1 (mean/series)', get: (a) => a.f1Mean, digits: 3, better: 'high', compare: 'ratio' },
  { label: 'FA /1k unlabelled rows', get: (a) => a.faPer1k, digits: 2, better: 'low', compare: 'ratio' },
  { label: 'FA on controls', get: (a) => a.controlFa, digits: 0, better: 'low', compare: 'ratio' },
  { label: 'latency median (rows)', get: (a) => a.latencyMedian, digits: 1, better: 'low', compare: 'ratio' },
  { label: 'latency p90 (rows)', get: (a) => a.latencyP90, digits: 1, better: 'low', compare: 'ratio' },
  // Over every rise, a miss counting as never: null (—) when under half the rises are hit.
  { label: 'latency med, miss=∞', get: (a) => (Number.isFinite(a.detectMedian) ? a.detectMedian : null), digits: 1, better: 'low', compare: 'ratio' },
  { label: 'retracted calls (in FA)', get: (a) => a.retracted, digits: 0, better: 'low', compare: 'ratio', crestOnly: true },
  { label: 'retracted on hit rises %', get: (a) => a.retractedOnHitPct, digits: 1, better: 'low', compare: 'ratio', crestOnly: true },
  { label: 'NAB (all windows)', get: (a) => a.nab, digits: 1, better: 'high', compare: 'diff' },
  { label: 'NAB↑ (rise windows)', get: (a) => a.nabUp, digits: 1, better: 'high', compare: 'diff' },
];

function bestBaseline(set: SetResult, m: MetricRow): { name: string; value: number } | null {
  let best: { name: string; value: number } | null = null;
  for (const d of set.detectors) {
    // "none" is the floor, not a contender: it wins every false-alarm figure by never speaking.
    if (d.startsWith('crest-') || d === 'none') continue;
    const v = m.get(set.aggregate[d]!);
    if (v === null || !Number.isFinite(v)) continue;
    if (!best || (m.better === 'high' ? v > best.value : v < best.value)) best = { name: d, value: v };
  }
  return best;
}

export function formatSetTable(set: SetResult): string {
  const dets = set.detectors;
  const w0 = Math.max(26, ...set.items.map((i) => `${i.name} (${i.n})`.length + 1));
  const cw = Math.max(13, ...dets.map((d) => d.length + 1));
  const lines: string[] = [];
  const row = (first: string, cells: string[], extra = '') =>
    lines.push(first.padEnd(w0) + cells.map((c) => c.padStart(cw)).join('') + (extra ? `  ${extra}` : ''));
  lines.push(`== ${set.name} — ${set.items.length} series, scored in ${set.seconds.toFixed(1)} s`);
  lines.push('cell: hits/rises  fa=false alarms  +L=median onset latency in rows  (controls: fa only)');
  row('series (rows)', dets);
  lines.push('-'.repeat(w0 + cw * dets.length));
  for (const it of set.items) {
    const cells = dets.map((d) => {
      const s = it.scores[d]!;
      const lat = s.latencies.length ? ` +${fmt(median(s.latencies), 0)}` : '';
      return s.control ? `fa${s.fp}` : `${s.tp}/${s.rises} fa${s.fp}${lat}`;
    });
    row(`${it.name} (${it.n})`, cells);
  }
  lines.push('-'.repeat(w0 + cw * dets.length));
  for (const m of METRICS) row(m.label, dets.map((d) => (m.crestOnly && !d.startsWith('crest-') ? '' : fmt(m.get(set.aggregate[d]!), m.digits))));
  const ctrl = set.aggregate[dets[0]!]!;
  lines.push(`  (controls: ${ctrl.controlSeries} series, ${ctrl.controlRows} rows; NAB normalised over the set: no alarms = 0, perfect = 100)`);
  const crest = dets.filter((d) => d.startsWith('crest-'));
  if (crest.length) {
    lines.push('vs best baseline (per figure; ratio = crest ÷ baseline, NAB = crest − baseline):');
    for (const m of METRICS) {
      if (m.crestOnly) continue;
      const b = bestBaseline(set, m);
      const cells = dets.map((d) => {
        if (!d.startsWith('crest-') || !b) return '';
        const v = m.get(set.aggregate[d]!);
        if (v === null) return '—';
        if (m.compare === 'diff') return `${v - b.value >= 0 ? '+' : ''}${fmt(v - b.value, 1)}`;
        return b.value === 0 ? (v === 0 ? '=' : '∞') : `×${fmt(v / b.value, 2)}`;
      });
      row(`  ${m.label}`, cells, b ? `best: ${b.name} ${fmt(b.value, m.digits)}` : '');
    }
    lines.push('forecast at rising vs the peak that followed (to the window end):');
    row('  windows with forecast', dets.map((d) => (set.forecast[d] ? String(set.forecast[d]!.n) : '')));
    row('  peak height |err| % med', dets.map((d) => (set.forecast[d] ? fmt(set.forecast[d]!.heightAbsPctMedian, 1) : '')));
    row('  peak time |err| rows med', dets.map((d) => (set.forecast[d] ? fmt(set.forecast[d]!.timeAbsRowsMedian, 1) : '')));
    row('  peak time bias rows med', dets.map((d) => (set.forecast[d] ? fmt(set.forecast[d]!.timeRowsMedian, 1) : '')));
  }
  return lines.join('\n');
}

