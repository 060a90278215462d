import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HighlightWindow, RoomMetrics, RoomSummary, Suggestion } from '../core/protocol.ts';
import { attentionOf, rankRooms } from './room-ranking.ts';

const NOW = 1_767_225_600_000;

function room(name: string, o: { viewers?: number; live?: boolean; window?: HighlightWindow['state']; sg?: Partial<Suggestion> } = {}): RoomSummary {
  return {
    room: name,
    metrics: { ts: NOW, concurrency: o.viewers ?? 100, live: o.live ?? true } as RoomMetrics,
    activeWindow: o.window ? ({ state: o.window, liftPct: 30 } as HighlightWindow) : null,
    lastSuggestion: o.sg ? ({ kind: 'boost.now', suppressed: null, createdAt: NOW - 60_000, expiresAt: NOW + 60_000, ...o.sg } as Suggestion) : null,
  };
}

describe('room ranking: what needs attention now', () => {
  it('orders by tier: plan at risk, rising, peak, live suggestion, live, off air', () => {
    const rooms = [
      room('off', { live: false, viewers: 9000 }),
      room('calm', { viewers: 5000 }),
      room('told', { sg: { kind: 'cue.hold' }, viewers: 10 }),
      room('peak', { window: 'peak', viewers: 20 }),
      room('rise', { window: 'rising', viewers: 30 }),
      room('risk', { sg: { kind: 'plan.at-risk' }, viewers: 1 }),
    ];
    assert.deepEqual(rankRooms(rooms).map((r) => r.room), ['risk', 'rise', 'peak', 'told', 'calm', 'off']);
    assert.deepEqual(rooms.map(attentionOf), ['off-air', 'live', 'suggested', 'peak', 'rising', 'plan-at-risk']);
  });

  it('an early building call ranks with a confirmed rise', () => {
    assert.equal(attentionOf(room('b', { window: 'building' })), 'rising');
  });

  it('puts the room with more viewers first within a tier, then by name', () => {
    const rooms = [room('b', { viewers: 10 }), room('a', { viewers: 10 }), room('c', { viewers: 50 })];
    assert.deepEqual(rankRooms(rooms).map((r) => r.room), ['c', 'a', 'b']);
  });

  it('ignores a suggestion that has expired at the room’s event time or was held back', () => {
    assert.equal(attentionOf(room('x', { sg: { kind: 'plan.at-risk', expiresAt: NOW } })), 'live');
    assert.equal(attentionOf(room('x', { sg: { kind: 'plan.at-risk', suppressed: 'cooldown' } as Partial<Suggestion> })), 'live');
    assert.equal(attentionOf(room('x', { live: false, sg: { kind: 'boost.stop', expiresAt: NOW - 1 } })), 'off-air');
  });

  it('ranks a room with no metrics yet after every room that has some', () => {
    const bare: RoomSummary = { room: 'new', metrics: null, activeWindow: null, lastSuggestion: null };
    assert.deepEqual(rankRooms([bare, room('off', { live: false, viewers: 0 })]).map((r) => r.room), ['off', 'new']);
    assert.equal(attentionOf(bare), 'off-air');
  });

  it('leaves the input order untouched', () => {
    const rooms = [room('z', { viewers: 1 }), room('y', { viewers: 2 })];
    rankRooms(rooms);
    assert.deepEqual(rooms.map((r) => r.room), ['z', 'y']);
  });
});
