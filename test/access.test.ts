/**
 * Role-based access: a token for room A never reads room B, over REST or socket.io, and the answer
 * for B is the same whether or not B exists. Malformed socket payloads get an error ack, not a crash.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { signToken } from '../server/auth/token.ts';
import { join, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
const T0 = Date.now() - 60_000;

before(async () => {
  crest = await startTestCrest();
  const events = ['room-a', 'room-b'].flatMap((room) => [
    { id: `${room}-1`, room, ts: T0, type: 'stream.start' },
    { id: `${room}-2`, room, ts: T0 + 1000, type: 'room.online', count: 50 },
  ]);
  assert.equal((await crest.post(events)).status, 200);
  await waitFor('rooms committed', 10_000, async () => {
    const r = await (await crest.api('/api/v1/rooms', { token: crest.token('admin', '*') })).json();
    return r.rooms.length >= 2 ? true : undefined;
  });
});
after(async () => {
  await crest.close();
});
exitsWithin();

describe('REST', () => {
  test('a host token for room A reads A, and gets the same 403 for existing room B and for a room that does not exist', async () => {
    const hostA = crest.token('host', ['room-a']);
    assert.equal((await crest.api('/api/v1/rooms/room-a/state', { token: hostA })).status, 200);
    const b = await crest.api('/api/v1/rooms/room-b/state', { token: hostA });
    const ghost = await crest.api('/api/v1/rooms/room-ghost/state', { token: hostA });
    assert.equal(b.status, 403);
    assert.equal(ghost.status, 403);
    const [bb, gb] = [await b.json(), await ghost.json()];
    assert.equal(bb.error.code, gb.error.code);
    for (const path of ['windows', 'suggestions', 'series']) {
      assert.equal((await crest.api(`/api/v1/rooms/room-b/${path}`, { token: hostA })).status, 403, path);
    }
  });

  test('the room list shows only the rooms in the token', async () => {
    const r = await (await crest.api('/api/v1/rooms', { token: crest.token('operator', ['room-a']) })).json();
    assert.deepEqual(r.rooms.map((x: { room: string }) => x.room), ['room-a']);
  });

  test('an ingest token cannot read rooms; no token is 401', async () => {
    assert.equal((await crest.api('/api/v1/rooms/room-a/state', { token: crest.token('ingest', '*') })).status, 403);
    assert.equal((await crest.api('/api/v1/rooms/room-a/state')).status, 401);
  });

  test('a token signed with another secret, or tampered with, is 401', async () => {
    const forged = signToken('another-secret-0123456789', { role: 'admin', rooms: '*', ttlS: 600 });
    assert.equal((await crest.api('/api/v1/rooms', { token: forged })).status, 401);
    const good = crest.token('host', ['room-a']);
    const [p, payload, sig] = good.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), rooms: '*' })).toString('base64url');
    assert.equal((await crest.api('/api/v1/rooms/room-b/state', { token: `${p}.${widened}.${sig}` })).status, 401);
  });
});

describe('socket.io', () => {
  test('a host token for room A cannot join room B (existing or not) and receives none of its pushes', async () => {
    const s = await crest.socket(crest.token('host', ['room-a']));
    const ticks: string[] = [];
    s.on('room:tick', (m) => ticks.push(m.room));
    const a = await join(s, 'room-a');
    assert.equal(a.ok, true);
    const b = await join(s, 'room-b');
    const ghost = await join(s, 'room-ghost');
    assert.equal(b.ok, false);
    assert.equal(ghost.ok, false);
    if (!b.ok && !ghost.ok) {
      assert.equal(b.error.code, 'forbidden');
      assert.equal(b.error.code, ghost.error.code);
    }
    await crest.post([{ id: 'b-more', room: 'room-b', ts: T0 + 5000, type: 'room.online', count: 60 }]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!ticks.includes('room-b'), '!ticks.includes(\'room-b\')');
  });

  test('connecting without a token, with a bad one, or with an ingest token is refused', async () => {
    for (const auth of [{}, { token: 'nope' }, { token: crest.token('ingest', '*') }]) {
      const s = io(crest.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      const err = await new Promise<Error>((ok) => s.once('connect_error', ok));
      assert.match(err.message, /token|forbidden|unauthorized/);
      s.disconnect();
    }
  });

  test('malformed socket payloads get an error ack naming the field, and the socket keeps working', async () => {
    const s = await crest.socket(crest.token('operator', '*'));
    const bad1 = await s.timeout(3000).emitWithAck('room:join', { room: 'bad room' } as never);
    assert.equal(bad1.ok, false);
    if (!bad1.ok) assert.equal(bad1.error.field, 'room');
    const bad2 = await s.timeout(3000).emitWithAck('room:join', { room: 'room-a', extra: 1 } as never);
    assert.equal(bad2.ok, false);
    if (!bad2.ok) assert.equal(bad2.error.field, 'extra');
    const bad3 = await s.timeout(3000).emitWithAck('room:join', 'just a string' as never);
    assert.equal(bad3.ok, false);
    const bad4 = await s.timeout(3000).emitWithAck('suggestion:ack', { room: 'room-a' } as never);
    assert.equal(bad4.ok, false);
    if (!bad4.ok) assert.equal(bad4.error.field, 'id');
    // Emits without an ack callback must not crash the server either.
    (s as unknown as { emit(ev: string, payload: unknown): void }).emit('room:join', { room: 42 });
    const good = await join(s, 'room-a');
    assert.equal(good.ok, true);
  });
});
