import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Suggestion } from './protocol.ts';
import { boostOutcomes, type SpendLike } from './outcome.ts';

const MIN = 60_000;
const T0 = 1_764_072_000_000;

function boost(minute: number, over: Partial<Suggestion> = {}): Suggestion {
  const ts = T0 + minute * MIN;
  return {
    id: `r:boost.now:${ts}`, room: 'r', audience: 'buyer', kind: 'boost.now', reasonCode: 'rising', params: {}, reason: 'x',
    confidence: 0.7, createdAt: ts, expiresAt: ts + 5 * MIN, cooldownKey: 'r:boost.now', windowId: `r:${ts}`,
    forecastPeakTs: null, suggestedBoostMin: 10, suppressed: null, ...over,
  };
}
const spend = (minute: number, amount: number): SpendLike => ({ type: 'ad.spend', ts: T0 + minute * MIN, amount });
const other = (minute: number): SpendLike => ({ type: 'order.paid', ts: T0 + minute * MIN, amount: 999_999 });

test('spend within the span after a boost.now follows it; before it, later, or other events do not', () => {
  const out = boostOutcomes({
    suggestions: [boost(0), boost(30), boost(60), boost(1, { kind: 'boost.stop' }), boost(2, { suppressed: 'cooldown' })],
    events: [spend(-5, 100), spend(0, 7), spend(3, 500), spend(9, 250), other(4), spend(11, 1_000), spend(45, 40), other(80)],
    acks: [{ suggestionId: boost(0).id, room: 'r', by: 'buyer-1', role: 'buyer', at: T0 + 20_000 }],
  });
  assert.deepEqual(
    out.map((o) => [o.suggestionId, o.spendAfter, o.spendEventsAfter, o.spendBefore, o.firstSpendAfterMs, o.verdict]),
    [
      [boost(0).id, 750, 2, 107, 3 * MIN, 'followed'],
      [boost(30).id, 0, 0, 0, null, 'not-followed'],
      [boost(60).id, 0, 0, 0, null, 'not-followed'],
    ],
  );
  assert.equal(out[0]!.ackBy, 'buyer-1');
  assert.equal(out[1]!.ackBy, null);
});

test('a span not over yet is pending, not a miss; the look-ahead is configurable', () => {
  const [a] = boostOutcomes({ suggestions: [boost(0)], events: [other(4)] });
  assert.equal(a!.verdict, 'pending');
  const [b] = boostOutcomes({ suggestions: [boost(0)], events: [other(4)], clock: T0 + 10 * MIN });
  assert.equal(b!.verdict, 'not-followed');
  const [c] = boostOutcomes({ suggestions: [boost(0)], events: [spend(4, 10)], withinMs: 2 * MIN, clock: T0 + 60 * MIN });
  assert.equal(c!.verdict, 'not-followed');
});

test('property: the result does not depend on the order events arrive in', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: -20, max: 80 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 40 }), (raw) => {
      const events = raw.map(([m, a]) => spend(m, a));
      const suggestions = [boost(0), boost(25), boost(50)];
      const a = boostOutcomes({ suggestions, events });
      const b = boostOutcomes({ suggestions: [...suggestions].reverse(), events: [...events].reverse() });
      assert.deepEqual(a, b);
      const total = events.filter((e) => e.ts > T0 && e.ts <= T0 + 10 * MIN).reduce((s, e) => s + e.amount!, 0);
      assert.equal(a[0]!.spendAfter, total);
    }),
    { numRuns: 200 },
  );
});
