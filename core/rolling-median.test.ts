import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRollingMedian, rollingMedianPush, rollingMedianReset, rollingMedianValue } from './rolling-median.ts';

function naiveMedian(a: number[]): number {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length & 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

test('rolling median equals the median of the last cap values, and survives JSON', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 300 }), (cap, xs) => {
      let rm = createRollingMedian(cap);
      xs.forEach((x, i) => {
        rollingMedianPush(rm, x);
        assert.equal(rollingMedianValue(rm), naiveMedian(xs.slice(Math.max(0, i + 1 - cap), i + 1)));
        if (i % 7 === 0) rm = JSON.parse(JSON.stringify(rm));
      });
    }),
  );
});

test('reset with a fill value starts full of it', () => {
  const rm = createRollingMedian(5);
  [1, 2, 3].forEach((x) => rollingMedianPush(rm, x));
  rollingMedianReset(rm, 10);
  rollingMedianPush(rm, 0);
  assert.equal(rollingMedianValue(rm), 10);
  rollingMedianReset(rm);
  assert.equal(rollingMedianValue(rm), 0);
});
