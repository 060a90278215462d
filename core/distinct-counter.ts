/**
 * Counts distinct strings (viewers, paying viewers) in bounded memory: exact up to `cap` members, then a
 * HyperLogLog (4,096 registers, ~1.6 % standard error) seeded with every member seen so far. The counter is
 * plain JSON of a fixed size; the exact members are not in it: they live in a Set the caller keeps (and
 * checkpoints apart, as a Redis set: docs/big-rooms.md), so the JSON does not grow with the audience.
 * A Set, not object keys, because those would collide with names like "__proto__".
 */
export interface DistinctCounter {
  cap: number;
  /** Members counted exactly so far (stays at its last value once estimating). */
  n: number;
  /** HyperLogLog registers once over `cap` (null before). */
  hll: number[] | null;
}

/** A counter as checkpointed before the members moved out of it (upgraded on read: upgradeDistinct). */
interface LegacyDistinctCounter {
  cap: number;
  exact: string[] | null;
  hll: number[] | null;
}

const P = 12;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

/** An empty counter that counts exactly up to `cap` members. */
export function createDistinctCounter(cap: number): DistinctCounter {
  return { cap, n: 0, hll: null };
}

/** What distinctAdd did: nothing, a new exact member, or the switch to the estimate (the members are dropped). */
export const ADDED_NONE = 0;
export const ADDED_MEMBER = 1;
export const ADDED_SWITCHED = 2;
export type DistinctAdded = typeof ADDED_NONE | typeof ADDED_MEMBER | typeof ADDED_SWITCHED;

/** Adds a member; `members` must be this counter's exact members (empty once estimating). */
export function distinctAdd(dc: DistinctCounter, members: Set<string>, key: string): DistinctAdded {
  if (dc.hll === null) {
    if (members.has(key)) return ADDED_NONE;
    members.add(key);
    dc.n++;
    if (dc.n <= dc.cap) return ADDED_MEMBER;
    const regs = new Array<number>(M).fill(0);
    for (const k of members) hllAdd(regs, k);
    dc.hll = regs;
    members.clear();
    return ADDED_SWITCHED;
  }
  hllAdd(dc.hll, key);
  return ADDED_NONE;
}

/** Whether the counter needs its exact members restored beside it (false once estimating, or when empty). */
export function hasMembers(dc: DistinctCounter): boolean {
  return dc.hll === null && dc.n > 0;
}

/**
 * A counter of an older checkpoint (members inside it) → the current one; returns its members (to be kept
 * apart), or null when `dc` is already current.
 */
export function upgradeDistinct(dc: DistinctCounter): string[] | null {
  const old = dc as unknown as LegacyDistinctCounter & { n?: number };
  if (old.exact === undefined) return null;
  const members = old.exact ?? [];
  dc.n = old.exact === null ? dc.cap + 1 : members.length;
  delete (old as Partial<LegacyDistinctCounter>).exact;
  return members;
}

/** Exact count up to the cap, then the HyperLogLog estimate (rounded). */
export function distinctCount(dc: DistinctCounter): number {
  if (dc.hll === null) return dc.n;
  const regs = dc.hll;
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
