import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildIdIndex, rememberIdIn } from './id-index.ts';
import { createDistinctCounter, distinctAdd, distinctCount } from './distinct-counter.ts';

test('the id index answers exactly like "among the last `kept` remembered ids", across rebuilds and growth', () => {
  // Up to 80 distinct ids and `kept` up to 70: the cells grow (16 → 32 → 64 → kept) while duplicates come and go.
  const idArb = fc.oneof(fc.constantFrom('__proto__', 'constructor'), fc.integer({ min: 0, max: 77 }).map((n) => `i${n}`));
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.array(idArb, { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      (kept, ids, rebuildEvery) => {
        const st = { recentIds: [] as string[], recentHead: 0 };
        let index = buildIdIndex(st.recentIds, 0, kept).index;
        const model: string[] = [];
        ids.forEach((id, i) => {
          const expectNew = !model.includes(id);
          assert.equal(rememberIdIn(index, st.recentIds, st, id), expectNew, `step ${i} id ${id}`);
          if (expectNew) {
            model.push(id);
            if (model.length > kept) model.shift();
          }
          if (i % rebuildEvery === 0) {
            const b = buildIdIndex(JSON.parse(JSON.stringify(st.recentIds)), st.recentHead, kept);
            index = b.index;
            st.recentIds = b.ring;
            st.recentHead = b.head;
          }
        });
        assert.deepEqual([...st.recentIds].sort(), [...model].sort());
      },
    ),
  );
});

test('shrinking recentIdsKept keeps the newest ids', () => {
  const ring = ['a', 'b', 'c', 'd'];
  // head 2: arrival order c, d, a, b
  const b = buildIdIndex(ring, 2, 2);
  assert.deepEqual(b.ring, ['a', 'b']);
});

test('distinct counter: exact to the cap, then an estimate within a few percent', () => {
  const dc = createDistinctCounter(100);
  const ix = new Set<string>();
  for (let i = 0; i < 100; i++) distinctAdd(dc, ix, `v${i % 50}`);
  assert.equal(distinctCount(dc), 50);
  for (let i = 0; i < 50_000; i++) distinctAdd(dc, ix, `viewer:${i}`);
  const est = distinctCount(dc);
  assert.ok(Math.abs(est - 50_050) / 50_050 < 0.05, `estimate ${est}`);
  assert.notEqual(dc.hll, null);
  assert.equal(ix.size, 0, 'the exact members are dropped once estimating');
});

test('the index grows with the ring (from 16 ids up to kept) and still drops exactly the kept duplicates', () => {
  const kept = 300;
  const st = { recentIds: [] as string[], recentHead: 0 };
  const { index } = buildIdIndex(st.recentIds, 0, kept);
  assert.equal(index.cap, 16, 'a new room starts with room for 16 ids');
  for (let i = 0; i < 1_000; i++) assert.equal(rememberIdIn(index, st.recentIds, st, `id${i}`), true, `id${i} is new`);
  assert.equal(index.cap, kept, 'grown to kept');
  assert.equal(index.cells.length, 1_024 + kept, 'one array: a table of the next power of two ≥ 2 × kept, then a hash per slot');
  // A duplicate changes nothing, so the newest `kept` can all be probed; the one before them was evicted.
  for (let i = 1_000 - kept; i < 1_000; i++) assert.equal(rememberIdIn(index, st.recentIds, st, `id${i}`), false, `id${i} is kept`);
  assert.equal(rememberIdIn(index, st.recentIds, st, `id${1_000 - kept - 1}`), true);
});
