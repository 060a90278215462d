/**
 * `crest record` and `crest replay` as a user runs them, against a running Crest: the recorder tails a
 * room while `crest replay --url` posts a fixture over HTTP (progress bar on stderr), Ctrl-C leaves a
 * complete gzip file holding exactly the accepted events, and an in-process replay of the same file
 * (REDIS_URL) stores nothing twice. `crest connect tiktok` without a room says how to call it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readRecording } from '../workers/file-replay.ts';
import { startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { CLI, runCli } from './support/cli.ts';
import { exitsWithin } from './support/exit-watch.ts';

const FLAT = fileURLToPath(new URL('./fixtures/replay/flat.ndjson.gz', import.meta.url));

let crest: TestCrest;
let dir: string;
before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api' });
  dir = mkdtempSync(join(tmpdir(), 'crest-rec-'));
});
after(async () => {
  await crest.close();
  rmSync(dir, { recursive: true, force: true });
});
exitsWithin();

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, CREST_SHARDS: String(crest.config.shards), REDIS_URL: crest.redisUrl, CREST_LOG_LEVEL: 'warn', ...extra };
  return e;
}

const run = (args: string[], extraEnv: Record<string, string> = {}) => runCli(args, env(extraEnv));

test('crest record captures what crest replay posts over HTTP; Ctrl-C leaves a complete gzip file', async () => {
  const out = join(dir, 'cli-room.ndjson.gz');
  const recorder = spawn(process.execPath, [CLI, 'record', '--room', 'cli-room', '--out', out], { env: env() });
  let recErr = '';
  recorder.stderr.on('data', (d: Buffer) => (recErr += d.toString()));
  const exited = new Promise<number | null>((ok) => recorder.on('close', ok));
  await waitFor('recorder ready', 20_000, () => (/recording room cli-room/.test(recErr) ? true : undefined));

  const recorded = (await readRecording(FLAT)) as { room: string }[];
  const token = crest.token('ingest', ['cli-room']);
  const r = await run(['replay', FLAT, '--room', 'cli-room', '--speed', '0', '--url', crest.url, '--token', token]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[#{30}\] 100% 1340\/1340 .*accepted 1340 {2}duplicate 0 {2}rejected 0/, r.stderr);
  assert.match(r.stderr, /replayed 1340 of 1340 events \(\d\d:\d\d of event time\) in [\d.]+ s: 1340 accepted, 0 duplicate, 0 rejected/, 'a summary line ends the run');

  // Every line is readable while the recorder still runs (sync-flushed after each batch).
  await waitFor('all events recorded', 20_000, async () => ((await readRecording(out)).length === recorded.length ? true : undefined));
  recorder.kill('SIGINT');
  assert.equal(await exited, 0, recErr);
  assert.match(recErr, new RegExp(`wrote ${recorded.length} events of cli-room`));
  const lines = gunzipSync(readFileSync(out)).toString('utf8').trim().split('\n'); // strict: needs the gzip trailer
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    recorded.map((e) => ({ ...e, room: 'cli-room' })),
  );

  // In-process (REDIS_URL), the same file again: everything is a duplicate, nothing stored twice.
  const again = await run(['replay', out, '--speed', '0']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /accepted 0 {2}duplicate 1340 {2}rejected 0/);
});

test('record and replay explain their arguments; connect names the one platform it knows', async () => {
  const rec = await run(['record', '--room', 'x']);
  assert.equal(rec.code, 1);
  assert.match(rec.stderr, /^crest: usage: crest record --room ROOM --out FILE\.ndjson\.gz/);
  const rep = await run(['replay', FLAT, '--speed', 'fast']);
  assert.equal(rep.code, 1);
  assert.match(rep.stderr, /--speed must be 0 \(as fast as possible\) or a positive number/);
  const con = await run(['connect', 'douyin', '--room', 'x', '--user', 'y']);
  assert.equal(con.code, 1);
  assert.match(con.stderr, /tiktok is the only platform with a connector.*docs\/send-events\.md/);
  assert.doesNotMatch(rec.stderr + rep.stderr + con.stderr, /at .*\.ts:\d+/, 'no stack traces');
});
