#!/usr/bin/env node
// The README's test command. Finds every *.test.ts under core/, test/, bench/ (and other source
// folders) and runs each file in node's own test runner (tsx for TypeScript), two files at a time. Each
// file that needs Redis spawns its own private redis-server on a free port (test/support/redis.ts).
//
// One runner process per file, not one runner for all files: node's `--test-force-exit` with
// `--test-concurrency` > 1 silently drops test verdicts (nodejs/node#64833: the parent exits with a child's
// results still in the pipe, and the run still exits 0; seen here as a file whose last 6 tests were never
// reported). Force-exit itself is kept (a file whose clients still hold sockets to a Redis it killed must
// not hang), and here each file's own summary is read and summed: a file that reports no summary, or exits
// non-zero, fails the run.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
const chosen = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (!chosen.length) { console.error('no test files matched'); process.exit(1); }

const FILE_LIMIT_MS = 180_000;
const started = Date.now();
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failedFiles = [];

/** Runs one file; prints its output in one piece when it ends (two files' lines never interleave). */
function runFile(file) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-force-exit', `--test-timeout=${FILE_LIMIT_MS}`, '--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
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
