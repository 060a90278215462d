/**
 * The chart series API at 1 s, 10 s and 1 min against a real Crest (real Redis, detector, checkpoint): the
 * 10 s / 1 min points equal an aggregation of the 1 s points done here, and the buckets inside the event span
 * equal what the events themselves say; roll-ups are idempotent; access is per room.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesBucketPoint, SeriesPoint } from '../core/protocol.ts';
import { rollUpRoom, seriesKeys, SeriesRoller } from '../server/series-rollup.ts';
import { shardOf } from '../core/sharding.ts';
import { silentLogger } from '../server/logger.ts';
import { Redis } from 'ioredis';
import { startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const room = 'series-1';
let crest: TestCrest;
let redis: Redis;
let op: string;
// Aligned to the minute, 10 min in the past: platform counts 100 + s at s + 0.5 s, for s = 0..179.
const t0 = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
const LAST = 179;

before(async () => {
  crest = await startTestCrest();
  redis = new Redis(crest.redis.url);
  op = crest.token('operator', [room], 'op-series');
  const events: Record<string, unknown>[] = [];
  for (let s = 0; s <= LAST; s++) events.push({ id: `${room}-c${s}`, room, ts: t0 + s * 1000 + 500, type: 'room.online', count: 100 + s });
  events.push({ id: `${room}-o1`, room, ts: t0 + 15_200, type: 'order.paid', order: 'o1', amount: 500 });
  events.sort((a, b) => (a.ts as number) - (b.ts as number));
  const r = await crest.post(events);
  assert.equal(r.status, 200, await r.text());
  await waitFor('1 s points up to the last event', 20_000, async () => {
    const pts = await series<SeriesPoint>('?res=1s');
    return pts.some((p) => p.ts >= t0 + LAST * 1000) ? pts : undefined;
  });
});
after(async () => {
  redis.disconnect();
  await crest.close();
});
exitsWithin();

async function series<T>(query: string, token = op): Promise<T[]> {
  const res = await crest.api(`/api/v1/rooms/${room}/series${query}`, { token });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { points: T[] }).points;
}

/** Buckets of `sizeMs` over 1 s points, as the API should give them (the last one partial). */
function aggregate(points: SeriesPoint[], sizeMs: number): SeriesBucketPoint[] {
  const out: SeriesBucketPoint[] = [];
  for (const p of points) {
    const b = p.ts - (p.ts % sizeMs);
    let cur = out.at(-1);
    if (!cur || cur.ts !== b) out.push((cur = { ts: b, concurrency: 0, concurrencyPeak: 0, gmv: 0, orders: 0, samples: 0, partial: false }));
    cur.concurrency += p.concurrency; // a sum until the end
    cur.samples++;
    cur.concurrencyPeak = Math.max(cur.concurrencyPeak, p.concurrency);
    cur.gmv = p.gmv;
    cur.orders = p.orders;
  }
  for (const b of out) b.concurrency = Math.round((b.concurrency / b.samples) * 10) / 10;
  return out;
}

for (const [res, size] of [['10s', 10_000], ['1m', 60_000]] as const) {
  test(`res=${res}: complete buckets equal an aggregation of the 1 s points; the newest is partial`, async () => {
    const seconds = await series<SeriesPoint>('?res=1s');
    const rolled = await series<SeriesBucketPoint>(`?res=${res}&limit=100`);
    const lastSecondBucket = seconds.at(-1)!.ts - (seconds.at(-1)!.ts % size);
    // Compare what is complete at the time of the 1 s read (ticks keep coming from the worker's clock).
    const expected = aggregate(seconds, size).filter((b) => b.ts < lastSecondBucket);
    const got = rolled.filter((b) => b.ts < lastSecondBucket);
    assert.ok(expected.length >= (res === '10s' ? 17 : 2), 'expected.length >= (res === \'10s\' ? 17 : 2)');
    assert.deepEqual(got, expected);
    assert.ok(got.every((b) => !b.partial), 'got.every((b) => !b.partial)');
    assert.equal(rolled.at(-1)!.partial, true);
    assert.ok(rolled.slice(0, -1).every((b) => !b.partial), 'only the newest bucket is partial');
    const ts = rolled.map((b) => b.ts);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
    assert.ok(ts.every((t) => t % size === 0), 'ts.every((t) => t % size === 0)');
  });
}

test('buckets inside the event span equal what the events say (tick at s shows the count sent at s − 0.5)', async () => {
  const tens = await series<SeriesBucketPoint>('?res=10s&limit=100');
  const b10 = tens.find((b) => b.ts === t0 + 10_000)!;
  // Points at 10..19 s carry counts 109..118; the order (15.2 s) is in from the 16 s point on.
  assert.deepEqual(b10, { ts: t0 + 10_000, concurrency: 113.5, concurrencyPeak: 118, gmv: 500, orders: 1, samples: 10, partial: false });
  assert.deepEqual(tens.find((b) => b.ts === t0)!, { ts: t0, concurrency: 104, concurrencyPeak: 108, gmv: 0, orders: 0, samples: 9, partial: false });
  const mins = await series<SeriesBucketPoint>('?res=1m');
  assert.deepEqual(mins.find((b) => b.ts === t0 + 60_000)!, { ts: t0 + 60_000, concurrency: 188.5, concurrencyPeak: 218, gmv: 500, orders: 1, samples: 60, partial: false });
  assert.deepEqual(mins.find((b) => b.ts === t0)!, { ts: t0, concurrency: 129, concurrencyPeak: 158, gmv: 500, orders: 1, samples: 59, partial: false });
});

test('limit takes the newest points; roll-ups are idempotent, also from a background roller, and expire', async () => {
  const all = await series<SeriesBucketPoint>('?res=10s&limit=2160');
  const two = await series<SeriesBucketPoint>('?res=10s&limit=2');
  assert.equal(two.length, 2);
  assert.equal(two[0]!.ts, all.at(-2)!.ts);
  const shard = shardOf(room, crest.config.shards);
  const key = seriesKeys.rollup(shard, room, '10s');
  const before = await redis.lrange(key, 0, -1);
  await Promise.all([rollUpRoom(redis, crest.config.shards, room), new SeriesRoller(redis, crest.config.shards, silentLogger).rollAll()]);
  const afterRoll = await redis.lrange(key, 0, -1);
  assert.deepEqual(afterRoll.slice(0, before.length), before, 'nothing rewritten');
  assert.equal(new Set(afterRoll.map((l) => l.split(',')[0])).size, afterRoll.length, 'no bucket twice');
  assert.ok((await redis.ttl(key)) > 24 * 3_600, '(await redis.ttl(key)) > 24 * 3_600');
});

test('bad res or limit is a 400 naming the field; another room\'s token is 403; hosts and buyers may read', async () => {
  const get = (q: string, token = op) => crest.api(`/api/v1/rooms/${room}/series${q}`, { token });
  for (const [q, field] of [['?res=5s', 'res'], ['?res=10s&limit=0', 'limit'], ['?res=1m&limit=1441', 'limit'], ['?limit=abc', 'limit'], ['?res=1s&res=1m', 'res']] as const) {
    const r = await get(q);
    assert.equal(r.status, 400, q);
    assert.equal(((await r.json()) as { error: { field: string } }).error.field, field, q);
  }
  assert.equal((await get('?res=10s', crest.token('operator', ['other-room']))).status, 403);
  assert.equal((await get('?res=1m', crest.token('host', [room]))).status, 200);
  assert.equal((await get('?res=1m', crest.token('buyer', [room]))).status, 200);
  assert.equal((await crest.api('/api/v1/rooms/nobody/series?res=10s', { token: crest.token('operator', '*') })).status, 404);
});
