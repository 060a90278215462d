import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASELINES, runBaseline } from './baselines/index.ts';

/** 400 rows of ~1,000 ± 20 (seeded), then a step up to ~1,300 at row 300. */
function stepSeries(): number[] {
  let seed = 7;
  // Park–Miller LCG: a fixed, dependency-free noise source so the test is the same everywhere.
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: 400 }, (_, i) => Math.round((i < 300 ? 1000 : 1300) + 40 * (next() + next() + next() - 1.5)));
}

for (const b of BASELINES.filter((x) => x.name !== 'none')) {
  test(`${b.name} alarms within a few rows of an upward step`, () => {
    const rows = runBaseline(b, stepSeries());
    const after = rows.filter((r) => r >= 300);
    assert.ok(after.length >= 1, `no alarm after the step (alarms: ${rows.join(',')})`);
    assert.ok(after[0]! <= 310, `first alarm after the step at row ${after[0]}`);
  });

  test(`${b.name} never alarms on a constant series`, () => {
    assert.deepEqual(runBaseline(b, new Array(2000).fill(500)), []);
  });

  test(`${b.name} does not alarm on a downward step`, () => {
    const down = stepSeries().map((x, i) => (i < 300 ? x : x - 600));
    assert.deepEqual(runBaseline(b, down).filter((r) => r >= 300 && r < 320), []);
  });

  test(`${b.name} is deterministic and causal (a longer series never changes earlier alarms)`, () => {
    const s = stepSeries();
    const full = runBaseline(b, s);
    const prefix = runBaseline(b, s.slice(0, 320));
    assert.deepEqual(full.filter((r) => r < 320), prefix);
    assert.deepEqual(runBaseline(b, s), full);
  });
}

test('none never alarms', () => {
  const none = BASELINES.find((b) => b.name === 'none')!;
  assert.deepEqual(runBaseline(none, stepSeries()), []);
});
