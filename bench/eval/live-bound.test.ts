import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUpBound, matchedFilterD, ouBlockKernel } from './live-bound.ts';

test('the OU block kernel adds up: one block of 2h is two blocks of h and their cross terms', () => {
  for (const tau of [5, 30, 60]) {
    const whole = ouBlockKernel(10, tau, 0);
    const parts = 2 * ouBlockKernel(5, tau, 0) + 2 * ouBlockKernel(5, tau, 1);
    assert.ok(Math.abs(whole - parts) < 1e-9 * whole, `τ ${tau}: ${whole} against ${parts}`);
  }
});

test('the matched filter on white Poisson noise is Σ extra² / variance, and wander only lowers it', () => {
  const extra = [1, 2, 3, 4, 5];
  const white = matchedFilterD({ rate: 2, wanderVar: 0, wanderTauS: 60 }, 5, extra);
  extra.forEach((_, i) => {
    const want = Math.sqrt(extra.slice(0, i + 1).reduce((a, x) => a + (x * x) / 10, 0));
    assert.ok(Math.abs(white[i]! - want) < 1e-9, `row ${i}: ${white[i]} against ${want}`);
  });
  const wander = matchedFilterD({ rate: 2, wanderVar: 0.5, wanderTauS: 60 }, 5, extra);
  wander.forEach((d, i) => assert.ok(d < white[i]! && (i === 0 || d >= wander[i - 1]!), `row ${i}: ${d} (white ${white[i]})`));
});

test('the floor is given for build-ups with leading signals only, and a stricter k is never earlier', () => {
  assert.equal(buildUpBound(3, 5000, [3]), null, 'seed 3 is a control');
  assert.equal(buildUpBound(2, 5000, [3]), null, 'seed 2 sends concurrency only');
  const r = buildUpBound(4, 5000, [2, 3, 4, 6])!;
  const rows = r.rows.map((x) => x ?? Infinity);
  assert.ok(rows[0]! >= 1 && rows.every((x, i) => i === 0 || x >= rows[i - 1]!), `rows ${rows.join(', ')}`);
  assert.deepEqual(buildUpBound(4, 5000, [2, 3, 4, 6]), r, 'deterministic');
});
