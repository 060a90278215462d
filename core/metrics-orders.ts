/**
 * Paid orders of the last ORDER_WINDOW_S seconds of event time, per second, kept sparse: the engine reads them
 * for a window's GMV since its (earlier) onset, to take back what came after its end, and for the policy's
 * orders in the last 1–2 min. Two dense 600-slot rings (1,200 numbers in every room, ~5 KB of heap) became a
 * list of the seconds that had orders: nothing for a room that sells nothing, at most 3 × 600 numbers for one
 * that sells every second.
 */
export const ORDER_WINDOW_S = 600;

/** [sec, orders, gmv, sec, orders, gmv, …], ascending sec, each within the window of the room's head second. */
export type OrderLog = number[];

/** An on-time paid order in second `sec`; ignored outside (head − ORDER_WINDOW_S, head], as the rings did. */
export function logOrder(log: OrderLog, sec: number, amount: number, headSec: number): void {
  if (sec > headSec || sec <= headSec - ORDER_WINDOW_S) return;
  let i = log.length;
  while (i > 0 && log[i - 3] > sec) i -= 3;
  if (i > 0 && log[i - 3] === sec) {
    log[i - 2]++;
    log[i - 1] += amount;
  } else log.splice(i, 0, sec, 1, amount);
}

/** Drops the seconds that fell out of the window when the head moved to `headSec`. */
export function trimOrders(log: OrderLog, headSec: number): void {
  let drop = 0;
  while (drop < log.length && log[drop] <= headSec - ORDER_WINDOW_S) drop += 3;
  if (drop > 0) log.splice(0, drop);
}

/** Paid orders (field 1) or GMV (field 2) in the seconds ≥ `fromSec` still in the window. */
export function ordersSince(log: OrderLog, fromSec: number, field: 1 | 2): number {
  let total = 0;
  for (let i = log.length - 3; i >= 0 && log[i] >= fromSec; i -= 3) total += log[i + field];
  return total;
}
