/**
 * POST /api/v1/events against a real Crest and a real Redis: good events are stored once, bad ones
 * are refused with the field and the reason, and the server keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keys } from '../server/redis-keys.ts';
import { Redis } from 'ioredis';
import { startTestCrest, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
let redis: Redis;
const T0 = Date.UTC(2026, 10, 25, 12);

before(async () => {
  crest = await startTestCrest({ CREST_MAX_EVENTS_PER_REQUEST: '50', CREST_MAX_BODY_BYTES: '20000', CREST_ROLES: 'api' });
  redis = new Redis(crest.redisUrl);
});
after(async () => {
  redis.disconnect();
  await crest.close();
});
exitsWithin();

async function streamLength(): Promise<number> {
  let n = 0;
  for (let s = 0; s < crest.config.shards; s++) n += await redis.xlen(keys.events(s));
  return n;
}

const enter = (id: string, room = 'r1') => ({ id, room, ts: T0, type: 'viewer.enter', viewer: 'v1', source: 'public' });

describe('ingest API', () => {
  test('accepts a JSON array and stores each event once; a resend is reported as duplicate', async () => {
    const before = await streamLength();
    const batch = [enter('a1'), enter('a2'), { id: 'a3', room: 'r2', ts: T0, type: 'room.online', count: 10 }];
    const r1 = await crest.post(batch);
    assert.equal(r1.status, 200);
    const b1 = await r1.json();
    assert.deepEqual([b1.accepted, b1.duplicate, b1.rejected], [3, 0, 0]);
    const r2 = await crest.post(batch);
    const b2 = await r2.json();
    assert.deepEqual([b2.accepted, b2.duplicate], [0, 3]);
    assert.deepEqual(b2.duplicates.map((d: { index: number }) => d.index), [0, 1, 2]);
    assert.equal((await streamLength()) - before, 3);
  });

  test('the same id twice in one request is stored once', async () => {
    const b = await (await crest.post([enter('same'), enter('same')])).json();
    assert.deepEqual([b.accepted, b.duplicate], [1, 1]);
  });

  test('the same id in two rooms is two events (ids are unique within a room)', async () => {
    const b = await (await crest.post([enter('shared', 'rA'), enter('shared', 'rB')])).json();
    assert.equal(b.accepted, 2);
  });

  test('NDJSON is accepted, and a line that is not JSON is rejected at its index', async () => {
    const body = [JSON.stringify(enter('n1')), '{not json', JSON.stringify(enter('n2'))].join('\n');
    const r = await crest.api('/api/v1/events', {
      method: 'POST',
      token: crest.token('ingest', '*'),
      body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.accepted, 2);
    assert.equal(b.errors[0].index, 1);
    assert.match(b.errors[0].reason, /invalid JSON on line 2/);
  });

  const rejects: [string, Record<string, unknown>, string, RegExp][] = [
    ['unknown type', { ...enter('x1'), type: 'viewer.teleport' }, 'type', /unknown event type/],
    ['extra field', { ...enter('x2'), colour: 'red' }, 'colour', /unknown field/],
    ['wrong type', { ...enter('x3'), ts: 'yesterday' }, 'ts', /number/],
    ['bad source', { ...enter('x4'), source: 'tv' }, 'source', /follow/],
    ['missing field', { id: 'x5', room: 'r1', ts: T0, type: 'viewer.enter', source: 'paid' }, 'viewer', /required/],
    ['bad room id', { ...enter('x6'), room: 'no spaces allowed' }, 'room', /A-Z/],
    ['negative money', { id: 'x7', room: 'r1', ts: T0, type: 'order.paid', order: 'o', amount: -5 }, 'amount', /./],
    ['fractional money', { id: 'x8', room: 'r1', ts: T0, type: 'order.paid', order: 'o', amount: 9.99 }, 'amount', /minor units/],
  ];
  for (const [name, event, field, reason] of rejects) {
    test(`rejects ${name}, naming field "${field}", and stores nothing`, async () => {
      const before = await streamLength();
      const r = await crest.post([event]);
      assert.equal(r.status, 400);
      const b = await r.json();
      assert.equal(b.rejected, 1);
      assert.equal(b.errors[0].index, 0);
      assert.equal(b.errors[0].field, field);
      assert.match(b.errors[0].reason, reason);
      assert.equal(await streamLength(), before);
    });
  }

  test('a mixed batch stores the good events and reports the bad ones by index', async () => {
    const r = await crest.post([enter('m1'), { ...enter('m2'), type: 'nope' }, enter('m3')]);
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.deepEqual([b.accepted, b.rejected], [2, 1]);
    assert.equal(b.errors[0].index, 1);
  });

  test('invalid JSON, empty body, oversize body and too many events are 4xx with a reason', async () => {
    const token = crest.token('ingest', '*');
    const bad = await crest.api('/api/v1/events', { method: 'POST', token, body: '[{"id":', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.field, 'body');
    const empty = await crest.api('/api/v1/events', { method: 'POST', token, body: '', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.status, 400);
    const big = await crest.api('/api/v1/events', { method: 'POST', token, body: JSON.stringify([enter('b'.repeat(100))]).padEnd(30_000, ' '), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, 'too-large');
    const many = await crest.post(Array.from({ length: 51 }, (_, i) => enter(`many${i}`)));
    assert.equal(many.status, 413);
    assert.match((await many.json()).error.reason, /at most 50/);
  });

  test('auth: no token 401, bad token 401, expired 401, wrong role 403, other room rejected per event', async () => {
    const body = JSON.stringify([enter('auth1')]);
    const h = { 'content-type': 'application/json' };
    assert.equal((await crest.api('/api/v1/events', { method: 'POST', body, headers: h })).status, 401);
    assert.equal((await crest.api('/api/v1/events', { method: 'POST', body, headers: h, token: 'crest1.abc.def' })).status, 401);
    const { signToken } = await import('../server/auth/token.ts');
    const expired = signToken(crest.tokenSecret, { role: 'ingest', rooms: '*', ttlS: 60, nowMs: Date.now() - 3_600_000 });
    const re = await crest.api('/api/v1/events', { method: 'POST', body, headers: h, token: expired });
    assert.equal(re.status, 401);
    assert.equal((await re.json()).error.code, 'token-expired');
    assert.equal((await crest.post([enter('auth2')], crest.token('host', '*'))).status, 403);
    const scoped = await crest.post([enter('auth3', 'r1'), enter('auth4', 'other')], crest.token('ingest', ['r1']));
    const b = await scoped.json();
    assert.equal(b.accepted, 1);
    assert.deepEqual(b.errors.map((e: { index: number; field: string }) => [e.index, e.field]), [[1, 'room']]);
  });

  test('keeps serving after all of the above', async () => {
    const r = await crest.api('/healthz');
    assert.equal(r.status, 200);
  });
});
