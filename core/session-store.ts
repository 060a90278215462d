/**
 * A room's open viewer sessions, struct-of-arrays (docs/big-rooms.md, "Session store"): each session is an int
 * slot; its viewer id, source, entry time, last event time and heap key live in typed arrays indexed by slot,
 * so a million sessions are a few hundred typed arrays and no object per session (before: a Map of session
 * objects and id strings, ~230 B of heap each, every one marked by each full GC, and a 70-100 ms rehash of the
 * whole Map at 524k/1M entries).
 *  - Viewer ids: their UTF-16 code units in a per-chunk Uint16Array (offset, length per slot), compared in place;
 *    a string is made only to write a delta. A chunk's ids are compacted when it runs out of room.
 *  - Slots: typed-array chunks of CHUNK slots (the first grows from 16 by doubling: a small room stays small);
 *    a closed session's slot is reused. Nothing is copied when a big room grows.
 *  - Viewer → slot: open addressing on Int32Arrays keyed by hash32 (like id-index.ts), one table while the room
 *    is small, then TABLES tables chosen by the hash's top bits, so that growing one rehashes 1/TABLES of it.
 *  - Expiry order: a binary min-heap of slots (Int32Array) on (due, viewer). The viewer breaks ties so that the
 *    order is total: the top — the next session to expire or to evict over the cap — is a function of the set of
 *    sessions alone, not of the layout, and a heap rebuilt from a checkpoint (core/room-parts.ts) behaves
 *    exactly like the one never written out.
 *  - What changed since the last checkpoint: the slots opened or changed (each once: its position in the dirty
 *    list is kept per slot) and the viewers whose session closed. A pending change always reflects the slot's
 *    current owner, so closes are written before changes (room-parts.ts takeDeltaSlice).
 * Only viewer, source, entry and last event time are checkpointed; `due` is derived.
 */
import { hash32 } from './distinct-counter.ts';

const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const LOW = CHUNK - 1;
const FIRST = 16;
/** Per slot in `f`: entry time, last event time, heap key (a lower bound of seen + viewerIdleMs, raised lazily). */
const F = 3;
/** Per slot in `g`: source, heap position, hash of the viewer, position in the dirty list (-1: none), and where
 * the viewer id's UTF-16 code units are in its chunk's `chars` (offset, length; length -1: a free slot). */
const G = 6;
/** The index splits into 2^TABLE_BITS tables once it holds SPLIT_AT sessions. */
const SPLIT_AT = 1 << 15;
const TABLE_BITS = 8;
/** Shared, never written: an empty table (grown before its first insert) and an empty list. */
const NO_TABLE = new Int32Array(1);
const NONE = new Int32Array(0);
const NO_CHARS = new Uint16Array(0);
/** Shared by every store until it opens its first session (then it makes its own; never written while shared):
 * most rooms of a shard have no open session (platform counts only, or quiet), and a store's own empty arrays
 * were ~300 B of each room. */
const NO_F: Float64Array[] = [];
const NO_G: Int32Array[] = [];
const NO_CHARS_LIST: Uint16Array[] = [];
const NO_USED: number[] = [];
const NO_TABLES: Int32Array[] = [NO_TABLE];
const NO_COUNTS: number[] = [0];
const NO_CLOSED: string[] = [];

/** The hash the store keys a viewer on (computed once per event, passed to find and open). */
export function viewerHash(v: string): number {
  return hash32(v) | 0;
}

export class SessionStore {
  private f: Float64Array[] = NO_F;
  private g: Int32Array[] = NO_G;
  /** Per chunk: the viewer ids' code units (append-only; a chunk's are compacted when it runs out of room),
   * and how many are used. No string object per session: a million of them were what the GC marked. */
  private chars: Uint16Array[] = NO_CHARS_LIST;
  private used: number[] = NO_USED;
  /** Slots the chunks have room for, slots ever used, and the free ones (reused first). */
  private cap = 0;
  private hi = 0;
  private free: Int32Array = NONE;
  private nFree = 0;
  /** The heap: `size` slots in `heap[0..size)`. */
  private heap: Int32Array = NONE;
  size = 0;
  /** Live slots (= size once the heap is built; during a restore the heap is built last). */
  private live = 0;
  private tables: Int32Array[] = NO_TABLES;
  private counts: number[] = NO_COUNTS;
  private tableBits = 0;
  private dirty: Int32Array = NONE;
  private nDirty = 0;
  /** Viewers whose session closed since the last take (a viewer may be in it more than once): takeClosed. */
  closed: string[] = NO_CLOSED;

  // ---- per-slot fields ---------------------------------------------------------------------------

  /** The viewer id (a new string: for deltas and checks, not for the per-event path). */
  viewer(s: number): string {
    const g = this.g[s >> SHIFT]!;
    const j = G * (s & LOW);
    return String.fromCharCode(...this.chars[s >> SHIFT]!.subarray(g[j + 4]!, g[j + 4]! + g[j + 5]!));
  }
  src(s: number): number {
    return this.g[s >> SHIFT]![G * (s & LOW)]!;
  }
  enter(s: number): number {
    return this.f[s >> SHIFT]![F * (s & LOW)]!;
  }
  seen(s: number): number {
    return this.f[s >> SHIFT]![F * (s & LOW) + 1]!;
  }
  due(s: number): number {
    return this.f[s >> SHIFT]![F * (s & LOW) + 2]!;
  }
  private hashOf(s: number): number {
    return this.g[s >> SHIFT]![G * (s & LOW) + 2]!;
  }
  private posOf(s: number): number {
    return this.g[s >> SHIFT]![G * (s & LOW) + 1]!;
  }
  private setPos(s: number, i: number): void {
    this.g[s >> SHIFT]![G * (s & LOW) + 1] = i;
  }

  /** A session as stored: "src,enter,seen" (room-parts.ts RoomDelta). */
  encode(s: number): string {
    const f = this.f[s >> SHIFT]!;
    const k = F * (s & LOW);
    return `${this.src(s)},${f[k]},${f[k + 1]}`;
  }

  // ---- lookups -----------------------------------------------------------------------------------

  private tableOf(h: number): number {
    return this.tableBits === 0 ? 0 : h >>> (32 - this.tableBits);
  }

  /** The open session of viewer `v` (hash `h` = viewerHash(v)), or -1. */
  find(v: string, h: number): number {
    const t = this.tables[this.tableOf(h)]!;
    const mask = t.length - 1;
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const e = t[p]!;
      if (e === 0) return -1;
      if (this.hashOf(e - 1) === h && this.isViewer(e - 1, v)) return e - 1;
    }
  }

  // ---- open, change, close -----------------------------------------------------------------------

  /** Opens a session (the viewer has none), marked changed. */
  open(v: string, h: number, src: number, enter: number, seen: number, due: number): number {
    const s = this.add(v, h, src, enter, seen, due);
    this.push(s);
    this.markDirty(s);
    return s;
  }

  /** The session was seen at `ts` (later than before: the caller checks). */
  setSeen(s: number, ts: number): void {
    this.f[s >> SHIFT]![F * (s & LOW) + 1] = ts;
    this.markDirty(s);
  }

  /** Closes a session: out of the heap and the index, its viewer remembered as closed, its slot free.
   * `v`: its viewer id when the caller has it (a leave), else the id is read back from the slot. */
  close(s: number, v?: string): void {
    this.removeAt(this.posOf(s));
    this.unindex(s);
    if (this.closed === NO_CLOSED) this.closed = [];
    this.closed.push(v ?? this.viewer(s));
    this.unDirty(s);
    this.g[s >> SHIFT]![G * (s & LOW) + 5] = -1;
    if (this.nFree === this.free.length) this.free = grown(this.free, this.nFree);
    this.free[this.nFree++] = s;
    this.live--;
  }

  /** The session with the smallest (due, viewer); -1 when none. */
  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  /** Raises the top session's heap key to `due` and restores the heap. */
  raiseTop(due: number): void {
    const s = this.heap[0]!;
    this.f[s >> SHIFT]![F * (s & LOW) + 2] = due;
    this.siftDown(0);
  }

  /** The slot at heap position `i` (0 ≤ i < size): the sessions in heap order. */
  at(i: number): number {
    return this.heap[i]!;
  }

  // ---- restore -----------------------------------------------------------------------------------

  /**
   * A session read back from the store (room-parts.ts RoomRestore), not yet in the heap: a viewer given again
   * (a SCAN may repeat an entry) keeps its first slot and takes the new values. Slots go 0, 1, … in first-seen order.
   */
  load(v: string, src: number, enter: number, seen: number, due: number): void {
    const h = viewerHash(v);
    const s = this.find(v, h);
    if (s < 0) {
      this.add(v, h, src, enter, seen, due);
      return;
    }
    const f = this.f[s >> SHIFT]!;
    const k = F * (s & LOW);
    f[k] = enter;
    f[k + 1] = seen;
    f[k + 2] = due;
    this.g[s >> SHIFT]![G * (s & LOW)] = src;
  }

  /** Sessions loaded (open ones: the count a restore checks). */
  get count(): number {
    return this.live;
  }

  /**
   * Builds the heap of the loaded sessions in steps of at most `step` positions (the thread free between them):
   * the heap starts in slot order, then is heapified bottom-up — the same heap however it is stepped.
   * Nothing may change the store between steps.
   */
  *buildHeap(step: number): Generator<void, void, void> {
    const n = this.live;
    if (this.heap.length < n) this.heap = new Int32Array(n);
    let k = 0;
    for (let s = 0; s < this.hi; s++) {
      if (this.g[s >> SHIFT]![G * (s & LOW) + 5] === -1) continue; // free (a restore frees none, an upgrade neither)
      this.heap[this.size++] = s;
      if (++k >= step) {
        k = 0;
        yield;
      }
    }
    for (let i = 0; i < this.size; i++) {
      this.setPos(this.heap[i]!, i);
      if (++k >= step) {
        k = 0;
        yield;
      }
    }
    for (let i = (this.size >> 1) - 1; i >= 0; i--) {
      this.siftDown(i);
      if (++k >= step) {
        k = 0;
        yield;
      }
    }
  }

  // ---- changes since the last checkpoint ---------------------------------------------------------

  /** The viewers closed since the last take, handed over (the store starts a new list on its next close; the
   * caller never gets the shared empty one, so it may keep or change what it got). */
  takeClosed(): string[] {
    const closed = this.closed;
    this.closed = NO_CLOSED;
    return closed === NO_CLOSED ? [] : closed;
  }

  /** Sessions opened or changed, and closed viewers, waiting to be written. */
  get changes(): number {
    return this.nDirty + this.closed.length;
  }

  /** Takes one changed session out of the waiting ones (there must be one): its slot, still open. */
  popDirty(): number {
    const s = this.dirty[--this.nDirty]!;
    this.g[s >> SHIFT]![G * (s & LOW) + 3] = -1;
    return s;
  }

  get dirtyCount(): number {
    return this.nDirty;
  }

  /** Marks every open session changed (an upgraded older checkpoint: everything is written apart). */
  markAllDirty(): void {
    for (let i = 0; i < this.size; i++) this.markDirty(this.heap[i]!);
  }

  // ---- internals ---------------------------------------------------------------------------------

  private add(v: string, h: number, src: number, enter: number, seen: number, due: number): number {
    let s: number;
    if (this.nFree > 0) s = this.free[--this.nFree]!;
    else {
      s = this.hi++;
      if (s === this.cap) this.growSlots();
    }
    const f = this.f[s >> SHIFT]!;
    const k = F * (s & LOW);
    f[k] = enter;
    f[k + 1] = seen;
    f[k + 2] = due;
    const g = this.g[s >> SHIFT]!;
    const j = G * (s & LOW);
    g[j] = src;
    g[j + 2] = h;
    g[j + 3] = -1;
    this.putId(s, v);
    this.live++;
    this.index(s, h);
    return s;
  }

  /** Room for one more slot: the first chunk doubles up to CHUNK, then a chunk is added (nothing copied). */
  private growSlots(): void {
    if (this.cap < CHUNK) {
      const cap = Math.max(FIRST, this.cap * 2);
      const f = new Float64Array(cap * F);
      const g = new Int32Array(cap * G);
      if (this.cap > 0) {
        f.set(this.f[0]!);
        g.set(this.g[0]!);
        this.f[0] = f;
        this.g[0] = g;
      } else {
        // The store's own lists from here on (the shared empty ones are never written), of one entry each.
        this.f = [f];
        this.g = [g];
        this.chars = [NO_CHARS];
        this.used = [0];
      }
      this.cap = cap;
      return;
    }
    this.f.push(new Float64Array(CHUNK * F));
    this.g.push(new Int32Array(CHUNK * G));
    this.chars.push(NO_CHARS);
    this.used.push(0);
    this.cap += CHUNK;
  }

  private index(s: number, h: number): void {
    if (this.tables === NO_TABLES) {
      this.tables = [NO_TABLE];
      this.counts = [0];
    }
    if (this.tableBits === 0 && this.live > SPLIT_AT) this.split();
    const ti = this.tableOf(h);
    let t = this.tables[ti]!;
    if ((this.counts[ti]! + 1) * 2 > t.length) t = this.growTable(ti, t.length * 2);
    this.place(t, s, h);
    this.counts[ti]!++;
  }

  private place(t: Int32Array, s: number, h: number): void {
    const mask = t.length - 1;
    let p = h & mask;
    while (t[p] !== 0) p = (p + 1) & mask;
    t[p] = s + 1;
  }

  private growTable(ti: number, size: number): Int32Array {
    const old = this.tables[ti]!;
    const t = new Int32Array(Math.max(16, size));
    for (let p = 0; p < old.length; p++) if (old[p] !== 0) this.place(t, old[p]! - 1, this.hashOf(old[p]! - 1));
    this.tables[ti] = t;
    return t;
  }

  /** One table → 2^TABLE_BITS, by the hash's top bits (once, at SPLIT_AT sessions): a rehash then moves 1/256 of the room. */
  private split(): void {
    const old = this.tables[0]!;
    const n = 1 << TABLE_BITS;
    const counts = new Array<number>(n).fill(0);
    for (let p = 0; p < old.length; p++) if (old[p] !== 0) counts[this.hashOf(old[p]! - 1) >>> (32 - TABLE_BITS)]!++;
    this.tables = counts.map((c) => {
      let size = 16;
      while (size < 2 * (c + 1)) size *= 2;
      return new Int32Array(size);
    });
    this.tableBits = TABLE_BITS;
    for (let p = 0; p < old.length; p++) if (old[p] !== 0) this.place(this.tables[this.hashOf(old[p]! - 1) >>> (32 - TABLE_BITS)]!, old[p]! - 1, this.hashOf(old[p]! - 1));
    this.counts = counts;
  }

  /** Removes slot `s` from its table (backward-shift deletion keeps probe chains intact). */
  private unindex(s: number): void {
    const h = this.hashOf(s);
    const ti = this.tableOf(h);
    const t = this.tables[ti]!;
    const mask = t.length - 1;
    let i = h & mask;
    while (t[i] !== s + 1) i = (i + 1) & mask;
    this.counts[ti]!--;
    for (;;) {
      t[i] = 0;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        const e = t[j]!;
        if (e === 0) return;
        const home = this.hashOf(e - 1) & mask;
        // The entry at j may move back to i only if its home is not cyclically within (i, j].
        const stays = i <= j ? i < home && home <= j : i < home || home <= j;
        if (stays) continue;
        t[i] = e;
        i = j;
        break;
      }
    }
  }

  private markDirty(s: number): void {
    const g = this.g[s >> SHIFT]!;
    const j = G * (s & LOW) + 3;
    if (g[j]! >= 0) return;
    if (this.nDirty === this.dirty.length) this.dirty = grown(this.dirty, this.nDirty);
    g[j] = this.nDirty;
    this.dirty[this.nDirty++] = s;
  }

  /** A closed slot leaves the dirty list (the last entry takes its place). */
  private unDirty(s: number): void {
    const g = this.g[s >> SHIFT]!;
    const j = G * (s & LOW) + 3;
    const at = g[j]!;
    if (at < 0) return;
    g[j] = -1;
    const last = this.dirty[--this.nDirty]!;
    if (last === s) return;
    this.dirty[at] = last;
    this.g[last >> SHIFT]![G * (last & LOW) + 3] = at;
  }

  private before(a: number, b: number): boolean {
    const da = this.due(a);
    const db = this.due(b);
    return da < db || (da === db && this.idLess(a, b));
  }

  /** Whether slot `s` holds viewer `v`. */
  private isViewer(s: number, v: string): boolean {
    const g = this.g[s >> SHIFT]!;
    const j = G * (s & LOW);
    const n = g[j + 5]!;
    if (n !== v.length) return false;
    const a = this.chars[s >> SHIFT]!;
    const o = g[j + 4]!;
    for (let i = 0; i < n; i++) if (a[o + i] !== v.charCodeAt(i)) return false;
    return true;
  }

  /** viewer(a) < viewer(b) as JS compares strings (code unit by code unit), without making the strings. */
  private idLess(a: number, b: number): boolean {
    const ga = this.g[a >> SHIFT]!;
    const gb = this.g[b >> SHIFT]!;
    const ja = G * (a & LOW);
    const jb = G * (b & LOW);
    const ca = this.chars[a >> SHIFT]!;
    const cb = this.chars[b >> SHIFT]!;
    const oa = ga[ja + 4]!;
    const ob = gb[jb + 4]!;
    const na = ga[ja + 5]!;
    const nb = gb[jb + 5]!;
    const n = Math.min(na, nb);
    for (let i = 0; i < n; i++) {
      const x = ca[oa + i]!;
      const y = cb[ob + i]!;
      if (x !== y) return x < y;
    }
    return na < nb;
  }

  /** Writes viewer `v`'s code units for slot `s` at the end of its chunk's chars (making room first). */
  private putId(s: number, v: string): void {
    const c = s >> SHIFT;
    const n = v.length;
    if (this.used[c]! + n > this.chars[c]!.length) this.compactIds(c, n);
    const a = this.chars[c]!;
    const o = this.used[c]!;
    for (let i = 0; i < n; i++) a[o + i] = v.charCodeAt(i);
    const g = this.g[c]!;
    const j = G * (s & LOW);
    g[j + 4] = o;
    g[j + 5] = n;
    this.used[c] = o + n;
  }

  /** Copies chunk `c`'s live ids into a new array with room for twice them and `n` more (closed ones' are dropped). */
  private compactIds(c: number, n: number): void {
    const old = this.chars[c]!;
    const end = Math.min(this.hi, (c + 1) * CHUNK);
    let live = 0;
    for (let s = c * CHUNK; s < end; s++) live += Math.max(0, this.g[c]![G * (s & LOW) + 5]!);
    const a = new Uint16Array(Math.max(64, 2 * (live + n)));
    const g = this.g[c]!;
    let o = 0;
    for (let s = c * CHUNK; s < end; s++) {
      const j = G * (s & LOW);
      const len = g[j + 5]!;
      if (len <= 0) continue;
      a.set(old.subarray(g[j + 4]!, g[j + 4]! + len), o);
      g[j + 4] = o;
      o += len;
    }
    this.chars[c] = a;
    this.used[c] = o;
  }

  private push(s: number): void {
    if (this.size === this.heap.length) this.heap = grown(this.heap, this.size);
    const i = this.size++;
    this.heap[i] = s;
    this.setPos(s, i);
    this.siftUp(i);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const last = h[--this.size]!;
    if (i === this.size) return;
    h[i] = last;
    this.setPos(last, i);
    this.siftDown(i);
    this.siftUp(this.posOf(last));
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const s = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(s, h[p]!)) break;
      h[i] = h[p]!;
      this.setPos(h[i]!, i);
      i = p;
    }
    h[i] = s;
    this.setPos(s, i);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = this.size;
    const s = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, s)) break;
      h[i] = h[c]!;
      this.setPos(h[i]!, i);
      i = c;
    }
    h[i] = s;
    this.setPos(s, i);
  }
}

/** `a` doubled (at least 16), its first `n` entries kept. */
function grown(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(Math.max(16, a.length * 2));
  b.set(a.subarray(0, n));
  return b;
}
