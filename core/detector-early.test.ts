import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DETECTOR_PROFILES } from '../config/detector-profiles.ts';
import { engineConfig } from '../config/config.ts';
import { createDetector, detectorNote, detectorStep, type DetectorEvent, type DetectorState } from './detector.ts';
import { applyEvent, createRoomState, type RoomOutput } from './engine.ts';
import type { CrestEvent } from './events.ts';
import type { DetectorConfig } from './engine-config.ts';
import { generateRoom } from './scenario/generate-room.ts';

const cfg: DetectorConfig = DETECTOR_PROFILES.balanced;
const T0 = 1_700_000_000_000;

/** Seeded Poisson counts (Knuth), so scripted rooms are reproducible. */
function poisson(seed: number): (mean: number) => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return (mean) => {
    const L = Math.exp(-mean);
    let k = 0;
    for (let p = u(); p > L; p *= u()) k++;
    return k;
  };
}

interface Second {
  online: number;
  /** Expected organic entries, paid entries and interaction events this second. */
  organic: number;
  paid?: number;
  act: number;
}

/** Feeds the detector one second at a time: that second's leading events, then the concurrency sample. */
function feed(script: Second[], opts: { lead?: boolean; seed?: number; c?: DetectorConfig } = {}): DetectorEvent[] {
  const c = opts.c ?? cfg;
  const st: DetectorState = createDetector(c);
  const draw = poisson(opts.seed ?? 1);
  const out: DetectorEvent[] = [];
  script.forEach((s, i) => {
    const ts = T0 + i * 1000;
    if (opts.lead !== false) {
      for (let n = draw(s.organic); n > 0; n--) detectorNote(st, { id: 'x', room: 'r', ts, type: 'viewer.enter', viewer: 'v', source: 'public' });
      for (let n = draw(s.paid ?? 0.3); n > 0; n--) detectorNote(st, { id: 'x', room: 'r', ts, type: 'viewer.enter', viewer: 'v', source: 'paid' });
      for (let n = draw(s.act); n > 0; n--) detectorNote(st, { id: 'x', room: 'r', ts, type: 'engage.comment', viewer: 'v' });
    }
    detectorStep(st, ts, s.online, c, out);
  });
  return out;
}

const quiet = (n: number, online = 300): Second[] => Array.from({ length: n }, (_, i) => ({ online: online + ((i * 7) % 9) - 4, organic: 2.7, act: 3 }));
const sec = (ts: number) => (ts - T0) / 1000;
const kinds = (evs: DetectorEvent[]) => evs.filter((e) => e.kind !== 'update').map((e) => e.kind);

describe('early stage: building', () => {
  test('a slow build-up is called building from the leading signals while concurrency is still within its noise; concurrency alone waits for rising', () => {
    // From 300 s: interaction and organic entries climb steadily; concurrency follows only a minute later, +1 viewer/s.
    const script = quiet(300);
    for (let i = 0; i < 240; i++) {
      script.push({ online: 300 + Math.max(0, i - 60) + ((i * 7) % 9) - 4, organic: 2.7 * (1 + i / 60), act: 3 * (1 + i / 40) });
    }
    const withLead = feed(script);
    const building = withLead.find((e) => e.kind === 'building');
    const rising = withLead.find((e) => e.kind === 'rising');
    assert.ok(building, `no building call: ${kinds(withLead)}`);
    assert.ok(rising, 'the build-up confirms');
    assert.ok(sec(building.ts) < 360, `building at ${sec(building.ts)} s, before concurrency moved at 360 s`);
    assert.ok(building.liftPct < 5, `lift at the call ${building.liftPct}%`);
    assert.ok(building.ts < rising.ts, 'building before rising');
    assert.equal(rising.detectedTs, building.ts, 'the confirmed window keeps the first call as its detection time');
    assert.equal(rising.onsetTs, building.onsetTs, 'and its onset');
    assert.ok(rising.confirmedTs === rising.ts && building.confirmedTs === null, 'confirmedTs is the rising call');
    assert.ok(building.confidence > 0 && building.confidence < 1, `confidence ${building.confidence}`);
    const alone = feed(script, { lead: false });
    assert.ok(!alone.some((e) => e.kind === 'building'), 'no early call from concurrency alone');
    const risingAlone = alone.find((e) => e.kind === 'rising');
    // Alone, +1 viewer/s from a flat room is a surge (a giveaway crowd's shape) and is held; the leading signals that
    // announced it lift that hold, so the confirmed call comes no later with them than without.
    assert.ok(risingAlone && risingAlone.ts >= rising.ts, `confirmed alone at ${risingAlone && sec(risingAlone.ts)} s, with leads at ${sec(rising.ts)} s`);
  });

  test('a slow build-up called building is confirmed against the baseline the call found, not one that climbed with it', () => {
    // From 300 s the leading signals climb; concurrency follows from 360 s at +0.6 viewer/s (+3.6 %/min on 1,000)
    // for 10 minutes, then holds. A baseline still learning meanwhile trailed the ramp by half its window.
    const script = quiet(300, 1000);
    for (let i = 0; i < 720; i++) {
      const up = Math.min(600, Math.max(0, i - 60));
      script.push({ online: 1000 + Math.round(0.6 * up) + ((i * 7) % 9) - 4, organic: 2.7 * (1 + Math.min(i, 600) / 300), act: 3 * (1 + Math.min(i, 600) / 200) });
    }
    const evs = feed(script);
    const building = evs.find((e) => e.kind === 'building');
    const rising = evs.find((e) => e.kind === 'rising');
    assert.ok(building, `no building call: ${kinds(evs)}`);
    assert.ok(!kinds(evs).includes('retracted'), `taken back: ${kinds(evs)}`);
    assert.ok(rising && rising.onsetTs === building.onsetTs, `the call confirms as one window: ${kinds(evs)}`);
    assert.ok(Math.abs(rising.baseline - building.baseline) <= 0.01 * building.baseline, `baseline ${building.baseline} at the call, ${rising.baseline} at rising`);
  });

  test('a crowd the buyer paid for gets no early call, and no rising while it is mostly bought; the same rise bringing organic entries does', () => {
    // From 300 s paid entries climb to ×15 over 40 s, interaction follows the bigger crowd; concurrency +0.8/s.
    const rise = (organicGrowth: number): Second[] => {
      const script = quiet(300);
      for (let i = 0; i < 180; i++) {
        script.push({ online: 300 + Math.round(0.8 * i) + ((i * 7) % 9) - 4, organic: 2.7 * (1 + organicGrowth * Math.min(1, i / 40)), paid: 0.3 * (1 + 14 * Math.min(1, i / 40)), act: 3 * (1 + Math.min(1, i / 40)) });
      }
      return script;
    };
    const risingAt = (evs: DetectorEvent[]) => evs.find((e) => e.kind === 'rising')?.ts ?? Infinity;
    const bought = feed(rise(0));
    assert.ok(!bought.some((e) => e.kind === 'building'), `bought traffic: ${kinds(bought)}`);
    const without = feed(rise(0), { c: { ...cfg, leadPaidHold: false } });
    assert.ok(without.some((e) => e.kind === 'building'), `without the paid hold the same rise is called early: ${kinds(without)}`);
    // Confirmed only once the bought rate has become the room's usual one (its baseline learns while nothing is
    // called), not while the extra entries are mostly paid.
    assert.ok(risingAt(bought) > risingAt(without) + 60_000, `rising at ${sec(risingAt(bought))} s with the hold, ${sec(risingAt(without))} s without`);
    const organic = feed(rise(1.5));
    assert.ok(organic.some((e) => e.kind === 'building'), `with organic entries: ${kinds(organic)}`);
    assert.equal(risingAt(organic), risingAt(feed(rise(1.5), { c: { ...cfg, leadPaidHold: false } })), 'a rise with organic entries is confirmed as without the hold');
  });

  test('a boost under way is learnt slowly: the bought crowd stays held longer, and a boost left on is learnt in the end', () => {
    // From 300 s paid entries ×15 for the rest of the stream; concurrency climbs with the bought crowd and stays.
    const script = quiet(300);
    for (let i = 0; i < 3600; i++) script.push({ online: 300 + Math.min(150, Math.round(0.8 * i)) + ((i * 7) % 9) - 4, organic: 2.7, paid: 4.5, act: 3 * (1 + Math.min(0.5, i / 300)) });
    const risingAt = (c: DetectorConfig) => feed(script, { c }).find((e) => e.kind === 'rising')?.ts ?? Infinity;
    const slow = risingAt(cfg);
    const usual = risingAt({ ...cfg, leadPaidLearnSlowdown: 1 });
    assert.ok(usual < Infinity && slow > usual + 120_000, `rising at ${sec(slow)} s learning slowly, ${sec(usual)} s at the usual rate`);
    // The detector state's paid baseline has caught up with a boost left on for an hour.
    const st = createDetector(cfg);
    const draw = poisson(3);
    for (let i = 0; i < script.length; i++) {
      const ts = T0 + i * 1000;
      for (let n = draw(script[i]!.paid ?? 0.3); n > 0; n--) detectorNote(st, { id: 'x', room: 'r', ts, type: 'viewer.enter', viewer: 'v', source: 'paid' });
      detectorStep(st, ts, script[i]!.online, cfg, []);
    }
    assert.ok(st.lead!.slow[1]! > 3, `paid baseline ${st.lead!.slow[1]} after an hour of 4.5/s`);
  });

  test('a crowd that comes for a giveaway, stays for the draw and leaves is retracted: fell-back', () => {
    // Comments and entries climb over 40 s (not a step), concurrency +60; after the draw at 380 s it drains.
    const script = quiet(300);
    for (let i = 0; i < 80; i++) script.push({ online: 300 + Math.min(60, i * 1.5) + ((i * 7) % 9) - 4, organic: 2.7 * (1 + Math.min(1, i / 40)), act: 3 * (1 + Math.min(1.2, i / 30)) });
    for (let i = 0; i < 200; i++) script.push({ online: Math.max(290, 360 - i * 3) + ((i * 7) % 9) - 4, organic: 2.7, act: 3 });
    const evs = feed(script);
    assert.deepEqual(kinds(evs), ['building', 'retracted'], `got ${kinds(evs)}`);
    const r = evs.find((e) => e.kind === 'retracted')!;
    assert.equal(r.endReason, 'fell-back');
    assert.ok(sec(r.ts) > 380 && sec(r.ts) < 440, `retracted at ${sec(r.ts)} s`);
  });

  test('a giveaway whose crowd pours in at once never gets an early call', () => {
    const script = quiet(300);
    for (let i = 0; i < 30; i++) script.push({ online: 300 + i * 10, organic: 2.7 * 5, act: 3 * 8 });
    for (let i = 0; i < 200; i++) script.push({ online: Math.max(300, 600 - i * 10), organic: 2.7, act: 3 });
    const evs = feed(script);
    assert.ok(!evs.some((e) => e.kind === 'building'), `got ${kinds(evs)}`);
  });

  test('comments and entries stepping up together within seconds (a giveaway) announce no build-up: the sitting crowd is not called', () => {
    // From 300 s entries and comments jump to ×2.2 at once (under the fast rate's abrupt ratio, 2.5); the crowd
    // lifts concurrency +180 within 20 s and sits until the draw at 450 s.
    const base = (n: number): Second[] => Array.from({ length: n }, (_, i) => ({ online: 600 + ((i * 7) % 9) - 4, organic: 10, act: 12 }));
    const script = base(300);
    for (let i = 0; i < 150; i++) script.push({ online: 600 + Math.min(180, i * 9) + ((i * 7) % 9) - 4, organic: 22, act: 26 });
    for (let i = 0; i < 200; i++) script.push({ online: Math.max(600, 780 - i * 4) + ((i * 7) % 9) - 4, organic: 10, act: 12 });
    const calls = (evs: DetectorEvent[]) => evs.filter((e) => e.kind === 'building' || e.kind === 'rising');
    const evs = feed(script);
    assert.deepEqual(calls(evs).map((e) => e.kind), [], `got ${kinds(evs)}`);
    // Without the burst rates the agreement is held before the fast rate sees a step: announced, then confirmed.
    const off = feed(script, { c: { ...cfg, leadBurstSamples: undefined } });
    assert.ok(calls(off).some((e) => e.kind === 'rising'), `without the step guard: ${kinds(off)}`);
  });

  test('a build-up whose interaction leads its entries by 30 s is no step: still called building', () => {
    const base = (n: number): Second[] => Array.from({ length: n }, (_, i) => ({ online: 600 + ((i * 7) % 9) - 4, organic: 10, act: 12 }));
    const script = base(300);
    for (let i = 0; i < 240; i++) {
      const e = Math.max(0, i - 30);
      script.push({ online: 600 + Math.max(0, i - 60) * 2 + ((i * 7) % 9) - 4, organic: 10 * (1 + e / 40), act: 12 * (1 + Math.min(1.5, i / 20)) });
    }
    const evs = feed(script);
    assert.equal(evs.find((e) => e.kind !== 'update')?.kind, 'building', `got ${kinds(evs)}`);
  });

  test('bought traffic alone (paid entries up, nothing else) is a known cause: no early call', () => {
    const script = quiet(300);
    for (let i = 0; i < 200; i++) script.push({ online: 300 + Math.min(30, i) + ((i * 7) % 9) - 4, organic: 2.7, paid: 1.5, act: 3 });
    assert.ok(!feed(script).some((e) => e.kind === 'building'), "!feed(script).some((e) => e.kind === 'building')");
  });

  test('earlyScale Infinity turns the stage off; a stricter scale calls later or not at all', () => {
    const script = quiet(300);
    for (let i = 0; i < 240; i++) script.push({ online: 300 + Math.max(0, i - 60), organic: 2.7 * (1 + i / 60), act: 3 * (1 + i / 40) });
    const at = (scale: number) => feed(script, { c: { ...cfg, earlyScale: scale } }).find((e) => e.kind === 'building')?.ts ?? Infinity;
    assert.equal(at(Infinity), Infinity, 'off');
    assert.ok(at(1.5) > at(1), `scale 1.5 at ${at(1.5)}, 1 at ${at(1)}`);
  });
});

describe('early stage through the engine, on a generated highlight room', () => {
  const ecfg = engineConfig('balanced');
  const room = generateRoom({ room: 'r', scenario: 'highlight', seed: 1, startTs: T0, durationMs: 20 * 60_000 });
  const run = (events: readonly CrestEvent[]): RoomOutput[] => {
    const st = createRoomState('r', ecfg);
    const out: RoomOutput[] = [];
    for (const ev of events) applyEvent(st, ev, ecfg, out);
    return out;
  };
  const all = run(room.events);
  const windows = all.flatMap((u) => (u.type === 'window' ? [u.window] : []));

  test('building comes first, then rising in the same window; the host is cued to tease and the buyer told it is early', () => {
    const first = windows.find((w) => w.state === 'building');
    assert.ok(first, 'a building call');
    const rising = windows.find((w) => w.state === 'rising');
    assert.ok(rising && rising.id === first.id, 'rising confirms the same window');
    assert.ok(first.detectedTs >= room.labels[0].onsetTs && first.detectedTs <= room.labels[0].peakTs, 'called inside the labelled build-up');
    const sugs = all.flatMap((u) => (u.type === 'suggestion' ? [u.suggestion] : []));
    const boost = sugs.find((s) => s.kind === 'boost.now');
    assert.ok(boost && boost.reasonCode === 'building' && boost.params.early === 1, 'boost now — early');
    assert.equal(sugs.filter((s) => s.kind === 'boost.now' && s.windowId === first.id).length, 1, 'one boost.now for the window');
    assert.ok(sugs.some((s) => s.kind === 'cue.tease' && s.reasonCode === 'building'), 'tease on building');
  });

  test('causal and deterministic: the outputs of any prefix of the events are a prefix of the whole run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: room.events.length - 1 }), (k) => {
        const part = run(room.events.slice(0, k));
        assert.deepEqual(part, all.slice(0, part.length));
      }),
      { numRuns: 12 },
    );
  });
});

describe('early stage state', () => {
  test('a JSON round trip of the detector state mid-build-up (leading signals included) changes nothing', () => {
    const script = quiet(300);
    for (let i = 0; i < 240; i++) script.push({ online: 300 + Math.max(0, i - 60), organic: 2.7 * (1 + i / 60), act: 3 * (1 + i / 40) });
    const whole = feed(script);
    for (const cut of [310, 335, 360, 420]) {
      const st = createDetector(cfg);
      const draw = poisson(1);
      const out: DetectorEvent[] = [];
      let s = st;
      script.forEach((sc, i) => {
        if (i === cut) s = JSON.parse(JSON.stringify(s));
        const ts = T0 + i * 1000;
        for (let n = draw(sc.organic); n > 0; n--) detectorNote(s, { id: 'x', room: 'r', ts, type: 'viewer.enter', viewer: 'v', source: 'public' });
        for (let n = draw(sc.paid ?? 0.3); n > 0; n--) detectorNote(s, { id: 'x', room: 'r', ts, type: 'viewer.enter', viewer: 'v', source: 'paid' });
        for (let n = draw(sc.act); n > 0; n--) detectorNote(s, { id: 'x', room: 'r', ts, type: 'engage.comment', viewer: 'v' });
        detectorStep(s, ts, sc.online, cfg, out);
      });
      assert.deepEqual(out, whole, `cut at ${cut}`);
    }
  });

  test('a state checkpointed before the early stage existed carries on (no early, no lead field)', () => {
    const st = createDetector(cfg) as Partial<DetectorState>;
    delete st.early;
    delete st.lead;
    const out: DetectorEvent[] = [];
    for (let i = 0; i < 400; i++) detectorStep(st as DetectorState, T0 + i * 1000, 300, cfg, out);
    assert.deepEqual(out, []);
    assert.ok((st as DetectorState).early && (st as DetectorState).lead, 'both created on the way');
  });
});
