/**
 * Rolling 1 min / 5 min figures (DESIGN §5) from one ring of 10-s buckets of event time: 30 buckets × 19
 * counters (570 numbers, less JSON when quiet) covers 5 minutes, and replaces the per-second
 * entry/exit rings the room used to keep for the 1 min figures (480 numbers). A window of N seconds is the
 * current bucket plus the N/10 − 1 before it, so "1 min" spans the last 50–60 s: 10 s granularity is the price
 * of bounded, small state.
 * Every counter is an integer (counts, viewer-ms, minor units), so the ring lives in an Int32Array (2.3 KB
 * instead of 4.6 KB of doubles when full) and moves to a Float64Array the first time a cell would not fit: exact
 * either way. It holds only the buckets its data spans (TypedRing). Its JSON is the plain array of numbers it
 * always was; a ring read back from a checkpoint is that plain array until compactRing makes it typed again
 * (every function here works on both).
 */
import type { PerSource, PerSourceRatio, RollingMetrics } from './protocol.ts';

export const BUCKET_MS = 10_000;
export const BUCKETS = 30;
/** Counters per bucket, at these offsets. */
export const F = 19;
/** Σ concurrency × sample length (viewer-ms) and Σ sample length (ms): mean = sum ÷ n, in viewers. */
export const B_CONC_SUM = 0;
export const B_CONC_N = 1;
export const B_CONC_MAX = 2;
export const B_ENTRIES = 3; // + source index (4)
export const B_EXITS = 7; // + source index (4)
export const B_EXPOSURE = 11; // + source index (4)
export const B_GMV = 15;
export const B_ORDERS = 16;
export const B_SPEND = 17;
export const B_FOLLOWS = 18;

export interface RollingRing {
  /** Index (ts / BUCKET_MS, floored) of the newest bucket; -1 before any. */
  bk: number;
  /** As checkpointed: bucket b at cells (b % BUCKETS)·F … +F, all BUCKETS of them. */
  buckets: number[] | Int32Array | Float64Array;
}

/** Buckets a typed ring holds: grown through these as its data spans more of the 5 minutes. */
const SPANS = [4, 8, 16, BUCKETS];

/**
 * The ring as the core keeps it. Typed cells (Int32, widened to Float64 when a cell would not fit) holding only
 * the newest `len` buckets, bucket b at (b % len)·F: a room 1 min old holds 8 buckets (0.6 KB), not 30. It
 * grows (re-laid out) before any bucket with data would fall out of it; a bucket it does not hold is all zero.
 * At `len` = BUCKETS its layout is the checkpoint's. Its JSON is the full plain ring, as it always was.
 */
class TypedRing implements RollingRing {
  constructor(
    public bk: number,
    public buckets: Int32Array | Float64Array,
    /** Buckets held (a value of SPANS). */
    public len: number,
    /** Lowest bucket that may hold data (Infinity: none). */
    public lo: number,
  ) {}

  toJSON(): { bk: number; buckets: number[] } {
    if (this.len === BUCKETS) return { bk: this.bk, buckets: Array.from(this.buckets) };
    const out = new Array<number>(BUCKETS * F).fill(0);
    for (let b = Math.max(0, this.bk - this.len + 1); b <= this.bk; b++) {
      const from = (b % this.len) * F;
      const to = (b % BUCKETS) * F;
      for (let j = 0; j < F; j++) out[to + j] = this.buckets[from + j]!;
    }
    return { bk: this.bk, buckets: out };
  }
}

const spanFor = (n: number) => SPANS.find((s) => s >= n) ?? BUCKETS;

export function createRollingRing(): RollingRing {
  return new TypedRing(-1, new Int32Array(SPANS[0]! * F), SPANS[0]!, Infinity);
}

/** A ring read back from JSON (plain array) → typed again, holding the buckets from its oldest with data. */
export function compactRing(r: RollingRing): RollingRing {
  if (r instanceof TypedRing) return r;
  const plain = r.buckets;
  let lo = Infinity;
  for (let b = Math.max(0, r.bk - BUCKETS + 1); b <= r.bk && lo === Infinity; b++) {
    for (let j = 0; j < F; j++) if (plain[(b % BUCKETS) * F + j] !== 0) lo = b;
  }
  const len = lo === Infinity ? SPANS[0]! : spanFor(r.bk - lo + 1);
  let ints = true;
  for (let i = 0; i < plain.length; i++) if ((plain[i]! | 0) !== plain[i] || Object.is(plain[i], -0)) ints = false;
  const cells = ints ? new Int32Array(len * F) : new Float64Array(len * F);
  for (let b = Math.max(0, r.bk - len + 1); b <= r.bk; b++) {
    for (let j = 0; j < F; j++) cells[(b % len) * F + j] = plain[(b % BUCKETS) * F + j]!;
  }
  return new TypedRing(r.bk, cells, len, lo);
}

/** Re-lays the ring out to hold `len` buckets (more than it holds: nothing is dropped). */
function grow(r: TypedRing, len: number): void {
  const cells = r.buckets instanceof Int32Array ? new Int32Array(len * F) : new Float64Array(len * F);
  for (let b = Math.max(0, r.bk - r.len + 1); b <= r.bk; b++) {
    const from = (b % r.len) * F;
    cells.set(r.buckets.subarray(from, from + F), (b % len) * F);
  }
  r.buckets = cells;
  r.len = len;
}

/** Offset of bucket `b`'s cells (b within the ring's 5 minutes), or -1 for a typed ring's bucket it does not hold (all zero). */
function cellsOf(r: RollingRing, b: number): number {
  if (!(r instanceof TypedRing)) return (b % BUCKETS) * F;
  return b > r.bk - r.len ? (b % r.len) * F : -1;
}

/** Sets cell `i` to `v`, widening the cells to doubles when an Int32Array cannot hold `v` exactly. */
function setCell(r: RollingRing, i: number, v: number): void {
  const b = r.buckets;
  b[i] = v;
  if (b[i] !== v) {
    const wide = Float64Array.from(b);
    wide[i] = v;
    r.buckets = wide;
  }
}

/** Moves the ring to the bucket of event time `ts`, clearing the buckets that fell out of it. */
export function rollTo(r: RollingRing, ts: number): void {
  const k = Math.floor(ts / BUCKET_MS);
  const from = r.bk;
  if (k <= from) return;
  if (r instanceof TypedRing) {
    // Buckets with data that stay in the 5 minutes must stay held.
    const keepFrom = Math.max(r.lo, k - BUCKETS + 1);
    if (keepFrom <= from && k - keepFrom + 1 > r.len) grow(r, spanFor(k - keepFrom + 1));
    r.lo = keepFrom <= from ? keepFrom : Infinity;
  }
  r.bk = k;
  if (from < 0) return;
  const len = r instanceof TypedRing ? r.len : BUCKETS;
  if (k - from >= len) {
    r.buckets.fill(0);
    return;
  }
  for (let b = from + 1; b <= k; b++) r.buckets.fill(0, (b % len) * F, (b % len) * F + F);
}

/** Offset of the bucket holding `ts`, or -1 when that bucket is older than the ring or newer than its head. */
function bucketOf(r: RollingRing, ts: number): number {
  const k = Math.floor(ts / BUCKET_MS);
  if (k > r.bk || k <= r.bk - BUCKETS || k < 0) return -1;
  if (r instanceof TypedRing) {
    if (k <= r.bk - r.len) grow(r, spanFor(r.bk - k + 1));
    if (k < r.lo) r.lo = k;
  }
  return cellsOf(r, k);
}

/** Adds `n` to counter `field` of the bucket holding `ts` (nothing when it is outside the ring). */
export function addAt(r: RollingRing, ts: number, field: number, n: number): void {
  const o = bucketOf(r, ts);
  if (o >= 0) setCell(r, o + field, r.buckets[o + field]! + n);
}

/** Records one concurrency sample, standing for `sampleMs` of time, in the bucket holding `ts`. */
export function sampleAt(r: RollingRing, ts: number, conc: number, sampleMs: number): void {
  const o = bucketOf(r, ts);
  if (o < 0) return;
  setCell(r, o + B_CONC_SUM, r.buckets[o + B_CONC_SUM]! + conc * sampleMs);
  setCell(r, o + B_CONC_N, r.buckets[o + B_CONC_N]! + sampleMs);
  if (conc > r.buckets[o + B_CONC_MAX]!) setCell(r, o + B_CONC_MAX, conc);
}

/** Counter `field` of bucket `b` (0 for a bucket a typed ring does not hold). */
function cell(r: RollingRing, b: number, field: number): number {
  const o = cellsOf(r, b);
  return o < 0 ? 0 : r.buckets[o + field]!;
}

/** Sums counter `field` (+ `j`) over the last `n` buckets up to the head. */
export function sumBuckets(r: RollingRing, n: number, field: number): number {
  if (r.bk < 0) return 0;
  let total = 0;
  for (let b = r.bk; b > r.bk - n && b >= 0; b--) total += cell(r, b, field);
  return total;
}

const perSource = (f: (j: number) => number): PerSource => ({ follow: f(0), public: f(1), paid: f(2), other: f(3) });

/** The figures of the window of `windowSec` seconds ending with the head bucket. */
export function rollingMetrics(r: RollingRing, windowSec: number): RollingMetrics {
  const n = Math.min(BUCKETS, Math.round((windowSec * 1000) / BUCKET_MS));
  const minutes = windowSec / 60;
  const sum = (field: number) => sumBuckets(r, n, field);
  let peak = 0;
  for (let b = r.bk; b > r.bk - n && b >= 0; b--) peak = Math.max(peak, cell(r, b, B_CONC_MAX));
  const sampledMs = sum(B_CONC_N);
  const viewerMs = sum(B_CONC_SUM);
  const watchMinutes = viewerMs / 60_000;
  const gmv = sum(B_GMV);
  const entries = perSource((j) => sum(B_ENTRIES + j));
  const exposure = perSource((j) => sum(B_EXPOSURE + j));
  return {
    windowSec,
    concurrencyMean: sampledMs > 0 ? round1(viewerMs / sampledMs) : 0,
    concurrencyPeak: peak,
    entriesPerMin: perSource((j) => round1(sum(B_ENTRIES + j) / minutes)),
    exitsPerMin: perSource((j) => round1(sum(B_EXITS + j) / minutes)),
    exposure,
    clickInRate: ratio(entries, exposure),
    gmv,
    orders: sum(B_ORDERS),
    adSpend: sum(B_SPEND),
    follows: sum(B_FOLLOWS),
    watchMinutes: round1(watchMinutes),
    gmvPerKWatchMin: watchMinutes > 0 ? round1(gmv / (watchMinutes / 1000)) : null,
  };
}

/** a ÷ b per source, rounded to 4 places; null where b is 0. */
export function ratio(a: PerSource, b: PerSource): PerSourceRatio {
  const r = (x: number, y: number) => (y > 0 ? Math.round((x / y) * 10_000) / 10_000 : null);
  return { follow: r(a.follow, b.follow), public: r(a.public, b.public), paid: r(a.paid, b.paid), other: r(a.other, b.other) };
}

export function round1(x: number): number {
  const r = Math.round(x * 10) / 10;
  return r === 0 ? 0 : r;
}
