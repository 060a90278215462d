import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compactMedian, createRollingMedian, rollingMedianPush, rollingMedianReset, rollingMedianValue, type RollingMedianJson } from './rolling-median.ts';

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
        if (i % 7 === 0) rm = compactMedian(JSON.parse(JSON.stringify(rm)) as RollingMedianJson);
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

/** The plain form the median had before it was typed (the checkpoint format): the reference for the JSON. */
function plainPush(rm: RollingMedianJson, x: number): void {
  if (rm.ring.length < rm.cap) rm.ring.push(x);
  else {
    const old = rm.ring[rm.head]!;
    rm.ring[rm.head] = x;
    rm.head = (rm.head + 1) % rm.cap;
    rm.sorted.splice(rm.sorted.indexOf(old), 1);
  }
  rm.sorted.push(x);
  rm.sorted.sort((a, b) => a - b);
}

test('the typed median serialises as the plain form did, through growth, 32-bit overflow, a fill and JSON round trips', () => {
  const value = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 0.5, 1e9));
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 90 }), fc.array(fc.oneof(value, fc.constant('fill' as const), fc.constant('json' as const)), { maxLength: 300 }), (cap, ops) => {
      let rm = createRollingMedian(cap);
      let plain: RollingMedianJson = { cap, ring: [], head: 0, sorted: [] };
      for (const op of ops) {
        if (op === 'json') rm = compactMedian(JSON.parse(JSON.stringify(rm)) as RollingMedianJson);
        else if (op === 'fill') {
          rollingMedianReset(rm, 2.25);
          plain = { cap, ring: new Array(cap).fill(2.25), head: 0, sorted: new Array(cap).fill(2.25) };
        } else {
          rollingMedianPush(rm, op);
          plainPush(plain, op);
        }
        assert.equal(JSON.stringify(rm), JSON.stringify(plain));
        assert.equal(rollingMedianValue(rm), naiveMedian(plain.ring));
      }
    }),
  );
});

test('a young median holds slots for what it has seen, not for its cap', () => {
  const rm = createRollingMedian(300);
  for (let i = 0; i < 60; i++) rollingMedianPush(rm, 100 + (i % 7));
  assert.ok(rm.cells instanceof Int32Array, 'whole counts stay 32-bit');
  assert.equal(rm.cells.length, 2 * 64);
});
