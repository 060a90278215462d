/**
 * The TikTok connector with the real `tiktok-live-connector` package and no network: its connection
 * object is built for real, only `connect()` is replaced (it would reach TikTok), and recorded message
 * shapes (test/fixtures/tiktok) are pushed through the package's own decode-and-emit path. Asserted:
 * the exact contract-v1 events that land in the room's shard stream, reconnects that double-count
 * nothing, the state machine, unexpected payloads counted without a crash, the state in Redis and on
 * `GET /api/v1/connectors`, and the one clear sentence when the package is not installed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { Redis } from 'ioredis';
import type { CrestEvent } from '../core/events.ts';
import type { ConnectorState, ConnectorsResponse } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import type { AppContext } from '../server/app-context.ts';
import { signToken } from '../server/auth/token.ts';
import type { Logger } from '../server/logger.ts';
import { keys } from '../server/redis-keys.ts';
import { connectorsRouter } from '../server/routes/connectors.ts';
import { startConnectors } from '../workers/connectors/connector-runner.ts';
import { loadTikTokPackage, TikTokPackageMissingError, type TikTokConnectionLike, type TikTokPackage } from '../workers/connectors/tiktok-package.ts';
import { startTestCrest, TEST_SECRET, waitFor, type TestCrest } from './support/crest.ts';
import { deliver, loadTikTokFixture } from './support/tiktok-frames.ts';
import { exitsWithin } from './support/exit-watch.ts';

const session = loadTikTokFixture(new URL('./fixtures/tiktok/session.json', import.meta.url));
const streamEnd = loadTikTokFixture(new URL('./fixtures/tiktok/stream-end.json', import.meta.url));
const T0 = 1_767_225_600_000;
const ROOM = 'tt-room';
const LIVE_ID = session.platformRoomId;

let crest: TestCrest;
let redis: Redis;
before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api' });
  redis = new Redis(crest.redisUrl);
});
after(async () => {
  redis.disconnect();
  await crest.close();
});
exitsWithin();

async function roomEvents(room: string): Promise<CrestEvent[]> {
  const entries = await redis.xrange(keys.events(shardOf(room, crest.config.shards)), '-', '+');
  const out: CrestEvent[] = [];
  for (const [, f] of entries) {
    const i = f.indexOf('e');
    if (i < 0 || i % 2 !== 0) continue; // clock records carry no event
    const e = JSON.parse(f[i + 1]!) as CrestEvent;
    if (e.room === room) out.push(e);
  }
  return out;
}

function capturingLogger(lines: string[]): Logger {
  const rec = (level: string) => (msg: string, f?: Record<string, unknown>) => void lines.push(`${level} ${msg} ${f ? JSON.stringify(f) : ''}`);
  return { debug: () => {}, info: rec('info'), warn: rec('warn'), error: rec('error') };
}

const V = (n: number) => `tt:681100000000000000${n}`;
const M = (n: number) => `tt:${7455123400000000000n + BigInt(n)}`;

test('recorded TikTok messages reach the shard stream as exactly these contract-v1 events; a reconnect double-counts nothing', async () => {
  const log: string[] = [];
  let connection: (TikTokConnectionLike & { emit(e: string, ...a: unknown[]): boolean }) | null = null;
  let connects = 0;
  const startedAt = Date.now();
  const runner = await startConnectors({
    rooms: [{ room: ROOM, account: '@glow.skin.live' }],
    config: crest.config,
    ingest: crest.ingest,
    redis,
    log: capturingLogger(log),
    connectorOptions: {
      backoffMs: 20,
      backoffMaxMs: 100,
      batchMs: 20,
      createConnection: (pkg: TikTokPackage, account, options) => {
        const c = new pkg.TikTokLiveConnection(account, options) as typeof connection & { webClient: { roomId: string }; state: unknown };
        // Everything real but the network: the first attempt finds the account offline (the package's
        // own error class), later ones "connect" to the recorded live session.
        c!.connect = async () => {
          connects += 1;
          if (connects === 1) throw new pkg.UserOfflineError!("The requested user isn't online :(");
          c!.webClient.roomId = LIVE_ID;
          return c!.state as { roomId: string };
        };
        connection = c;
        return c!;
      },
    },
  });
  const [connector] = runner.connectors;
  await waitFor('connected', 5_000, () => (connector!.state.status === 'connected' ? true : undefined));
  assert.equal((connection as unknown as { uniqueId: string }).uniqueId, 'glow.skin.live', 'the package got the handle without @');

  await deliver(connection, session.messages);
  // Platform oddities must not crash anything: counted and logged.
  connection!.emit('roomUser', { common: { msgId: '1' }, total: 'lots' });
  connection!.emit('member', null);

  const expected: CrestEvent[] = [
    { id: `tt:start:${LIVE_ID}`, room: ROOM, ts: 0, type: 'stream.start' },
    { id: M(1), room: ROOM, ts: T0, type: 'room.online', count: 412 },
    { id: M(2), room: ROOM, ts: T0 + 1000, type: 'viewer.enter', viewer: V(1), source: 'public' },
    { id: M(3), room: ROOM, ts: T0 + 1400, type: 'viewer.enter', viewer: V(2), source: 'follow' },
    { id: M(4), room: ROOM, ts: T0 + 2100, type: 'viewer.enter', viewer: V(3), source: 'paid' },
    { id: M(5), room: ROOM, ts: T0 + 2500, type: 'viewer.enter', viewer: V(4), source: 'other' },
    { id: M(7), room: ROOM, ts: T0 + 3500, type: 'engage.like', viewer: V(1), count: 15 },
    { id: M(8), room: ROOM, ts: T0 + 4000, type: 'engage.comment', viewer: V(2) },
    { id: M(12), room: ROOM, ts: T0 + 6200, type: 'engage.gift', viewer: V(3), count: 5 },
    { id: M(13), room: ROOM, ts: T0 + 6500, type: 'engage.gift', viewer: V(1), count: 1 },
    { id: M(14), room: ROOM, ts: T0 + 7000, type: 'engage.follow', viewer: V(4) },
    { id: M(15), room: ROOM, ts: T0 + 7600, type: 'engage.share', viewer: V(2) },
    { id: M(16), room: ROOM, ts: T0 + 8000, type: 'product.launch', sku: '1729384756102938', name: 'Vitamin C Serum 30ml', price: 1299 },
    { id: M(17), room: ROOM, ts: T0 + 10000, type: 'room.online', count: 455 },
  ];
  let got = await waitFor('first session stored', 5_000, async () => {
    const evs = await roomEvents(ROOM);
    return evs.length >= expected.length ? evs : undefined;
  });
  const start = got[0]!;
  assert.ok(start.ts >= startedAt && start.ts <= Date.now(), 'stream.start at the wall-clock time of the connection');
  assert.deepEqual(got, expected.map((e, i) => (i === 0 ? { ...e, ts: start.ts } : e)));

  // The socket drops; the connector retries, reconnects, and TikTok resends its recent history.
  connection!.emit('disconnected', { code: 1006, reason: 'socket closed' });
  await waitFor('reconnected', 5_000, () => (connects >= 3 && connector!.state.status === 'connected' ? true : undefined));
  await deliver(connection, session.messages);
  await deliver(connection, streamEnd.messages);
  await runner.done;

  got = await roomEvents(ROOM);
  assert.deepEqual(got.slice(0, expected.length), expected.map((e, i) => (i === 0 ? { ...e, ts: start.ts } : e)), 'nothing twice');
  assert.deepEqual(got.slice(expected.length), [{ id: `tt:end:${LIVE_ID}`, room: ROOM, ts: T0 + 60_000, type: 'stream.end' }]);

  const s = connector!.state;
  assert.equal(s.status, 'ended');
  assert.equal(s.reason, 'the host ended the stream');
  assert.deepEqual(s.counts, {
    received: 17 * 2 + 1 + 2,
    mapped: 13 * 2 + 2 + 1, // the session's 13 events twice, two stream.starts, one stream.end
    accepted: 15,
    duplicate: 14,
    rejected: 0,
    skipped: 4 * 2, // a subscription notice and three streak steps, twice
    unexpected: 2,
    unknownSource: 2,
    submitRetries: 0,
  });
  assert.deepEqual(s.unknownSources, { brand_new_entry_point: 2 }, 'unknown enter sources are reported so the table can grow');

  // The state machine as the log tells it: offline → retrying, connected, dropped → retrying, connected, ended.
  const transitions = log.filter((l) => l.startsWith('info tiktok connector')).map((l) => l.split(' ')[3]);
  assert.deepEqual(transitions, ['connecting', 'retrying', 'connecting', 'connected', 'retrying', 'connecting', 'connected', 'ended']);
  assert.ok(log.some((l) => l.includes('retrying') && l.includes('@glow.skin.live is not live right now')), "log.some((l) => l.includes('retrying') && l.includes('@glow.skin.live is not live right now'))");
  assert.ok(log.some((l) => l.includes('retrying') && l.includes('disconnected by the platform (code 1006: socket closed)')), "log.some((l) => l.includes('retrying') && l.includes('disconnected by the platform (code 1006: so...");
  assert.equal(log.filter((l) => l.includes('not understood')).length, 2, 'each odd payload logged (first per kind)');

  // What the panel reads: Redis, then the API.
  await runner.stop();
  const stored = JSON.parse((await redis.hget(keys.connectors(), ROOM))!) as ConnectorState;
  assert.equal(stored.status, 'ended');
  assert.equal(stored.counts.accepted, 15);

  const app = express();
  app.use('/api/v1', connectorsRouter({ tokenSecret: TEST_SECRET, tokenSecrets: [TEST_SECRET], redis, log: capturingLogger([]) } as unknown as AppContext));
  const http = app.listen(0, '127.0.0.1');
  await new Promise((ok) => http.once('listening', ok));
  try {
    const base = `http://127.0.0.1:${(http.address() as { port: number }).port}/api/v1/connectors`;
    const as = (role: 'operator' | 'host' | 'admin', rooms: string[] | '*') => ({ headers: { authorization: `Bearer ${signToken(TEST_SECRET, { role, rooms, sub: role, ttlS: 60 })}` } });
    const mine = (await (await fetch(base, as('operator', [ROOM]))).json()) as ConnectorsResponse;
    assert.deepEqual(mine.connectors.map((c) => [c.room, c.status, c.stale]), [[ROOM, 'ended', false]]);
    assert.deepEqual(((await (await fetch(base, as('operator', ['elsewhere']))).json()) as ConnectorsResponse).connectors, []);
    assert.equal(((await (await fetch(base, as('admin', '*'))).json()) as ConnectorsResponse).connectors.length, 1);
    assert.equal((await fetch(base, as('host', [ROOM]))).status, 403);
    assert.equal((await fetch(base)).status, 401);
  } finally {
    http.close();
  }
});

test('a connection that keeps failing retries with backoff, then reports error with the reason', async () => {
  let attempts = 0;
  const runner = await startConnectors({
    rooms: [{ room: 'tt-flaky', account: 'someone' }],
    config: { ...crest.config, connector: { backoffMs: 10, backoffMaxMs: 40, maxAttempts: 3 } },
    ingest: crest.ingest,
    redis,
    log: capturingLogger([]),
    connectorOptions: {
      createConnection: (pkg, account, options) => {
        const c = new pkg.TikTokLiveConnection(account, options);
        c.connect = async () => {
          attempts += 1;
          throw new Error('Failed to retrieve Room ID from all sources.');
        };
        return c;
      },
    },
  });
  await runner.done;
  const s = runner.connectors[0]!.state;
  assert.equal(attempts, 3);
  assert.equal(s.status, 'error');
  assert.match(s.reason!, /Failed to retrieve Room ID from all sources\.; gave up after 3 attempts in a row/);
  await runner.stop();
  assert.equal(JSON.parse((await redis.hget(keys.connectors(), 'tt-flaky'))!).status, 'error');
});

test('without the optional package, starting a connector fails with one sentence that says what to do, and the panel shows it', async () => {
  const missing = async () => {
    const err = Object.assign(new Error("Cannot find package 'tiktok-live-connector' imported from /x"), { code: 'ERR_MODULE_NOT_FOUND' });
    throw err;
  };
  await assert.rejects(loadTikTokPackage(missing), (err: Error) => {
    assert.ok(err instanceof TikTokPackageMissingError, 'err instanceof TikTokPackageMissingError');
    assert.match(err.message, /install it yourself with `npm install tiktok-live-connector` \(AGPL-3\.0/);
    assert.doesNotMatch(err.message, /failed to load/);
    return true;
  });
  await assert.rejects(
    startConnectors({
      rooms: [{ room: 'tt-nopkg', account: 'someone' }],
      config: crest.config,
      ingest: crest.ingest,
      redis,
      log: capturingLogger([]),
      connectorOptions: { loadPackage: () => loadTikTokPackage(missing) },
    }),
    TikTokPackageMissingError,
  );
  const state = JSON.parse((await redis.hget(keys.connectors(), 'tt-nopkg'))!) as ConnectorState;
  assert.equal(state.status, 'error');
  assert.match(state.reason!, /npm install tiktok-live-connector/);
  // The real package loads (it is a devDependency for exactly these tests).
  assert.equal(typeof (await loadTikTokPackage()).TikTokLiveConnection, 'function');
});
