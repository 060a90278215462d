import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_PRE_S } from './flow-room.ts';
import { generateLiveRoom, liveCsv, liveRoomPlan, liveSeries, LIVE_DURATION_S, LIVE_VIEWERS_MAX, LIVE_VIEWERS_MIN, type LiveRoom } from './live-set.ts';
import type { Giveaway } from './live-shapes.ts';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const rooms = new Map<number, LiveRoom>();
const room = (seed: number): LiveRoom => {
  let r = rooms.get(seed);
  if (!r) rooms.set(seed, (r = generateLiveRoom(seed)));
  return r;
};
/** Mean true concurrency over seconds [a, b). */
const meanC = (r: LiveRoom, a: number, b: number): number => {
  let s = 0;
  for (let x = a; x < b; x++) s += r.seconds.concurrency[x + FLOW_PRE_S]!;
  return s / (b - a);
};

test('determinism: the same seed gives identical rows and labels at both steps; another seed another room', () => {
  for (const seed of [1, 2, 3]) {
    const again = generateLiveRoom(seed);
    for (const step of [1000, 5000]) assert.deepEqual(liveSeries(again, step), liveSeries(room(seed), step), `seed ${seed}, ${step} ms`);
  }
  assert.notDeepEqual(liveSeries(room(4), 5000).value, liveSeries(room(5), 5000).value);
});

test('room kinds follow the seed: ≡ 0 mod 3 controls (no window), the rest one build-up; every window holds rows', () => {
  for (const seed of SEEDS) {
    const r = room(seed);
    const s = liveSeries(r, 5000);
    assert.equal(r.plan.control, seed % 3 === 0);
    assert.equal(s.labels.windows_up.length, r.plan.control ? 0 : 1, `${s.name}: build-ups labelled`);
    assert.equal(s.labels.windows.length, s.labels.windows_up.length);
    for (const [i, [a, b]] of s.labels.windows_up.entries()) {
      const [, end] = s.labels.windows[i]!;
      assert.ok(a < b && b <= end, `${s.name}: start < top ≤ end`);
      assert.ok(s.ts.filter((t) => t >= a && t <= b).length >= 12, `${s.name}: at least a minute of rows from start to top`);
    }
  }
});

test('label sanity: every labelled window holds a real rise of true concurrency (top ≥ 1.25 × the 2 min before, and the 2 min up to the top ≥ 1.15 ×)', () => {
  let checked = 0;
  for (const seed of SEEDS) {
    const r = room(seed);
    for (const w of r.rises) {
      const before = meanC(r, w.startS - 120, w.startS);
      assert.ok(w.top >= 1.25 * before, `seed ${seed}: top ${w.top.toFixed(0)} vs before ${before.toFixed(0)}`);
      assert.ok(meanC(r, w.peakS - 120, w.peakS) >= 1.15 * before, `seed ${seed}: the rise is sustained, not one spike`);
      checked++;
    }
  }
  assert.ok(checked >= 15, `only ${checked} build-ups checked`);
});

test('label sanity: controls hold no sustained rise — 2 min vs the 10 min before stays under 1.15 + 2/√viewers outside giveaways — and giveaways fall back', () => {
  for (const seed of SEEDS.filter((s) => s % 3 === 0)) {
    const r = room(seed);
    const gws = r.plan.flow.episodes.filter((e): e is Giveaway => e.kind === 'giveaway');
    const limit = 1.15 + 2 / Math.sqrt(r.plan.flow.viewers);
    for (let s = 600; s + 120 <= LIVE_DURATION_S; s += 5) {
      if (gws.some((g) => s + 120 > g.startS - 60 && s < g.startS + g.holdS + 4 * g.leaveMeanS + 60)) continue;
      const q = meanC(r, s, s + 120) / meanC(r, s - 600, s);
      assert.ok(q < limit, `seed ${seed} (${r.plan.flow.viewers} viewers) at ${s} s: ×${q.toFixed(3)} ≥ ${limit.toFixed(3)}`);
    }
  }
  const backs: number[] = [];
  for (let seed = 1; seed <= 48; seed++) {
    const r = seed <= 24 ? room(seed) : generateLiveRoom(seed);
    for (const g of r.plan.flow.episodes.filter((e): e is Giveaway => e.kind === 'giveaway')) {
      const draw = g.startS + g.holdS;
      const during = meanC(r, draw - 30, draw);
      const before = meanC(r, g.startS - 120, g.startS);
      const after = meanC(r, Math.min(LIVE_DURATION_S - 60, draw + 180), Math.min(LIVE_DURATION_S, draw + 240));
      assert.ok(during > 1.1 * before, `seed ${seed}: the giveaway lifts the room (${during.toFixed(0)} vs ${before.toFixed(0)})`);
      backs.push(Math.abs(after / before - 1));
    }
  }
  backs.sort((a, b) => a - b);
  assert.ok(backs.length >= 8, `${backs.length} giveaways`);
  assert.ok(backs[Math.floor(backs.length / 2)]! < 0.1, `median giveaway is back within 10 % 3 min after the draw (${backs.map((b) => b.toFixed(2))})`);
});

test('concurrency-only rooms (seed ≡ 2 mod 4) have no leading columns; the others have entries and interactions', () => {
  for (const seed of SEEDS) {
    const s = liveSeries(room(seed), 5000);
    const header = liveCsv(s).split('\n')[0];
    if (seed % 4 === 2) {
      assert.equal(s.extra, undefined, s.name);
      assert.equal(header, 'ts,value');
      assert.equal(s.labels.concurrency_only, true);
    } else {
      assert.equal(header, 'ts,value,entries_organic,entries_paid,interactions');
      assert.ok(s.extra!.entries_organic.reduce((a, b) => a + b, 0) > 0, `${s.name}: entries`);
      assert.ok(s.extra!.interactions.reduce((a, b) => a + b, 0) > 0, `${s.name}: interactions`);
    }
  }
});

test('sizes span 30–200,000 log-uniformly (300 plans)', () => {
  const v = Array.from({ length: 300 }, (_, i) => liveRoomPlan(i + 1).flow.viewers);
  assert.ok(v.every((x) => x >= LIVE_VIEWERS_MIN && x <= LIVE_VIEWERS_MAX), 'v.every((x) => x >= LIVE_VIEWERS_MIN && x <= LIVE_VIEWERS_MAX)');
  assert.ok(Math.min(...v) < 60 && Math.max(...v) > 100_000, `${Math.min(...v)}–${Math.max(...v)}`);
  const belowGeoMean = v.filter((x) => x < Math.sqrt(LIVE_VIEWERS_MIN * LIVE_VIEWERS_MAX)).length / v.length;
  assert.ok(Math.abs(belowGeoMean - 0.5) < 0.1, `half below the geometric mean: ${belowGeoMean}`);
  const defaultSet = v.slice(0, 48);
  assert.ok(Math.min(...defaultSet) < 100 && Math.max(...defaultSet) > 50_000, 'the default 48 rooms cover small and huge rooms');
});

test('build-ups: 2–12 min of growth, a share of them starting at +2 %/min, both hype-led and feed-led; distractors of every kind', () => {
  const plans = Array.from({ length: 150 }, (_, i) => liveRoomPlan(i + 1));
  const bs = plans.flatMap((p) => p.flow.episodes.filter((e) => e.kind === 'buildup'));
  assert.equal(bs.length, plans.filter((p) => !p.control).length, 'every event room has its build-up placed');
  assert.ok(bs.every((b) => b.kind === 'buildup' && b.growS >= 120 && b.growS <= 720), "bs.every((b) => b.kind === 'buildup' && b.growS >= 120 && b.growS <= 720)");
  const slow = bs.filter((b) => b.kind === 'buildup' && b.slow);
  assert.ok(slow.length > bs.length / 5 && slow.every((b) => b.kind === 'buildup' && b.g0PerMin === 0.02), `${slow.length} slow of ${bs.length}`);
  assert.ok(Math.min(...bs.map((b) => b.growS)) < 180 && Math.max(...bs.map((b) => b.growS)) > 660, 'Math.min(...bs.map((b) => b.growS)) < 180 && Math.max(...bs.map((b) => b.growS)) > 660');
  assert.ok(bs.some((b) => b.kind === 'buildup' && b.led === 'feed') && bs.some((b) => b.kind === 'buildup' && b.led === 'hype'), "bs.some((b) => b.kind === 'buildup' && b.led === 'feed') && bs.some((b) => b.kind === 'buildup' &...");
  const kinds = new Set(plans.flatMap((p) => p.flow.episodes.map((e) => e.kind)));
  assert.deepEqual([...kinds].sort(), ['buildup', 'giveaway', 'paid', 'teaser']);
  const glitches = new Set(plans.flatMap((p) => p.glitches.map((g) => g.kind)));
  assert.deepEqual([...glitches].sort(), ['drop', 'freeze', 'repeat']);
  for (const p of plans) {
    const eps = [...p.flow.episodes].sort((a, b) => a.startS - b.startS);
    assert.ok(eps.every((e) => Number.isInteger(e.startS) && e.startS >= 480), `${p.name}: episodes start on whole seconds after 8 min`);
  }
});

test('leading signals lead: halfway through a hype-led build-up, interactions and entries are further above their level than concurrency is', () => {
  let n = 0;
  for (const seed of SEEDS) {
    const r = room(seed);
    const b = r.plan.flow.episodes.find((e) => e.kind === 'buildup');
    if (!b || b.kind !== 'buildup' || b.led !== 'hype' || r.plan.concurrencyOnly || r.plan.flow.viewers < 300) continue;
    const sum = (xs: number[], a: number, z: number) => xs.slice(a + FLOW_PRE_S, z + FLOW_PRE_S).reduce((p, q) => p + q, 0) / (z - a);
    const entries = r.seconds.entries[0]!.map((x, i) => x + r.seconds.entries[1]![i]! + r.seconds.entries[3]![i]!);
    // Concurrency integrates entries − exits, so while it grows the inflow is up by more than it is.
    const t = b.startS + b.lagS + Math.round(b.growS / 2);
    const ratio = (xs: number[]) => sum(xs, t - 60, t) / sum(xs, b.startS - 300, b.startS);
    const conc = meanC(r, t - 60, t) / meanC(r, b.startS - 300, b.startS);
    assert.ok(ratio(r.seconds.interactions) > conc, `seed ${seed}: interactions ×${ratio(r.seconds.interactions).toFixed(2)} vs concurrency ×${conc.toFixed(2)}`);
    assert.ok(ratio(entries) > conc, `seed ${seed}: entries ×${ratio(entries).toFixed(2)} vs concurrency ×${conc.toFixed(2)}`);
    n++;
  }
  assert.ok(n >= 4, `${n} rooms checked`);
});

test('1 s and 5 s rows describe the same room: same values at the same instants, 5 s counts = sums of the 1 s rows since the last', () => {
  for (const seed of [1, 4, 7, 8, 9, 11]) {
    const r = room(seed);
    const one = liveSeries(r, 1000);
    const five = liveSeries(r, 5000);
    assert.ok(r.plan.glitches.length > 0 || seed !== 1, 'seed 1 has glitches to carry');
    assert.deepEqual(five.labels.windows_up, one.labels.windows_up);
    const at = new Map(one.ts.map((t, i) => [t, i]));
    let prev = -1;
    for (const [k, t] of five.ts.entries()) {
      const i = at.get(t);
      assert.ok(i !== undefined, `seed ${seed}: the 5 s row at ${t} is a 1 s row too`);
      assert.equal(five.value[k], one.value[i]);
      assert.equal(five.truth[k], one.truth[i]);
      if (five.extra) {
        for (const col of ['entries_organic', 'entries_paid', 'interactions'] as const) {
          const inSpan: number = one.extra![col].slice(prev + 1, i + 1).reduce((a, b) => a + b, 0);
          // The first 5 s row also counts the 4 s before 0, which no 1 s row covers.
          if (k > 0) assert.equal(five.extra[col][k], inSpan, `seed ${seed} ${col} row ${k}`);
        }
      }
      prev = i;
    }
  }
});

test('glitches show in the rows: a frozen count repeats, a dropped report is a missing row', () => {
  let froze = 0;
  let dropped = 0;
  for (const seed of SEEDS) {
    const r = room(seed);
    const s = liveSeries(r, 5000);
    for (const g of r.plan.glitches) {
      if (g.kind === 'drop') {
        assert.ok(!s.ts.includes(1_700_000_000_000 + g.atS * 1000), `seed ${seed}: dropped row absent`);
        dropped++;
      }
      if (g.kind === 'freeze') {
        const vals = s.ts.flatMap((t, i) => (t >= 1_700_000_000_000 + g.startS * 1000 && t < 1_700_000_000_000 + (g.startS + g.durationS) * 1000 ? [s.value[i]] : []));
        assert.equal(new Set(vals).size, 1, `seed ${seed}: one value through the freeze`);
        froze++;
      }
    }
  }
  assert.ok(froze > 0 && dropped > 0, `the seeds hold a freeze (${froze}) and a dropped stretch (${dropped})`);
});
