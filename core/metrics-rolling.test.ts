/**
 * Rolling and per-source figures through the engine, against numbers worked out by hand from the events
 * (sessions-based concurrency: one sample per second, taken just before each second boundary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import type { CrestEvent } from './events.ts';
import { advanceTo, applyEvent, createRoomState, roomMetrics, type RoomOutput } from './engine.ts';
import fc from 'fast-check';
import { compactRing, createRollingRing, rollTo, addAt, sampleAt, sumBuckets, rollingMetrics, B_GMV, BUCKETS, F, type RollingRing } from './metrics-rolling.ts';

const T0 = 1_700_000_000_000; // a multiple of 10 s: bucket k starts at T0 + 10·k s
const cfg = engineConfig();

type Body = CrestEvent extends infer E ? (E extends CrestEvent ? Omit<E, 'id' | 'room' | 'ts'> : never) : never;

function scriptedRoom() {
  const st = createRoomState('r1', cfg);
  const out: RoomOutput[] = [];
  let n = 0;
  const apply = (sec: number, body: Body) => applyEvent(st, { id: `e${n++}`, room: 'r1', ts: T0 + sec * 1000, ...body } as CrestEvent, cfg, out);
  const at = (sec: number) => {
    advanceTo(st, T0 + sec * 1000, cfg, out);
    return roomMetrics(st);
  };
  apply(0, { type: 'viewer.enter', viewer: 'a', source: 'follow' });
  apply(1, { type: 'viewer.enter', viewer: 'b', source: 'paid' });
  apply(12, { type: 'viewer.enter', viewer: 'c', source: 'public' });
  apply(15, { type: 'room.exposure', source: 'public', count: 100 });
  apply(15, { type: 'room.exposure', source: 'follow', count: 50 });
  apply(20, { type: 'viewer.leave', viewer: 'a' });
  apply(25, { type: 'order.paid', order: 'o1', viewer: 'b', sku: 's1', amount: 5_000 });
  apply(30, { type: 'ad.spend', amount: 300 });
  apply(31, { type: 'engage.follow', viewer: 'c', count: 2 });
  return { st, apply, at };
}

test('rolling 1 min: entries, exits, exposure, click-in, money and follows of the last 50–60 s; concurrency mean and peak', () => {
  const r = scriptedRoom();
  const m1 = r.at(59.9).detail!.rolling.m1;
  assert.equal(m1.windowSec, 60);
  assert.deepEqual(m1.entriesPerMin, { follow: 1, public: 1, paid: 1, other: 0 });
  assert.deepEqual(m1.exitsPerMin, { follow: 1, public: 0, paid: 0, other: 0 });
  assert.deepEqual(m1.exposure, { follow: 50, public: 100, paid: 0, other: 0 });
  assert.deepEqual(m1.clickInRate, { follow: 0.02, public: 0.01, paid: null, other: null });
  assert.equal(m1.gmv, 5_000);
  assert.equal(m1.orders, 1);
  assert.equal(m1.adSpend, 300);
  assert.equal(m1.follows, 2);
  // Samples at 1..59 s: 1 viewer at 1 s, 2 at 2–12 s, 3 at 13–20 s, 2 at 21–59 s → 125 viewer-s over 59 samples.
  assert.equal(m1.concurrencyPeak, 3);
  assert.equal(m1.concurrencyMean, 2.1); // 125 / 59 = 2.12
  assert.equal(m1.watchMinutes, 2.1); // 125 / 60 = 2.08
  assert.equal(m1.gmvPerKWatchMin, 2_400_000); // 5000 / (125/60/1000)
});

test('the 1 min window moves in 10 s steps; the 5 min window keeps what it dropped, per minute', () => {
  const r = scriptedRoom();
  const d = r.at(65).detail!;
  // Head bucket 60–70 s: the 1 min window is 10–70 s, so a (0 s) and b (1 s) have left it; a's exit (20 s) is in.
  assert.deepEqual(d.rolling.m1.entriesPerMin, { follow: 0, public: 1, paid: 0, other: 0 });
  assert.deepEqual(d.rolling.m1.exitsPerMin, { follow: 1, public: 0, paid: 0, other: 0 });
  assert.deepEqual(r.at(65).entriesPerMin, d.rolling.m1.entriesPerMin, 'the tick figure is the 1 min window');
  assert.deepEqual(d.rolling.m5.entriesPerMin, { follow: 0.2, public: 0.2, paid: 0.2, other: 0 });
  assert.equal(d.rolling.m5.gmv, 5_000);
  assert.equal(d.rolling.m1.concurrencyPeak, 3);
  // Stream to date: 137 viewer-s over 65 samples.
  assert.equal(d.concurrencyMean, 2.1);
  // After the 1 min window has passed the exit and the order, they are gone from it, still in 5 min.
  const later = r.at(125).detail!.rolling;
  assert.equal(later.m1.gmv, 0);
  assert.deepEqual(later.m1.exitsPerMin, { follow: 0, public: 0, paid: 0, other: 0 });
  assert.equal(later.m5.gmv, 5_000);
  assert.equal(r.at(330).detail!.rolling.m5.gmv, 0, 'the order (25 s) is out of the 5 min window at 330 s');
});

test('per source: watch time by entry source, GMV by the payer\'s session, late events in totals only', () => {
  const r = scriptedRoom();
  // 55 s behind the watermark at 65 s: late (allowedLatenessMs 30 s). A payer with no session: unattributed.
  r.at(65);
  assert.equal(r.apply(10, { type: 'order.paid', order: 'o2', viewer: 'zz', sku: 's2', amount: 1_000 }), 'late');
  assert.equal(r.apply(11, { type: 'ad.spend', amount: 50 }), 'late');
  const m = roomMetrics(r.st);
  const d = m.detail!;
  assert.equal(m.gmv, 6_000);
  assert.equal(d.rolling.m5.gmv, 5_000, 'late GMV is not re-windowed');
  assert.equal(d.rolling.m5.adSpend, 300);
  // a: follow, 0→20 s (left); b: paid, 1→65 s; c: public, 12→65 s (both open at the 65 s clock).
  assert.deepEqual(d.watchMinutesBySource, { follow: 0.3, public: 0.9, paid: 1.1, other: 0 });
  assert.deepEqual(d.avgWatchSecBySource, { follow: 20, public: 53, paid: 64, other: 0 });
  assert.deepEqual(d.gmvBySource, { follow: 0, public: 0, paid: 5_000, other: 0 });
  assert.deepEqual(d.ordersBySource, { follow: 0, public: 0, paid: 1, other: 0 });
  assert.equal(d.gmvUnattributed, 1_000);
  assert.deepEqual(d.clickInRate, { follow: 0.02, public: 0.01, paid: null, other: null });
  // No highlight window: all on-time spend and all GMV are outside; late spend is split off.
  assert.equal(d.adSpendInWindows, 0);
  assert.equal(d.adSpendOutsideWindows, 300);
  assert.equal(d.adSpendLate, 50);
  assert.equal(m.adSpend, 350);
  assert.equal(d.gmvOutsideWindows, 6_000);
  assert.equal(d.gmvPerSpendOutsideWindows, 20);
  assert.equal(d.gmvPerSpendInWindows, null);
  assert.deepEqual(
    d.topProducts.map((p) => [p.sku, p.gmv, p.orders, p.gmvError]),
    [
      ['s1', 5_000, 1, 0],
      ['s2', 1_000, 1, 0],
    ],
  );
});

test('ticks stay small: they carry no detail', () => {
  const st = createRoomState('r1', cfg);
  const out: RoomOutput[] = [];
  applyEvent(st, { id: 'x', room: 'r1', ts: T0, type: 'room.online', count: 5 }, cfg, out);
  advanceTo(st, T0 + 3_000, cfg, out);
  const ticks = out.flatMap((o) => (o.type === 'tick' ? [o.tick] : []));
  assert.ok(ticks.length > 0, 'ticks.length > 0');
  assert.ok(ticks.every((t) => t.metrics.detail === undefined), 'ticks.every((t) => t.metrics.detail === undefined)');
});

test('the bucket ring clears what falls out of it, including after a long gap', () => {
  const r = createRollingRing();
  rollTo(r, 0);
  addAt(r, 5_000, B_GMV, 7);
  rollTo(r, 25_000);
  addAt(r, 25_000, B_GMV, 3);
  addAt(r, 5_000, B_GMV, 1); // still inside the ring (bucket 0)
  assert.equal(sumBuckets(r, 3, B_GMV), 11);
  assert.equal(sumBuckets(r, 2, B_GMV), 3);
  addAt(r, 35_000, B_GMV, 100); // ahead of the head: ignored
  addAt(r, -BUCKETS * 10_000, B_GMV, 100); // behind the ring: ignored
  assert.equal(sumBuckets(r, BUCKETS, B_GMV), 11);
  rollTo(r, 25_000 + (BUCKETS - 1) * 10_000);
  assert.equal(sumBuckets(r, BUCKETS, B_GMV), 3, 'bucket 0 left the ring, bucket 2 is its oldest');
  rollTo(r, 10 * BUCKETS * 10_000);
  assert.equal(sumBuckets(r, BUCKETS, B_GMV), 0);
});

test('a cell past 32 bits stays exact (the ring widens), and the checkpoint JSON reads back to the same ring', () => {
  const r = createRollingRing();
  rollTo(r, 0);
  const json0 = JSON.stringify(r);
  assert.deepEqual(JSON.parse(json0), { bk: 0, buckets: new Array(BUCKETS * 19).fill(0) }, 'plain JSON, as before the typed ring');
  addAt(r, 0, B_GMV, 2 ** 31 - 1);
  assert.ok(r.buckets instanceof Int32Array, 'still 32-bit at the limit');
  addAt(r, 0, B_GMV, 1e13); // one order of the largest amount the contract allows
  addAt(r, 0, B_GMV, 2);
  assert.equal(sumBuckets(r, 1, B_GMV), 2 ** 31 + 1e13 + 1);
  assert.ok(r.buckets instanceof Float64Array, 'a cell past 32 bits widens the ring to doubles');
  const back = JSON.parse(JSON.stringify(r)) as RollingRing;
  assert.ok(Array.isArray(back.buckets), 'the JSON holds a plain array');
  const again = compactRing(back);
  assert.equal(sumBuckets(again, 1, B_GMV), 2 ** 31 + 1e13 + 1);
  assert.equal(JSON.stringify(again), JSON.stringify(r));
  // A ring whose cells fit goes back to 32 bits.
  const small = compactRing(JSON.parse(json0) as RollingRing);
  assert.ok(small.buckets instanceof Int32Array, 'cells that fit are 32-bit again after a JSON round trip');
});

test('a room fed a platform count of a billion keeps exact rolling figures', () => {
  const st = createRoomState('r1', cfg);
  const out: RoomOutput[] = [];
  applyEvent(st, { id: 'x', room: 'r1', ts: T0, type: 'room.online', count: 1_000_000_000 }, cfg, out);
  advanceTo(st, T0 + 5_000, cfg, out);
  const m1 = roomMetrics(st).detail!.rolling.m1;
  assert.equal(m1.concurrencyMean, 1_000_000_000);
  assert.equal(m1.watchMinutes, Math.round(((5 * 1e9 * 1000) / 60_000) * 10) / 10);
});

test('the typed ring, holding only the buckets its data spans, reads and serialises exactly as the full plain ring', () => {
  // The plain ring (what a checkpoint holds, and what the core kept before) is the reference: same operations, same JSON.
  const op = fc.oneof(
    fc.record({ k: fc.constant('roll' as const), dt: fc.integer({ min: 0, max: 400_000 }) }),
    fc.record({ k: fc.constant('add' as const), back: fc.integer({ min: -20_000, max: 320_000 }), field: fc.integer({ min: 0, max: F - 1 }), n: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(3e9)) }),
    fc.record({ k: fc.constant('sample' as const), back: fc.integer({ min: 0, max: 60_000 }), conc: fc.integer({ min: 0, max: 5_000_000 }) }),
    fc.constant({ k: 'checkpoint' as const }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100 }), fc.array(op, { maxLength: 120 }), (start, ops) => {
      const plain: RollingRing = { bk: -1, buckets: new Array<number>(BUCKETS * F).fill(0) };
      let typed = createRollingRing();
      let t = start * 10_000;
      for (const o of ops) {
        if (o.k === 'roll') {
          t += o.dt;
          rollTo(plain, t);
          rollTo(typed, t);
        } else if (o.k === 'add') {
          addAt(plain, t - o.back, o.field, o.n);
          addAt(typed, t - o.back, o.field, o.n);
        } else if (o.k === 'sample') {
          sampleAt(plain, t - o.back, o.conc, 1000);
          sampleAt(typed, t - o.back, o.conc, 1000);
        } else typed = compactRing(JSON.parse(JSON.stringify(typed)) as RollingRing);
        assert.equal(JSON.stringify(typed), JSON.stringify(plain));
        for (const w of [10, 60, 300]) assert.deepEqual(rollingMetrics(typed, w), rollingMetrics(plain, w));
      }
    }),
    { numRuns: 300 },
  );
});

test('a young ring holds few buckets; it grows to the full ring as its data spans five minutes', () => {
  const r = createRollingRing() as RollingRing & { len: number };
  rollTo(r, 0);
  for (let s = 0; s < 60; s++) {
    rollTo(r, s * 1000);
    sampleAt(r, s * 1000, 100, 1000);
  }
  assert.equal(r.len, 8, 'a minute of data: 6 buckets, held in 8');
  assert.equal(r.buckets.length, 8 * F);
  for (let s = 60; s < 400; s++) {
    rollTo(r, s * 1000);
    sampleAt(r, s * 1000, 100, 1000);
  }
  assert.equal(r.len, BUCKETS);
  assert.equal(sumBuckets(r, BUCKETS, 1), 300 * 1000, 'five minutes of samples');
});
