/**
 * Production runs compiled code: `npm run build` (bin/build.mjs) writes dist/ with no TypeScript import
 * left, and `crest start` then runs dist/ with plain node — no tsx module loaded in the start wrapper or in
 * the process it spawns (MALLOC_ARENA_MAX), the detector thread started from dist/, the API answering and
 * the client served from dist/client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './support/crest.ts';
import { startTestRedis } from './support/redis.ts';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECORD = fileURLToPath(new URL('./fixtures/module-loads/record.mjs', import.meta.url));

function jsFiles(dir: string, into: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) jsFiles(p, into);
    else if (n.endsWith('.js')) into.push(p);
  }
  return into;
}

test('npm run build compiles the server side with every import rewritten to .js', () => {
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, r.stderr || r.stdout);
  const files = ['bin', 'core', 'config', 'server', 'workers'].flatMap((d) => jsFiles(join(ROOT, 'dist', d)));
  assert.ok(files.some((f) => f.endsWith(join('dist', 'workers', 'detector-thread-main.js'))), 'detector thread entry compiled');
  const tsImports = files.filter((f) => /(from\s*|import\s*\(\s*)['"][^'"]+\.ts['"]/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(tsImports, [], 'compiled files importing .ts');
  assert.ok(readdirSync(join(ROOT, 'dist', 'server', 'lua')).includes('ingest.lua'), 'Lua scripts beside their loader');
  assert.ok(statSync(join(ROOT, 'dist', 'client', 'index.html')).isFile(), 'client built');
});

test('crest start runs dist/ with plain node: no tsx module in any of its processes, API and client up', async () => {
  const redis = await startTestRedis();
  const data = mkdtempSync(join(tmpdir(), 'crest-build-'));
  const loads = join(data, 'modules.log');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', REDIS_URL: redis.url, CREST_DATA_DIR: data, CREST_LOG_LEVEL: 'warn', CREST_TEST_MODULE_LOG: loads };
  for (const k of Object.keys(env)) if (k.startsWith('CREST_') && !['CREST_DATA_DIR', 'CREST_LOG_LEVEL', 'CREST_TEST_MODULE_LOG'].includes(k)) delete env[k];
  delete env.MALLOC_ARENA_MAX;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', RECORD, join(ROOT, 'bin', 'crest.mjs'), 'start'], { env, detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const url = await waitFor('the printed URL', 60_000, () => /Crest is running at (http:\/\/\S+)/.exec(out)?.[1]);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const op = /Operator panel: (\S+)/.exec(out)?.[1];
    assert.ok(op, out);
    assert.match(await (await fetch(op)).text(), /<script/);
    const token = new URL(op).searchParams.get('token')!;
    // Demo rooms flow through ingest and the detector thread (started from dist/workers).
    await waitFor('demo rooms', 30_000, async () => {
      const r = await (await fetch(`${url}/api/v1/rooms`, { headers: { authorization: `Bearer ${token}` } })).json();
      return r.rooms.length >= 3 ? true : undefined;
    });
    const urls = readFileSync(loads, 'utf8').split('\n').filter(Boolean);
    assert.ok(urls.some((u) => u.endsWith('/dist/bin/crest.js')), 'ran dist/bin/crest.js');
    assert.ok(urls.some((u) => u.endsWith('/dist/server/crest.js')), 'ran dist/server/crest.js');
    assert.ok(urls.some((u) => u.endsWith('/dist/workers/detector-thread-main.js')), 'detector thread ran dist/workers');
    const typescript = urls.filter((u) => u.includes('/node_modules/tsx/') || /\.ts$/.test(u));
    assert.deepEqual(typescript, [], 'TypeScript loader or sources loaded in production');
  } finally {
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    process.kill(-child.pid!, 'SIGINT');
    assert.equal(await exited, 0, out);
    await redis.cleanup();
    rmSync(data, { recursive: true, force: true });
  }
});
