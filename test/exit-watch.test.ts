/**
 * The exit watch (test/support/exit-watch.ts) that lets every test file run without --test-force-exit: a file
 * that leaves a timer running after its last hook fails within the watch's time, naming the resource and, with
 * CREST_TRACE_HANDLES=1, the line that made it; a file that leaves nothing exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

// Without NODE_TEST_CONTEXT: the inner `node --test` would otherwise report to this one instead of running.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
const run = (extra: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', 'test/fixtures/leaky-timer.fixture.ts'], { encoding: 'utf8', env: { ...env, ...extra }, timeout: 60_000 });

test('a file that leaves a timer running fails within its exit watch and names what holds it', () => {
  const started = Date.now();
  const r = run({ CREST_TRACE_HANDLES: '1', EXIT_WATCH_MS: '1000' });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 1, `the file fails (status ${r.status}, signal ${r.signal}): ${out.slice(-600)}`);
  assert.ok(Date.now() - started < 30_000, `failed in ${Date.now() - started} ms, not at a runner's time limit`);
  assert.match(out, /still running 1000 ms after the last after hook; what holds the event loop: \[[^\]]*"Timeout"/);
  assert.match(out, /--- Timeout #\d+, created\n[^]*leaky-timer\.fixture\.ts:8/, `the stack points at the fixture's setInterval: ${out.slice(-1200)}`);
});

test('without tracing it still names the resource type and says how to find its owner', () => {
  const r = run({ EXIT_WATCH_MS: '500' });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 1, `the file fails: ${out.slice(-600)}`);
  assert.match(out, /what holds the event loop: \[[^\]]*"Timeout"/);
  assert.match(out, /CREST_TRACE_HANDLES=1/);
});

test('the same file leaving nothing exits 0 by itself', () => {
  const r = run({ LEAK: '0', EXIT_WATCH_MS: '500' });
  assert.equal(r.status, 0, `exits cleanly: ${(r.stdout + r.stderr).slice(-600)}`);
});
