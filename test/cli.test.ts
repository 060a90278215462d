/**
 * The README's first command, as a newcomer runs it: `crest start` brings up a private Redis, the
 * server, the workers and the demo, prints working links, and Ctrl-C stops all of it. Without
 * redis-server and REDIS_URL it says how to get one, in one sentence, and exits 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { waitFor } from './support/crest.ts';

const CLI = fileURLToPath(new URL('../bin/crest.mjs', import.meta.url));

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('CREST_') && !(k in extra)) delete env[k];
  delete env.REDIS_URL;
  return env;
}

test('crest start without redis-server or REDIS_URL exits 1 with one clear sentence', () => {
  const bin = mkdtempSync(join(tmpdir(), 'crest-bin-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const data = mkdtempSync(join(tmpdir(), 'crest-data-'));
  const r = spawnSync(process.execPath, [CLI, 'start'], { env: cleanEnv({ PATH: bin, CREST_DATA_DIR: data }), encoding: 'utf8', timeout: 30_000 });
  rmSync(bin, { recursive: true });
  rmSync(data, { recursive: true });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /redis-server was not found.*apt-get install redis-server.*REDIS_URL/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test('a bad setting names the key and exits 1', () => {
  const r = spawnSync(process.execPath, [CLI, 'start'], { env: cleanEnv({ CREST_SHARDS: 'many' }), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /CREST_SHARDS/);
});

test('crest start runs everything, prints working links, and Ctrl-C stops it and its Redis', async () => {
  const data = mkdtempSync(join(tmpdir(), 'crest-data-'));
  // Its own process group, so Ctrl-C can be sent the way a terminal sends it: to the whole group.
  const child = spawn(process.execPath, [CLI, 'start'], { env: cleanEnv({ PORT: '0', CREST_DATA_DIR: data, CREST_LOG_LEVEL: 'warn' }), detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const url = await waitFor('the printed URL', 60_000, () => /Crest is running at (http:\/\/\S+)/.exec(out)?.[1]);
    const opLink = /Operator panel: (\S+)/.exec(out)?.[1];
    assert.ok(opLink, out);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const page = await fetch(opLink);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script/);
    const token = new URL(opLink).searchParams.get('token')!;
    // The demo simulator is feeding at least three rooms through the real pipeline.
    const rooms = await waitFor('demo rooms', 30_000, async () => {
      const r = await (await fetch(`${url}/api/v1/rooms`, { headers: { authorization: `Bearer ${token}` } })).json();
      return r.rooms.length >= 3 ? r.rooms : undefined;
    });
    assert.ok(rooms.length >= 3);
  } finally {
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    assert.equal(code, 0, out);
    // The private redis-server went with it: its port no longer answers.
    const redisPort = Number(/Redis: .*redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    assert.ok(redisPort > 0, out);
    const refused = await new Promise<boolean>((ok) => {
      const s = connect(redisPort, '127.0.0.1');
      s.once('connect', () => (s.destroy(), ok(false)));
      s.once('error', () => ok(true));
    });
    assert.ok(refused, 'private redis-server still running');
    assert.ok(readdirSync(join(data, 'redis')).some((f) => f.startsWith('appendonly')), 'AOF on disk');
    rmSync(data, { recursive: true, force: true });
  }
});
