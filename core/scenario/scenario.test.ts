import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseEvent } from '../events.ts';
import type { CrestEvent } from '../events.ts';
import { generateRoom, SCENARIOS } from './generate-room.ts';
import type { GeneratedRoom, ScenarioName } from './generate-room.ts';
import { createRng } from './prng.ts';

const START = 1_700_000_000_000;
const MIN = 60_000;
const LABELLED: ScenarioName[] = ['highlight', 'double-highlight', 'mixed'];

const rooms = new Map<string, GeneratedRoom>();
/** 20-minute rooms, generated once per (scenario, seed) for the whole file. */
function room(scenario: ScenarioName, seed = 1, durationMs = 20 * MIN): GeneratedRoom {
  const key = `${scenario}/${seed}/${durationMs}`;
  let g = rooms.get(key);
  if (!g) rooms.set(key, (g = generateRoom({ room: `r-${scenario}`, scenario, seed, startTs: START, durationMs })));
  return g;
}
const at = (g: GeneratedRoom, ts: number): number => g.truth[Math.round((ts - START) / 1000)].concurrency;
const meanTruth = (g: GeneratedRoom, fromS: number, toS: number): number => {
  const xs = g.truth.slice(fromS, toS).map((p) => p.concurrency);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const ofType = <T extends CrestEvent['type']>(g: GeneratedRoom, type: T) => g.events.filter((e): e is Extract<CrestEvent, { type: T }> => e.type === type);

test('prng: same seed and stream give the same sequence, other streams differ', () => {
  const a = createRng(42, 'x');
  const b = createRng(42, 'x');
  const c = createRng(42, 'y');
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(Array.from({ length: 100 }, () => b.next()), xs);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c.next()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1), 'xs.every((x) => x >= 0 && x < 1)');
  const p = createRng(1);
  const mean = Array.from({ length: 20_000 }, () => p.poisson(3)).reduce((s, x) => s + x, 0) / 20_000;
  assert.ok(Math.abs(mean - 3) < 0.1, `poisson mean ${mean}`);
});

for (const scenario of SCENARIOS) {
  test(`${scenario}: every event passes contract v1, ids are unique, stream.start first and stream.end last`, () => {
    const g = room(scenario);
    for (const [i, e] of g.events.entries()) {
      const r = parseEvent(e);
      assert.ok(r.ok, `event ${i} (${e.type}) rejected: ${r.ok ? '' : `${r.error.field} ${r.error.reason}`}`);
      assert.equal(e.room, g.room);
      assert.ok(e.ts >= START && e.ts <= START + 20 * MIN, `event ${e.id} outside the stream`);
    }
    assert.equal(new Set(g.events.map((e) => e.id)).size, g.events.length, 'duplicate ids');
    assert.deepEqual([g.events[0].type, g.events[0].ts], ['stream.start', START]);
    assert.deepEqual([g.events.at(-1)!.type, g.events.at(-1)!.ts], ['stream.end', START + 20 * MIN]);
    assert.equal(g.events.filter((e) => e.type === 'stream.start' || e.type === 'stream.end').length, 2);
  });

  test(`${scenario}: events are in ts order except the deliberately late ones, which arrive over 30 s behind`, () => {
    const g = room(scenario);
    const late = new Set(g.lateIds);
    let watermark = 0;
    for (const e of g.events) {
      if (late.has(e.id)) {
        assert.ok(watermark - e.ts > 30_000, `late event ${e.id} is only ${watermark - e.ts} ms behind`);
        continue;
      }
      assert.ok(e.ts >= watermark, `${e.id} out of order`);
      watermark = e.ts;
    }
  });

  test(`${scenario}: labels lie inside the stream with onset < peak < end`, () => {
    const g = room(scenario);
    for (const l of g.labels) {
      assert.equal(l.kind, 'highlight');
      assert.ok(START <= l.onsetTs && l.onsetTs < l.peakTs && l.peakTs < l.endTs && l.endTs <= START + 20 * MIN, JSON.stringify(l));
    }
    if (!LABELLED.includes(scenario)) assert.deepEqual(g.labels, [], `${scenario} must have no highlight`);
  });
}

test('same seed gives the identical room; another seed gives a different one', () => {
  for (const scenario of SCENARIOS) {
    const opts = { room: 'det', scenario, seed: 9, startTs: START, durationMs: 8 * MIN };
    const a = generateRoom(opts);
    assert.deepEqual(generateRoom(opts), a, scenario);
    const b = generateRoom({ ...opts, seed: 10 });
    assert.notDeepEqual(b.events, a.events, scenario);
    assert.notDeepEqual(b.truth, a.truth, scenario);
  }
});

test('label counts: highlight has one, double-highlight two, mixed at least one; flat none', () => {
  for (let seed = 1; seed <= 5; seed++) {
    assert.equal(room('highlight', seed).labels.length, 1, `highlight seed ${seed}`);
    assert.equal(room('double-highlight', seed).labels.length, 2, `double-highlight seed ${seed}`);
    assert.ok(room('mixed', seed).labels.length >= 1, `mixed seed ${seed}`);
    assert.equal(room('flat', seed).labels.length, 0);
  }
});

test('a highlight lifts true concurrency at its peak to at least 1.3× the baseline before onset', () => {
  for (let seed = 1; seed <= 8; seed++) {
    for (const scenario of LABELLED) {
      const g = room(scenario, seed);
      for (const l of g.labels) {
        const onsetS = (l.onsetTs - START) / 1000;
        const base = meanTruth(g, onsetS - 120, onsetS);
        const peak = at(g, l.peakTs);
        assert.ok(peak >= 1.3 * base, `${scenario} seed ${seed}: peak ${peak} vs baseline ${base.toFixed(0)}`);
        // End: back near the baseline (within 35 % of the lift, allowing for noise around the smoothed test).
        assert.ok(at(g, l.endTs) <= base + 0.35 * (peak - base) || l.endTs === START + 20 * MIN, `${scenario} seed ${seed}: end ${at(g, l.endTs)}`);
      }
    }
  }
});

test('a highlight builds up with interaction and paid traffic, then a launch and a burst of orders', () => {
  const g = room('highlight', 3);
  const [l] = g.labels;
  const launch = ofType(g, 'product.launch').find((e) => e.ts > l.onsetTs)!;
  assert.ok(launch && launch.ts < l.peakTs + 60_000, 'the hot product is launched near the top');
  assert.ok(launch.price! >= 5900 && launch.price! <= 19900, 'launch.price! >= 5900 && launch.price! <= 19900');
  const win = (type: CrestEvent['type'], from: number, to: number) => g.events.filter((e) => e.type === type && e.ts >= from && e.ts < to).length;
  const before = [l.onsetTs - 3 * MIN, l.onsetTs] as const;
  const build = [l.onsetTs, launch.ts] as const;
  const perMin = (n: number, [a, b]: readonly [number, number]) => (n * MIN) / (b - a);
  for (const type of ['engage.comment', 'engage.like'] as const) {
    assert.ok(perMin(win(type, ...build), build) > 1.5 * perMin(win(type, ...before), before), `${type} rises in the build-up`);
  }
  const paidShare = (from: number, to: number) => {
    const enters = ofType(g, 'viewer.enter').filter((e) => e.ts >= from && e.ts < to);
    return enters.filter((e) => e.source === 'paid').length / enters.length;
  };
  assert.ok(paidShare(...build) > 1.3 * paidShare(...before), 'paid share of entries rises during the build-up');
  const spend = (from: number, to: number) => ofType(g, 'ad.spend').filter((e) => e.ts >= from && e.ts < to).reduce((s, e) => s + e.amount, 0);
  assert.ok(perMin(spend(...build), build) > 2 * perMin(spend(...before), before), 'ad spend rises during the build-up');
  const after = [launch.ts, launch.ts + 3 * MIN] as const;
  assert.ok(perMin(win('order.paid', ...after), after) > 5 * Math.max(1, perMin(win('order.paid', ...before), before)), 'orders burst after the launch');
});

test('orders: amounts are price × qty in fen, every paid order was created first', () => {
  const g = room('mixed', 2);
  const created = new Map<string, number>();
  for (const e of g.events) {
    if (e.type === 'order.created') created.set(e.order, e.ts);
    if (e.type === 'order.created' || e.type === 'order.paid') {
      assert.ok(Number.isInteger(e.amount) && e.amount >= 5900 && e.amount <= 3 * 19900, `amount ${e.amount}`);
      assert.equal(e.amount % (e.amount / e.qty!), 0);
    }
    if (e.type === 'order.paid') assert.ok(created.get(e.order)! <= e.ts, `order ${e.order} paid before created`);
  }
  assert.ok(ofType(g, 'order.paid').length > 20, 'ofType(g, \'order.paid\').length > 20');
});

test('viewers: each enters once; interactions and leaves only while present; about 10 % leave silently', () => {
  const g = room('highlight', 4);
  const entered = new Map<string, number>();
  const left = new Set<string>();
  const late = new Set(g.lateIds);
  const sources: Record<string, number> = {};
  for (const e of g.events) {
    if (e.type === 'viewer.enter') {
      assert.ok(!entered.has(e.viewer), `${e.viewer} entered twice`);
      entered.set(e.viewer, e.ts);
      sources[e.source] = (sources[e.source] ?? 0) + 1;
    } else if (e.type === 'viewer.leave') {
      assert.ok(entered.get(e.viewer)! <= e.ts && !left.has(e.viewer), `${e.viewer} left without being in`);
      left.add(e.viewer);
    } else if ('viewer' in e && e.viewer && !e.type.startsWith('order.') && !late.has(e.id)) {
      assert.ok(entered.has(e.viewer) && !left.has(e.viewer), `${e.type} by ${e.viewer}, who is not in the room`);
    }
  }
  // Viewers still in at the end have no leave; of the rest, ~10 % go silent.
  const stillIn = g.truth.at(-1)!.concurrency;
  const silent = 1 - left.size / (entered.size - stillIn);
  assert.ok(silent > 0.05 && silent < 0.15, `silent share ${silent}`);
  const n = entered.size;
  assert.ok(sources.public / n > 0.35 && sources.follow / n > 0.1 && sources.paid / n > 0.05 && sources.other / n > 0.05, JSON.stringify(sources));
});

test('room.online follows true concurrency every ~5 s; room.exposure per source every 10 s', () => {
  const g = room('flat', 2);
  const online = ofType(g, 'room.online');
  const gaps = online.slice(1).map((e, i) => e.ts - online[i].ts).sort((a, b) => a - b);
  assert.ok(Math.abs(gaps[gaps.length >> 1] - 5000) < 600, `median gap ${gaps[gaps.length >> 1]}`);
  assert.ok(online.length > 0.9 * 240 && online.length <= 240, `${online.length} reports`);
  for (const e of online.filter((x) => x.ts > START + MIN)) {
    const truth = at(g, Math.floor(e.ts / 1000) * 1000);
    assert.ok(Math.abs(e.count - truth) <= Math.max(5, 0.1 * truth), `online ${e.count} vs truth ${truth}`);
  }
  const exposure = ofType(g, 'room.exposure');
  assert.equal(exposure.length, 4 * 120);
  for (const source of ['follow', 'public', 'paid', 'other']) assert.equal(exposure.filter((e) => e.source === source).length, 120);
});

test('giveaway spike: a real jump that collapses back near the baseline within 60 s of its top', () => {
  for (let seed = 1; seed <= 8; seed++) {
    const g = room('giveaway-spike', seed);
    const giveaways = g.episodes.filter((e) => e.kind === 'giveaway');
    assert.ok(giveaways.length >= 1, 'giveaways.length >= 1');
    for (const e of giveaways) {
      if (e.kind !== 'giveaway') continue;
      const base = meanTruth(g, e.t0 - 60, e.t0);
      let peakS = e.t0;
      for (let s = e.t0; s < e.t0 + e.drawS + 20; s++) if (g.truth[s].concurrency > g.truth[peakS].concurrency) peakS = s;
      const peak = g.truth[peakS].concurrency;
      assert.ok(peak >= 1.5 * base, `seed ${seed}: spike ${peak} vs ${base.toFixed(0)}`);
      const after = meanTruth(g, peakS + 55, peakS + 65);
      assert.ok(after <= base + 0.3 * (peak - base), `seed ${seed}: ${after.toFixed(0)} a minute after a ${peak} top (baseline ${base.toFixed(0)})`);
    }
  }
});

test('slow growth: concurrency climbs steadily over many minutes, no highlight', () => {
  for (let seed = 1; seed <= 4; seed++) {
    const g = room('slow-growth', seed);
    const early = meanTruth(g, 60, 180);
    const late = meanTruth(g, 1080, 1200);
    assert.ok(late > 1.2 * early, `seed ${seed}: ${early.toFixed(0)} → ${late.toFixed(0)}`);
    // No single 2-minute step jumps like a highlight does.
    for (let s = 180; s + 120 <= 1200; s += 60) assert.ok(meanTruth(g, s + 90, s + 120) < 1.3 * meanTruth(g, s - 30, s), `seed ${seed} at ${s}s`);
  }
});

test('paid burst: entries jump, ad spend jumps, concurrency barely moves', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const g = room('paid-burst', seed);
    const e = g.episodes.find((x) => x.kind === 'paid-burst');
    assert.ok(e && e.kind === 'paid-burst', 'e && e.kind === \'paid-burst\'');
    const paid = (fromS: number, toS: number) =>
      ofType(g, 'viewer.enter').filter((v) => v.source === 'paid' && v.ts >= START + fromS * 1000 && v.ts < START + toS * 1000).length / (toS - fromS);
    assert.ok(paid(e.t0 + 30, e.t0 + e.durS - 15) > 2.5 * paid(e.t0 - 180, e.t0), `seed ${seed}: paid entries`);
    const base = meanTruth(g, e.t0 - 120, e.t0);
    const during = meanTruth(g, e.t0 + 30, e.t0 + e.durS);
    assert.ok(during < 1.2 * base, `seed ${seed}: ${base.toFixed(0)} → ${during.toFixed(0)}`);
  }
});

test('platform glitch: room.online jumps, freezes and goes missing while the truth does not move', () => {
  const g = room('platform-glitch', 3);
  const online = ofType(g, 'room.online');
  const during = (e: { t0: number; durS: number }) => online.filter((o) => o.ts >= START + e.t0 * 1000 && o.ts < START + (e.t0 + e.durS) * 1000);
  for (const e of g.episodes) {
    if (e.kind === 'online-jump') {
      for (const o of during(e)) assert.ok(o.count > 1.5 * at(g, Math.floor(o.ts / 1000) * 1000), 'jumped count');
    } else if (e.kind === 'online-freeze') {
      const counts = during(e).map((o) => o.count);
      assert.ok(counts.length >= 8 && new Set(counts).size === 1, `frozen: ${counts.join(',')}`);
    } else if (e.kind === 'online-gap') {
      assert.equal(during(e).length, 0);
    }
  }
  assert.deepEqual(g.labels, []);
  assert.ok(g.lateIds.length >= 3, 'a few late events');
});

test('baseViewers sets the level; counts and generation time stay bounded', () => {
  const small = generateRoom({ room: 'small', scenario: 'flat', seed: 1, startTs: START, durationMs: 10 * MIN, baseViewers: 40 });
  const level = meanTruth(small, 60, 600);
  assert.ok(level > 28 && level < 55, `level ${level}`);
  for (const scenario of SCENARIOS) {
    const t = performance.now();
    const g = generateRoom({ room: 'timed', scenario, seed: 5, startTs: START, durationMs: 20 * MIN });
    const ms = performance.now() - t;
    assert.ok(ms < 1000, `${scenario}: ${ms.toFixed(0)} ms`);
    assert.ok(g.events.length > 8_000 && g.events.length < 50_000, `${scenario}: ${g.events.length} events`);
    assert.equal(g.truth.length, 20 * 60 + 1);
  }
});

test('the first highlight of a short (demo-length) room builds 60–90 s in and peaks inside the stream', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const g = generateRoom({ room: 'short', scenario: 'highlight', seed, startTs: START, durationMs: 6 * MIN });
    assert.equal(g.labels.length, 1);
    const onset = (g.labels[0].onsetTs - START) / 1000;
    assert.ok(onset >= 60 && onset <= 90, `onset ${onset}`);
    assert.ok(g.labels[0].peakTs < START + 5 * MIN, 'g.labels[0].peakTs < START + 5 * MIN');
  }
});

test('bad options are refused with the field named', () => {
  const ok = { room: 'r', scenario: 'flat' as const, seed: 1, startTs: START, durationMs: 2 * MIN };
  assert.throws(() => generateRoom({ ...ok, room: 'bad room' }), /room/);
  assert.throws(() => generateRoom({ ...ok, durationMs: 1000 }), /durationMs/);
  assert.throws(() => generateRoom({ ...ok, startTs: 1.5 }), /startTs/);
  assert.throws(() => generateRoom({ ...ok, seed: Number.NaN }), /seed/);
});

test('property: any scenario, seed and duration yields valid, unique, bounded events and labels', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SCENARIOS),
      fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
      fc.integer({ min: 60_000, max: 12 * MIN }),
      fc.integer({ min: 5, max: 600 }),
      (scenario, seed, durationMs, baseViewers) => {
        const g = generateRoom({ room: 'prop', scenario, seed, startTs: START, durationMs, baseViewers });
        const ids = new Set<string>();
        for (const e of g.events) {
          if (!parseEvent(e).ok) return false;
          if (ids.has(e.id) || e.ts < START || e.ts > START + durationMs) return false;
          ids.add(e.id);
        }
        return g.labels.every((l) => START <= l.onsetTs && l.onsetTs < l.peakTs && l.peakTs < l.endTs && l.endTs <= START + durationMs);
      },
    ),
    { numRuns: 40, seed: 20260101 },
  );
});
