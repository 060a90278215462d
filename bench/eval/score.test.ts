import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, nabNormalised, nabScore, scaledSigmoid, scoreSeries } from './score.ts';
import type { ScoringLabels } from './types.ts';

/** 1,000 rows (probation 150), one rise window [400, 449], one fall window [700, 749]. */
const labels = (): ScoringLabels => ({
  n: 1000,
  rises: [{ start: 400, end: 449, kind: 'window' }],
  neutral: [[700, 749]],
  nabWindows: [[400, 449], [700, 749]],
  nabUpWindows: [[400, 449]],
  control: false,
});

test('an alarm inside the rise window is a hit, with latency from the window start', () => {
  const s = scoreSeries(labels(), [410]);
  assert.equal(s.tp, 1);
  assert.equal(s.fn, 0);
  assert.equal(s.fp, 0);
  assert.deepEqual(s.latencies, [10]);
});

test('no alarm in the rise window is a miss', () => {
  const s = scoreSeries(labels(), []);
  assert.equal(s.tp, 0);
  assert.equal(s.fn, 1);
  assert.equal(aggregate([s]).f1, 0);
});

test('an alarm outside every label is a false alarm, counted per 1,000 unlabelled rows', () => {
  const s = scoreSeries(labels(), [200, 410]);
  assert.equal(s.fp, 1);
  assert.equal(s.tp, 1);
  assert.equal(s.unlabelledRows, 1000 - 50 - 50);
  const a = aggregate([s]);
  assert.equal(a.faPer1k, 1000 / 900);
  assert.equal(a.f1, (2 * 1) / (2 * 1 + 1 + 0));
});

test('repeat alarms inside one rise are one hit and no false alarm; only the first counts for latency', () => {
  const s = scoreSeries(labels(), [405, 420, 448]);
  assert.equal(s.tp, 1);
  assert.equal(s.fp, 0);
  assert.equal(s.repeats, 2);
  assert.deepEqual(s.latencies, [5]);
});

test('an alarm inside another labelled region (a fall) is neither hit nor false alarm', () => {
  const s = scoreSeries(labels(), [720]);
  assert.equal(s.tp, 0);
  assert.equal(s.fp, 0);
  assert.equal(s.neutral, 1);
});

test('point rises are hit from the point to the end of the margin, one alarm per rise', () => {
  const l: ScoringLabels = {
    n: 100,
    rises: [{ start: 50, end: 55, kind: 'point' }, { start: 53, end: 58, kind: 'point' }],
    neutral: [[45, 63]],
    nabWindows: [[45, 63]],
    nabUpWindows: [[45, 63]],
    control: false,
  };
  const s = scoreSeries(l, [49, 54, 56]);
  assert.equal(s.tp, 2, 'alarm 54 hits the first point, 56 the second');
  assert.equal(s.fp, 0, 'alarm 49 is before the point but inside the labelled window: neutral');
  assert.deepEqual(s.latencies, [4, 3]);
});

test('on a control series every alarm is a false alarm', () => {
  const l: ScoringLabels = { n: 500, rises: [], neutral: [], nabWindows: [], nabUpWindows: [], control: true };
  const a = aggregate([scoreSeries(l, [10, 300])]);
  assert.equal(a.controlFa, 2);
  assert.equal(a.controlFaPer1k, 4);
  assert.equal(a.f1, 0);
});

test('NAB: an early hit scores more than a late one, and both more than a miss', () => {
  const early = nabScore(1000, [[400, 449]], [400]);
  const late = nabScore(1000, [[400, 449]], [445]);
  const miss = nabScore(1000, [[400, 449]], []);
  assert.ok(early.raw > late.raw && late.raw > miss.raw, `${early.raw} > ${late.raw} > ${miss.raw}`);
  assert.ok(Math.abs(early.raw - 1) < 1e-12, 'the first row of the window scores exactly A_TP');
});

test('NAB normalisation: no alarms is 0, an alarm at every window start is 100', () => {
  const w = [[400, 449], [700, 749]] as const;
  assert.equal(nabNormalised(nabScore(1000, w, [])), 0);
  assert.ok(Math.abs(nabNormalised(nabScore(1000, w, [400, 700]))! - 100) < 1e-9, 'Math.abs(nabNormalised(nabScore(1000, w, [400, 700]))! - 100) < 1e-9');
  const a = aggregate([scoreSeries(labels(), [400, 700])]);
  assert.ok(Math.abs(a.nab! - 100) < 1e-9, 'Math.abs(a.nab! - 100) < 1e-9');
  assert.equal(aggregate([scoreSeries(labels(), [])]).nab, 0);
});

test('NAB: a false alarm costs A_FP (0.11) far from windows, less just after one; the probation period is ignored', () => {
  const w = [[400, 449]] as const;
  assert.ok(Math.abs(nabScore(1000, w, [300]).raw - (-1 - 0.11)) < 1e-12, 'Math.abs(nabScore(1000, w, [300]).raw - (-1 - 0.11)) < 1e-12');
  const justAfter = nabScore(1000, w, [452]).raw;
  assert.ok(justAfter > -1.11 && justAfter < -1, `${justAfter}`);
  assert.equal(nabScore(1000, w, [100]).raw, -1, 'row 100 is inside the 150-row probation');
});

test('NAB scaled sigmoid matches nab/sweeper.py at its documented points', () => {
  assert.ok(Math.abs(scaledSigmoid(-1) - 0.98661) < 1e-5, 'Math.abs(scaledSigmoid(-1) - 0.98661) < 1e-5');
  assert.ok(Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5, 'Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5');
  assert.equal(scaledSigmoid(0), 0);
  assert.equal(scaledSigmoid(3), -1);
});

test('NAB↑ ignores alarms in fall windows; plain NAB counts the fall window as a miss', () => {
  const s = scoreSeries(labels(), [400, 720]);
  assert.ok(Math.abs(nabNormalised(s.nabUp)! - 100) < 1e-9, 'Math.abs(nabNormalised(s.nabUp)! - 100) < 1e-9');
  assert.ok(Math.abs(nabNormalised(s.nab)! - (100 * (1 + scaledSigmoid(-(749 - 720 + 1) / 50) / scaledSigmoid(-1) + 2)) / 4) < 1e-3, 'Math.abs(nabNormalised(s.nab)! - (100 * (1 + scaledSigmoid(-(749 - 720 + 1) / 50) / scaledSigmoid...');
});

test('a retracted early call is a false alarm even inside a rise; a later alarm there is the hit, and the false start is counted', async () => {
  const { scoreSeries: score } = await import('./score.ts');
  const n = 200;
  const rises = [{ start: 50, end: 90, kind: 'window' as const }, { start: 140, end: 170, kind: 'window' as const }];
  const labels = { n, rises, neutral: [], nabWindows: rises.map((r) => [r.start, r.end] as const), nabUpWindows: rises.map((r) => [r.start, r.end] as const), control: false };
  // Rise 1: retracted at 55, confirmed hit at 70. Rise 2: hit at 145, no false start. Retracted at 10: plain false alarm.
  const s = score(labels, [70, 145], [10, 55]);
  assert.equal(s.tp, 2);
  assert.equal(s.fp, 2, 'both retracted calls are false alarms');
  assert.deepEqual(s.latencies, [20, 5], 'latency from the hit, not the retracted call');
  assert.equal(s.retracted, 2);
  assert.equal(s.retractedOnHitRises, 1);
  const plain = score(labels, [55, 70, 145]);
  assert.equal(plain.fp, 0, 'scored as a plain alarm, 55 would be the hit');
  assert.ok(s.nab.raw < plain.nab.raw, 'NAB charges the retracted calls');
});
