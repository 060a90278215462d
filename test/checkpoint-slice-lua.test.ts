/**
 * checkpoint-slice.lua writes a slice in a few bulk calls (HMGET / SMISMEMBER to read, HSET / HDEL / SADD in
 * chunks to write) instead of several calls per entry, from one JSON argument instead of one argument per item. Checked against the per-entry version it replaced
 * (test/fixtures/checkpoint-slice-per-entry.lua, the straightforward reading of the undo-log rules) on a real
 * Redis: random stored parts, a random undo log left by earlier slices of the attempt, and random slices —
 * sessions closed and put, the same viewer in both or twice, members already stored or new, repeated, more
 * than one chunk — must leave every key identical, in each mode ('' with the undo log, 'f' / 'F' fresh keys).
 */
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { useTestRedis } from './support/redis.ts';
import { luaJsonArray } from '../server/lua/json-argument.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = useTestRedis();
// After the helper above: its after() hook must run before this one.
exitsWithin();
const BULK = readFileSync(new URL('../server/lua/checkpoint-slice.lua', import.meta.url), 'utf8');
const PER_ENTRY = readFileSync(new URL('./fixtures/checkpoint-slice-per-entry.lua', import.meta.url), 'utf8');
const WORKER = 'w1';

/** The eleven keys of one room, under a prefix per script so both run side by side on the same Redis. */
function keysOf(prefix: string): string[] {
  return ['lease', 'ckpt', 'sess', 'uniq', 'pay', 'sess-undo', 'uniq-undo', 'pay-undo', 'sess-fresh', 'uniq-fresh', 'pay-fresh'].map((k) => `{t}:${prefix}:${k}`);
}

interface Case {
  stored: [string, string][];
  undo: [string, string][];
  uniq: string[];
  uniqUndo: string[];
  pay: string[];
  fresh: [string, string][];
  mode: '' | 'f' | 'F';
  closed: string[];
  put: [string, string][];
  newUniq: string[];
  newPay: string[];
}

// A small id space, so closed / put / stored / logged viewers and members overlap often; now and then a viewer
// id the one JSON argument must carry exactly (quotes, backslashes, newlines, NUL, emoji, a lone surrogate).
const oddViewer = fc.constantFrom('a"b', 'c\\d', 'e\nf', 'g\u0000h', '观众😀', 'x\uD800y', '\uDC00', '\\ud800');
const viewer = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => `v${i}`) }, { weight: 1, arbitrary: oddViewer });
const session = fc.tuple(fc.constantFrom('p', 'f', 'a'), fc.nat(99_999), fc.nat(99_999)).map(([s, a, b]) => `${s},${a},${b}`);
const pairs = (max: number) => fc.array(fc.tuple(viewer, session), { maxLength: max });
const caseArb: fc.Arbitrary<Case> = fc.record({
  stored: pairs(30),
  undo: pairs(10),
  uniq: fc.array(viewer, { maxLength: 30 }),
  uniqUndo: fc.array(viewer, { maxLength: 5 }),
  pay: fc.array(viewer, { maxLength: 10 }),
  fresh: pairs(5),
  mode: fc.constantFrom('' as const, '' as const, 'f' as const, 'F' as const),
  closed: fc.array(viewer, { maxLength: 15 }),
  put: pairs(30),
  newUniq: fc.array(viewer, { maxLength: 20 }),
  newPay: fc.array(viewer, { maxLength: 8 }),
});

async function seed(k: string[], c: Case): Promise<void> {
  const r = rig.redis;
  await r.del(...k);
  await r.set(k[0]!, WORKER);
  const hset = async (key: string, list: [string, string][]) => (list.length ? r.hset(key, ...list.flat()) : 0);
  const sadd = async (key: string, list: string[]) => (list.length ? r.sadd(key, ...list) : 0);
  await hset(k[2]!, c.stored);
  await hset(k[5]!, c.undo);
  await sadd(k[3]!, c.uniq);
  await sadd(k[6]!, c.uniqUndo);
  await sadd(k[4]!, c.pay);
  await hset(k[8]!, c.fresh);
}

/** The bulk script takes the lists as one JSON argument (as the worker sends them), the per-entry one as arguments. */
async function run(source: string, k: string[], c: Case): Promise<unknown> {
  const items = [...c.closed, ...c.put.flat(), ...c.newUniq, ...c.newPay];
  const head = [WORKER, 'room-1', c.mode, c.closed.length, c.put.length * 2, c.newUniq.length, c.newPay.length];
  const args = source === BULK ? [...head, luaJsonArray(items)] : [...head, ...items];
  return rig.redis.eval(source, k.length, ...k, ...args);
}

/** Every key's contents, named without its prefix, so the two runs compare directly. */
async function dump(k: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of k) {
    const name = key.split(':').pop()!;
    const type = await rig.redis.type(key);
    if (type === 'hash') out[name] = Object.entries(await rig.redis.hgetall(key)).sort(([a], [b]) => a.localeCompare(b));
    else if (type === 'set') out[name] = (await rig.redis.smembers(key)).sort();
    else if (type === 'string') out[name] = await rig.redis.get(key);
    else out[name] = type; // 'none'
  }
  return out;
}

test('the bulk slice script leaves every key as the per-entry one did, on random parts, logs and slices', async () => {
  const a = keysOf('bulk');
  const b = keysOf('each');
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      await seed(a, c);
      await seed(b, c);
      assert.equal(await run(BULK, a, c), await run(PER_ENTRY, b, c));
      assert.deepEqual(await dump(a), await dump(b));
    }),
    { numRuns: 300 },
  );
});

test('a slice bigger than one chunk (unpack is bounded by Lua\'s C stack) writes every entry', async () => {
  const a = keysOf('big');
  const b = keysOf('big-each');
  const n = 9_001;
  const c: Case = {
    stored: Array.from({ length: 3_000 }, (_, i) => [`v${i * 3}`, `p,${i},0`]),
    undo: [],
    uniq: Array.from({ length: 2_000 }, (_, i) => `v${i * 5}`),
    uniqUndo: [],
    pay: [],
    fresh: [],
    mode: '',
    closed: Array.from({ length: 4_500 }, (_, i) => `v${i * 2}`),
    put: Array.from({ length: n }, (_, i) => [`v${i}`, `f,${i},1`]),
    newUniq: Array.from({ length: n }, (_, i) => `v${i}`),
    newPay: Array.from({ length: 4_100 }, (_, i) => `v${i}`),
  };
  await seed(a, c);
  await seed(b, c);
  await run(BULK, a, c);
  await run(PER_ENTRY, b, c);
  const [da, db] = [await dump(a), await dump(b)];
  assert.deepEqual(da, db);
  assert.equal((da.sess as unknown[]).length, n);
});

test('a slice without the lease writes nothing', async () => {
  const a = keysOf('lost');
  const c: Case = { stored: [['v1', 'p,1,1']], undo: [], uniq: [], uniqUndo: [], pay: [], fresh: [], mode: '', closed: ['v1'], put: [['v2', 'p,2,2']], newUniq: ['v2'], newPay: [] };
  await seed(a, c);
  await rig.redis.set(a[0]!, 'someone-else');
  const before = await dump(a);
  await assert.rejects(run(BULK, a, c), /CREST_LEASE_LOST/);
  assert.deepEqual(await dump(a), before);
});
