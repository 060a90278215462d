import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchedRate, SWEEPS } from './matched-rate.ts';
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

test('the matched setting is as quiet as the reference and the earliest such setting of its family', () => {
  const its = items();
  // Reference: every step hit 10 rows in, no false alarm anywhere.
  const crest = aggregate(its.map((it) => scoreSeries(it.labels, it.name === 'steps' ? [410, 710, 1010] : [])));
  const m = matchedRate(its, crest);
  assert.equal(m.points.length, SWEEPS.reduce((a, s) => a + s.values.length, 0));
  for (const sw of SWEEPS) {
    const pts = m.points.filter((p) => p.family === sw.family);
    const quiet = pts.filter((p) => (p.aggregate.faPer1k ?? 0) <= (crest.faPer1k ?? 0) && p.aggregate.controlFa <= crest.controlFa && p.aggregate.latencyMedian !== null);
    const pick = m.matched[sw.family];
    if (!quiet.length) {
      assert.equal(pick, null, sw.family);
      continue;
    }
    assert.ok(pick && quiet.includes(pick), sw.family);
    for (const q of quiet) assert.ok(q.aggregate.latencyMedian! >= pick.aggregate.latencyMedian!, `${sw.family} ${q.value}`);
  }
  // A clean 10σ step is easy: at least one real baseline finds all three with no false alarm.
  assert.ok(['rolling-mean', 'cusum', 'ewma', 'bocpd'].some((f) => m.matched[f]?.aggregate.tp === 3), JSON.stringify(m.matched));
});
