/**
 * Median of the last `cap` values, kept as two plain arrays (arrival ring + sorted copy) so it
 * survives a JSON checkpoint. Push is O(cap) memmove with no allocation once full: cheap at one
 * sample per second per room, and exact (no approximation to reason about in the detector).
 */
export interface RollingMedian {
  cap: number;
  /** Values in arrival order; when full, `head` is the oldest. */
  ring: number[];
  head: number;
  /** The same values, ascending. */
  sorted: number[];
}

/** An empty rolling median over the last `cap` values. */
export function createRollingMedian(cap: number): RollingMedian {
  return { cap: Math.max(1, cap | 0), ring: [], head: 0, sorted: [] };
}

/** Adds one value, dropping the oldest when full. */
export function rollingMedianPush(rm: RollingMedian, x: number): void {
  const sorted = rm.sorted;
  if (rm.ring.length < rm.cap) {
    rm.ring.push(x);
  } else {
    const old = rm.ring[rm.head];
    rm.ring[rm.head] = x;
    rm.head = rm.head + 1 === rm.cap ? 0 : rm.head + 1;
    // Remove one copy of `old` (it is there: ring and sorted hold the same multiset).
    let i = lowerBound(sorted, old);
    const last = sorted.length - 1;
    for (; i < last; i++) sorted[i] = sorted[i + 1];
    sorted.length = last;
  }
  const at = upperBound(sorted, x);
  sorted.push(x);
  for (let j = sorted.length - 1; j > at; j--) sorted[j] = sorted[j - 1];
  sorted[at] = x;
}

/** The median of the values held (mean of the two middles when even); 0 when empty. */
export function rollingMedianValue(rm: RollingMedian): number {
  const s = rm.sorted;
  const n = s.length;
  if (n === 0) return 0;
  const h = n >> 1;
  return n & 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Forgets everything and, when `fill` is given, starts full of that one value (a re-seeded baseline). */
export function rollingMedianReset(rm: RollingMedian, fill?: number): void {
  rm.head = 0;
  if (fill === undefined) {
    rm.ring.length = 0;
    rm.sorted.length = 0;
  } else {
    rm.ring = new Array<number>(rm.cap).fill(fill);
    rm.sorted = new Array<number>(rm.cap).fill(fill);
  }
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
