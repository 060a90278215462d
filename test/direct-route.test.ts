/**
 * POST /api/v1/events served directly (server/direct-route.ts) answers exactly as Express's router does:
 * the same status, body and headers, for acceptance, each kind of refusal and the rate limit. Two servers over
 * one context and one Redis, the router-only app and the request listener, get the same requests in the
 * same order (the store emptied before each, so dedupe sees the same state).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/config.ts';
import type { AppContext } from '../server/app-context.ts';
import { createApp, createRequestListener } from '../server/app.ts';
import { signToken } from '../server/auth/token.ts';
import { IngestService } from '../server/ingest-service.ts';
import { silentLogger } from '../server/logger.ts';
import { ApiMetrics } from '../server/metrics-registry.ts';
import { keys } from '../server/redis-keys.ts';
import { RoomStore } from '../server/room-store.ts';
import { useTestRedis } from './support/redis.ts';
import { exitsWithin } from './support/exit-watch.ts';

const SECRET = 'direct-route-secret-0123456789';
const ORIGIN = 'https://ops.example.com';
const rig = useTestRedis();
// After the helper above: its after() hook must run before this one.
exitsWithin();
let routerUrl = '';
let directUrl = '';
let listener: ReturnType<typeof createRequestListener>;
const servers: Server[] = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}


const T0 = Date.UTC(2026, 10, 25, 12);
const enter = (id: string, room = 'r1') => ({ id, room, ts: T0, type: 'viewer.enter', viewer: 'v1', source: 'public' });
const token = (role: 'ingest' | 'operator', sub: string = role, rooms: string[] | '*' = '*') => signToken(SECRET, { role, rooms, sub, ttlS: 600 });
const INGEST = token('ingest');

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

async function ask(base: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const r = await fetch(`${base}/api/v1/events`, { method: 'POST', body, headers: { 'x-request-id': 'same-id-for-both', ...headers } });
  const h: Record<string, string> = {};
  // Date differs by the clock; keep-alive and connection are the transport's, not the app's.
  for (const [k, v] of r.headers) if (!['date', 'keep-alive', 'connection'].includes(k)) h[k] = v;
  return { status: r.status, body: await r.text(), headers: h };
}

/** The same request to both servers, each time from the same Redis state; returns the router's answer. */
async function same(body: string, headers: Record<string, string>, setup?: () => Promise<unknown>): Promise<Answer> {
  const answers: Answer[] = [];
  for (const base of [routerUrl, directUrl]) {
    await rig.redis.flushdb();
    await setup?.();
    answers.push(await ask(base, body, headers));
  }
  const [viaRouter, direct] = answers as [Answer, Answer];
  assert.deepEqual(direct, viaRouter);
  return viaRouter;
}

const json = (events: unknown, t = INGEST) => ({ body: JSON.stringify(events), headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' } });

describe('direct POST /api/v1/events = the router', () => {
  // In the describe, so useTestRedis's own before (at the root) has run.
  before(async () => {
    const config = loadConfig({
      CREST_TOKEN_SECRET: SECRET,
      CREST_SHARDS: '4',
      CREST_MAX_LAG: '1000',
      CREST_MAX_EVENTS_PER_REQUEST: '5',
      CREST_MAX_BODY_BYTES: '2000',
      CREST_CORS_ORIGINS: ORIGIN,
      // A burst of 4 refilled at 2/s: a refusal says Retry-After 1 whatever the timing.
      CREST_RATE_LIMIT_PER_S: '2',
      REDIS_URL: rig.server.url,
    });
    const ingest = new IngestService(rig.redis, { shards: config.shards, dedupeHorizonS: config.dedupeHorizonS, maxLag: config.maxLag });
    const ctx: AppContext = {
      config,
      tokenSecret: SECRET,
      tokenSecrets: [SECRET],
      redis: rig.redis,
      ingest,
      store: new RoomStore(rig.redis, config.shards, config.outStreamMaxLen),
      log: silentLogger,
      metrics: new ApiMetrics({ ingestCounters: () => ingest.counters }),
    };
    routerUrl = await serve(createApp(ctx));
    listener = createRequestListener(ctx);
    directUrl = await serve(listener);
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });

  test('200: accepted, with a duplicate and a rejection beside them; the headers (helmet, CORS, request id) alike', async () => {
    const served = listener.served;
    const { body, headers } = json([enter('a1'), enter('a1'), { ...enter('a2'), ts: 'yesterday' }, enter('a3', 'r2')]);
    const a = await same(body, { ...headers, origin: ORIGIN });
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.body).accepted, 2);
    assert.equal(a.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(a.headers['x-request-id'], 'same-id-for-both');
    assert.match(a.headers['content-security-policy'] ?? '', /default-src 'self'/);
    assert.equal(listener.served, served + 1, 'the listener answered it directly');
  });

  test('400 naming the field: a bad event, invalid JSON, an empty body', async () => {
    const bad = await same(json([{ ...enter('b1'), source: 'tv' }]).body, json([]).headers);
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).errors[0].field, 'source');
    const notJson = await same('[{"id":', json([]).headers);
    assert.equal(notJson.status, 400);
    assert.equal(JSON.parse(notJson.body).error.field, 'body');
    assert.equal((await same('', json([]).headers)).status, 400);
  });

  test('401 without a token or with a bad one; 403 for another role or another room', async () => {
    const { body } = json([enter('c1')]);
    const none = await same(body, { 'content-type': 'application/json' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal((await same(body, { authorization: `Bearer ${INGEST.slice(0, -2)}xx` })).status, 401);
    const other = await same(body, { authorization: `Bearer ${token('ingest', 'r9-writer', ['r9'])}` });
    assert.equal(other.status, 400);
    assert.equal(JSON.parse(other.body).errors[0].field, 'room');
    assert.equal((await same(body, json([], token('operator', 'op-403')).headers)).status, 403);
  });

  test('413: a body over the byte limit, too many events', async () => {
    const big = await same(JSON.stringify([enter('d'.repeat(100))]).padEnd(3_000, ' '), json([]).headers);
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body).error.code, 'too-large');
    const many = await same(json(Array.from({ length: 6 }, (_, i) => enter(`m${i}`))).body, json([]).headers);
    assert.equal(many.status, 413);
    assert.equal(JSON.parse(many.body).error.code, 'too-many-events');
  });

  test('429: the token rate limit (before the route) and the detector backlog (in the script)', async () => {
    // Each server has its own buckets: a token's first answer and its first refusal, from each.
    const op = json([enter('e1')], token('operator', 'op-429')).headers;
    const firstAndRefused: Answer[][] = [];
    for (const base of [routerUrl, directUrl]) {
      const answers = [await ask(base, '[]', op)];
      while (answers.length < 40 && answers.at(-1)!.status !== 429) answers.push(await ask(base, '[]', op));
      firstAndRefused.push([answers[0]!, answers.at(-1)!]);
    }
    assert.deepEqual(firstAndRefused[1], firstAndRefused[0]);
    const [first, limited] = firstAndRefused[0] as [Answer, Answer];
    assert.equal(first.status, 403, 'the first request of the bucket reaches the route');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '1');
    const lagging = async () => {
      for (let s = 0; s < 4; s++) await rig.redis.hset(keys.checkpoint(s), '@added', 5_000, '@processed', 0);
    };
    const backlog = await same(json([enter('e2')]).body, json([]).headers, lagging);
    assert.equal(backlog.status, 429);
    assert.equal(JSON.parse(backlog.body).error.code, 'backlog');
  });

  test('other paths and methods are left to Express', async () => {
    await rig.redis.flushdb();
    const served = listener.served;
    for (const path of ['/api/v1/events/', '/api/v1/events?x=1']) {
      const r = await fetch(`${directUrl}${path}`, { method: 'POST', ...json([enter(`f${path.length}`)]) });
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    const get = await fetch(`${directUrl}/api/v1/events`, { headers: json([]).headers });
    assert.equal(get.status, 404);
    await get.arrayBuffer();
    assert.equal(listener.served, served);
  });
});
