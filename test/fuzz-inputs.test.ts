/**
 * Property-based fuzzing (fast-check) of every input the outside world controls: POST /events bodies
 * (random JSON, mutated valid events, wrong types, huge strings, __proto__ / constructor keys, deep
 * nesting, NDJSON junk), the room, plan, report, webhook and connector routes with random params,
 * queries and bodies, and the socket events room:join / room:leave / suggestion:ack with random payloads
 * and with or without ack callbacks. Thousands of cases, bounded in time. For every one:
 * - no 5xx and no crash (the server answers a well-formed request afterwards);
 * - a rejected request changes nothing: a fingerprint of every Redis key (type and size) is unchanged;
 * - tampered, expired, wrongly signed and other-room tokens never read or write anything;
 * - nothing reaches Object.prototype.
 * The detector is stopped after seeding, so nothing but the request under test writes to Redis.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { io } from 'socket.io-client';
import { signToken } from '../server/auth/token.ts';
import { join, startTestCrest, TEST_SECRET, waitFor, type TestCrest, type TestSocket } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'fz-room';
const OTHER = 'fz-other';
const T0 = Date.now() - 3_600_000;
let crest: TestCrest;
let redis: Redis;
const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();

before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api,detector', CREST_SHARDS: '2', CREST_RATE_LIMIT_PER_S: '0', CREST_MAX_EVENTS_PER_REQUEST: '1000', CREST_MAX_BODY_BYTES: String(256 * 1024) });
  redis = new Redis(crest.redisUrl);
  const seed = [ROOM, OTHER].flatMap((room) => [
    { id: `${room}-s`, room, ts: T0, type: 'stream.start' },
    { id: `${room}-o`, room, ts: T0 + 1000, type: 'room.online', count: 10 },
  ]);
  assert.equal((await crest.post(seed)).status, 200);
  await waitFor('seeded rooms', 10_000, async () => ((await redis.hlen('crest:{s0}:view')) + (await redis.hlen('crest:{s1}:view')) >= 2 ? true : undefined));
  const wh = await crest.api('/api/v1/webhooks', {
    method: 'POST',
    token: crest.token('operator', '*'),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', room: ROOM }),
  });
  assert.equal(wh.status, 201);
  // From here on, only the requests under test write.
  await crest.detector!.stop();
});
after(async () => {
  redis.disconnect();
  await crest.close();
});
exitsWithin();

/** Every key with its type and size: a change anywhere shows. */
async function fingerprint(): Promise<string> {
  const names = (await redis.keys('*')).sort();
  const pipe = redis.pipeline();
  for (const k of names) pipe.type(k);
  const types = (await pipe.exec())!.map(([, t]) => t as string);
  const sizes = redis.pipeline();
  names.forEach((k, i) => {
    const t = types[i];
    if (t === 'stream') sizes.xlen(k);
    else if (t === 'hash') sizes.hlen(k);
    else if (t === 'list') sizes.llen(k);
    else if (t === 'set') sizes.scard(k);
    else if (t === 'zset') sizes.zcard(k);
    else sizes.strlen(k);
  });
  const n = (await sizes.exec())!.map(([, v]) => v);
  return JSON.stringify(names.map((k, i) => [k, types[i], n[i]]));
}

const validEvent = (i: number): Record<string, unknown> => ({ id: `fz-${i}`, room: ROOM, ts: T0 + 5000 + i, type: 'viewer.enter', viewer: `v${i}`, source: 'public' });

const nasty = fc.oneof(
  fc.anything(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
  fc.string({ minLength: 20_000, maxLength: 40_000 }),
  fc.double(),
  fc.integer({ min: -1e16, max: 1e16 }),
  fc.constantFrom(null, true, [], {}, '', NaN, -1, 2 ** 53, '1e400'),
);

/** A valid event with one field replaced, removed, or one key added. */
const mutatedEvent = fc.record({ i: fc.nat(1_000_000), key: fc.constantFrom('id', 'room', 'ts', 'type', 'viewer', 'source', '__proto__', 'constructor', 'extra'), how: fc.constantFrom('set', 'delete'), value: nasty }).map(({ i, key, how, value }) => {
  const e = validEvent(i);
  if (how === 'delete') delete e[key];
  else Object.defineProperty(e, key, { value, enumerable: true, writable: true, configurable: true });
  return e;
});

const deep = fc.integer({ min: 100, max: 20_000 }).map((d) => '['.repeat(d) + ']'.repeat(d));
const protoBodies = fc.constantFrom(
  '{"__proto__":{"polluted":1},"id":"p1","room":"fz-room","ts":1,"type":"stream.start"}',
  '[{"constructor":{"prototype":{"polluted":1}},"id":"p2","room":"fz-room","ts":1,"type":"stream.start"}]',
  '{"id":"p3","room":"__proto__","ts":1,"type":"stream.start"}',
  '{"id":"__proto__","room":"fz-room","ts":1,"type":"stream.start","__proto__":null}',
);

type Body = { text: string; type: string };
const eventBodies: fc.Arbitrary<Body> = fc.oneof(
  fc.json().map((text) => ({ text, type: 'application/json' })),
  fc.anything().map((v) => ({ text: JSON.stringify(v) ?? 'undefined', type: 'application/json' })),
  fc.array(mutatedEvent, { minLength: 1, maxLength: 20 }).map((a) => ({ text: JSON.stringify(a), type: 'application/json' })),
  fc.array(fc.oneof(mutatedEvent.map((e) => JSON.stringify(e)), fc.string(), fc.json()), { maxLength: 30 }).map((lines) => ({ text: lines.join('\n'), type: 'application/x-ndjson' })),
  deep.map((text) => ({ text, type: 'application/json' })),
  protoBodies.map((text) => ({ text, type: 'application/json' })),
  fc.string({ maxLength: 2000 }).map((text) => ({ text, type: 'text/plain' })),
  fc.uint8Array({ maxLength: 4000 }).map((b) => ({ text: Buffer.from(b).toString('latin1'), type: 'application/octet-stream' })),
);

/** Every kind of token a caller might present. `reads` says whether it may read ROOM. */
function tokens() {
  const good = crest.token('admin', '*');
  const [p, payload, sig] = good.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  const widened = Buffer.from(JSON.stringify({ ...claims, role: 'admin', rooms: '*', exp: claims.exp + 1e6 })).toString('base64url');
  return {
    admin: good,
    operator: crest.token('operator', [ROOM]),
    ingest: crest.token('ingest', [ROOM]),
    otherRoom: crest.token('operator', [OTHER]),
    otherRoomHost: crest.token('host', [OTHER]),
    tampered: `${p}.${widened}.${sig}`,
    // The first character of the signature: all six of its bits count (the last one's low bits are base64 padding).
    flipped: `${p}.${payload}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`,
    expired: signToken(TEST_SECRET, { role: 'admin', rooms: '*', ttlS: 60, nowMs: Date.now() - 3_600_000 }),
    otherSecret: signToken('some-other-secret-0123456789', { role: 'admin', rooms: '*', ttlS: 600 }),
    garbage: 'crest1.e30.AAAA',
    none: undefined,
  };
}
const FORGED = new Set(['tampered', 'flipped', 'expired', 'otherSecret', 'garbage', 'none']);

async function send(path: string, init: { method: string; token?: string; body?: string; type?: string }) {
  const headers: Record<string, string> = {};
  if (init.type) headers['content-type'] = init.type;
  const res = await crest.api(path, { method: init.method, token: init.token, headers, body: init.body });
  const text = await res.text();
  return { status: res.status, text };
}

function assertNoPollution() {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeysBefore);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
}

async function assertAlive() {
  const res = await crest.api(`/api/v1/rooms/${ROOM}/state`, { token: crest.token('admin', '*') });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

describe('fuzzing every input', () => {
  test('POST /events: random, mutated, hostile bodies → never 5xx; rejected ones store nothing', async () => {
    const tk = tokens();
    let seq = 0;
    let accepted = 0;
    let state = await fingerprint();
    await fc.assert(
      fc.asyncProperty(eventBodies, fc.constantFrom<keyof ReturnType<typeof tokens>>('ingest', 'ingest', 'ingest', 'admin', 'otherRoom', 'tampered', 'expired', 'otherSecret', 'none'), async (body, who) => {
        // Fresh ids per run, so a mutated-but-valid event is never a duplicate of an earlier one.
        const text = body.text.replaceAll('"fz-', `"fz${seq++}-`);
        const r = await send('/api/v1/events', { method: 'POST', token: tk[who], body: text, type: body.type });
        assert.ok(r.status < 500, `${r.status} ${r.text.slice(0, 300)}`);
        const now = await fingerprint();
        let stored = 0;
        if (r.status === 200) stored = (JSON.parse(r.text) as { accepted: number }).accepted;
        if (FORGED.has(who)) assert.equal(r.status, 401, `forged token (${who}) got ${r.status}`);
        if (who === 'otherRoom') assert.ok(r.status === 403 || stored === 0, 'a token for another room writes nothing here');
        if (stored === 0) assert.equal(now, state, `rejected body changed Redis: ${text.slice(0, 200)}`);
        accepted += stored;
        state = now;
      }),
      { numRuns: 700, seed: 4242 },
    );
    assertNoPollution();
    await assertAlive();
    console.log(`# events: 700 bodies, ${accepted} mutated events still valid and stored`);
  });

  test('room, plan, report, webhook and connector routes: random params, queries and bodies → never 5xx; forged tokens read and write nothing', async () => {
    const tk = tokens();
    const seg = fc.oneof(
      fc.constantFrom(ROOM, OTHER, 'ghost', '..', '.', '%2e%2e', '__proto__', 'constructor', 'a'.repeat(65), '%00', '%ff', '%', 'x y'),
      fc.string({ minLength: 1, maxLength: 80 }).map((s) => encodeURIComponent(s)),
    );
    const route = fc.oneof(
      fc.tuple(seg, fc.constantFrom('state', 'windows', 'suggestions', 'series', 'plans', 'report')).map(([r, p]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/${p}` })),
      fc.tuple(seg, fc.string({ maxLength: 20 })).map(([r, q]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/series?limit=${encodeURIComponent(q)}` })),
      fc.tuple(seg, fc.constantFrom('json', 'csv', 'html', 'x', '')).map(([r, f]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/report?format=${f}` })),
      fc.tuple(seg, seg).map(([r, id]) => ({ method: 'POST', path: `/api/v1/rooms/${r}/suggestions/${id}/ack` })),
      seg.map((r) => ({ method: 'POST', path: `/api/v1/rooms/${r}/plans` })),
      seg.map((r) => ({ method: 'POST', path: `/api/v1/rooms/${r}/plans/import` })),
      fc.tuple(seg, seg).map(([r, id]) => ({ method: 'PUT', path: `/api/v1/rooms/${r}/plans/${id}` })),
      fc.tuple(seg, seg).map(([r, id]) => ({ method: 'DELETE', path: `/api/v1/rooms/${r}/plans/${id}` })),
      fc.constant({ method: 'POST', path: '/api/v1/webhooks' }),
      fc.string({ maxLength: 30 }).map((q) => ({ method: 'GET', path: `/api/v1/webhooks?room=${encodeURIComponent(q)}` })),
      fc.string({ maxLength: 30 }).map((q) => ({ method: 'GET', path: `/api/v1/webhooks/dead-letters?room=${encodeURIComponent(q)}` })),
      seg.map((id) => ({ method: 'POST', path: `/api/v1/webhooks/dead-letters/${id}/replay` })),
      seg.map((id) => ({ method: 'DELETE', path: `/api/v1/webhooks/${id}` })),
      fc.constant({ method: 'GET', path: '/api/v1/rooms' }),
      fc.constant({ method: 'GET', path: '/api/v1/connectors' }),
      fc.tuple(seg, fc.string({ maxLength: 12 })).map(([r, q]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/series?res=${encodeURIComponent(q)}` })),
      fc.tuple(seg, fc.string({ maxLength: 24 })).map(([r, q]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/report?stream=${encodeURIComponent(q)}` })),
      fc.tuple(seg, fc.constantFrom('streams', 'alert-rules', 'alert-holds', 'boost-outcomes')).map(([r, p]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/${p}` })),
      fc.tuple(seg, fc.string({ maxLength: 12 })).map(([r, q]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/boost-outcomes?withinMin=${encodeURIComponent(q)}` })),
      fc.tuple(seg, seg, fc.constantFrom('rollups', 'archive')).map(([r, id, p]) => ({ method: 'GET', path: `/api/v1/rooms/${r}/streams/${id}/${p}` })),
      seg.map((r) => ({ method: 'PUT', path: `/api/v1/rooms/${r}/alert-rules` })),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.json(),
      fc.anything().map((v) => JSON.stringify(v) ?? ''),
      fc.record({ url: nasty, room: fc.oneof(fc.constant(ROOM), nasty), audience: nasty, kinds: nasty, secret: nasty }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.record({ at: nasty, ts: nasty, sku: nasty, title: nasty, kind: nasty, note: nasty }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc.record({ url: nasty, room: fc.oneof(fc.constant(ROOM), nasty), preset: fc.oneof(fc.constantFrom('slack', 'feishu', 'dingtalk', 'generic'), nasty), botSecret: nasty }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
      fc
        .record(
          {
            buyer: fc.oneof(nasty, fc.record({ mutedKinds: nasty, quietHours: fc.oneof(nasty, fc.record({ from: nasty, to: nasty, tz: nasty })), cooldownMinutes: nasty, maxAlerts: nasty }, { requiredKeys: [] })),
            operator: nasty,
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      protoBodies,
      deep,
      fc.string({ minLength: 70_000, maxLength: 80_000 }),
    );
    const who = fc.constantFrom<keyof ReturnType<typeof tokens>>('admin', 'operator', 'otherRoom', 'otherRoomHost', 'ingest', 'tampered', 'flipped', 'expired', 'otherSecret', 'garbage', 'none');
    let state = await fingerprint();
    let writes = 0;
    await fc.assert(
      fc.asyncProperty(route, body, who, async (rt, b, w) => {
        const r = await send(rt.path, { method: rt.method, token: tokens()[w] ?? tk[w], body: rt.method === 'GET' ? undefined : b, type: 'application/json' });
        assert.ok(r.status < 500, `${rt.method} ${rt.path} → ${r.status} ${r.text.slice(0, 300)}`);
        const now = await fingerprint();
        if (FORGED.has(w)) {
          // Refused (401), or turned away before any handler runs: no such route, or a path that is not
          // even decodable (400 from the router).
          const before = (r.status === 404 && r.text.includes('no route')) || (r.status === 400 && r.text.includes('Failed to decode param'));
          assert.ok(r.status === 401 || before, `${w} token: ${rt.method} ${rt.path} → ${r.status} ${r.text.slice(0, 200)}`);
        }
        if ((w === 'otherRoom' || w === 'otherRoomHost') && rt.path.includes(`/rooms/${ROOM}/`)) {
          const undecodable = r.status === 400 && r.text.includes('Failed to decode param');
          assert.ok(r.status === 403 || r.status === 401 || r.status === 404 || undecodable, `${w} read ${rt.path}: ${r.status}`);
          assert.ok(!r.text.includes('"metrics"'), 'no room data for another room');
        }
        if (r.status >= 400) assert.equal(now, state, `${rt.method} ${rt.path} (${r.status}) changed Redis`);
        else if (now !== state) writes++;
        state = now;
      }),
      { numRuns: 900, seed: 777 },
    );
    assertNoPollution();
    await assertAlive();
    console.log(`# routes: 900 requests, ${writes} accepted writes`);
  });

  test('socket room:join / room:leave / suggestion:ack: random payloads, missing acks → error acks, no crash, no writes; forged tokens cannot connect', async () => {
    const tk = tokens();
    for (const w of FORGED) {
      const s = io(crest.url, { auth: w === 'none' ? {} : { token: tk[w as keyof typeof tk] }, transports: ['websocket'], reconnection: false, forceNew: true });
      const err = await new Promise<Error | null>((ok) => {
        s.once('connect', () => ok(null));
        s.once('connect_error', (e) => ok(e));
      });
      s.disconnect();
      assert.ok(err, `a ${w} token connected`);
    }

    const sockets: Record<string, TestSocket> = {
      admin: await crest.socket(tk.admin),
      operator: await crest.socket(tk.operator),
      otherRoom: await crest.socket(tk.otherRoom),
    };
    const pushes: string[] = [];
    sockets.otherRoom!.onAny((ev, msg: { room?: string }) => pushes.push(`${ev}:${msg?.room}`));
    // Under the socket message limit (maxHttpBufferSize, 64 KB): a bigger message closes the connection,
    // which is checked once at the end.
    const small = fc.oneof(fc.anything({ maxDepth: 3 }), fc.constantFrom('__proto__', 'constructor', null, true, [], {}, '', -1, 2 ** 53), fc.string({ maxLength: 300 }), fc.double());
    const payload = fc.oneof(
      small,
      fc.record({ room: fc.oneof(fc.constantFrom(ROOM, OTHER, '__proto__'), small), since: fc.oneof(fc.constantFrom('0-0', '1-1', '99999999999999999999-99999999999999999999', '-', '+', '$'), small), id: small }, { requiredKeys: [] }),
      protoBodies.map((t) => JSON.parse(t) as unknown),
    );
    const event = fc.constantFrom('room:join', 'room:leave', 'suggestion:ack', 'unknown:event', '__proto__');
    let state = await fingerprint();
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('admin', 'operator', 'otherRoom'), event, payload, fc.boolean(), async (who, ev, p, withAck) => {
        const s = sockets[who]!;
        const emit = s as unknown as { timeout(ms: number): { emitWithAck(ev: string, ...a: unknown[]): Promise<unknown> }; emit(ev: string, ...a: unknown[]): void };
        if (withAck && ev !== 'unknown:event' && ev !== '__proto__') {
          const res = (await emit.timeout(3_000).emitWithAck(ev, p)) as { ok: boolean; error?: { code: string } };
          answered++;
          if (who === 'otherRoom' && res.ok && ev !== 'room:leave') {
            // The only thing another room's token may do is its own room.
            assert.equal((p as { room?: unknown })?.room, OTHER);
          }
          if (!res.ok && ev !== 'room:leave') assert.ok(res.error && typeof res.error.code === 'string', 'res.error && typeof res.error.code === \'string\'');
        } else {
          emit.emit(ev, p);
        }
        assert.ok(s.connected, 'the socket is still connected');
        const now = await fingerprint();
        // Acks of suggestions that do not exist write nothing; joins and leaves never write.
        assert.equal(now, state, `${ev} ${JSON.stringify(p)?.slice(0, 200)} changed Redis`);
        state = now;
      }),
      { numRuns: 900, seed: 99 },
    );
    // A message over the limit closes that one connection; the server goes on.
    const big = await crest.socket(tk.operator);
    const closed = new Promise<string>((ok) => big.once('disconnect', (why) => ok(why)));
    big.emit('room:join', { room: ROOM, since: 'x'.repeat(200_000) } as never, () => undefined);
    assert.equal(await closed, 'transport close');
    // Still serving: a well-formed join works on every socket, and the other-room socket got nothing of ROOM.
    assert.equal((await join(sockets.admin!, ROOM)).ok, true);
    assert.equal((await join(sockets.otherRoom!, ROOM)).ok, false);
    assert.ok(!pushes.some((p) => p.endsWith(`:${ROOM}`)), `another room's token got pushes of ${ROOM}`);
    assertNoPollution();
    await assertAlive();
    console.log(`# sockets: 900 messages, ${answered} answered by ack`);
  });
});
