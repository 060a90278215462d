/**
 * Stream history against a real Crest: a stream goes in over HTTP while the archiver runs as its own process
 * (`crest worker archiver`) and is SIGKILLed mid-stream, with a 1 s event retention so trimming really runs.
 * At stream.end the archive holds exactly the accepted events (none missing, none twice), the core replay of
 * the archive (`crest replay --core`) gives the live windows, suggestions, ticks and report figures, the
 * past-stream report answers from the archive after the live stream was trimmed, and rollups carry a TTL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { shardOf } from '../core/sharding.ts';
import type { RoomUpdate, Suggestion } from '../core/protocol.ts';
import type { RoomReport } from '../core/report.ts';
import { replayThroughCore } from '../server/history-core-replay.ts';
import { historyKeys, type StreamMeta } from '../server/history-store.ts';
import { keys } from '../server/redis-keys.ts';
import { readArchive, streamIdOf } from '../workers/stream-archive-format.ts';
import { compareIds } from '../workers/stream-entry.ts';
import { scriptedRise, startTestCrest, TEST_SECRET, waitFor, type TestCrest } from './support/crest.ts';
import { CLI, runCli } from './support/cli.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'hist-room';

let crest: TestCrest;
let redis: Redis;
let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crest-archive-'));
  // This process: API + detector. The archiver runs as a separate process so it can be killed.
  crest = await startTestCrest({ CREST_ROLES: 'api,detector', CREST_ARCHIVE_DIR: dir, CREST_EVENT_RETENTION_MS: '1000', CREST_ARCHIVE_ROLLUP_DAYS: '7' });
  redis = new Redis(crest.redisUrl);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  redis.disconnect();
  await crest.close();
  rmSync(dir, { recursive: true, force: true });
});
exitsWithin();

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: crest.redisUrl,
    CREST_SHARDS: String(crest.config.shards),
    CREST_TOKEN_SECRET: TEST_SECRET,
    CREST_ARCHIVE_DIR: dir,
    CREST_LEASE_MS: '1500',
    CREST_ARCHIVE_HOLD_MS: '60000',
    CREST_ARCHIVE_ROLLUP_DAYS: '7',
    CREST_LOG_LEVEL: 'info',
  };
}

function startArchiver(): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [CLI, 'worker', 'archiver'], { env: cliEnv() });
  children.push(child);
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

const run = (args: string[]) => runCli(args, cliEnv());

const shard = () => shardOf(ROOM, crest.config.shards);
const archivedCursor = async () => (await redis.hget(keys.checkpoint(shard()), '@archived'))?.split(' ')[0];

async function liveOutputs(): Promise<RoomUpdate[]> {
  const entries = (await redis.xrange(keys.out(shard()), '-', '+')) as [string, string[]][];
  // Less where each output came from (`at`, `rid`: arrival and request, which a replay cannot know).
  return entries.filter(([, f]) => f[1] === ROOM).map(([, f]) => {
    const { at: _at, rid: _rid, ...u } = JSON.parse(f[3]!) as RoomUpdate;
    return u as RoomUpdate;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stream is archived exactly (archiver killed mid-stream), and replaying the archive through the core gives what live gave', async () => {
  const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
  const { events } = scriptedRise(ROOM, t0);
  const lastTs = (events.at(-1) as { ts: number }).ts;
  events.push({ id: `${ROOM}-end`, room: ROOM, ts: lastTs + 500, type: 'stream.end' });
  const streamId = streamIdOf(t0);
  const operator = crest.token('operator', [ROOM]);

  let arch = startArchiver();
  await waitFor('archiver holding every shard', 30_000, async () => {
    const held = await Promise.all(Array.from({ length: crest.config.shards }, (_, s) => redis.hget(keys.checkpoint(s), '@archived')));
    return held.every(Boolean) ? true : undefined;
  });

  const batch = 20;
  const killAt = Math.floor(events.length * 0.4);
  const restartAt = Math.floor(events.length * 0.7);
  let cursorAtKill = '';
  let dead = false;
  for (let i = 0; i < events.length; i += batch) {
    if (i >= killAt && !dead && !cursorAtKill) {
      // Mid-stream: the spool exists and holds part of the stream.
      await waitFor('archiver spooling', 10_000, () => (existsSync(join(dir, '.spool', ROOM, `${streamId}.spool`)) ? true : undefined));
      arch.child.kill('SIGKILL');
      await new Promise((ok) => arch.child.once('exit', ok));
      dead = true;
      // Widen the crash window on purpose: a kill between the spool's fsync and the cursor save leaves the
      // cursor behind the spool. Move it 15 spooled entries back; the restarted archiver must not write them twice.
      const spooled = readFileSync(join(dir, '.spool', ROOM, `${streamId}.spool`), 'utf8').trimEnd().split('\n');
      const lastSpooled = spooled.at(-1)!.split('\t')[0]!;
      const back = spooled[Math.max(0, spooled.length - 15)]!.split('\t')[0]!;
      await redis.hset(keys.checkpoint(shard()), '@archived', `${back} ${Date.now() + 60_000}`);
      cursorAtKill = (await archivedCursor())!;
      assert.ok((await redis.xrange(keys.events(shard()), `(${back}`, lastSpooled)).length > 0, 'entries the spool already holds will be read again');
    }
    if (i >= restartAt && dead) {
      // The archiver has been away for longer than the retention: the events it has not read must still be there.
      await sleep(2_500);
      const oldest = (await redis.xrange(keys.events(shard()), '-', '+', 'COUNT', 1))[0]![0];
      const oldestMs = Number(oldest.split('-')[0]);
      assert.ok(oldestMs < Date.now() - 2_000, 'entries older than the 1 s retention are kept while the archiver is away');
      assert.ok(compareIds(oldest, cursorAtKill) <= 0 || oldest === cursorAtKill, `nothing after the archiver's cursor was trimmed (oldest ${oldest}, cursor ${cursorAtKill})`);
      arch = startArchiver();
      dead = false;
    }
    const r = await crest.post(events.slice(i, i + batch));
    assert.equal(r.status, 200);
    const body = (await r.json()) as { accepted: number };
    assert.equal(body.accepted, Math.min(batch, events.length - i));
    await sleep(40); // let the detector's 1 s clock records fall between batches
  }
  assert.ok(cursorAtKill, 'the archiver was killed mid-stream');

  const file = join(dir, ROOM, `${streamId}.ndjson.gz`);
  await waitFor('the archive file', 30_000, () => (existsSync(file) ? true : undefined)).catch((err: Error) => {
    throw new Error(`${err.message}\narchiver log:\n${arch.log()}`);
  });
  await waitFor('the archiver to log it', 10_000, () => (/stream archived/.test(arch.log()) ? true : undefined));

  // Valid gzip NDJSON (strict gunzip: needs the trailer) holding exactly the accepted events, in order.
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const archivedEvents = lines.filter((l) => 'type' in l);
  assert.equal(new Set(archivedEvents.map((e) => e.id)).size, archivedEvents.length, 'no event twice');
  assert.deepEqual(archivedEvents, events, 'every accepted event, as accepted, in arrival order');
  assert.ok(lines.some((l) => 'clock' in l), 'the detector clock advances are in the archive');
  assert.deepEqual(readdirSync(join(dir, ROOM)), [`${streamId}.ndjson.gz`], 'no temporary file left beside it');
  await waitFor('the spool removed', 10_000, () => (!existsSync(join(dir, '.spool', ROOM, `${streamId}.spool`)) ? true : undefined));

  // Live has processed the stream.end; every live output up to the stream's last event time equals the core replay's.
  await waitFor('live room ended', 20_000, async () => {
    const s = (await (await crest.api(`/api/v1/rooms/${ROOM}/state`, { token: operator })).json()) as { metrics: { live: boolean; events: number } };
    return s.metrics.events === events.length && !s.metrics.live ? true : undefined;
  });
  const endTs = lastTs + 500;
  const replay = replayThroughCore(ROOM, await readArchive(file), crest.config.engine);
  const cut = (o: RoomUpdate) =>
    o.type === 'tick' ? o.tick.ts <= endTs : o.type === 'window' ? o.window.updatedTs <= endTs : o.type === 'suggestion' ? o.suggestion.createdAt <= endTs : false;
  const live = (await liveOutputs()).filter(cut);
  const mine = replay.outputs.filter(cut);
  const ofType = <T extends RoomUpdate['type']>(list: RoomUpdate[], t: T) => list.filter((o) => o.type === t);
  assert.ok(ofType(live, 'window').length >= 2, 'the rise was detected live');
  assert.ok(ofType(live, 'suggestion').length >= 1, 'live made suggestions');
  assert.deepEqual(ofType(mine, 'window'), ofType(live, 'window'), 'window updates');
  assert.deepEqual(ofType(mine, 'suggestion'), ofType(live, 'suggestion'), 'suggestions');
  assert.deepEqual(ofType(mine, 'tick'), ofType(live, 'tick'), 'every 1 s tick, metrics included');

  // `crest replay FILE --core`: the CLI gives the same windows and suggestions, with a progress bar and a summary.
  const outJson = join(dir, 'core-report.json');
  const cli = await run(['replay', file, '--core', '--out', outJson]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /\[#{30}\] 100% .* through the core/);
  assert.match(cli.stderr, new RegExp(`${events.length} events of ${ROOM}`));
  assert.match(cli.stderr, /highlight window/);
  // The same archive posted back through ingest into another room: events only, every one accepted.
  const copy = await run(['replay', file, '--room', 'hist-copy', '--speed', '0']);
  assert.equal(copy.code, 0, copy.stderr);
  assert.match(copy.stderr, /clock\/plan lines of the archive are not posted/);
  assert.match(copy.stderr, new RegExp(`replayed ${events.length} of ${events.length} events .*: ${events.length} accepted, 0 duplicate, 0 rejected`));
  const coreOut = JSON.parse(readFileSync(outJson, 'utf8')) as { report: RoomReport; windows: unknown[]; suggestions: Suggestion[] };
  const liveReport = (await (await crest.api(`/api/v1/rooms/${ROOM}/report`, { token: operator })).json()) as RoomReport;
  assert.deepEqual(coreOut.report.windows, liveReport.windows, 'report windows (figures, boost timing) equal live');
  assert.deepEqual(
    coreOut.report.suggestions.map((s) => ({ ...s, status: null, ackAt: null })),
    liveReport.suggestions.map((s) => ({ ...s, status: null, ackAt: null })),
    'report suggestions equal live',
  );
  // Totals that no longer move once the stream has ended (live keeps its clock running after stream.end, so
  // watch time and the current viewer count go on changing there).
  const stable = ['peakConcurrency', 'uniqueViewers', 'gmv', 'orders', 'refunds', 'adSpend', 'follows', 'likes', 'comments', 'events', 'lateEvents'] as const;
  for (const k of stable) assert.equal(coreOut.report.summary![k], liveReport.summary![k], `summary.${k}`);
  assert.ok(liveReport.summary!.gmv > 0, 'liveReport.summary!.gmv > 0');

  // The live event stream has been trimmed by now: the past-stream report comes from the archive alone.
  await waitFor('live events trimmed', 20_000, async () => ((await redis.xlen(keys.events(shard()))) < events.length / 4 ? true : undefined));
  const firstId = (events[0] as { id: string }).id;
  const kept = (await redis.xrange(keys.events(shard()), '-', '+')) as [string, string[]][];
  assert.ok(!kept.some(([, f]) => f[1]?.includes(`"id":"${firstId}"`)), 'the first event is gone from the live stream');
  const pastRes = await crest.api(`/api/v1/rooms/${ROOM}/report?stream=${streamId}`, { token: operator });
  assert.equal(pastRes.status, 200, await pastRes.clone().text());
  const past = (await pastRes.json()) as RoomReport;
  assert.equal(past.stream, streamId);
  assert.deepEqual(past.windows, liveReport.windows);
  for (const k of stable) assert.equal(past.summary![k], liveReport.summary![k], `past summary.${k}`);
  assert.match(past.notes[0]!, /Past stream/);
  const csv = await crest.api(`/api/v1/rooms/${ROOM}/report?stream=${streamId}&format=csv`, { token: operator });
  assert.equal(csv.status, 200);
  // `crest report --stream <id>` gives the same past report; `--stream list` names the stream.
  const [cliPast, cliList] = await Promise.all([
    run(['report', '--room', ROOM, '--stream', streamId, '--format', 'json']),
    run(['report', '--room', ROOM, '--stream', 'list']),
  ]);
  assert.equal(cliPast.code, 0, cliPast.stderr);
  assert.deepEqual((JSON.parse(cliPast.stdout) as RoomReport).windows, past.windows);
  assert.equal(cliList.code, 0, cliList.stderr);
  assert.match(cliList.stdout, new RegExp(`^${streamId}  archived .* ${events.length} events  GMV ${liveReport.summary!.gmv}`));

  // The stream list and the rollups (with a TTL of the configured days).
  const list = (await (await crest.api(`/api/v1/rooms/${ROOM}/streams`, { token: operator })).json()) as { streams: StreamMeta[] };
  assert.equal(list.streams.length, 1);
  const meta = list.streams[0]!;
  assert.equal(meta.id, streamId);
  assert.equal(meta.status, 'archived');
  assert.equal(meta.endedBy, 'stream.end');
  assert.equal(meta.openedBy, 'stream.start');
  assert.equal(meta.events, events.length);
  assert.equal(meta.summary!.gmv, liveReport.summary!.gmv);
  const roll = (await (await crest.api(`/api/v1/rooms/${ROOM}/streams/${streamId}/rollups`, { token: operator })).json()) as {
    rollups: { ts: number; gmv: number; orders: number; events: number; concurrencyMax: number }[];
  };
  assert.ok(roll.rollups.length >= 10, `one rollup per minute of the ~10 min stream (got ${roll.rollups.length})`);
  assert.equal(roll.rollups.reduce((a, r) => a + r.gmv, 0), liveReport.summary!.gmv, 'per-minute GMV adds up to the stream GMV');
  assert.equal(Math.max(...roll.rollups.map((r) => r.concurrencyMax)), liveReport.summary!.peakConcurrency);
  const ttl = await redis.ttl(historyKeys.rollups(shard(), ROOM, streamId));
  assert.ok(ttl > 6 * 86_400 && ttl <= 7 * 86_400, `rollups expire after CREST_ARCHIVE_ROLLUP_DAYS (ttl ${ttl} s)`);

  // The archive itself can be downloaded.
  const dl = await crest.api(`/api/v1/rooms/${ROOM}/streams/${streamId}/archive`, { token: operator });
  assert.equal(dl.status, 200);
  assert.deepEqual(Buffer.from(await dl.arrayBuffer()), readFileSync(file));
  arch.child.kill('SIGTERM');
});

test('past streams: unknown ids are 404 naming the field, other rooms 403, buyers 403', async () => {
  const operator = crest.token('operator', [ROOM]);
  const bad = await crest.api(`/api/v1/rooms/${ROOM}/report?stream=20200101T000000Z`, { token: operator });
  assert.equal(bad.status, 404);
  const body = (await bad.json()) as { error: { field: string; reason: string } };
  assert.equal(body.error.field, 'stream');
  assert.match(body.error.reason, /has no stream "20200101T000000Z"/);
  assert.equal((await crest.api(`/api/v1/rooms/${ROOM}/report?stream=last-week`, { token: operator })).status, 404);
  assert.equal((await crest.api(`/api/v1/rooms/${ROOM}/streams/nope/rollups`, { token: operator })).status, 400);
  assert.equal((await crest.api(`/api/v1/rooms/other/streams`, { token: operator })).status, 403);
  assert.equal((await crest.api(`/api/v1/rooms/${ROOM}/streams`, { token: crest.token('buyer', [ROOM]) })).status, 403);
  assert.equal((await crest.api(`/api/v1/rooms/${ROOM}/streams?limit=0`, { token: operator })).status, 400);
});

test('a room without stream.start gets a stream anyway; the next stream.start and silence close streams too', async () => {
  const room = 'hist-implicit';
  const t0 = Date.UTC(2026, 0, 6, 9, 0, 0);
  const ev = (n: number, type: string, extra: Record<string, unknown> = {}) => ({ id: `${room}-${n}`, room, ts: t0 + n * 1000, type, ...extra });
  const first = [ev(0, 'room.online', { count: 10 }), ev(1, 'viewer.enter', { viewer: 'a', source: 'public' }), ev(2, 'engage.like', { viewer: 'a', count: 3 })];
  const second = [ev(10, 'stream.start'), ev(11, 'room.online', { count: 12 }), ev(12, 'order.paid', { order: 'o1', viewer: 'a', amount: 500 })];
  // In-process this time, closing streams after 1.5 s without events.
  const { Archiver } = await import('../workers/archiver.ts');
  const { silentLogger } = await import('../server/logger.ts');
  const archiver = new Archiver({ redisUrl: crest.redisUrl, shards: crest.config.shards, dir, engine: crest.config.engine, rollupDays: 1, idleCloseMs: 1_500, holdMs: 60_000, leaseMs: 1_500, log: silentLogger });
  await waitFor('previous archiver leases released', 10_000, async () => ((await redis.exists(historyKeys.lease(shardOf(room, crest.config.shards)))) === 0 ? true : undefined));
  await archiver.start();
  try {
    assert.equal((await crest.post(first)).status, 200);
    await waitFor('the implicit stream opened', 10_000, () => (archiver.openStreams()[room] ? true : undefined));
    assert.equal((await crest.post(second)).status, 200);
    const a = join(dir, room, `${streamIdOf(t0)}.ndjson.gz`);
    const b = join(dir, room, `${streamIdOf(t0 + 10_000)}.ndjson.gz`);
    await waitFor('both archives', 15_000, () => (existsSync(a) && existsSync(b) ? true : undefined));
    const eventsOf = async (f: string) => (await readArchive(f)).filter((l) => 'type' in l);
    assert.deepEqual(await eventsOf(a), first);
    assert.deepEqual(await eventsOf(b), second);
    const operator = crest.token('operator', [room]);
    const list = (await (await crest.api(`/api/v1/rooms/${room}/streams`, { token: operator })).json()) as { streams: StreamMeta[] };
    assert.deepEqual(
      list.streams.map((m) => [m.id, m.status, m.openedBy, m.endedBy, m.events]),
      [
        [streamIdOf(t0 + 10_000), 'archived', 'stream.start', 'idle', 3],
        [streamIdOf(t0), 'archived', 'event', 'next-start', 3],
      ],
    );
    // Each past stream's figures are its own, not room-to-date.
    const rb = (await (await crest.api(`/api/v1/rooms/${room}/report?stream=${streamIdOf(t0 + 10_000)}`, { token: operator })).json()) as RoomReport;
    assert.equal(rb.summary!.gmv, 500);
    assert.equal(rb.summary!.likes, 0);
    assert.equal(rb.summary!.events, 3);
  } finally {
    await archiver.stop();
  }
});

