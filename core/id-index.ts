/**
 * Lookup over a room's ring of recent event ids (the ring itself is plain JSON in the room state; this
 * index is derived from it and never serialised). Open addressing on typed arrays with backward-shift
 * deletion: a lookup touches a few contiguous ints and compares the id string only when its 32-bit hash
 * matches, so the evicted ids (cold strings) are never dereferenced. A `Set<string>` doing the same
 * insert/delete churn measured ~2.5× slower, which matters at a million events per second.
 * The cells grow with the ring (doubling, from 16 ids up to `kept`) instead of being sized for `kept` up
 * front: at the default 2,048 that was 24 KB of typed arrays per room, even for a room with ten events.
 * Table and hashes share one Int32Array, and a new room starts with room for 16 ids: a typed array costs
 * a few hundred bytes of objects and allocator bookkeeping besides its bytes, and most rooms hold a few
 * dozen ids (bench, 10,000 rooms of 32 ids: 0.77 KB of array bytes per room in two arrays → 0.38 KB in one).
 */
import { hash32 } from './distinct-counter.ts';

export interface IdIndex {
  kept: number;
  /** Ids the cells have room for now (≤ kept); grows by doubling while the ring fills. */
  cap: number;
  mask: number;
  /** The table, then the hashes: `cells[0..mask]` ring slot + 1 per table cell (0 = empty);
   * `cells[mask + 1 + slot]` the hash of the id in that ring slot. */
  cells: Int32Array;
}

/** Builds the index for `ring` (arrival order from `head` once full), keeping at most `kept` ids. */
export function buildIdIndex(ring: string[], head: number, kept: number): { index: IdIndex; ring: string[]; head: number } {
  // Oldest first, then keep the newest `kept` (the config may have shrunk since the checkpoint).
  let ordered = ring.length < kept ? ring : [...ring.slice(head), ...ring.slice(0, head)];
  if (ordered.length > kept) ordered = ordered.slice(ordered.length - kept);
  const index = allocate(kept, Math.min(kept, Math.max(INITIAL_CAP, ordered.length)));
  const fresh: string[] = [];
  for (const id of ordered) {
    // A checkpoint never holds the same id twice; guard anyway so the index and ring stay in step.
    if (find(index, fresh, id, hash32(id) | 0) >= 0) continue;
    insert(index, fresh, id, kept);
  }
  // Rebuilt oldest-first from slot 0, so the next eviction is slot 0.
  return { index, ring: fresh, head: 0 };
}

/** Remembers `id` in the ring; returns false (and changes nothing) when it is already among the kept ids. */
export function rememberIdIn(index: IdIndex, ring: string[], headRef: { recentHead: number }, id: string): boolean {
  const h = hash32(id) | 0;
  if (find(index, ring, id, h) >= 0) return false;
  if (index.kept <= 0) return true;
  if (ring.length < index.kept) {
    if (ring.length === index.cap) grow(index, ring);
    const slot = ring.length;
    ring.push(id);
    place(index, slot, h);
    return true;
  }
  const slot = headRef.recentHead;
  headRef.recentHead = slot + 1 === index.kept ? 0 : slot + 1;
  remove(index, slot);
  ring[slot] = id;
  place(index, slot, h);
  return true;
}

const INITIAL_CAP = 16;

function allocate(kept: number, cap: number): IdIndex {
  let size = 4;
  while (size < cap * 2) size <<= 1;
  return { kept, cap, mask: size - 1, cells: new Int32Array(size + Math.max(cap, 1)) };
}

/** Doubles the cells (the ring is not full yet, so its slots are in insertion order) and re-places every id. */
function grow(index: IdIndex, ring: string[]): void {
  const bigger = allocate(index.kept, Math.min(index.kept, index.cap * 2));
  const h = index.mask + 1;
  for (let slot = 0; slot < ring.length; slot++) place(bigger, slot, index.cells[h + slot]!);
  index.cap = bigger.cap;
  index.mask = bigger.mask;
  index.cells = bigger.cells;
}

function insert(index: IdIndex, ring: string[], id: string, kept: number): void {
  if (kept <= 0) return;
  if (ring.length === index.cap) grow(index, ring);
  const slot = ring.length;
  ring.push(id);
  place(index, slot, hash32(id) | 0);
}

/** Table cell holding `id`, or -1. */
function find(index: IdIndex, ring: string[], id: string, h: number): number {
  const { cells, mask } = index;
  let p = h & mask;
  for (;;) {
    const v = cells[p]!;
    if (v === 0) return -1;
    if (cells[mask + v] === h && ring[v - 1] === id) return p; // hash of slot v − 1 at mask + 1 + (v − 1)
    p = (p + 1) & mask;
  }
}

function place(index: IdIndex, slot: number, h: number): void {
  const { cells, mask } = index;
  cells[mask + 1 + slot] = h;
  let p = h & mask;
  while (cells[p] !== 0) p = (p + 1) & mask;
  cells[p] = slot + 1;
}

/** Removes ring slot `slot` from the table (backward-shift deletion keeps probe chains intact). */
function remove(index: IdIndex, slot: number): void {
  const { cells, mask } = index;
  let i = cells[mask + 1 + slot]! & mask;
  while (cells[i] !== slot + 1) i = (i + 1) & mask;
  for (;;) {
    cells[i] = 0;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = cells[j]!;
      if (v === 0) return;
      const home = cells[mask + v]! & mask;
      // Entry at j may move back to i only if its home is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      cells[i] = v;
      i = j;
      break;
    }
  }
}
