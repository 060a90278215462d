import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import type { HighlightWindow, Suggestion } from './protocol.ts';
import {
  COLLAPSE_MIN_AGE_MS,
  LAUNCH_LEAD_MS,
  createPolicyState,
  policyOnTick,
  policyOnWindow,
  type PolicyState,
  type TickContext,
} from './suggestion-policy.ts';

const policy = engineConfig().policy;
const T0 = 1_700_000_000_000;

function win(over: Partial<HighlightWindow> = {}): HighlightWindow {
  return {
    id: `r1:${T0}`,
    room: 'r1',
    state: 'rising',
    onsetTs: T0,
    detectedTs: T0 + 45_000,
    peakTs: null,
    endTs: null,
    updatedTs: T0 + 45_000,
    baseline: 210,
    peak: 281,
    liftPct: 34,
    slopePerMin: 90,
    confidence: 0.7,
    gmv: 0,
    orders: 0,
    forecastPeak: 480,
    forecastPeakTs: T0 + 45_000 + 4 * 60_000,
    ...over,
  };
}

function tick(w: HighlightWindow | null, ts: number, over: Partial<TickContext> = {}): TickContext {
  return { room: 'r1', ts, window: w, concurrency: 300, ordersLastMin: 0, ordersLast2Min: 0, ...over };
}

const kinds = (s: Suggestion[]) => s.map((x) => `${x.audience}:${x.kind}${x.suppressed ? `(${x.suppressed})` : ''}`);

describe('suggestion policy', () => {
  test('rising → buyer boost.now (with forecast and boost minutes) + host cue.tease', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    const w = win();
    policyOnWindow(ps, 'rising', w, 281, policy, out);
    assert.deepEqual(kinds(out), ['buyer:boost.now', 'host:cue.tease']);
    const boost = out[0];
    assert.equal(boost.reasonCode, 'rising');
    assert.equal(boost.forecastPeakTs, w.forecastPeakTs);
    assert.equal(boost.suggestedBoostMin, 4);
    assert.equal(boost.confidence, 0.7);
    assert.equal(boost.createdAt, w.updatedTs);
    assert.equal(boost.expiresAt, w.updatedTs + policy.ttlMs);
    assert.equal(boost.id, `r1:boost.now:${w.updatedTs}`);
    assert.equal(boost.cooldownKey, 'r1:boost.now');
    assert.equal(boost.windowId, w.id);
    assert.equal(boost.suppressed, null);
    assert.equal(boost.reason, 'Viewers rising 34% over baseline 210 for 45 s — boost now; peak expected in ~4 min');
    assert.equal(boost.params.liftPct, 34);
    assert.equal(out[1].forecastPeakTs, null, 'forecast fields are boost.now only');
  });

  test('without a forecast the boost lasts policy.defaultBoostMin', () => {
    const out: Suggestion[] = [];
    policyOnWindow(createPolicyState(), 'rising', win({ forecastPeak: null, forecastPeakTs: null }), 281, policy, out);
    assert.equal(out[0].suggestedBoostMin, policy.defaultBoostMin);
    assert.equal(out[0].forecastPeakTs, null);
  });

  test('the suggested boost is bounded', () => {
    const out: Suggestion[] = [];
    policyOnWindow(createPolicyState(), 'rising', win({ forecastPeakTs: T0 + 45_000 + 5 * 3600_000 }), 281, policy, out);
    assert.equal(out[0].suggestedBoostMin, 30);
  });

  test('near the forecast peak → host cue.launch, once', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    const w = win();
    policyOnWindow(ps, 'rising', w, 281, policy, out);
    out.length = 0;
    policyOnTick(ps, tick(w, w.forecastPeakTs! - LAUNCH_LEAD_MS - 1000), policy, out);
    assert.equal(out.length, 0);
    policyOnTick(ps, tick(w, w.forecastPeakTs! - LAUNCH_LEAD_MS), policy, out);
    policyOnTick(ps, tick(w, w.forecastPeakTs! - LAUNCH_LEAD_MS + 1000), policy, out);
    assert.deepEqual(kinds(out), ['host:cue.launch']);
    assert.equal(out[0].reasonCode, 'near-peak');
  });

  test('peak passed → buyer boost.stop + host cue.hold (after a launch)', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    const w = win();
    policyOnWindow(ps, 'rising', w, 281, policy, out);
    policyOnTick(ps, tick(w, w.forecastPeakTs!), policy, out);
    out.length = 0;
    const p = win({ state: 'peak', peakTs: T0 + 280_000, updatedTs: T0 + 300_000, peak: 480, liftPct: 129 });
    policyOnWindow(ps, 'peak', p, 450, policy, out);
    assert.deepEqual(kinds(out), ['buyer:boost.stop', 'host:cue.hold']);
    assert.equal(out[0].reasonCode, 'peak-passed');
    assert.equal(out[1].reasonCode, 'falling-after-peak');
    out.length = 0;
    policyOnWindow(ps, 'ended', { ...p, state: 'ended', endTs: T0 + 500_000, updatedTs: T0 + 500_000 }, 220, policy, out);
    assert.deepEqual(out, [], 'the boost was already stopped');
  });

  test('peak without a launch yet → launch at the peak, hold a minute later if still falling', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    const w = win({ forecastPeak: null, forecastPeakTs: null });
    policyOnWindow(ps, 'rising', w, 281, policy, out);
    out.length = 0;
    const p = { ...w, state: 'peak' as const, peakTs: T0 + 100_000, updatedTs: T0 + 110_000 };
    policyOnWindow(ps, 'peak', p, 400, policy, out);
    assert.deepEqual(kinds(out), ['buyer:boost.stop', 'host:cue.launch']);
    out.length = 0;
    policyOnTick(ps, tick(p, T0 + 130_000), policy, out);
    assert.deepEqual(out, []);
    policyOnTick(ps, tick(p, T0 + 170_000), policy, out);
    assert.deepEqual(kinds(out), ['host:cue.hold']);
  });

  test('a second window within the cooldown: suggestions still logged, marked suppressed; later ones go out', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    const w1 = win();
    policyOnWindow(ps, 'rising', w1, 281, policy, out);
    policyOnWindow(ps, 'ended', { ...w1, state: 'ended', updatedTs: w1.updatedTs + 10_000 }, 200, policy, out);
    out.length = 0;
    const t2 = w1.updatedTs + policy.cooldownMs - 1000;
    const w2 = win({ id: `r1:${t2 - 30_000}`, onsetTs: t2 - 30_000, detectedTs: t2, updatedTs: t2 });
    policyOnWindow(ps, 'rising', w2, 281, policy, out);
    assert.deepEqual(kinds(out), ['buyer:boost.now(cooldown)', 'host:cue.tease(cooldown)']);
    // A suppressed boost.now never reached the buyer, so no boost.stop follows it.
    out.length = 0;
    policyOnWindow(ps, 'peak', { ...w2, state: 'peak', updatedTs: t2 + 60_000 }, 281, policy, out);
    assert.ok(!kinds(out).some((k) => k.includes('boost.stop')), "!kinds(out).some((k) => k.includes('boost.stop'))");
    out.length = 0;
    const t3 = w1.updatedTs + policy.cooldownMs;
    policyOnWindow(ps, 'rising', win({ id: `r1:${t3}`, onsetTs: t3 - 1, updatedTs: t3 }), 281, policy, out);
    assert.deepEqual(kinds(out), ['buyer:boost.now', 'host:cue.tease'], 'the cooldown counts from the last one not suppressed');
  });

  test('conversion collapsing while boosting → boost.stop conversion-collapsing; not on small numbers', () => {
    const run = (best: number, now2Min: number, age: number): PolicyState & { out: Suggestion[] } => {
      const ps = createPolicyState();
      const out: Suggestion[] = [];
      const w = win({ forecastPeakTs: null, forecastPeak: null });
      policyOnWindow(ps, 'rising', w, 281, policy, out);
      out.length = 0;
      policyOnTick(ps, tick(w, w.detectedTs + 30_000, { ordersLastMin: best, ordersLast2Min: best }), policy, out);
      policyOnTick(ps, tick(w, w.detectedTs + age, { ordersLastMin: now2Min / 2, ordersLast2Min: now2Min }), policy, out);
      return Object.assign(ps, { out });
    };
    const hit = run(12, 6, COLLAPSE_MIN_AGE_MS); // 3/min < 12/3
    assert.deepEqual(kinds(hit.out), ['buyer:boost.stop']);
    assert.equal(hit.out[0].reasonCode, 'conversion-collapsing');
    assert.equal(hit.boostOn, false);
    assert.deepEqual(run(12, 10, COLLAPSE_MIN_AGE_MS).out, [], '5/min is not below a third of 12');
    assert.deepEqual(run(3, 0, COLLAPSE_MIN_AGE_MS).out, [], 'a best minute of 3 orders is too small to judge');
    assert.deepEqual(run(12, 6, COLLAPSE_MIN_AGE_MS - 1000).out, [], 'too early in the window');
  });

  test('a window that is not the policy’s current one is ignored', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    policyOnWindow(ps, 'peak', win({ state: 'peak' }), 281, policy, out);
    policyOnTick(ps, tick(win(), T0 + 600_000), policy, out);
    assert.deepEqual(out, []);
  });
});

describe('policy on an early building call', () => {
  const building = () => win({ state: 'building', confirmedTs: null, forecastPeak: null, forecastPeakTs: null, liftPct: 3, detectedTs: T0 + 20_000, updatedTs: T0 + 20_000 });

  test('building: the buyer is told to boost now, early; the host to tease; a later rising of the same window adds no second boost', () => {
    const ps = createPolicyState();
    const out: Suggestion[] = [];
    policyOnWindow(ps, 'building', building(), 300, policy, out);
    assert.deepEqual(out.map((s) => [s.audience, s.kind, s.reasonCode]), [['buyer', 'boost.now', 'building'], ['host', 'cue.tease', 'building']]);
    assert.equal(out[0].params.early, 1);
    assert.match(out[0].reason, /early call/);
    const later: Suggestion[] = [];
    policyOnWindow(ps, 'rising', win({ updatedTs: T0 + 60_000, confirmedTs: T0 + 60_000, detectedTs: T0 + 20_000 }), 340, policy, later);
    assert.ok(!later.some((s) => s.kind === 'boost.now' || s.kind === 'cue.tease'), `no repeat: ${later.map((s) => s.kind)}`);
  });

  test('retracted: the buyer is told to stop the early boost and the host that it was a false start, both with why', () => {
    const ps = createPolicyState();
    policyOnWindow(ps, 'building', building(), 300, policy, []);
    const out: Suggestion[] = [];
    policyOnWindow(ps, 'retracted', win({ state: 'retracted', retractReason: 'fell-back', updatedTs: T0 + 90_000, endTs: T0 + 90_000 }), 212, policy, out);
    assert.deepEqual(out.map((s) => [s.audience, s.kind, s.reasonCode]), [['buyer', 'boost.stop', 'retracted'], ['host', 'cue.retract', 'retracted']]);
    assert.equal(out[1].params.fellTo, 212);
    assert.match(out[1].reason, /False start: viewers back at 212/);
    assert.equal(ps.windowId, null, 'the window is over for the policy');
  });
});
