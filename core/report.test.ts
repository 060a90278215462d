import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailFixture, inputFixture, metricsFixture, min, seriesFixture, suggestion, T0, windowFixture } from '../test/fixtures/report-input.ts';
import { buildReport, downsample, MAX_TIMELINE_POINTS } from './report.ts';
import { boostOutcomes } from './outcome.ts';

test('a window with known numbers gives its lift, peak, GMV, orders, onset latency and duration', () => {
  const r = buildReport(inputFixture());
  assert.equal(r.windows.length, 1);
  const w = r.windows[0]!;
  assert.equal(w.liftPct, 150);
  assert.equal(w.peak, 500);
  assert.equal(w.baseline, 200);
  assert.equal(w.gmv, 99_000);
  assert.equal(w.orders, 10);
  assert.equal(w.onsetLatencyMs, 30_000);
  assert.equal(w.durationMs, 6 * min);
  assert.deepEqual(r.span, { fromTs: T0, toTs: T0 + 30 * min });
  assert.equal(r.follows.gained, 17);
  assert.equal(r.summary!.gmv, 99_000);
});

test('boost timing is null with a note for a window without its own split and no spend series (never invented)', () => {
  const r = buildReport(inputFixture());
  const w = r.windows[0]!;
  assert.equal(w.boostTiming.buildUpSpend, null);
  assert.equal(w.boostTiming.afterPeakSpend, null);
  assert.equal(w.boostTiming.buildUpShare, null);
  assert.match(w.boostTiming.note!, /ad-spend split/);
  assert.ok(r.notes.some((n) => /^Boost timing:/.test(n)), 'r.notes.some((n) => /^Boost timing:/.test(n))');
});

test('boost timing comes from the window\'s own split: build-up [onset, peak) vs after the peak', () => {
  const split = { adSpend: 8_000, adSpendBuildUp: 6_000, adSpendAfterPeak: 2_000, adSpendApprox: false };
  const r = buildReport(
    inputFixture({
      windows: [windowFixture(split)],
      plannedMoments: [{ id: 'p', at: T0 + 12 * min, sku: 'hot-1', leadMin: 5, budget: 20_000 }],
    }),
  );
  assert.deepEqual(r.windows[0]!.boostTiming, { buildUpSpend: 6_000, afterPeakSpend: 2_000, buildUpShare: 0.75, note: null, approximate: false });
  assert.deepEqual(r.plans.moments[0]!.boostTiming, r.windows[0]!.boostTiming, 'the plan row carries its window\'s split beside the budget');
  assert.equal(r.plans.moments[0]!.budget, 20_000);
  assert.ok(!r.notes.some((n) => /^Boost timing:/.test(n)), '!r.notes.some((n) => /^Boost timing:/.test(n))');
  // A window still rising: everything so far is build-up, no share yet; a log-limited split says so.
  const rising = buildReport(inputFixture({ windows: [windowFixture({ ...split, state: 'rising', peakTs: null, endTs: null, adSpendApprox: true })] })).windows[0]!;
  assert.deepEqual(rising.boostTiming, { buildUpSpend: 6_000, afterPeakSpend: null, buildUpShare: null, note: 'no peak yet: all spend so far is build-up', approximate: true });
});

test('boost timing splits cumulative ad spend into onset→peak and peak→end when the series has it', () => {
  // 100 per second from 12:11 to 12:14: 60 s before the peak (6,000), 120 s after it (12,000).
  const spend = (ts: number) => Math.max(0, Math.min(ts, T0 + 14 * min) - (T0 + 11 * min)) / 10;
  const w = buildReport(inputFixture({ series: seriesFixture(spend) })).windows[0]!;
  assert.equal(w.boostTiming.buildUpSpend, 6_000);
  assert.equal(w.boostTiming.afterPeakSpend, 12_000);
  assert.equal(w.boostTiming.buildUpShare, 1 / 3);
  assert.equal(w.boostTiming.note, null);
});

test('plan vs reality: a rise inside the lead window is a hit with its figures; none is a miss; a future moment is pending', () => {
  const r = buildReport(
    inputFixture({
      plannedMoments: [
        { id: 'p-hit', at: T0 + 12 * min, sku: 'hot-1', name: 'Hot one', leadMin: 5, budget: 20_000 },
        { id: 'p-miss', at: T0 + 25 * min, sku: 'cold', leadMin: 5 },
        { id: 'p-late', at: T0 + 8 * min, sku: 'late', leadMin: 3 },
        { id: 'p-future', at: T0 + 90 * min, sku: 'later', leadMin: 10 },
      ],
    }),
  );
  const by = Object.fromEntries(r.plans.moments.map((m) => [m.id, m]));
  assert.equal(r.plans.available, true);
  assert.equal(by['p-hit']!.outcome, 'hit');
  assert.equal(by['p-hit']!.rose, true);
  assert.equal(by['p-hit']!.windowId, windowFixture().id);
  assert.equal(by['p-hit']!.onsetBeforeAtMin, 2);
  assert.equal(by['p-hit']!.liftPct, 150);
  assert.equal(by['p-hit']!.peak, 500);
  assert.equal(by['p-hit']!.gmv, 99_000);
  assert.equal(by['p-hit']!.orders, 10);
  assert.equal(by['p-hit']!.budget, 20_000);
  assert.equal(by['p-hit']!.leadStartTs, T0 + 7 * min);
  assert.equal(by['p-miss']!.outcome, 'miss');
  assert.equal(by['p-miss']!.rose, false);
  assert.equal(by['p-miss']!.windowId, null);
  assert.equal(by['p-miss']!.gmv, null);
  assert.equal(by['p-late']!.outcome, 'late');
  assert.equal(by['p-late']!.rose, false);
  assert.equal(by['p-future']!.outcome, 'pending');
  // In time order.
  assert.deepEqual(r.plans.moments.map((m) => m.id), ['p-late', 'p-hit', 'p-miss', 'p-future']);
});

test('a window that began before the lead window and was still open at the moment counts as early', () => {
  const r = buildReport(inputFixture({ plannedMoments: [{ id: 'p', at: T0 + 14 * min, sku: 's', leadMin: 2 }] }));
  assert.equal(r.plans.moments[0]!.outcome, 'early');
});

test('plans unavailable (null) and none planned ([]) are told apart', () => {
  assert.equal(buildReport(inputFixture({ plannedMoments: null })).plans.available, false);
  const none = buildReport(inputFixture({ plannedMoments: [] })).plans;
  assert.equal(none.available, true);
  assert.match(none.note!, /no planned moments/);
});

test('suggestions say what was done: acknowledged by whom and when, suppressed and why, in time order', () => {
  const r = buildReport(
    inputFixture({
      suggestions: [...inputFixture().suggestions, suggestion('s3', T0 + 13 * min, { audience: 'host', kind: 'cue.hold', suppressed: 'cooldown' })],
    }),
  );
  assert.deepEqual(r.suggestions.map((s) => s.id), ['s1', 's2', 's3']);
  const [s1, s2, s3] = r.suggestions;
  assert.equal(s1!.status, 'acknowledged');
  assert.equal(s1!.ackBy, 'anna');
  assert.equal(s1!.ackRole, 'buyer');
  assert.equal(s1!.ackAt, T0 + 11 * min);
  assert.equal(s1!.ackAfterMs, 30_000);
  assert.equal(s2!.status, 'not acknowledged');
  assert.equal(s3!.status, 'suppressed');
  assert.equal(s3!.suppressed, 'cooldown');
  assert.deepEqual(r.suggestionCounts, { total: 3, acknowledged: 1, suppressed: 1, notAcknowledged: 1, boostFollowed: null, boostNotFollowed: null });
  assert.ok(r.suggestions.every((x) => x.outcome === null), 'r.suggestions.every((x) => x.outcome === null)');
  assert.ok(r.notes.some((n) => /needs the ad\.spend events/.test(n)), 'unknown outcomes are said to be unknown');
});

test('with the spend events, each boost.now says whether spend followed it (core/outcome.ts)', () => {
  const input = inputFixture({ suggestions: [suggestion('b1', T0 + 10 * min), suggestion('b2', T0 + 30 * min - 60_000)] });
  // 400 spent 2 min after b1; nothing after b2 and its 10 min span is over by the clock given.
  const spend = [{ type: 'ad.spend', ts: T0 + 12 * min, amount: 400 }];
  const outcomes = boostOutcomes({ suggestions: input.suggestions, events: spend, acks: input.acks, clock: T0 + 45 * min });
  const r = buildReport({ ...input, boostOutcomes: outcomes });
  const by = Object.fromEntries(r.suggestions.map((x) => [x.id, x.outcome]));
  assert.deepEqual(by.b1, { verdict: 'followed', spendAfter: 400, spendBefore: 0, firstSpendAfterMs: 2 * min });
  assert.equal(by.b2!.verdict, 'not-followed');
  assert.equal(r.suggestionCounts.boostFollowed, 1);
  assert.equal(r.suggestionCounts.boostNotFollowed, 1);
});

test('GMV decomposition: per-source exposure and click-in rate, room-level factors, GMV split by entries', () => {
  const d = buildReport(inputFixture()).gmvDecomposition!;
  assert.deepEqual(d.perRoomFactors, ['watchMinutesPerEntry', 'gmvPerWatchMinute']);
  assert.equal(d.entries, 200);
  const by = Object.fromEntries(d.sources.map((s) => [s.source, s]));
  assert.equal(by.public!.clickInRate, 0.05);
  assert.equal(by.paid!.clickInRate, 0.1);
  assert.equal(by.follow!.clickInRate, null, 'no exposure events: no rate');
  assert.equal(by.public!.watchMinutesPerEntry, 5);
  assert.equal(by.public!.gmvPerWatchMinute, 99);
  assert.equal(by.public!.gmvAttributed, 49_500);
  assert.equal(by.paid!.gmvAttributed, 19_800);
  const sum = d.sources.reduce((n, s) => n + (s.gmvAttributed ?? 0), 0);
  assert.ok(Math.abs(sum - 99_000) < 1e-6, 'attributed GMV adds up to the room GMV');
  // exposure × CIR × wm/entry × GMV/wm
  assert.ok(Math.abs(by.paid!.exposure * by.paid!.clickInRate! * by.paid!.watchMinutesPerEntry! * by.paid!.gmvPerWatchMinute! - by.paid!.gmvAttributed!) < 1e-6, 'Math.abs(by.paid!.exposure * by.paid!.clickInRate! * by.paid!.watchMinutesPerEntry! * by.paid!.gmvPerWatchMinute! - by.paid!.gmvAttributed!) < 1e-6');
});

test('top products: from the metrics when they carry them; otherwise null with a note, not made up', () => {
  const r = buildReport(inputFixture());
  assert.equal(r.topProducts, null);
  assert.match(r.topProductsNote, /not in these metrics/);
  const withDetail = buildReport(inputFixture({ metrics: metricsFixture({ detail: detailFixture() }) }));
  assert.deepEqual(withDetail.topProducts, detailFixture().topProducts);
  assert.match(withDetail.topProductsNote, /bounded table of 32/);
});

test('GMV decomposition with per-source metrics: every factor is the source\'s own and multiplies to its GMV', () => {
  const r = buildReport(inputFixture({ metrics: metricsFixture({ detail: detailFixture() }) }));
  const d = r.gmvDecomposition!;
  assert.deepEqual(d.perRoomFactors, []);
  assert.equal(d.gmvUnattributed, 5_000);
  const by = Object.fromEntries(d.sources.map((s) => [s.source, s]));
  // public: 2,000 exposure × 0.05 × (500 / 100 = 5 watch-min per entry) × (50,000 / 500 = 100 per watch-min) = 50,000
  assert.equal(by.public!.clickInRate, 0.05);
  assert.equal(by.public!.watchMinutesPerEntry, 5);
  assert.equal(by.public!.gmvPerWatchMinute, 100);
  assert.equal(by.public!.gmvAttributed, 50_000);
  assert.equal(by.public!.exposure * by.public!.clickInRate! * by.public!.watchMinutesPerEntry! * by.public!.gmvPerWatchMinute!, 50_000);
  // paid: 400 × 0.1 × 5 × 120 = 24,000
  assert.equal(by.paid!.exposure * by.paid!.clickInRate! * by.paid!.watchMinutesPerEntry! * by.paid!.gmvPerWatchMinute!, 24_000);
  // follow has no exposure: its product starts at entries (60 × 2 × 166.67 = 20,000).
  assert.equal(by.follow!.clickInRate, null);
  assert.ok(Math.abs(by.follow!.entries * by.follow!.watchMinutesPerEntry! * by.follow!.gmvPerWatchMinute! - 20_000) < 1e-6, 'Math.abs(by.follow!.entries * by.follow!.watchMinutesPerEntry! * by.follow!.gmvPerWatchMinute! - 20_000) < 1e-6');
  assert.equal(d.sources.reduce((n, s) => n + s.gmvAttributed!, 0) + d.gmvUnattributed!, 99_000, 'sources + unattributed = GMV');
  const s = r.summary!;
  assert.deepEqual(
    [s.adSpendInWindows, s.adSpendOutsideWindows, s.gmvInWindows, s.gmvPerSpendInWindows, s.concurrencyMean],
    [3_000, 2_000, 99_000, 33, 233.3],
  );
  assert.equal(buildReport(inputFixture()).summary!.adSpendInWindows, null, 'unknown without detail, not 0');
});

test('the timeline is downsampled to at most 1,000 points, keeping the peak and the last cumulative GMV', () => {
  const r = buildReport(inputFixture());
  assert.equal(r.timeline.sourcePoints, 1_801);
  assert.ok(r.timeline.points.length <= MAX_TIMELINE_POINTS, 'r.timeline.points.length <= MAX_TIMELINE_POINTS');
  assert.equal(Math.max(...r.timeline.points.map((p) => p.concurrency)), 500);
  assert.equal(r.timeline.points.at(-1)!.gmv, 99_000);
  const small = downsample([{ ts: 1, concurrency: 5, gmv: 0, orders: 0 }], MAX_TIMELINE_POINTS);
  assert.deepEqual(small.points, [{ ts: 1, concurrency: 5, gmv: 0, orders: 0 }]);
});

test('only the current stream\'s report says its totals are stream-to-date and live-retained', () => {
  assert.ok(buildReport(inputFixture()).notes.some((n) => /stream-to-date/.test(n)), 'the live report says its totals are stream-to-date');
  assert.ok(!buildReport(inputFixture({ stream: 's-2026-01-01' })).notes.some((n) => /stream-to-date/.test(n)), 'a past stream has no live-data note');
});

test('the same input gives the same report (pure)', () => {
  assert.deepEqual(buildReport(inputFixture()), buildReport(inputFixture()));
});

test('a room with no metrics and no series still gives a report with nulls', () => {
  const r = buildReport(inputFixture({ metrics: null, windows: [], suggestions: [], acks: [], series: [] }));
  assert.equal(r.summary, null);
  assert.equal(r.span, null);
  assert.equal(r.gmvDecomposition, null);
  assert.equal(r.follows.gained, null);
  assert.deepEqual(r.timeline.points, []);
});
