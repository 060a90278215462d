import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildIdRing, remember, type IdRing } from './id-index.ts';
import { createDistinctCounter, distinctAdd, distinctCount } from './distinct-counter.ts';

/** The ring as the room state kept it before IdRing: plain ids by slot, a head, a linear scan. */
class ReferenceRing {
  ids: string[] = [];
  head = 0;
  constructor(readonly kept: number) {}
  remember(id: string): boolean {
    if (this.ids.includes(id)) return false;
    if (this.kept <= 0) return true;
    if (this.ids.length < this.kept) this.ids.push(id);
    else {
      this.ids[this.head] = id;
      this.head = (this.head + 1) % this.kept;
    }
    return true;
  }
  /** As a restore rebuilds it: oldest first from slot 0, the newest `kept`, no repeats. (A ring shorter than the
   * new `kept` is taken in slot order, rotated or not: so it always was, which matters only after the setting grew.) */
  rebuild(kept: number): ReferenceRing {
    const ordered = this.ids.length < kept ? this.ids : [...this.ids.slice(this.head), ...this.ids.slice(0, this.head)];
    const r = new ReferenceRing(kept);
    for (const id of ordered.slice(Math.max(0, ordered.length - kept))) r.remember(id);
    return r;
  }
}

// Ids of every shape the contract allows: short and long (slots widen; past 64 one-byte units an id is kept as
// a string), wide units and lone surrogates (stored 2 per int), names of Object.prototype members.
const idArb = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', '', 'é', 'ÿÿÿÿ', '\u0100', '\ud800', 'a\udc00b', '日本語のid'),
  fc.integer({ min: 0, max: 77 }).map((n) => `i${n}`),
  fc.integer({ min: 0, max: 30 }).map((n) => `${'x'.repeat(n * 4)}${n}`),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

test('the id ring answers, and checkpoints, exactly like the plain ring it replaced, across restores and growth', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 70 }),
      fc.array(idArb, { maxLength: 400 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 70 }),
      (kept, ids, restoreEvery, keptAfter) => {
        const st = { recentIds: [] as string[] | IdRing, recentHead: 0 };
        let ring = buildIdRing([], 0, kept);
        let ref = new ReferenceRing(kept);
        ids.forEach((id, i) => {
          assert.equal(remember(ring, st, id), ref.remember(id), `step ${i} id ${JSON.stringify(id)}`);
          assert.deepEqual(ring.toJSON(), ref.ids);
          assert.equal(st.recentHead, ref.head);
          if (i % restoreEvery === restoreEvery - 1) {
            // Through JSON, as a checkpoint and restore do; now and then with `recentIdsKept` changed.
            const k = i % (2 * restoreEvery) === restoreEvery - 1 ? keptAfter : ring.kept;
            ring = buildIdRing(JSON.parse(JSON.stringify(ring)) as string[], st.recentHead, k);
            st.recentHead = 0;
            ref = ref.rebuild(k);
            assert.deepEqual(ring.toJSON(), ref.ids);
          }
        });
        assert.equal(ring.length, ref.ids.length);
      },
    ),
    { numRuns: 300 },
  );
});

test('shrinking recentIdsKept keeps the newest ids', () => {
  // head 2: arrival order c, d, a, b
  const r = buildIdRing(['a', 'b', 'c', 'd'], 2, 2);
  assert.deepEqual(r.toJSON(), ['a', 'b']);
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

test('the ring grows with its ids (from 16 up to kept), one fixed-width slot per id, and still drops exactly the kept duplicates', () => {
  const kept = 300;
  const st = { recentHead: 0 };
  const r = buildIdRing([], 0, kept);
  assert.equal(r.cap, 16, 'a new room starts with room for 16 ids');
  for (let i = 0; i < 10_000; i++) assert.equal(remember(r, st, `id${i}`), true, `id${i} is new`);
  assert.equal(r.cap, kept, 'grown to kept');
  // A table of the next power of two ≥ 2 × kept, then per slot a hash, a length and 2 ints of units (6 characters).
  assert.equal(r.a.length, 1_024 + kept * (2 + 2));
  // A duplicate changes nothing, so the newest `kept` can all be probed; the one before them was evicted.
  for (let i = 10_000 - kept; i < 10_000; i++) assert.equal(remember(r, st, `id${i}`), false, `id${i} is kept`);
  assert.equal(remember(r, st, `id${10_000 - kept - 1}`), true);
  // Up to twice as wide widens every slot; wider is an outlier, kept as a string beside the array, as is an id
  // past the widest slot.
  assert.equal(remember(r, st, 'x'.repeat(16)), true);
  assert.equal(r.w, 4);
  assert.equal(remember(r, st, 'y'.repeat(40)), true);
  assert.equal(r.w, 4);
  assert.equal(remember(r, st, 'z'.repeat(200)), true);
  for (const id of ['x'.repeat(16), 'y'.repeat(40), 'z'.repeat(200)]) assert.equal(remember(r, st, id), false, `${id.length}-character id is kept`);
  assert.deepEqual(r.toJSON().slice(st.recentHead - 3, st.recentHead), ['x'.repeat(16), 'y'.repeat(40), 'z'.repeat(200)]);
  // Rebuilt from a checkpoint: slots as wide as most ids need (2), widened by the 16-character id (4), not more.
  const back = buildIdRing(r.toJSON(), st.recentHead, kept);
  assert.equal(back.w, 4);
  assert.deepEqual(back.toJSON(), [...r.toJSON().slice(st.recentHead), ...r.toJSON().slice(0, st.recentHead)]);
});
