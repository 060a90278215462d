import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionStore, viewerHash } from './session-store.ts';

interface Ref {
  src: number;
  enter: number;
  seen: number;
  due: number;
}

/** Viewer ids of several lengths and scripts (a surrogate pair, a prefix of another id, "__proto__"). */
const name = (n: number) => (n % 5 === 1 ? `ü😀${n}` : n % 5 === 2 ? `__proto__${n >> 3}` : n % 5 === 3 ? '__proto__' : `v${n}`);

const enc = (r: Ref) => `${r.src},${r.enter},${r.seen}`;

/** Takes up to `max` changes as takeDeltaSlice does (closes first) and applies them to `stored` as checkpoint-slice.lua does. */
function takeInto(ss: SessionStore, stored: Map<string, string>, max: number): void {
  let room = max;
  const closed = ss.closed.splice(Math.max(0, ss.closed.length - room));
  room -= closed.length;
  for (const v of closed) stored.delete(v);
  for (; room > 0 && ss.dirtyCount > 0; room--) {
    const s = ss.popDirty();
    stored.set(ss.viewer(s), ss.encode(s));
  }
}

/** The sessions in expiry order, read by closing the top until none is left (the order expiry and eviction use). */
function drainOrder(ss: SessionStore): string[] {
  const order: string[] = [];
  for (let s = ss.top(); s >= 0; s = ss.top()) {
    order.push(`${ss.viewer(s)}@${ss.due(s)}`);
    ss.close(s);
  }
  return order;
}

const refOrder = (ref: Map<string, Ref>) =>
  [...ref]
    .sort(([va, a], [vb, b]) => a.due - b.due || (va < vb ? -1 : va > vb ? 1 : 0))
    .map(([v, r]) => `${v}@${r.due}`);

/**
 * Random opens, closes, sightings and raised keys against a Map, over enough viewers that the store grows past its
 * first chunk (16,384 slots), adds chunks, reuses freed slots and splits its index (32,768): lookups, counts, the
 * expiry order and the changes written out (in slices, with events between them) all match the Map.
 */
function exercise(seed: number, viewers: number, ops: number, sliceMax: number) {
  let x = seed >>> 0 || 1;
  const rnd = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const ss = new SessionStore();
  const ref = new Map<string, Ref>();
  const stored = new Map<string, string>();
  const open: string[] = [];
  let peak = 0;
  let t = 1_000;
  for (let k = 0; k < ops; k++) {
    t += rnd(3);
    const op = rnd(100);
    if (op < 55) {
      const v = name(rnd(viewers));
      const h = viewerHash(v);
      const s = ss.find(v, h);
      assert.equal(s >= 0, ref.has(v), `op ${k}: find ${v}`);
      if (s < 0) {
        const r = { src: rnd(4), enter: t, seen: t, due: t + 50 + rnd(3) };
        ss.open(v, h, r.src, r.enter, r.seen, r.due);
        ref.set(v, r);
        open.push(v);
      } else if (t > ss.seen(s)) {
        ss.setSeen(s, t);
        ref.get(v)!.seen = t;
      }
    } else if (op < (k < ops / 2 ? 62 : 85) && open.length > 0) {
      // Mostly opens in the first half (the room grows), then as many closes as opens (slots are reused).
      const i = rnd(open.length);
      const v = open[i]!;
      open[i] = open[open.length - 1]!;
      open.pop();
      const s = ss.find(v, viewerHash(v));
      assert.ok(s >= 0, `op ${k}: ${v} is open`);
      assert.deepEqual({ src: ss.src(s), enter: ss.enter(s), seen: ss.seen(s), due: ss.due(s) }, ref.get(v), `op ${k}: fields of ${v}`);
      ss.close(s);
      ref.delete(v);
    } else if (op < 90 && ss.size > 0) {
      const s = ss.top();
      const r = ref.get(ss.viewer(s))!;
      if (ref.size <= 100) assert.equal(`${ss.viewer(s)}@${r.due}`, refOrder(ref)[0], `op ${k}: the top is the smallest (due, viewer)`);
      r.due = r.seen + 60;
      ss.raiseTop(r.due);
    } else if (op < 95) takeInto(ss, stored, sliceMax);
    assert.equal(ss.size, ref.size, `op ${k}: size`);
    peak = Math.max(peak, ref.size);
  }
  takeInto(ss, stored, Infinity);
  assert.equal(ss.changes, 0, 'everything taken');
  assert.deepEqual(stored, new Map([...ref].map(([v, r]) => [v, enc(r)])), 'the changes taken leave the store as the sessions are');
  return { ss, ref, stored, peak };
}

test('the session store matches a Map through growth, slot reuse and the index split, and its changes write it out exactly', () => {
  const { ss, ref, peak } = exercise(7, 150_000, 260_000, 500);
  assert.ok(peak > 32_768, `the index split (${peak} open at most)`);
  assert.deepEqual(drainOrder(ss), refOrder(ref), 'expiry order is (due, viewer)');
  assert.equal(ss.size, 0);
});

test('small random runs: lookups, expiry order and written changes match a Map', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 5 }), (seed, viewers, ops, slice) => {
      const { ss, ref } = exercise(seed, viewers, ops, slice);
      assert.deepEqual(drainOrder(ss), refOrder(ref));
    }),
    { numRuns: 300 },
  );
});

test('a store loaded back (repeats included) and its heap built in steps is the one built in one go, and expires in the same order', () => {
  const { ref, stored } = exercise(11, 150_000, 260_000, 1_000);
  assert.ok(ref.size > 32_768, `the index splits on load (${ref.size} sessions)`);
  const entries = [...stored];
  const build = (step: number) => {
    const ss = new SessionStore();
    entries.forEach(([v, e], i) => {
      const [src, enter, seen] = e.split(',').map(Number) as [number, number, number];
      ss.load(v, src, enter, seen, seen + 60);
      if (i % 3 === 0) ss.load(v, src, enter, seen, seen + 60); // a SCAN may return an entry twice
    });
    let yields = 0;
    for (const _ of ss.buildHeap(step)) yields++;
    return { ss, yields };
  };
  const once = build(Infinity);
  const stepped = build(1_000);
  assert.equal(once.ss.count, ref.size);
  const layout = (ss: SessionStore) => Array.from({ length: ss.size }, (_, i) => ss.at(i));
  assert.deepEqual(layout(stepped.ss), layout(once.ss), 'same heap layout');
  assert.ok(stepped.yields >= Math.floor((2.5 * ref.size) / 1_000) - 2, `${stepped.yields} yields for ${ref.size} sessions`);
  const want = [...ref].map(([v, r]) => [v, r.seen + 60] as const).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).map(([v, d]) => `${v}@${d}`);
  assert.deepEqual(drainOrder(stepped.ss), want);
});

test('fresh stores share their empty lists until their first session, and never each other’s sessions or closes', () => {
  const a = new SessionStore();
  const b = new SessionStore();
  const c = new SessionStore();
  assert.deepEqual(b.takeClosed(), []);
  a.open('x', viewerHash('x'), 1, 10, 10, 100);
  a.open('y', viewerHash('y'), 2, 11, 11, 101);
  a.close(a.find('x', viewerHash('x')), 'x');
  // b and c never opened a session: they find nothing, hold nothing, took no close.
  for (const s of [b, c]) {
    assert.equal(s.find('y', viewerHash('y')), -1);
    assert.equal(s.size, 0);
    assert.equal(s.top(), -1);
    assert.equal(s.closed.length, 0);
  }
  b.open('y', viewerHash('y'), 3, 20, 20, 200);
  assert.equal(b.src(b.find('y', viewerHash('y'))), 3);
  assert.equal(a.src(a.find('y', viewerHash('y'))), 2);
  assert.equal(c.find('y', viewerHash('y')), -1);
  // A taken list is the caller's: closes after the take go to a new one.
  const taken = a.takeClosed();
  assert.deepEqual(taken, ['x']);
  a.close(a.find('y', viewerHash('y')), 'y');
  assert.deepEqual(taken, ['x']);
  assert.deepEqual(a.takeClosed(), ['y']);
  assert.deepEqual(c.takeClosed(), []);
});
