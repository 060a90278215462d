/**
 * ingest.lua takes every group's dedupe members as one JSON argument (decoded by cjson) and their events as one
 * newline-joined argument, instead of two arguments per event. Checked against the per-argument version it replaced (test/fixtures/ingest-per-arg.lua)
 * on a real Redis, one database each: random sequences of calls over random shards — odd ids and events (quotes,
 * backslashes, newlines, NUL, emoji, lone surrogates, U+FFFD), the same member twice in a call, again in a later
 * call, already in the current or previous bucket's set, shards over the lag limit, a request id or none, a call
 * in the wrong bucket — must give the same replies and leave every key byte-identical (stream entries, sets,
 * hashes, expiry times; stream ids aside, they are Redis's clock).
 */
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { useTestRedis } from './support/redis.ts';
import { ingestArgs } from '../server/ingest-service.ts';
import { keys } from '../server/redis-keys.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = useTestRedis();
const JSON_ARG = readFileSync(new URL('../server/lua/ingest.lua', import.meta.url), 'utf8');
const PER_ARG = readFileSync(new URL('./fixtures/ingest-per-arg.lua', import.meta.url), 'utf8');
const WIDTH = 1_000_000; // seconds: a bucket edge falls inside a run once in ~11 days
const MAX_LAG = 6;

/** db 0 runs the old script, db 1 the new one: the same key names on both, so whole databases compare. */
let other: Redis;
const openOther = () => (other ??= new Redis(rig.server.url, { db: 1 }));
after(() => other?.disconnect());
// After the hooks above: they must run before the watch's.
exitsWithin();

const odd = fc.constantFrom('a"b', 'c\\d', 'e\nf', 'g\u0000h', '观众😀', 'x\uD800y', 'x\uFFFDy', '\uDC00', '\\ud800', '"', '\\', '[', ']', ',', '');
const text = fc.array(fc.oneof(odd, fc.string({ maxLength: 3 })), { maxLength: 4 }).map((a) => a.join(''));
const room = fc.constantFrom('r1', 'r.2', 'r_3');
const id = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 12 }).map((i) => `i${i}`) }, { weight: 1, arbitrary: text.filter((t) => t.length > 0) });
/**
 * An event as ingest stores it (JSON.stringify of a valid event), or now and then any string without a raw
 * newline (JSON text never holds one; the script refuses a call whose events do, below).
 */
const event = fc.tuple(room, id, text, fc.boolean()).map(([r, i, t, raw]) => ({
  member: `${r}:${i}`,
  json: raw ? t.replaceAll('\n', '\\n') : JSON.stringify({ id: i, room: r, ts: 1_700_000_000_000, type: 'engage.comment', viewer: t || 'v' }),
}));
const members = fc.array(fc.tuple(room, id).map(([r, i]) => `${r}:${i}`), { maxLength: 6 });
const shardSeed = fc.record({ cur: members, prev: members, old: members, added: fc.nat(12), processed: fc.nat(6) });
const call = fc.record({
  groups: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(event, { minLength: 1, maxLength: 8 })), { minLength: 1, maxLength: 3, selector: ([s]) => s }),
  rid: fc.constantFrom<string>('', 'req-1', 'q"\\'),
  wrongBucket: fc.boolean().map((b) => b && Math.random() < 0.2),
});
type ShardSeed = typeof shardSeed extends fc.Arbitrary<infer T> ? T : never;
type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;
const caseArb = fc.record({ seeds: fc.array(shardSeed, { minLength: 4, maxLength: 4 }), calls: fc.array(call, { minLength: 1, maxLength: 4 }) });

async function seed(redis: Redis, bucket: number, seeds: ShardSeed[]): Promise<void> {
  await redis.flushdb();
  for (const [s, sd] of seeds.entries()) {
    for (const [b, list] of [[bucket, sd.cur], [bucket - 1, sd.prev], [bucket - 2, sd.old]] as const) if (list.length) await redis.sadd(keys.dedupe(s, b), ...list);
    await redis.hset(keys.checkpoint(s), '@added', sd.added, '@processed', sd.processed);
  }
}

/** One ingest.lua call, as IngestService makes it (new) or as it made it (old): the reply, or the error's text. */
async function run(redis: Redis, source: string, bucket: number, c: Call): Promise<unknown> {
  const keyList = c.groups.flatMap(([s]) => [keys.events(s), keys.checkpoint(s), keys.dedupe(s, bucket), keys.dedupe(s, bucket - 1), keys.dedupe(s, bucket - 2)]);
  const batches = c.groups.map(([, evs]) => ({ members: evs.map((e) => e.member), json: evs.map((e) => e.json) }));
  const { counts, members, events } = ingestArgs(batches);
  const tail = source === JSON_ARG ? [members, events] : batches.flatMap((b) => [...b.members, ...b.json]);
  try {
    return await redis.eval(source, keyList.length, ...keyList, WIDTH, c.wrongBucket ? bucket + 1 : bucket, MAX_LAG, c.rid, ...counts, ...tail);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Every key of the database as bytes (base64): stream entries without their ids, sorted set members, expiry times. */
async function dump(redis: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const b64 = (b: Buffer) => b.toString('base64');
  for (const key of (await redis.keys('*')).sort()) {
    const type = await redis.type(key);
    let value: unknown;
    if (type === 'stream') value = (await redis.xrangeBuffer(key, '-', '+')).map(([, fields]) => fields.map(b64));
    else if (type === 'set') value = (await redis.smembersBuffer(key)).map(b64).sort();
    else if (type === 'hash') value = Object.entries(await redis.hgetallBuffer(key)).map(([k, v]) => [k, b64(v)]).sort();
    else value = type;
    out[key] = [value, await redis.call('EXPIRETIME', key)];
  }
  return out;
}

test('the two-list-argument script answers and stores exactly as the per-argument one did, on random call sequences', async () => {
  openOther();
  const [seconds] = await rig.redis.time();
  const bucket = Math.floor(Number(seconds) / WIDTH);
  let accepted = 0;
  let duplicates = 0;
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      await seed(rig.redis, bucket, c.seeds);
      await seed(other, bucket, c.seeds);
      for (const k of c.calls) {
        const [a, b] = [await run(rig.redis, PER_ARG, bucket, k), await run(other, JSON_ARG, bucket, k)];
        assert.deepEqual(b, a);
        for (const g of Array.isArray(a) ? a : []) for (const x of Array.isArray(g) ? g : []) x === 1 ? accepted++ : duplicates++;
      }
      assert.deepEqual(await dump(other), await dump(rig.redis));
    }),
    { numRuns: 250 },
  );
  // The cases did reach both answers (a property over calls that all lag would prove little).
  assert.ok(accepted > 500 && duplicates > 200, `accepted ${accepted}, duplicates ${duplicates}`);
});

test('a group bigger than one lookup slice (unpack is bounded by Lua\'s C stack) is looked up and stored whole', async () => {
  openOther();
  const [seconds] = await rig.redis.time();
  const bucket = Math.floor(Number(seconds) / WIDTH);
  const seeds = [{ cur: Array.from({ length: 300 }, (_, i) => `r1:i${i * 7}`), prev: Array.from({ length: 300 }, (_, i) => `r1:i${i * 11}`), old: ['r1:x'], added: 0, processed: 0 }];
  const evs = Array.from({ length: 2_600 }, (_, i) => ({ member: `r1:i${i % 2_300}`, json: JSON.stringify({ id: `i${i % 2_300}`, room: 'r1', ts: i, type: 'room.online', count: i }) }));
  const c = { groups: [[0, evs]] as [number, typeof evs][], rid: 'big', wrongBucket: false };
  await seed(rig.redis, bucket, seeds);
  await seed(other, bucket, seeds);
  const [a, b] = [await run(rig.redis, PER_ARG, bucket, c), await run(other, JSON_ARG, bucket, c)];
  assert.deepEqual(b, a);
  const [da, db] = [await dump(rig.redis), await dump(other)];
  assert.deepEqual(db, da);
  const known = new Set([...seeds[0]!.cur, ...seeds[0]!.prev]);
  const fresh = new Set(evs.map((e) => e.member).filter((m) => !known.has(m)));
  assert.equal(await other.xlen(keys.events(0)), fresh.size);
});

test('a call whose events hold a raw newline (more or fewer pieces than members) writes nothing', async () => {
  openOther();
  const [seconds] = await rig.redis.time();
  const bucket = Math.floor(Number(seconds) / WIDTH);
  await other.flushdb();
  const { counts, members } = ingestArgs([{ members: ['r1:a', 'r1:b'], json: ['{}', '{}'] }]);
  const keyList = [keys.events(0), keys.checkpoint(0), keys.dedupe(0, bucket), keys.dedupe(0, bucket - 1), keys.dedupe(0, bucket - 2)];
  for (const events of ['{}\n{\n}', '{}', '{}\n{}\n{}']) {
    await assert.rejects(other.eval(JSON_ARG, 5, ...keyList, WIDTH, bucket, MAX_LAG, '', ...counts, members, events), /CREST_ARGS/);
  }
  assert.deepEqual(await other.keys('*'), []);
});
