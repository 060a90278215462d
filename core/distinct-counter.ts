/**
 * Counts distinct strings (viewers, paying viewers) in bounded memory: exact up to `cap` members, then a
 * HyperLogLog (4,096 registers, ~1.6 % standard error) seeded with every member seen so far. The state is
 * plain JSON; the exact members' Set lives outside it (the caller keeps it, rebuilt from `exact` on restore),
 * because plain-object keys would collide with names like "__proto__".
 */
export interface DistinctCounter {
  cap: number;
  /** Members while counting exactly (null once switched to the estimate). */
  exact: string[] | null;
  /** HyperLogLog registers once over `cap` (null before). */
  hll: number[] | null;
}

const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

/** An empty counter that counts exactly up to `cap` members. */
export function createDistinctCounter(cap: number): DistinctCounter {
  return { cap, exact: [], hll: null };
}

/** The runtime index of an exact counter's members (empty once estimating). */
export function distinctIndex(dc: DistinctCounter): Set<string> {
  return new Set(dc.exact ?? []);
}

/** Adds a member; `index` must be this counter's `distinctIndex`. */
export function distinctAdd(dc: DistinctCounter, index: Set<string>, key: string): void {
  if (dc.exact) {
    if (index.has(key)) return;
    index.add(key);
    dc.exact.push(key);
    if (dc.exact.length > dc.cap) {
      const regs = new Array<number>(M).fill(0);
      for (const k of dc.exact) hllAdd(regs, k);
      dc.hll = regs;
      dc.exact = null;
      index.clear();
    }
    return;
  }
  hllAdd(dc.hll!, key);
}

/** Exact count up to the cap, then the HyperLogLog estimate (rounded). */
export function distinctCount(dc: DistinctCounter): number {
  if (dc.exact) return dc.exact.length;
  const regs = dc.hll!;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < M; i++) {
    sum += 2 ** -regs[i];
    if (regs[i] === 0) zeros++;
  }
  let est = (ALPHA * M * M) / sum;
  if (est <= 2.5 * M && zeros > 0) est = M * Math.log(M / zeros);
  // Never report fewer than we counted exactly before switching.
  return Math.max(dc.cap + 1, Math.round(est));
}

function hllAdd(regs: number[], key: string): void {
  const h = hash32(key);
  const idx = h >>> (32 - P);
  const rest = (h << P) | (1 << (P - 1)); // sentinel bit bounds the rank
  const rank = Math.clz32(rest) + 1;
  if (rank > regs[idx]) regs[idx] = rank;
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser for avalanche. Deterministic across runs. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
