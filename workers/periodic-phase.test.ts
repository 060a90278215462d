import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dueAgain } from './periodic-phase.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

test('due once per period, at the writer\'s own point of it', () => {
  const P = 5_000;
  // Phase 0.3: boundaries at 3,500, 8,500, 13,500, … (now / P + 0.3 crosses an integer).
  assert.equal(dueAgain(1_000, 3_499, P, 0.3), false);
  assert.equal(dueAgain(1_000, 3_500, P, 0.3), true);
  assert.equal(dueAgain(3_500, 8_499, P, 0.3), false, 'written at the boundary: not again within the period');
  assert.equal(dueAgain(3_500, 8_500, P, 0.3), true);
  assert.equal(dueAgain(0, 10, 0, 0.5), true, 'a period of 0 means every time');
});

test('writers written at the same moment come due spread over the period, not together', () => {
  const P = 5_000;
  const step = 50;
  const n = 1_000;
  // Deterministic phases spread like Math.random() would spread them.
  const phases = Array.from({ length: n }, (_, i) => ((i * 0.618034) % 1));
  const last = new Array<number>(n).fill(100_000);
  let most = 0;
  let writes = 0;
  for (let now = 100_000 + step; now <= 100_000 + 3 * P; now += step) {
    let due = 0;
    for (let i = 0; i < n; i++) {
      if (dueAgain(last[i]!, now, P, phases[i]!)) {
        due++;
        last[i] = now;
      }
    }
    most = Math.max(most, due);
    writes += due;
  }
  assert.ok(most <= 3 * (n * step) / P, `at most ~${(n * step) / P} writers per ${step} ms step, saw ${most}`);
  assert.ok(writes >= 3 * n - n && writes <= 3 * n, `about one write per writer per period: ${writes} in 3 periods`);
});
