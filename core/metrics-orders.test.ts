/** The sparse per-second order log, and restoring a checkpoint written with the dense rings it replaced. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import { advanceTo, applyEvent, createRoomState, roomMetrics, roomWindows, type RoomOutput, type RoomState } from './engine.ts';
import { legacyRoomJson } from './legacy-room-json.ts';
import { logOrder, ORDER_WINDOW_S, ordersSince, trimOrders, type OrderLog } from './metrics-orders.ts';

test('orders merge per second in time order; seconds outside the window are ignored or trimmed', () => {
  const log: OrderLog = [];
  logOrder(log, 100, 5, 100);
  logOrder(log, 98, 7, 100); // out of order, on time
  logOrder(log, 100, 1, 100);
  logOrder(log, 101, 9, 100); // ahead of the head: ignored (as the ring did)
  logOrder(log, 100 - ORDER_WINDOW_S, 9, 100); // behind the window: ignored
  assert.deepEqual(log, [98, 1, 7, 100, 2, 6]);
  assert.equal(ordersSince(log, 99, 1), 2);
  assert.equal(ordersSince(log, 0, 2), 13);
  trimOrders(log, 98 + ORDER_WINDOW_S);
  assert.deepEqual(log, [100, 2, 6]);
  trimOrders(log, 100 + ORDER_WINDOW_S);
  assert.deepEqual(log, []);
});

test('a checkpoint from before the metrics fields (dense rings, per-second entry rings) restores and goes on', () => {
  const cfg = engineConfig();
  const T0 = 1_700_000_000_000;
  const st = createRoomState('r1', cfg);
  const out: RoomOutput[] = [];
  const ev = (i: number, body: Record<string, unknown>) => applyEvent(st, { id: `e${i}`, room: 'r1', ts: T0 + i * 1000, ...body } as never, cfg, out);
  for (let i = 0; i < 20; i++) ev(i, i % 4 === 0 ? { type: 'order.paid', order: `o${i}`, amount: 100 } : { type: 'room.online', count: 50 });
  // Rebuild the old shape: dense rings in place of the new fields.
  const old = JSON.parse(legacyRoomJson(st)) as Record<string, unknown>;
  const ordersSec = new Array<number>(600).fill(0);
  const gmvSec = new Array<number>(600).fill(0);
  for (let i = 0; i < 20; i += 4) {
    const s = Math.floor((T0 + i * 1000) / 1000);
    ordersSec[s % 600]++;
    gmvSec[s % 600] += 100;
  }
  for (const k of ['orderLog', 'rolling', 'sampledMs', 'watchMsBySrc', 'openBySrc', 'enterRelBySrc', 'gmvBySrc', 'ordersBySrc', 'gmvUnattributed', 'adSpendLate', 'spend', 'adSpendIn', 'gmvIn', 'products']) delete old[k];
  Object.assign(old, { ordersSec, gmvSec, entriesSec: new Array(240).fill(0), exitsSec: new Array(240).fill(0), entriesMin: [0, 0, 0, 0], exitsMin: [0, 0, 0, 0] });
  const restored = old as unknown as RoomState;
  applyEvent(restored, { id: 'x', room: 'r1', ts: T0 + 20_000, type: 'order.paid', order: 'ox', amount: 1 }, cfg, out);
  assert.deepEqual(restored.orderLog, [...[0, 4, 8, 12, 16].flatMap((i) => [Math.floor(T0 / 1000) + i, 1, 100]), Math.floor(T0 / 1000) + 20, 1, 1]);
  assert.equal('ordersSec' in restored || 'entriesSec' in restored, false);
  const m = roomMetrics(restored);
  assert.equal(m.gmv, 501);
  assert.equal(m.detail!.gmvUnattributed, 501, 'GMV from before the upgrade has no source; sources + unattributed = GMV');
  assert.deepEqual(roomWindows(restored), []);
});

test('an empty room from an older checkpoint can be clocked before its first event', () => {
  const cfg = engineConfig();
  const old = JSON.parse(legacyRoomJson(createRoomState('r2', cfg))) as Record<string, unknown>;
  for (const k of ['orderLog', 'rolling', 'spend', 'products']) delete old[k];
  Object.assign(old, { ordersSec: new Array(600).fill(0), gmvSec: new Array(600).fill(0) });
  const out: RoomOutput[] = [];
  advanceTo(old as unknown as RoomState, 1_700_000_000_000, cfg, out);
  advanceTo(old as unknown as RoomState, 1_700_000_005_000, cfg, out);
  assert.equal(roomMetrics(old as unknown as RoomState).detail!.rolling.m1.concurrencyPeak, 0);
  assert.ok(out.some((o) => o.type === 'tick'), "out.some((o) => o.type === 'tick')");
});
