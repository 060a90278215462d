import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HighlightWindow, RoomMetrics, RoomSnapshot, Suggestion, Tick } from '../core/protocol.ts';
import {
  EMPTY_ROOM,
  SERIES_SPAN_MS,
  addAck,
  addSuggestion,
  applyPlan,
  applySnapshot,
  applyTick,
  compareCursor,
  upsertWindow,
  withCursor,
} from './room-state.ts';

const T0 = 1_700_000_000_000;

function tick(ts: number, concurrency = 100): Tick {
  return { room: 'r', ts, metrics: { ts, concurrency, gmv: 0, orders: 0 } as RoomMetrics };
}

function sg(id: string, createdAt: number): Suggestion {
  return {
    id, room: 'r', audience: 'buyer', kind: 'boost.now', reasonCode: 'rising', params: {}, reason: '',
    confidence: 0.8, createdAt, expiresAt: createdAt + 60_000, cooldownKey: 'k', windowId: null,
    forecastPeakTs: null, suggestedBoostMin: null, suppressed: null,
  };
}

function win(state: HighlightWindow['state'], updatedTs: number): HighlightWindow {
  return {
    id: `r:${T0}`, room: 'r', state, onsetTs: T0, detectedTs: T0 + 20_000, peakTs: null, endTs: null, updatedTs,
    baseline: 100, peak: 150, liftPct: 50, slopePerMin: 10, confidence: 0.7, gmv: 0, orders: 0,
    forecastPeak: null, forecastPeakTs: null,
  };
}

function snapshot(over: Partial<RoomSnapshot>): RoomSnapshot {
  return { room: 'r', metrics: null, windows: [], suggestions: [], acks: [], series: [], plans: [], cursor: `${T0}-0`, ...over };
}

describe('room-state', () => {
  it('orders redis stream ids numerically, not as strings', () => {
    assert.ok(compareCursor(`${T0}-10`, `${T0}-9`) > 0, 'compareCursor(`${T0}-10`, `${T0}-9`) > 0');
    assert.ok(compareCursor(`${T0 + 1}-0`, `${T0}-99`) > 0, 'compareCursor(`${T0 + 1}-0`, `${T0}-99`) > 0');
    assert.equal(withCursor(withCursor(EMPTY_ROOM, `${T0}-10`), `${T0}-9`).cursor, `${T0}-10`);
  });

  it('shows a suggestion once however often it is delivered, newest first', () => {
    let s = addSuggestion(EMPTY_ROOM, sg('a', T0));
    s = addSuggestion(s, sg('b', T0 + 1000));
    const same = addSuggestion(s, sg('a', T0));
    assert.equal(same, s, 'a duplicate returns the same state object (no re-render)');
    assert.deepEqual(s.suggestions.map((x) => x.id), ['b', 'a']);
  });

  it('appends ticks in time order and ignores replayed older ticks', () => {
    let s = EMPTY_ROOM;
    for (let i = 0; i < 5; i++) s = applyTick(s, tick(T0 + i * 1000, i));
    const replay = applyTick(s, tick(T0 + 2000, 99));
    assert.equal(replay, s);
    assert.equal(s.series.length, 5);
    assert.equal(s.metrics?.concurrency, 4);
  });

  it('keeps about an hour of the curve', () => {
    let s = EMPTY_ROOM;
    for (let i = 0; i <= 3700; i++) s = applyTick(s, tick(T0 + i * 1000));
    const span = s.series[s.series.length - 1].ts - s.series[0].ts;
    assert.ok(span <= SERIES_SPAN_MS, 'span <= SERIES_SPAN_MS');
    assert.ok(s.series.length <= 3601, 's.series.length <= 3601');
  });

  it('does not let an older window update undo a newer state', () => {
    const s = upsertWindow(upsertWindow(EMPTY_ROOM, win('peak', T0 + 60_000)), win('rising', T0 + 20_000));
    assert.equal(s.windows.length, 1);
    assert.equal(s.windows[0].state, 'peak');
  });

  it('keeps the first acknowledgement of a suggestion', () => {
    const first = { suggestionId: 'a', room: 'r', by: 'ann', role: 'buyer' as const, at: T0 };
    const s = addAck(addAck(EMPTY_ROOM, first), { ...first, by: 'bob', at: T0 + 5 });
    assert.equal(s.acks.get('a')?.by, 'ann');
  });

  it('merges a re-join snapshot with what arrived live, without duplicates', () => {
    let live = applyTick(EMPTY_ROOM, tick(T0 + 5000));
    live = addSuggestion(withCursor(live, `${T0 + 5000}-3`), sg('b', T0 + 4000));
    const snap = snapshot({
      series: [T0, T0 + 1000, T0 + 5000].map((ts) => ({ ts, concurrency: 1, gmv: 0, orders: 0 })),
      suggestions: [sg('a', T0), sg('b', T0 + 4000)],
      windows: [win('rising', T0 + 2000)],
      cursor: `${T0 + 5000}-2`,
    });
    const s = applySnapshot(live, snap);
    assert.deepEqual(s.suggestions.map((x) => x.id), ['b', 'a']);
    assert.deepEqual(s.series.map((p) => p.ts), [T0, T0 + 1000, T0 + 5000]);
    assert.equal(s.cursor, `${T0 + 5000}-3`, 'the newer cursor wins');
    assert.equal(s.windows.length, 1);
  });
});

describe('room-state plans', () => {
  const plan = (id: string, at: number, version = 1) => ({
    id, room: 'r', version, at, sku: 's', name: null, welfare: null, leadMin: 10, budget: null, updatedAt: 0, updatedBy: 'op',
  });
  it('keeps plans by time, never lets an older version replace a newer one, and drops deleted ones', () => {
    let s = applyPlan(EMPTY_ROOM, 'b', plan('b', T0 + 2));
    s = applyPlan(s, 'a', plan('a', T0 + 1));
    assert.deepEqual(s.plans.map((p) => p.id), ['a', 'b']);
    s = applyPlan(s, 'a', plan('a', T0 + 3, 2));
    assert.deepEqual(s.plans.map((p) => [p.id, p.version]), [['b', 1], ['a', 2]]);
    assert.equal(applyPlan(s, 'a', plan('a', T0 + 1, 1)), s, 'replayed older version: unchanged');
    s = applyPlan(s, 'b', null);
    assert.deepEqual(s.plans.map((p) => p.id), ['a']);
    assert.deepEqual(applySnapshot(s, snapshot({ plans: [] })).plans, [], 'the snapshot is the stored truth');
  });
});
