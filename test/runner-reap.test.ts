/**
 * The test runner (test/run.mjs) stops what a killed test file left running: the fixture starts a detached
 * redis-server and SIGKILLs itself; after the runner's turn on it, that redis-server is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

test('a test file killed with its redis-server still running: the runner fails the file and reaps the server', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'crest-reap-'));
  const pidFile = join(dir, 'pid');
  try {
    const r = spawnSync(process.execPath, ['test/run.mjs', 'test/fixtures/stray-redis.fixture.ts'], {
      encoding: 'utf8',
      // Without NODE_TEST_CONTEXT: the inner `node --test` would otherwise report to this one instead of running.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), STRAY_PID_FILE: pidFile },
      timeout: 60_000,
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0, `the fixture started a redis-server (runner said: ${r.stdout.slice(-400)})`);
    assert.equal(r.status, 1, `the killed file fails the run: ${r.stdout.slice(-400)}`);
    assert.match(r.stdout, /reaped 1 process\(es\)/);
    assert.equal(alive(pid), false, `redis-server ${pid} is still running`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
