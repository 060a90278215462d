/**
 * Stream-to-date figures: each accepted stream.start starts a room's totals again from zero, so a second
 * stream's figures are those of the same events sent to a fresh room (what its archive replay gives).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CrestEvent, TrafficSource } from './events.ts';
import { generateRoom } from './scenario/generate-room.ts';
import { legacyRoomJson } from './legacy-room-json.ts';
import {
  advanceTo,
  applyEvent,
  createRoomState,
  roomMetrics,
  roomWindows,
  type RoomOutput,
  type RoomState,
} from './engine.ts';
import { cfg, room, ROOM, T0 } from '../test/fixtures/engine-room.ts';

/** A stream.start, ten minutes flat at 100 viewers, then a climb until the detector opens a window; returns the second it did. */
function riseToWindow(r: ReturnType<typeof room>): number {
  r.apply(0, { type: 'stream.start' });
  for (let s = 1; s <= 600; s++) r.apply(s, { type: 'room.online', count: 100 });
  let s = 601;
  for (; s <= 900 && !roomWindows(r.st).some((w) => w.state === 'rising'); s++) r.apply(s, { type: 'room.online', count: 100 + (s - 600) * 4 });
  assert.equal(roomWindows(r.st).length, 1, 'a rise opened a window');
  return s;
}

/** One stream's worth of events with hand-countable totals, starting `s` seconds after T0. */
function playStream(r: ReturnType<typeof room>, s: number, tag: string) {
  r.apply(s, { type: 'stream.start' }, `${tag}-start`);
  r.apply(s + 1, { type: 'viewer.enter', viewer: `${tag}-a`, source: 'paid' });
  r.apply(s + 2, { type: 'viewer.enter', viewer: `${tag}-b`, source: 'follow' });
  r.apply(s + 3, { type: 'room.exposure', source: 'paid', count: 40 });
  r.apply(s + 4, { type: 'product.launch', sku: `${tag}-sku`, name: `${tag} kettle` });
  r.apply(s + 5, { type: 'order.paid', order: `${tag}-o1`, viewer: `${tag}-a`, amount: 1200, sku: `${tag}-sku` });
  r.apply(s + 6, { type: 'engage.follow', viewer: `${tag}-b` });
  r.apply(s + 7, { type: 'ad.spend', amount: 300 });
  r.apply(s + 8, { type: 'room.online', count: 50 });
  r.apply(s + 21, { type: 'viewer.leave', viewer: `${tag}-a` });
}

describe('stream-to-date figures restart at stream.start', () => {
  test('the second stream counts only its own events (hand-counted)', () => {
    const r = room();
    playStream(r, 0, 's1');
    r.apply(30, { type: 'room.online', count: 900 }); // stream 1's peak
    r.apply(31, { type: 'order.paid', order: 'big', viewer: 's1-b', amount: 99_000 });
    r.apply(32, { type: 'engage.like', viewer: 's1-b', count: 7 });
    playStream(r, 100, 's2');
    const m = r.at(125);
    assert.equal(m.streamStartTs, T0 + 100_000);
    assert.equal(m.live, true);
    assert.equal(m.gmv, 1200);
    assert.equal(m.orders, 1);
    assert.equal(m.payingViewers, 1);
    assert.equal(m.uniqueViewers, 2, 's1-a and s1-b are not viewers of stream 2');
    assert.equal(m.adSpend, 300);
    assert.equal(m.follows, 1);
    assert.equal(m.likes, 0);
    assert.deepEqual(m.entriesTotal, { follow: 1, public: 0, paid: 1, other: 0 });
    assert.deepEqual(m.exposureTotal, { follow: 0, public: 0, paid: 40, other: 0 });
    assert.equal(m.events, 10, 'stream.start + 9 events');
    // The platform count of 50 (at 108) is fresh for onlineFreshMs; the 900 of stream 1 is no peak of stream 2.
    assert.equal(m.peakConcurrency, 50);
    // s2-a watched 101 → 121 (20 s, left), s2-b 102 → 125 (23 s, ongoing): mean 21.5 s.
    assert.equal(m.avgWatchSec, 21.5);
    const d = m.detail!;
    assert.deepEqual(d.gmvBySource, { follow: 0, public: 0, paid: 1200, other: 0 });
    assert.equal(d.gmvUnattributed, 0);
    assert.deepEqual(d.topProducts, [{ sku: 's2-sku', name: 's2 kettle', gmv: 1200, orders: 1, gmvError: 0 }]);
    assert.equal(d.rolling.m5.gmv, 1200, 'the 5 min window starts at the stream too');
    assert.equal(d.rolling.m5.follows, 1);
  });

  test("a viewer still in the room at stream.start is no viewer of the new stream until they enter again", () => {
    const r = room();
    r.apply(0, { type: 'stream.start' });
    r.apply(1, { type: 'viewer.enter', viewer: 'a', source: 'public' });
    r.apply(50, { type: 'stream.start' });
    assert.equal(roomMetrics(r.st).concurrency, 0);
    // Paying without a session of this stream: unattributed, exactly as in the stream's archive replay.
    r.apply(51, { type: 'order.paid', order: 'o', viewer: 'a', amount: 10 });
    let m = roomMetrics(r.st);
    assert.equal(m.detail!.gmvUnattributed, 10);
    assert.equal(m.concurrency, 0);
    r.apply(52, { type: 'viewer.enter', viewer: 'a', source: 'follow' });
    m = roomMetrics(r.st);
    assert.equal(m.concurrency, 1);
    assert.deepEqual(m.entriesTotal, { follow: 1, public: 0, paid: 0, other: 0 });
  });

  test('late events after a stream.start count in the new stream, but not in its rolling windows', () => {
    const r = room();
    r.apply(0, { type: 'stream.start' });
    r.apply(10, { type: 'order.paid', order: 'a', amount: 100 });
    r.apply(100, { type: 'stream.start' });
    // Stamped in stream 1's time, arriving after stream 2 began and more than allowedLatenessMs behind.
    assert.equal(r.apply(60, { type: 'order.paid', order: 'b', amount: 700 }), 'late');
    assert.equal(r.apply(61, { type: 'ad.spend', amount: 40 }), 'late');
    // Behind, but within the lateness allowance: on time, so it reaches the rolling windows too.
    assert.equal(r.apply(100 - cfg.allowedLatenessMs / 1000 + 1, { type: 'order.paid', order: 'c', amount: 5 }), 'applied');
    const m = r.at(101);
    assert.equal(m.gmv, 705);
    assert.equal(m.orders, 2);
    assert.equal(m.adSpend, 40);
    assert.equal(m.lateEvents, 2);
    assert.equal(m.events, 4);
    assert.equal(m.detail!.adSpendLate, 40);
    assert.equal(m.detail!.rolling.m5.gmv, 5, 'late events are not re-windowed');
  });

  test('duplicates across the boundary are still duplicates; a redelivered stream.start resets nothing', () => {
    const r = room();
    r.apply(0, { type: 'stream.start' }, 'start-1');
    r.apply(1, { type: 'order.paid', order: 'o1', amount: 100 }, 'pay-1');
    r.apply(2, { type: 'stream.start' }, 'start-2');
    r.apply(3, { type: 'order.paid', order: 'o2', amount: 30 }, 'pay-2');
    assert.equal(r.apply(1, { type: 'order.paid', order: 'o1', amount: 100 }, 'pay-1'), 'duplicate');
    assert.equal(r.apply(2, { type: 'stream.start' }, 'start-2'), 'duplicate');
    assert.equal(r.apply(0, { type: 'stream.start' }, 'start-1'), 'duplicate');
    const m = roomMetrics(r.st);
    assert.equal(m.gmv, 30);
    assert.equal(m.orders, 1);
    assert.equal(m.duplicateEvents, 3);
    assert.equal(m.events, 2);
    assert.equal(m.streamStartTs, T0 + 2000);
  });

  test('a stream.start while live resets the detector: a new stream at a higher level is no rise', () => {
    // Without the giveaway hold, so that the same step in one stream is a rise: balanced holds a crowd that arrives at
    // once and sits (core/detector.test.ts), which would make the control below pass for the wrong reason.
    const c = { ...cfg, detector: { ...cfg.detector, surgeSamples: undefined } };
    const run = (restart: boolean) => {
      const r = room(c);
      r.apply(0, { type: 'stream.start' });
      for (let s = 1; s <= 600; s++) r.apply(s, { type: 'room.online', count: 100 });
      if (restart) r.apply(600.5, { type: 'stream.start' });
      for (let s = 601; s <= 900; s++) r.apply(s, { type: 'room.online', count: 300 });
      return r.out.filter((o) => o.type === 'window').length;
    };
    assert.ok(run(false) > 0, 'without a new stream the step up is a rise (the test can fail)');
    assert.equal(run(true), 0);
  });

  test("the open window closes at stream.start and stays in the list as history; the new stream's spend is its own", () => {
    const r = room();
    const s = riseToWindow(r);
    r.apply(s, { type: 'ad.spend', amount: 500 });
    assert.equal(roomMetrics(r.st).detail!.adSpendInWindows, 500);
    r.apply(s + 1, { type: 'stream.start' });
    const [w] = roomWindows(r.st);
    assert.equal(w.state, 'ended');
    assert.equal(w.adSpend, 500, 'the old window keeps its figures');
    // An on-time order stamped inside the old window, arriving in the new stream, is not credited to it.
    r.apply(s - 1, { type: 'order.paid', order: 'x', amount: 80 });
    r.apply(s + 2, { type: 'ad.spend', amount: 70 });
    const d = roomMetrics(r.st).detail!;
    assert.equal(roomWindows(r.st)[0].gmv, w.gmv);
    assert.equal(d.adSpendInWindows, 0);
    assert.equal(d.adSpendOutsideWindows, 70);
    assert.equal(d.gmvOutsideWindows, 80);
  });

  test('a checkpoint from before the per-stream reset loads, keeps crediting its windows, and resets at the next stream.start', () => {
    const r = room();
    const s = riseToWindow(r);
    const old = JSON.parse(legacyRoomJson(r.st)) as Record<string, unknown>;
    delete old.streamTs;
    delete old.streamWindows;
    const st = old as unknown as RoomState;
    const out: RoomOutput[] = [];
    assert.equal(applyEvent(st, { id: 'p', room: ROOM, ts: T0 + s * 1000, type: 'order.paid', order: 'p', amount: 60 }, cfg, out), 'applied');
    let m = roomMetrics(st);
    assert.equal(m.streamStartTs, undefined, 'an old checkpoint does not know where its stream began');
    assert.equal(m.detail!.gmvInWindows, 60);
    assert.equal(roomWindows(st)[0].gmv, 60);
    applyEvent(st, { id: 'n', room: ROOM, ts: T0 + (s + 1) * 1000, type: 'stream.start' }, cfg, out);
    m = roomMetrics(st);
    assert.equal(m.streamStartTs, T0 + (s + 1) * 1000);
    assert.equal(m.gmv, 0);
    assert.equal(m.events, 1);
  });
});

describe('looping streams, as the demo simulator plays them', () => {
  test('every cycle of a highlight room shows its own highlight and its own figures', () => {
    const duration = 6 * 60_000; // the demo's default cycle
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const startTs = T0 + cycle * duration;
      const { events } = generateRoom({ room: ROOM, scenario: 'highlight', seed: 101 + cycle, startTs, durationMs: duration });
      const ids = events.map((e) => ({ ...e, id: `c${cycle}-${e.id}` }) as CrestEvent);
      const fresh = createRoomState(ROOM, cfg);
      const freshOut: RoomOutput[] = [];
      for (const e of ids) {
        applyEvent(st, e, cfg, out);
        applyEvent(fresh, e, cfg, freshOut);
      }
      const rises = out.filter((o) => o.type === 'window' && o.window.state === 'rising' && o.window.onsetTs >= startTs);
      assert.ok(rises.length >= 1, `cycle ${cycle}: the highlight was detected`);
      const m = roomMetrics(st);
      assert.equal(m.streamStartTs, startTs);
      assert.deepStrictEqual(m, roomMetrics(fresh), `cycle ${cycle}: the figures are the cycle's own`);
      assert.ok(m.gmv > 0, 'm.gmv > 0');
    }
  });
});

// ---- property: stream 2 of a room == the same events in a fresh room ------------------------------------

const SRC: TrafficSource[] = ['follow', 'public', 'paid', 'other'];

/**
 * One stream: a platform count every 2 s (a level, maybe with a bump the detector can call a rise) and random
 * events, some behind the watermark (on time or late).
 */
function arbStream(prefix: string, viewerPrefix: fc.Arbitrary<string>) {
  const level = fc.record({
    base: fc.integer({ min: 50, max: 400 }),
    bumpAt: fc.integer({ min: 60, max: 300 }),
    bumpLen: fc.integer({ min: 40, max: 200 }),
    liftPct: fc.oneof(fc.constant(0), fc.integer({ min: 60, max: 200 })),
  });
  const xs = fc.array(
    fc.record({
      kind: fc.integer({ min: 0, max: 11 }),
      at: fc.integer({ min: 0, max: 400_000 }),
      back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60_000 })),
      v: fc.tuple(viewerPrefix, fc.integer({ min: 0, max: 12 })).map(([p, n]) => `${p}${n}`),
      src: fc.constantFrom(...SRC),
      amount: fc.integer({ min: 1, max: 5000 }),
    }),
    { maxLength: 120 },
  );
  return fc.record({ level, xs }).map(({ level, xs }) => ({ prefix, level, xs }));
}

type Draw = { kind: number; at: number; back: number; v: string; src: TrafficSource; amount: number };
type Level = { base: number; bumpAt: number; bumpLen: number; liftPct: number };

function build(from: number, s: { prefix: string; level: Level; xs: Draw[] }): CrestEvent[] {
  const { base, bumpAt, bumpLen, liftPct } = s.level;
  const counts: Draw[] = [];
  for (let at = 0; at <= 400_000; at += 2000) {
    const t = at / 1000;
    const lift = t >= bumpAt && t < bumpAt + bumpLen ? ((base * liftPct) / 100) * Math.sin((Math.PI * (t - bumpAt)) / bumpLen) : 0;
    counts.push({ kind: -1, at, back: 0, v: '', src: 'other', amount: Math.round(base + lift) });
  }
  // Arrival order is `at`; event time is `at - back`, so some arrive behind the watermark.
  const xs = [...counts, ...s.xs].sort((a, b) => a.at - b.at);
  return xs.map((x, i) => {
    // Only the first stream is held at T0: the second one's first events may be stamped before its stream.start.
    const c = { id: `${s.prefix}${i}`, room: ROOM, ts: T0 + Math.max(0, from + x.at - x.back) };
    switch (x.kind) {
      case -1: return { ...c, type: 'room.online', count: x.amount };
      case 0: return { ...c, type: 'viewer.enter', viewer: x.v, source: x.src };
      case 1: return { ...c, type: 'viewer.leave', viewer: x.v };
      case 2: return { ...c, type: 'order.paid', order: `o${i}`, viewer: x.v, amount: x.amount, sku: `sku${x.amount % 5}` };
      case 3: return { ...c, type: 'engage.follow', viewer: x.v };
      case 4: return { ...c, type: 'room.online', count: x.amount % 800 };
      case 5: return { ...c, type: 'ad.spend', amount: x.amount };
      case 6: return { ...c, type: 'room.exposure', source: x.src, count: x.amount };
      case 7: return { ...c, type: 'product.launch', sku: `sku${x.amount % 5}`, name: `n${x.amount}` };
      case 8: return { ...c, type: 'order.refunded', order: 'o', amount: x.amount };
      case 9: return { ...c, type: 'order.created', order: `o${i}`, viewer: x.v, amount: x.amount };
      case 10: return { ...c, type: 'engage.like', viewer: x.v, count: 1 + (x.amount % 3) };
      default: return { ...c, type: 'room.online', count: 200 + (x.amount % 50) };
    }
  });
}

describe('property: a second stream equals the same events in a fresh room', () => {
  test('metrics, ticks and windows after the stream.start match a fresh room exactly', () => {
    fc.assert(
      fc.property(
        arbStream('a', fc.constantFrom('v', 'w')),
        arbStream('b', fc.constantFrom('v', 'x')),
        fc.integer({ min: 0, max: 90_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (s1, s2, gap, extra) => {
          const first = build(0, s1);
          const startTs = Math.max(T0, ...first.map((e) => e.ts)) + gap;
          const second: CrestEvent[] = [
            { id: 'start-2', room: ROOM, ts: startTs, type: 'stream.start' },
            ...build(startTs - T0, s2),
          ];
          const end = Math.max(...second.map((e) => e.ts)) + extra;

          const live = createRoomState(ROOM, cfg);
          const liveOut: RoomOutput[] = [];
          for (const e of first) applyEvent(live, e, cfg, liveOut);
          const before = liveOut.length;
          applyEvent(live, second[0], cfg, liveOut);
          // The reset's own outputs (the old stream's window closing, its suggestions) are the old stream's.
          const fromStart = liveOut.length;
          for (const e of second.slice(1)) applyEvent(live, e, cfg, liveOut);
          advanceTo(live, end, cfg, liveOut);

          const fresh = createRoomState(ROOM, cfg);
          const freshOut: RoomOutput[] = [];
          for (const e of second) applyEvent(fresh, e, cfg, freshOut);
          advanceTo(fresh, end, cfg, freshOut);

          assert.ok(before <= fromStart, 'before <= fromStart');
          assert.deepStrictEqual(roomMetrics(live), roomMetrics(fresh));
          const noSuggestions = (o: RoomOutput) => o.type !== 'suggestion'; // cooldowns carry over on purpose
          assert.deepStrictEqual(liveOut.slice(fromStart).filter(noSuggestions), freshOut.filter(noSuggestions));
          const liveWindows = roomWindows(live);
          assert.deepStrictEqual(liveWindows.slice(liveWindows.length - live.streamWindows), roomWindows(fresh));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('the property meets streams with money, viewers, windows and windows open at the stream.start (it is not vacuous)', () => {
    const seen = { gmv: 0, sessions: 0, windows: 0, openAtStart: 0 };
    fc.assert(
      fc.property(arbStream('a', fc.constant('v')), (s) => {
        const st = createRoomState(ROOM, cfg);
        const out: RoomOutput[] = [];
        for (const e of build(0, s)) applyEvent(st, e, cfg, out);
        const m = roomMetrics(st);
        seen.gmv += m.gmv;
        seen.sessions += m.entriesTotal.paid + m.entriesTotal.follow;
        seen.windows += roomWindows(st).length;
        if (st.windowOpen) seen.openAtStart++;
      }),
      { numRuns: 60, seed: 7 },
    );
    assert.ok(Object.values(seen).every((n) => n > 0), JSON.stringify(seen));
  });
});
