/**
 * Ingest's backlog guard, checked inside ingest.lua (no separate read): a shard over the lag limit writes
 * nothing; a request whose every shard lags is a 429 with nothing written anywhere. And its dedupe: one set
 * per shard and time bucket (Redis time ÷ horizon), an id looked up in the current and the previous bucket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spelling, validEvent, writeEvent } from '../test/support/event-texts.ts';
import { parseBody } from './routes/events.ts';
import { shardOf } from '../core/sharding.ts';
import { useTestRedis } from '../test/support/redis.ts';
import { HttpError } from './http-error.ts';
import { dedupeMember, dedupeRemembers, IngestService } from './ingest-service.ts';
import { keys } from './redis-keys.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

const SHARDS = 4;
const rig = useTestRedis();
// After the helper above: its after() hook must run before this one.
exitsWithin();

const enter = (room: string, id: string) => ({ id, room, ts: 1_700_000_000_000, type: 'viewer.enter', viewer: `v-${id}`, source: 'public' });

async function streamLengths(): Promise<number[]> {
  return Promise.all(Array.from({ length: SHARDS }, (_, s) => rig.redis.xlen(keys.events(s))));
}

test('a lagging shard writes nothing: 429 when every shard of the request lags, per-event rejections otherwise', async () => {
  const ingest = new IngestService(rig.redis, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 5 });
  const rooms = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const lagRoom = rooms[0]!;
  const lagShard = shardOf(lagRoom, SHARDS);
  const other = rooms.find((r) => shardOf(r, SHARDS) !== lagShard)!;
  await rig.redis.hset(keys.checkpoint(lagShard), '@added', 100, '@processed', 0);

  const before = await streamLengths();
  await assert.rejects(
    ingest.ingest([enter(lagRoom, 'x1'), enter(lagRoom, 'x2')], { rooms: '*' }),
    (err: unknown) => err instanceof HttpError && err.status === 429,
  );
  assert.deepEqual(await streamLengths(), before, '429 wrote nothing');
  assert.deepEqual(await dedupeRemembers(rig.redis, { shards: SHARDS, dedupeHorizonS: 60 }, [{ room: lagRoom, id: 'x1' }]), [false], 'not remembered by dedupe either: a resend is accepted later');

  const mixed = await ingest.ingest([enter(lagRoom, 'y1'), enter(other, 'y2')], { rooms: '*' });
  assert.equal(mixed.accepted, 1);
  assert.equal(mixed.rejected, 1);
  assert.deepEqual(mixed.errors.map((e) => e.index), [0]);
  const after = await streamLengths();
  assert.equal(after[lagShard], before[lagShard], 'the lagging shard stayed untouched');

  // Events the detector applied but whose room summary it deferred (@owed) are not backlog.
  await rig.redis.hset(keys.checkpoint(lagShard), '@processed', 40, '@owed', 60);
  const resent = await ingest.ingest([enter(lagRoom, 'x1'), enter(lagRoom, 'x2')], { rooms: '*' });
  assert.equal(resent.accepted, 2, 'once the backlog is gone, the refused events are accepted as they were');
});

// A horizon long enough that no test below runs across a bucket edge (waitAwayFromEdge makes sure).
const HORIZON = 86_400;
const opts = { shards: SHARDS, dedupeHorizonS: HORIZON, maxLag: 1_000_000 };

/** The bucket Redis is in now, after waiting out the last 2 s of a bucket (the tests pre-fill buckets by number). */
async function currentBucket(): Promise<number> {
  for (;;) {
    const [s] = await rig.redis.time();
    const into = Number(s) % HORIZON;
    if (into < HORIZON - 2) return Math.floor(Number(s) / HORIZON);
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

async function streamEvents(shard: number): Promise<{ id: string; room: string }[]> {
  const entries = await rig.redis.xrange(keys.events(shard), '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!) as { id: string; room: string });
}

test('an id is stored once: a resend, a repeat inside one request, and the same id in another room', async () => {
  await rig.redis.flushall();
  const ingest = new IngestService(rig.redis, opts);
  const first = await ingest.ingest([enter('r1', 'a'), enter('r1', 'b'), enter('r1', 'a'), enter('r2', 'a')], { rooms: '*' });
  assert.deepEqual([first.accepted, first.duplicate], [3, 1], 'the repeat inside the request is the duplicate');
  assert.deepEqual(first.duplicates, [{ index: 2, id: 'a' }]);
  const again = await ingest.ingest([enter('r2', 'a'), enter('r1', 'c'), enter('r1', 'b')], { rooms: '*' });
  assert.deepEqual([again.accepted, again.duplicate], [1, 2]);
  assert.deepEqual(again.duplicates.map((d) => d.index), [0, 2]);
  const stored = (await Promise.all(Array.from({ length: SHARDS }, (_, s) => streamEvents(s)))).flat();
  assert.deepEqual(stored.map((e) => `${e.room}/${e.id}`).sort(), ['r1/a', 'r1/b', 'r1/c', 'r2/a'], 'each (room, id) in the streams once');
  const asked = [{ room: 'r1', id: 'c' }, { room: 'r1', id: 'zz' }, { room: 'r2', id: 'a' }, { room: 'r2', id: 'b' }];
  assert.deepEqual(await dedupeRemembers(rig.redis, opts, asked), [true, false, true, false], 'dedupeRemembers answers per event');
});

test('ids with ":" cannot collide across rooms: the room has no ":", so the member splits at the first one', async () => {
  await rig.redis.flushall();
  const ingest = new IngestService(rig.redis, opts);
  // "a" + ":" + "b:c" and "a:b" + ":" + "c" would be one string, but "a:b" is no valid room.
  const r = await ingest.ingest([enter('a', 'b:c'), { ...enter('a:b', 'c') }], { rooms: '*' });
  assert.deepEqual([r.accepted, r.rejected], [1, 1]);
  assert.equal(r.errors[0]!.field, 'room');
  assert.equal(dedupeMember('a', 'b:c'), 'a:b:c');
});

test('the horizon: an id in the previous bucket is a duplicate, one two buckets back is new again', async () => {
  await rig.redis.flushall();
  const ingest = new IngestService(rig.redis, opts);
  const b = await currentBucket();
  const shard = shardOf('r1', SHARDS);
  await rig.redis.sadd(keys.dedupe(shard, b - 1), dedupeMember('r1', 'prev'));
  await rig.redis.sadd(keys.dedupe(shard, b - 2), dedupeMember('r1', 'old'));
  const r = await ingest.ingest([enter('r1', 'prev'), enter('r1', 'old'), enter('r1', 'new')], { rooms: '*' });
  assert.deepEqual(r.duplicates.map((d) => d.id), ['prev'], 'remembered from the previous bucket only');
  assert.equal(r.accepted, 2);
  assert.equal(await rig.redis.exists(keys.dedupe(shard, b - 2)), 0, 'the bucket no longer looked in is unlinked by the write');
  assert.deepEqual((await rig.redis.smembers(keys.dedupe(shard, b))).sort(), ['r1:new', 'r1:old'], 'accepted ids go to the current bucket');
  // Looked in until the end of bucket b+1; the expiry, a bucket later, only reclaims a quiet shard's sets.
  assert.equal(await rig.redis.expiretime(keys.dedupe(shard, b)), (b + 3) * HORIZON);
  const ttlBefore = await rig.redis.expiretime(keys.dedupe(shard, b));
  await ingest.ingest([enter('r1', 'later')], { rooms: '*' });
  assert.equal(await rig.redis.expiretime(keys.dedupe(shard, b)), ttlBefore, 'the expiry is set once per bucket');
});

test('a client clock in another bucket than Redis: the script refuses, names its bucket, and the retry stores once', async () => {
  await rig.redis.flushall();
  const b = await currentBucket();
  const realNow = Date.now;
  // A clock a whole horizon ahead: the service names bucket b+1 first.
  Date.now = () => realNow() + HORIZON * 1000;
  try {
    const ingest = new IngestService(rig.redis, opts);
    const r = await ingest.ingest([enter('r1', 'skew')], { rooms: '*' });
    assert.equal(r.accepted, 1);
  } finally {
    Date.now = realNow;
  }
  const shard = shardOf('r1', SHARDS);
  assert.equal(await rig.redis.exists(keys.dedupe(shard, b + 1)), 0, 'nothing written under the client\'s bucket');
  assert.equal(await rig.redis.sismember(keys.dedupe(shard, b), 'r1:skew'), 1, 'stored under Redis\'s bucket');
  assert.equal(await rig.redis.xlen(keys.events(shard)), 1, 'appended once');
  const again = await new IngestService(rig.redis, opts).ingest([enter('r1', 'skew')], { rooms: '*' });
  assert.equal(again.duplicate, 1, 'and a resend with a right clock is a duplicate');
});

test('batches past the script\'s slice size (1,000 ids) keep every answer in place', async () => {
  await rig.redis.flushall();
  const ingest = new IngestService(rig.redis, opts);
  const n = 2_500;
  const first = Array.from({ length: n }, (_, i) => enter('big', `e${i}`));
  const r1 = await ingest.ingest(first, { rooms: '*' });
  assert.equal(r1.accepted, n);
  // Every third one again, in a request that also repeats an id of its own far apart (index 10 and 2,400).
  const second = Array.from({ length: n }, (_, i) => enter('big', i % 3 === 0 ? `e${i}` : `f${i}`));
  second[2_400] = enter('big', 'f10');
  const r2 = await ingest.ingest(second, { rooms: '*' });
  const expectDup = second.map((e, i) => i).filter((i) => i % 3 === 0 || i === 2_400);
  assert.deepEqual(r2.duplicates.map((d) => d.index), expectDup, 'duplicates at the right indexes');
  assert.equal(r2.accepted, n - expectDup.length);
  assert.equal(await rig.redis.xlen(keys.events(shardOf('big', SHARDS))), n + r2.accepted, 'stream holds exactly the accepted events');
});

test('an event stored from its own request text is the very string the JSON.stringify path stored, with the same answers', async () => {
  // Bodies as an HTTP client may write them (canonical, or with other key orders, spacing, 1e3, \u escapes, a
  // repeated key), through the route's parser; then the same items again without their texts (the old path).
  const stored = async () => Promise.all(Array.from({ length: SHARDS }, async (_, s) => (await rig.redis.xrange(keys.events(s), '-', '+')).map(([, f]) => f[1]!)));
  const events = fc.array(fc.oneof(validEvent.map((ev) => [ev, undefined] as const), validEvent.chain((ev) => fc.tuple(fc.constant(ev), spelling(Object.keys(ev).length)))), {
    minLength: 1,
    maxLength: 12,
  });
  let fast = 0;
  await fc.assert(
    fc.asyncProperty(events, fc.boolean(), async (evs, ndjson) => {
      const parts = evs.map(([ev, sp]) => writeEvent(ev, sp).replace(/\n/g, ndjson ? ' ' : '\n'));
      const { items, texts } = parseBody(ndjson ? parts.join('\n') : `[${parts.join(',')}]`, ndjson ? 'application/x-ndjson' : 'application/json');
      fast += texts.filter((t) => t !== undefined).length;
      await rig.redis.flushall();
      const viaText = await new IngestService(rig.redis, opts).ingest(items, { rooms: '*' }, { texts });
      const textStored = await stored();
      await rig.redis.flushall();
      const viaStringify = await new IngestService(rig.redis, opts).ingest(items, { rooms: '*' });
      assert.deepEqual(viaText, viaStringify);
      assert.deepEqual(textStored, await stored());
      assert.equal(viaText.rejected, 0, JSON.stringify(viaText.errors));
    }),
    { numRuns: 80 },
  );
  // Most random strings hold a character JSON escapes (their text is never taken): a few dozen canonical ones is enough.
  assert.ok(fast > 20, `the text was used for ${fast} events`);
});
