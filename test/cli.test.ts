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
import { connect } from 'node:net';
import { waitFor } from './support/crest.ts';
import { CLI, runCli } from './support/cli.ts';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

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
    assert.ok(rooms.length >= 3, 'rooms.length >= 3');
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

// ---- every command explains itself, and says what is wrong in one line --------------------------------

/** `crest …` in a clean environment: cleanEnv drops any REDIS_URL of the caller's; a test that wants one passes it here. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { ...cleanEnv({ CREST_LOG_LEVEL: 'warn', ...env }), ...(env.REDIS_URL ? { REDIS_URL: env.REDIS_URL } : {}) });

test('every command answers --help with its usage and options on stdout, exit 0', async () => {
  const expected: Record<string, RegExp> = {
    start: /^usage: crest start \[--no-demo\]/,
    worker: /^usage: crest worker <api\|detector\|alerts\|plans\|demo\|connectors\|archiver>/,
    token: /^usage: crest token --role ROLE[\s\S]*--rooms[\s\S]*--ttl/,
    simulate: /^usage: crest simulate[\s\S]*--scenario NAME[\s\S]*--rooms N[\s\S]*--speed N/,
    replay: /^usage: crest replay FILE[\s\S]*--speed N[\s\S]*--core[\s\S]*progress bar/,
    report: /^usage: crest report --room ROOM \[--stream current\|ID\|list\]/,
    record: /^usage: crest record --room ROOM --out FILE\.ndjson\.gz/,
    connect: /^usage: crest connect tiktok --room ROOM --user @handle/,
  };
  const results = await Promise.all(Object.keys(expected).map((c) => cli([c, '--help'])));
  Object.keys(expected).forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.code, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, expected[c]!, c);
    assert.equal(r.stderr, '', `${c} --help writes nothing to stderr`);
  });
  const top = await cli(['--help']);
  assert.match(top.stdout, /crest <command> --help/);
});

test('wrong calls exit 1 with one line that says what to fix, never a stack trace', async () => {
  const cases: [string[], RegExp][] = [
    [['token', '--bogus'], /^crest: Unknown option '--bogus'.*; see crest token --help$/],
    [['token'], /^crest: --role must be one of ingest, operator, host, buyer, admin$/],
    [['token', '--role', 'operator', '--ttl', 'soon'], /^crest: --ttl must be a positive whole number of seconds$/],
    [['simulate', '--scenario', 'nope'], /^crest: --scenario must be one of /],
    [['simulate', '--rooms', '0'], /^crest: --rooms must be a whole number from 1 to 200$/],
    [['simulate', '--speed', '10'], /^crest: --speed, --url and --token go with --post/],
    [['simulate', '--post'], /^crest: crest simulate --post \(without --url\) needs REDIS_URL/],
    [['replay', '/nonexistent/file.ndjson'], /^crest: cannot read \/nonexistent\/file\.ndjson: ENOENT/],
    [['replay', 'x.ndjson', '--core', '--url', 'http://127.0.0.1:1'], /^crest: --core runs the file here/],
    [['report'], /^crest: usage: crest report --room ROOM/],
    [['report', '--room', 'r1', '--format', 'pdf'], /^crest: --format must be one of/],
    [['report', '--room', 'r1'], /^crest: crest report needs REDIS_URL/],
    [['worker', 'nope'], /^crest: usage: crest worker </],
    [['frobnicate'], /^crest: unknown command "frobnicate"/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args)));
  cases.forEach(([args, re], i) => {
    const r = results[i]!;
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.split('\n')[0]!, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, `${args.join(' ')}: no stack trace`);
  });
});

test('crest token prints a token the server accepts for exactly that role and those rooms', async () => {
  const { verifyToken } = await import('../server/auth/token.ts');
  const secret = 'cli-test-secret-0123456789';
  const r = await cli(['token', '--role', 'buyer', '--rooms', 'a,b', '--ttl', '60', '--sub', 'ann'], { CREST_TOKEN_SECRET: secret });
  assert.equal(r.code, 0, r.stderr);
  const claims = verifyToken(secret, r.stdout.trim());
  assert.equal(claims.role, 'buyer');
  assert.deepEqual(claims.rooms, ['a', 'b']);
  assert.equal(claims.sub, 'ann');
  assert.throws(() => verifyToken('another-secret-0123456789', r.stdout.trim()));
});

test('crest simulate: several seeded rooms as NDJSON, each in its own arrival order, labels on stderr', async () => {
  const { parseEvent } = await import('../core/events.ts');
  const a = await cli(['simulate', '--scenario', 'highlight', '--seed', '3', '--rooms', '2', '--minutes', '3']);
  const b = await cli(['simulate', '--scenario', 'highlight', '--seed', '3', '--rooms', '2', '--minutes', '3']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout, 'same seed, same events');
  const events = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const e of events) assert.ok(parseEvent(e).ok, JSON.stringify(e));
  const rooms = [...new Set(events.map((e) => e.room))].sort();
  assert.deepEqual(rooms, ['sim-highlight-3-1', 'sim-highlight-3-2']);
  for (const room of rooms) {
    const mine = events.filter((e) => e.room === room);
    assert.equal(mine[0].type, 'stream.start');
    assert.equal(mine.at(-1).type, 'stream.end');
  }
  const labels = a.stderr.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(labels.map((l) => l.room), rooms);
  assert.equal(labels[0].events + labels[1].events, events.length);
});

test('crest simulate --post feeds the rooms into a running Crest at the given speed, with a progress bar and a summary', async () => {
  const { startTestCrest } = await import('./support/crest.ts');
  const crest = await startTestCrest({ CREST_ROLES: 'api,detector' });
  try {
    const r = await cli(['simulate', '--rooms', '2', '--minutes', '2', '--room', 'cli-sim', '--post', '--speed', '0'], {
      REDIS_URL: crest.redisUrl,
      CREST_SHARDS: String(crest.config.shards),
    });
    assert.equal(r.code, 0, r.stderr);
    const total = Number(/\] 100% (\d+)\/\1 /.exec(r.stderr)?.[1]);
    assert.ok(total > 100, r.stderr);
    assert.match(r.stderr, new RegExp(`simulated cli-sim-1, cli-sim-2: ${total} accepted, 0 duplicate, 0 rejected`));
    const operator = crest.token('operator', '*');
    const rooms = await waitFor('both rooms live', 20_000, async () => {
      const body = (await (await crest.api('/api/v1/rooms', { token: operator })).json()) as { rooms: { room: string; metrics: { events: number } | null }[] };
      const sim = body.rooms.filter((x) => x.room.startsWith('cli-sim-'));
      return sim.length === 2 && sim.reduce((a, x) => a + (x.metrics?.events ?? 0), 0) === total ? sim : undefined;
    });
    assert.equal(rooms.length, 2);
  } finally {
    await crest.close();
  }
});
