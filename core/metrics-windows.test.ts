/**
 * Boost timing and money inside highlight windows, through the engine with a real detector window; every
 * expectation is recomputed independently from the event list and the window's final onset / peak / end.
 * Plus the bounded parts underneath: the spend log, the product table, and the state's size.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import type { CrestEvent } from './events.ts';
import { applyEvent, createRoomState, roomMetrics, roomWindows, type RoomOutput } from './engine.ts';
import type { HighlightWindow } from './protocol.ts';
import { createSpendLog, logSpend, spendSince, SPEND_LOG_MAX, SPEND_LOG_MS } from './metrics-spend.ts';
import { ORDER_WINDOW_S } from './metrics-orders.ts';
import { PRODUCTS_KEPT, productLaunched, productPaid, topProducts, type ProductEntry } from './metrics-products.ts';

const T0 = 1_700_000_000_000;
const cfg = engineConfig();

/** Platform counts every second: flat 200, ramp to 500 from 300 s, plateau, decay; spend every 10 s; orders. */
function risingRoom() {
  const events: CrestEvent[] = [];
  let n = 0;
  const push = (sec: number, body: Record<string, unknown>) =>
    events.push({ id: `e${n++}`, room: 'r1', ts: T0 + Math.round(sec * 1000), ...body } as CrestEvent);
  push(0, { type: 'stream.start' });
  const level = (t: number) => (t < 300 ? 200 : t < 420 ? 200 + 2.5 * (t - 300) : t < 480 ? 500 : t < 600 ? 500 - 2.4 * (t - 480) : 212);
  for (let t = 0; t < 900; t++) {
    push(t + 0.5, { type: 'room.online', count: Math.round(level(t) + ((t * 7919) % 11) - 5) });
    // Spend of 100 every 10 s, 300 in each 10 s during 280–460 s (a boost bought partly before and partly after the peak).
    if (t % 10 === 0) push(t + 0.7, { type: 'ad.spend', amount: t >= 280 && t < 460 ? 300 : 100, campaign: 'c1' });
    if (t >= 250 && t < 700 && t % 5 === 0) push(t + 0.6, { type: 'order.paid', order: `o${t}`, amount: 1_000 + t, sku: t % 2 ? 'odd' : 'even' });
  }
  const st = createRoomState('r1', cfg);
  const out: RoomOutput[] = [];
  for (const e of events) applyEvent(st, e, cfg, out);
  return { st, out, events };
}

const sumIn = (events: CrestEvent[], type: 'ad.spend' | 'order.paid', from: number, to: number) =>
  events.reduce((s, e) => (e.type === type && e.ts >= from && e.ts < to ? s + e.amount : s), 0);

describe('boost timing and money inside windows', () => {
  const { st, out, events } = risingRoom();
  const win = roomWindows(st);

  test('the window splits its spend at the peak: build-up [onset, peak), after [peak, end), equal to a recount', () => {
    assert.equal(win.length, 1);
    const w = win[0]!;
    assert.equal(w.state, 'ended');
    const end = w.endTs!;
    const peak = w.peakTs!;
    assert.ok(w.onsetTs < peak && peak < end, 'w.onsetTs < peak && peak < end');
    assert.equal(w.adSpendBuildUp, sumIn(events, 'ad.spend', w.onsetTs, peak));
    assert.equal(w.adSpendAfterPeak, sumIn(events, 'ad.spend', peak, end));
    assert.equal(w.adSpend, sumIn(events, 'ad.spend', w.onsetTs, end));
    assert.ok(w.adSpendBuildUp! > 0 && w.adSpendAfterPeak! > 0, 'w.adSpendBuildUp! > 0 && w.adSpendAfterPeak! > 0');
    assert.equal(w.adSpendApprox, false);
    assert.equal(w.gmv, sumIn(events, 'order.paid', w.onsetTs, end));
    assert.equal(w.orders, events.filter((e) => e.type === 'order.paid' && e.ts >= w.onsetTs && e.ts < end).length);
  });

  test('while rising, everything since the onset is build-up; the peak moves the rest, the end takes back what follows', () => {
    const updates = out.flatMap((o) => (o.type === 'window' ? [o.window] : []));
    const rising = updates.find((u) => u.state === 'rising')!;
    assert.equal(rising.adSpend, sumIn(events, 'ad.spend', rising.onsetTs, rising.detectedTs));
    assert.equal(rising.adSpendBuildUp, rising.adSpend);
    assert.equal(rising.adSpendAfterPeak, 0);
    const peak = updates.find((u) => u.state === 'peak')!;
    assert.equal(peak.adSpendAfterPeak, sumIn(events, 'ad.spend', peak.peakTs!, peak.updatedTs));
    assert.equal(peak.adSpendBuildUp, sumIn(events, 'ad.spend', peak.onsetTs, peak.peakTs!));
  });

  test('room totals: spend and GMV inside windows vs outside, and GMV per unit of spend', () => {
    const w = win[0]! as Required<HighlightWindow>;
    const d = roomMetrics(st).detail!;
    const spend = sumIn(events, 'ad.spend', 0, Infinity);
    const gmv = sumIn(events, 'order.paid', 0, Infinity);
    assert.equal(d.adSpendInWindows, w.adSpend);
    assert.equal(d.adSpendOutsideWindows, spend - w.adSpend);
    assert.equal(d.gmvInWindows, w.gmv);
    assert.equal(d.gmvOutsideWindows, gmv - w.gmv);
    assert.equal(d.gmvPerSpendInWindows, Math.round((w.gmv / w.adSpend) * 10_000) / 10_000);
    assert.equal(d.gmvPerSpendOutsideWindows, Math.round(((gmv - w.gmv) / (spend - w.adSpend)) * 10_000) / 10_000);
    const bySku = ['even', 'odd'].map((sku) => {
      const paid = events.flatMap((e) => (e.type === 'order.paid' && e.sku === sku ? [e.amount] : []));
      return { sku, name: null, gmv: paid.reduce((a, b) => a + b, 0), orders: paid.length, gmvError: 0 };
    });
    assert.deepEqual(d.topProducts, bySku.sort((a, b) => b.gmv - a.gmv));
  });

  test('a JSON round trip at any point gives the same windows and detail', () => {
    const { events: evs } = risingRoom();
    for (const split of [100, 1_400, 2_000]) {
      const a = createRoomState('r1', cfg);
      const o: RoomOutput[] = [];
      evs.slice(0, split).forEach((e) => applyEvent(a, e, cfg, o));
      const b = JSON.parse(JSON.stringify(a));
      evs.slice(split).forEach((e) => applyEvent(b, e, cfg, o));
      assert.deepEqual(roomWindows(b), win);
      assert.deepEqual(roomMetrics(b), roomMetrics(st));
    }
  });
});

describe('spend log', () => {
  test('keeps at most SPEND_LOG_MAX events and SPEND_LOG_MS of time; a boundary past it is flagged, not guessed', () => {
    const s = createSpendLog();
    for (let i = 0; i < SPEND_LOG_MAX + 6; i++) logSpend(s, i * 1000, 1, i * 1000);
    assert.equal(s.log.length, SPEND_LOG_MAX * 2);
    assert.equal(s.base, 6);
    assert.equal(s.cut, 5_000);
    assert.deepEqual(spendSince(s, 0), { amount: SPEND_LOG_MAX, exact: false });
    assert.deepEqual(spendSince(s, 5_001), { amount: SPEND_LOG_MAX, exact: true });
    assert.deepEqual(spendSince(s, 60_000), { amount: SPEND_LOG_MAX + 6 - 60, exact: true });
    logSpend(s, SPEND_LOG_MS + 70_000, 5, SPEND_LOG_MS + 70_000);
    assert.deepEqual(s.log, [SPEND_LOG_MS + 70_000, 5], 'everything older than the horizon folded into base');
    assert.equal(s.base, SPEND_LOG_MAX + 6);
  });

  test('out-of-order on-time spend is kept in time order; the same time merges', () => {
    const s = createSpendLog();
    logSpend(s, 10_000, 3, 10_000);
    logSpend(s, 30_000, 4, 30_000);
    logSpend(s, 20_000, 5, 30_000);
    logSpend(s, 20_000, 1, 30_000);
    assert.deepEqual(s.log, [10_000, 3, 20_000, 6, 30_000, 4]);
    assert.equal(spendSince(s, 20_000).amount, 10);
  });
});

describe('top products', () => {
  test('exact while the table has room; past it the smallest is replaced and its GMV becomes the error bound', () => {
    const t: ProductEntry[] = [];
    productLaunched(t, 'p0', 'Lip tint');
    for (let i = 0; i < PRODUCTS_KEPT; i++) productPaid(t, `p${i}`, 100 * (i + 1));
    productPaid(t, 'p31', 1);
    assert.equal(t.length, PRODUCTS_KEPT);
    productPaid(t, 'new', 50); // evicts p0 (100)
    assert.equal(t.length, PRODUCTS_KEPT);
    assert.equal(t.find((e) => e[0] === 'p0'), undefined);
    assert.deepEqual(t.find((e) => e[0] === 'new'), ['new', null, 150, 2, 100]);
    productLaunched(t, 'late-launch', 'never tracked'); // full: not added
    productLaunched(t, 'p31', 'Serum');
    const top = topProducts(t, 3);
    assert.deepEqual(top[0], { sku: 'p31', name: 'Serum', gmv: 3_201, orders: 2, gmvError: 0 });
    assert.deepEqual(top.map((p) => p.sku), ['p31', 'p30', 'p29']);
  });
});

describe('memory per room stays bounded', () => {
  test('1,000 skus and 5,000 spend events add a bounded amount to the checkpoint', () => {
    const st = createRoomState('r1', cfg);
    const out: RoomOutput[] = [];
    const empty = JSON.stringify(st).length;
    for (let i = 0; i < 5_000; i++) {
      applyEvent(st, { id: `s${i}`, room: 'r1', ts: T0 + i * 100, type: 'ad.spend', amount: 10 }, cfg, out);
      applyEvent(st, { id: `o${i}`, room: 'r1', ts: T0 + i * 100, type: 'order.paid', order: `o${i}`, sku: `sku-${i % 1_000}`, amount: 10 }, cfg, out);
    }
    assert.ok(st.products.length <= PRODUCTS_KEPT, 'st.products.length <= PRODUCTS_KEPT');
    assert.ok(st.spend.log.length <= SPEND_LOG_MAX * 2, 'st.spend.log.length <= SPEND_LOG_MAX * 2');
    assert.ok(st.orderLog.length <= 3 * ORDER_WINDOW_S, 'st.orderLog.length <= 3 * ORDER_WINDOW_S');
    // Products (32 short skus) + spend log (64 × 2 numbers) + filled buckets: a few KB over the empty state,
    // whatever the number of skus or spend events (the recent-id ring and the order log are bounded apart).
    const { recentIds: _ids, orderLog: _orders, ...rest } = st;
    const grown = JSON.stringify(rest).length - empty;
    assert.ok(grown < 6_000, `grew by ${grown} bytes`);
  });
});
