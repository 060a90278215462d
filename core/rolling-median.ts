/**
 * Median of the last `cap` values: an arrival ring plus a sorted copy. Push is O(cap) memmove with no
 * allocation once full: cheap at one sample per second per room, and exact (no approximation to reason about
 * in the detector).
 * Both halves live in one typed array, [ring | sorted], grown by doubling up to `cap` (a room a minute old holds
 * 64 slots, not 300), Int32 while every value is a 32-bit integer (concurrency counts are) and widened to Float64
 * the first time one is not: exact either way. Its JSON is the plain form it always had ({cap, ring, head,
 * sorted}); a median read back from JSON is typed again with `compactMedian` before use.
 */
export interface RollingMedianJson {
  cap: number;
  /** Values in arrival order; when full, `head` is the oldest. */
  ring: number[];
  head: number;
  /** The same values, ascending. */
  sorted: number[];
}

const INITIAL_SLOTS = 16;

export class RollingMedian {
  constructor(
    readonly cap: number,
    /** Slots per half: ring in cells[0, size), sorted in cells[size, size + n). */
    public size: number,
    public cells: Int32Array | Float64Array,
    public n: number,
    /** When full, the ring slot of the oldest value. */
    public head: number,
  ) {}

  toJSON(): RollingMedianJson {
    const { cells, size, n } = this;
    return { cap: this.cap, ring: Array.from(cells.subarray(0, n)), head: this.head, sorted: Array.from(cells.subarray(size, size + n)) };
  }
}

const fitsInt32 = (x: number) => (x | 0) === x && !Object.is(x, -0);

/** An empty rolling median over the last `cap` values. */
export function createRollingMedian(cap: number): RollingMedian {
  const c = Math.max(1, cap | 0);
  const size = Math.min(c, INITIAL_SLOTS);
  return new RollingMedian(c, size, new Int32Array(2 * size), 0, 0);
}

/** A median as read back from JSON (or already live) → the live form, same values. */
export function compactMedian(rm: RollingMedian | RollingMedianJson): RollingMedian {
  if (rm instanceof RollingMedian) return rm;
  const cap = Math.max(1, rm.cap | 0);
  const n = rm.ring.length;
  let size = Math.min(cap, INITIAL_SLOTS);
  while (size < n) size = Math.min(cap, size * 2);
  const cells = rm.ring.every(fitsInt32) ? new Int32Array(2 * size) : new Float64Array(2 * size);
  cells.set(rm.ring, 0);
  cells.set(rm.sorted, size);
  return new RollingMedian(cap, size, cells, n, n === cap ? rm.head : 0);
}

/** Re-lays the cells out for `size` slots per half, as doubles when `wide`. */
function relayout(rm: RollingMedian, size: number, wide: boolean): void {
  const cells = wide ? new Float64Array(2 * size) : new Int32Array(2 * size);
  cells.set(rm.cells.subarray(0, rm.n), 0);
  cells.set(rm.cells.subarray(rm.size, rm.size + rm.n), size);
  rm.cells = cells;
  rm.size = size;
}

/** Adds one value, dropping the oldest when full. */
export function rollingMedianPush(rm: RollingMedian, x: number): void {
  if (rm.cells instanceof Int32Array && !fitsInt32(x)) relayout(rm, rm.size, true);
  const size = rm.size;
  let n = rm.n;
  if (n < rm.cap) {
    if (n === size) {
      relayout(rm, Math.min(rm.cap, size * 2), rm.cells instanceof Float64Array);
      rollingMedianPush(rm, x);
      return;
    }
    rm.cells[n] = x;
  } else {
    const c = rm.cells;
    const old = c[rm.head]!;
    c[rm.head] = x;
    rm.head = rm.head + 1 === rm.cap ? 0 : rm.head + 1;
    // Remove one copy of `old` (it is there: ring and sorted hold the same multiset).
    const i = lowerBound(c, size, n, old);
    c.copyWithin(size + i, size + i + 1, size + n);
    n--;
  }
  const c = rm.cells;
  const at = upperBound(c, size, n, x);
  c.copyWithin(size + at + 1, size + at, size + n);
  c[size + at] = x;
  rm.n = n + 1;
}

/** The median of the values held (mean of the two middles when even); 0 when empty. */
export function rollingMedianValue(rm: RollingMedian): number {
  const n = rm.n;
  if (n === 0) return 0;
  const s = rm.cells;
  const h = rm.size + (n >> 1);
  return n & 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Forgets everything and, when `fill` is given, starts full of that one value (a re-seeded baseline). */
export function rollingMedianReset(rm: RollingMedian, fill?: number): void {
  rm.head = 0;
  if (fill === undefined) {
    rm.n = 0;
    return;
  }
  rm.n = 0;
  relayout(rm, rm.cap, rm.cells instanceof Float64Array || !fitsInt32(fill));
  rm.cells.fill(fill);
  rm.n = rm.cap;
}

/** First of the `n` sorted values (in cells[from, from + n)) that is ≥ x, as an index from `from`. */
function lowerBound(a: Int32Array | Float64Array, from: number, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[from + mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First of the `n` sorted values that is > x. */
function upperBound(a: Int32Array | Float64Array, from: number, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[from + mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
