/**
 * The test runner (test/run.mjs) stops what a killed test file left running: the fixture starts a detached
 * redis-server and a Sentinel (the failover tests' two kinds of Redis process) and SIGKILLs itself; after the
 * runner's turn on it, both are gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

test('a test file killed with its redis-server and sentinel still running: the runner fails the file and reaps both', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'crest-reap-'));
  const pidFile = join(dir, 'pid');
  let pids: number[] = [];
  try {
    const r = spawnSync(process.execPath, ['test/run.mjs', 'test/fixtures/stray-redis.fixture.ts'], {
      encoding: 'utf8',
      // Without NODE_TEST_CONTEXT: the inner `node --test` would otherwise report to this one instead of running.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), STRAY_PID_FILE: pidFile },
      timeout: 60_000,
    });
    pids = readFileSync(pidFile, 'utf8').split(',').map(Number);
    assert.ok(pids.length === 2 && pids.every((p) => p > 0), `the fixture started a redis-server and a sentinel: ${pids} (runner said: ${r.stdout.slice(-400)})`);
    assert.equal(r.status, 1, `the killed file fails the run: ${r.stdout.slice(-400)}`);
    assert.match(r.stdout, /reaped 2 process\(es\)/);
    assert.deepEqual(pids.filter(alive), [], 'redis-server and sentinel both stopped');
  } finally {
    // A failed run must not leave them behind for the next test.
    for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
