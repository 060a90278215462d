import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineSweep, bocpdAlarms, pickAtRates, RATES, SWEEPS, type SweepPoint } from './matched-rate.ts';
import { createBocpd, BOCPD_DEFAULTS } from './baselines/bocpd.ts';
import { latencyPlotSvg } from './plot.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate, scoreSeries } from './score.ts';
import type { Item } from './items.ts';

const chance = SWEEPS.find((s) => s.family === 'chance')!;

function alarmsOf(d: { push(x: number): boolean }, n: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (d.push(0)) rows.push(i);
  return rows;
}

test('the chance reference is deterministic per seed and alarms at its stated rate', () => {
  const a = alarmsOf(chance.create(5, 12345), 100_000);
  const b = alarmsOf(chance.create(5, 12345), 100_000);
  const c = alarmsOf(chance.create(5, 999), 100_000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // 5 per 1,000 rows over 100,000 rows: 500 expected, σ ≈ 22.
  assert.ok(a.length > 430 && a.length < 570, `${a.length} alarms`);
});

/** Quiet noise with three sustained steps up (labelled windows), plus a quiet control series. */
function items(): Item[] {
  let seed = 11;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const n = 1200;
  const counts = Array.from({ length: n }, (_, i) => {
    const step = i >= 1000 ? 300 : i >= 700 ? 200 : i >= 400 ? 100 : 0;
    return Math.round(1000 + step + 30 * (next() + next() + next() - 1.5));
  });
  const control = Array.from({ length: n }, () => Math.round(1000 + 30 * (next() + next() + next() - 1.5)));
  const stub = (): never => {
    throw new Error('crest replay is not part of this test');
  };
  const rises = [400, 700, 1000].map((s) => ({ start: s, end: s + 40, kind: 'window' as const }));
  return [
    { name: 'steps', n, labels: { n, rises, neutral: [], nabWindows: rises.map((r) => [r.start, r.end] as const), nabUpWindows: [], control: false }, note: '', counts, baselineFrom: 0, tsOfRow: (r) => r, rowMs: 1000, rowMsFrom: 'sample', leading: false, crest: stub },
    { name: 'control', n, labels: { n, rises: [], neutral: [], nabWindows: [], nabUpWindows: [], control: true }, note: '', counts: control, baselineFrom: 0, tsOfRow: (r) => r, rowMs: 1000, rowMsFrom: 'sample', leading: false, crest: stub },
  ];
}

/** A hand-made sweep point: only the figures the picks read. */
function pt(family: string, setting: string, faPer1k: number, controlFa: number, latencyMedian: number | null, tp = 10): SweepPoint {
  const a = aggregate([]);
  return { family, setting, isDefault: setting === 'default', aggregate: { ...a, faPer1k, controlFa, latencyMedian, latencyP90: latencyMedian === null ? null : latencyMedian * 2, detectMedian: latencyMedian ?? Infinity, detectP90: latencyMedian === null ? Infinity : latencyMedian * 2, tp, rises: 12 } };
}

test('the threshold sweep picks, at each matched rate, the lowest median latency over all rises (miss = never) among the settings at or below it', () => {
  const points = [
    pt('det', 'default', 2.0, 9, 5),
    pt('det', 'k 2', 0.5, 3, 12),
    pt('det', 'k 3', 0.1, 1, 20),
    pt('det', 'k 4', 0, 1, 40),
    pt('det', 'k 5', 0, 0, 60),
    pt('det', 'k 6', 0, 0, null, 0), // quietest, but no hit: never a pick
    pt('quiet', 'default', 0, 0, 30),
    pt('quiet', 'k 2', 0, 0, 30, 11), // same median, more hits: the pick
    pt('loud', 'default', 3, 5, 4),
    // Quiet and fast over its hits, but it hits 3 of 12: over every rise (a miss = never) it has no median.
    { ...pt('few', 'k 9', 0, 0, 2, 3), aggregate: { ...pt('few', 'k 9', 0, 0, 2, 3).aggregate, detectMedian: Infinity } },
  ];
  const picks = pickAtRates(points);
  const settings = (fam: string) => picks.get(fam)!.map((p) => p?.setting ?? '—');
  assert.deepEqual(RATES.map((r) => r.label), ['FA/1k ≤ 0', 'FA/1k ≤ 0.1', 'FA/1k ≤ 0.5', 'FA/1k ≤ 1', 'FA/1k ≤ 2', '0 FA on controls']);
  assert.deepEqual(settings('det'), ['k 4', 'k 3', 'k 2', 'k 2', 'default', 'k 5']);
  assert.deepEqual(settings('quiet'), ['k 2', 'k 2', 'k 2', 'k 2', 'k 2', 'k 2']);
  assert.deepEqual(settings('loud'), ['—', '—', '—', '—', '—', '—']);
  assert.deepEqual(settings('few'), ['—', '—', '—', '—', '—', '—'], 'a setting that misses most rises is no pick, however early its hits');
});

test('the plot: one polyline per detector through its non-dominated settings, written as a standalone SVG', () => {
  const points = [pt('crest-balanced', 'default', 0, 0, 30), pt('crest-balanced', 'e 2', 0.2, 0, 20), pt('crest-balanced', 'e 3', 0.3, 0, 25), pt('cusum', 'default', 5, 3, 15), pt('cusum', 'h 8', 1, 1, 40)];
  const dir = mkdtempSync(join(tmpdir(), 'crest-eval-'));
  try {
    const path = join(dir, 'plot.svg');
    writeFileSync(path, latencyPlotSvg('t & <test>', points));
    const svg = readFileSync(path, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.trim().endsWith('</svg>'), 'the SVG is closed');
    const lines = [...svg.matchAll(/<polyline data-detector="([^"]+)"[^>]*points="([^"]*)"/g)];
    assert.deepEqual(lines.map((m) => m[1]), ['crest-balanced', 'cusum']);
    assert.equal(lines[0]![2]!.split(' ').length, 2, 'the dominated setting (0.3 FA/1k, 25 rows) is a dot, not on the line');
    assert.equal([...svg.matchAll(/<circle /g)].length, 5);
    assert.ok(svg.includes('t &amp; &lt;test&gt;'), 'the title is XML-escaped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BOCPD from a shared posterior trace alarms exactly where the detector with that threshold does', () => {
  const [steps] = items();
  for (const threshold of [0.5, 0.9, 0.999]) {
    const d = createBocpd({ ...BOCPD_DEFAULTS, threshold });
    const direct = alarmsOf({ push: (_x: number) => false }, 0);
    for (let i = 0; i < steps!.counts.length; i++) if (d.push(steps!.counts[i]!)) direct.push(i);
    assert.deepEqual(bocpdAlarms(steps!, threshold), direct, `threshold ${threshold}`);
  }
});

test('baseline sweep: every grid value is a point; a clean 10σ step is found by some baseline with no false alarm', () => {
  const points = baselineSweep(items());
  assert.equal(points.length, SWEEPS.reduce((a, s) => a + s.values.length, 0));
  const picks = pickAtRates(points);
  assert.ok(['rolling-mean', 'cusum', 'ewma', 'bocpd'].some((f) => picks.get(f)![0]?.aggregate.tp === 3), 'a pick at 0 FA/1k with all three steps');
});
