#!/usr/bin/env node
// The README's test command. Finds every *.test.ts under core/, test/, bench/ (and other source
// folders), then hands them to node's own test runner with tsx for TypeScript. Each file that needs
// Redis spawns its own private redis-server on a free port (test/support/redis.ts).
import { spawnSync } from 'node:child_process';
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
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', '--test-force-exit', '--test-reporter=spec', ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
