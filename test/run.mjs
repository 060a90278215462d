#!/usr/bin/env node
// The README's test command. Finds every *.test.ts under core/, test/, bench/ (and other source
// folders) and runs each file in node's own test runner (tsx for TypeScript), two files at a time. Each
// file that needs Redis spawns its own private redis-server on a free port (test/support/redis.ts).
//
// One runner process per file, not one runner for all files: each file gets its own token and pid folder, so
// that what a killed file left running is found and reaped (reap() below), and its own summary is read and
// summed: a file that reports no summary, or exits non-zero, fails the run. (One runner for all files with
// `--test-force-exit` and `--test-concurrency` > 1 also dropped verdicts and still exited 0: nodejs/node#64833.)
//
// No file runs with `--test-force-exit`: each must exit by itself once its tests are done, so that a timer or a
// client a part forgot to close (in a test, or in Crest's own stop()) fails the file instead of being hidden.
// Every file outside the pure folders (core/, client/, bench/eval/) arms its exit watch (test/support/exit-watch.ts:
// still alive 5 s after its last hook, it fails naming what holds it; test/test-hygiene.test.ts checks); a pure
// file that hung anyway would be stopped at FILE_LIMIT_MS.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots = ['core', 'config', 'server', 'workers', 'client', 'bench', 'test'];
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = [];
function walk(dir) {
  let names = [];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.ts')) files.push(p);
  }
}
roots.forEach(walk);
// A path to a file that exists runs as given, even outside the roots or not named *.test.ts (the runner's own test).
const named = only.filter((o) => existsSync(o) && statSync(o).isFile());
const chosen = only.length ? [...named, ...files.filter((f) => only.some((o) => !named.includes(o) && f.includes(o)))] : files;
if (!chosen.length) { console.error('no test files matched'); process.exit(1); }

const FILE_LIMIT_MS = 180_000;
const started = Date.now();
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failedFiles = [];

/**
 * What a killed test file left running (redis-servers run in their own process group and outlive it) is found
 * two ways and stopped: processes whose environment carries the file's token, and the pids noted in the file's
 * folder (server/redis-process.ts noteForSupervisor: by RedisProcess and the tests' Sentinel), since redis-server
 * overwrites its environment with its process title.
 */
function reap(token, pidsDir) {
  const found = new Set();
  let pids = [];
  try { pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { /* not Linux: the noted pids only */ }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`CREST_TEST_FILE_TOKEN=${token}`)) found.add(Number(pid));
    } catch { /* gone, or not ours to read */ }
  }
  for (const pid of readdirSync(pidsDir)) {
    // Only if that pid is still a redis-server: a pid may have been reused since.
    try { if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('redis-server')) found.add(Number(pid)); } catch { /* gone */ }
  }
  rmSync(pidsDir, { recursive: true, force: true });
  let n = 0;
  for (const pid of found) {
    try { process.kill(pid, 'SIGKILL'); n++; } catch { /* gone already */ }
  }
  return n;
}

let fileSeq = 0;
/** Runs one file; prints its output in one piece when it ends (two files' lines never interleave). */
function runFile(file) {
  return new Promise((done) => {
    const token = `${process.pid}-${++fileSeq}`;
    const pidsDir = mkdtempSync(join(tmpdir(), 'crest-test-pids-'));
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-timeout=${FILE_LIMIT_MS}`, '--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CREST_TEST_FILE_TOKEN: token, CREST_CHILD_PIDS_DIR: pidsDir },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // A file that outlives its limit (a hook that never returns) is stopped and counted as failed.
    const limit = setTimeout(() => {
      out += `\n✖ ${file}: still running after ${FILE_LIMIT_MS / 1000} s, stopped\n`;
      child.kill('SIGKILL');
    }, FILE_LIMIT_MS + 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      const reaped = reap(token, pidsDir);
      if (reaped) out += `\n# reaped ${reaped} process(es) ${file} left running\n`;
      process.stdout.write(`\n# ${file}\n${out}`);
      const summary = {};
      for (const k of Object.keys(totals)) {
        const m = new RegExp(`^ℹ ${k} (\\d+)$`, 'm').exec(out);
        if (m) summary[k] = Number(m[1]);
      }
      for (const [k, v] of Object.entries(summary)) totals[k] += v;
      const complete = summary.tests !== undefined && summary.pass !== undefined;
      if (code !== 0 || signal || !complete || summary.fail > 0 || summary.cancelled > 0) {
        failedFiles.push(`${file} (${signal ? `signal ${signal}` : `exit ${code}`}${complete ? `, ${summary.fail} failed, ${summary.cancelled} cancelled` : ', no summary'})`);
      }
      done();
    });
  });
}

const queue = [...chosen];
await Promise.all(
  Array.from({ length: Math.min(2, queue.length) }, async () => {
    while (queue.length) await runFile(queue.shift());
  }),
);

console.log(`\n== ${chosen.length} files: tests ${totals.tests}, pass ${totals.pass}, fail ${totals.fail}, cancelled ${totals.cancelled}, skipped ${totals.skipped}, todo ${totals.todo}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (failedFiles.length) {
  console.log(`== failed files:\n${failedFiles.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
