/**
 * A room's ring of recent event ids and its lookup, in one Int32Array (IdRing). The ids are kept as their
 * UTF-16 code units packed in the array (4 per int when every unit is < 256, as ids almost always are, else
 * 2), not as strings: a string costs a 16-byte header plus its characters rounded up to 8, plus an 8-byte slot
 * in the array holding it, ~40 bytes for a 10-character id against 12 here (bench/memory-core.ts).
 * Lookup: open addressing with backward-shift deletion; an id's packed units are compared only when its 32-bit
 * hash matches. A `Set<string>` doing the same insert/delete churn measured ~2.5× slower.
 * Every slot has the same width (`w` ints): a room's ids come from one producer and have about one length, so
 * a slot is overwritten in place (no holes, nothing to compact). The width grows to the widest id seen, up to
 * MAX_W; an id wider than that, or more than twice the width once the ring holds a few ids (an outlier), is kept
 * as a string beside the array (`long`), as every id used to be.
 * The slots grow with the ring (doubling, from 16 ids up to `kept`) instead of being sized for `kept` up front.
 * Its JSON is the plain array of ids in slot order that the room state always checkpointed (with the state's
 * `recentHead`), so checkpoints are byte-identical and an old checkpoint's ring restores as before.
 *
 * The array: [table: mask + 1 cells, ring slot + 1 or 0 (empty)] [hash per slot: cap]
 * [length × 4 + kind per slot, or LONG: cap] [units: w ints per slot].
 */
const INITIAL_CAP = 16;
/** Widest slot, in ints: 64 one-byte units (a UUID takes 9). */
const MAX_W = 16;
const LONG = -1;
/** An ASCII id's units are its bytes in order on a little-endian host: toJSON decodes all of them in one go
 * (a single-byte decoder, so byte offsets are string offsets; windows-1252 is exact below 0x80). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BYTES = new TextDecoder('latin1');
/** The kinds of packed id (meta = length × 4 + kind). */
const ASCII = 0;
const NARROW = 1;
const WIDE = 2;

export class IdRing {
  /** Ids held (≤ cap); the ring is full when n === kept, and the next eviction is the caller's `recentHead`. */
  n = 0;
  /** Slots the array has room for now (≤ kept). */
  cap: number;
  mask: number;
  /** Ints per slot. */
  w: number;
  a: Int32Array;
  /** Ids wider than MAX_W ints, by slot (made on first need). */
  long: (string | undefined)[] | null = null;

  constructor(
    readonly kept: number,
    cap: number,
    w: number,
  ) {
    this.cap = cap;
    this.w = w;
    this.mask = tableSize(cap) - 1;
    this.a = new Int32Array(this.mask + 1 + (2 + w) * cap);
  }

  get length(): number {
    return this.n;
  }

  /** The ids in slot order, as the state's JSON has always held them (written at every checkpoint: one decode
   * of all the slots, then a slice per id; a string per id made from its units cost 3× the whole stringify). */
  toJSON(): string[] {
    const { a, n, w } = this;
    const out = new Array<string>(n);
    const metas = this.mask + 1 + this.cap;
    const units = metas + this.cap;
    let text: string | null = null;
    for (let slot = 0; slot < n; slot++) {
      const m = a[metas + slot]!;
      if (m === LONG) out[slot] = this.long![slot]!;
      else if ((m & 3) === ASCII && LITTLE_ENDIAN) {
        text ??= BYTES.decode(new Uint8Array(a.buffer, a.byteOffset + units * 4, n * w * 4));
        const from = slot * w * 4;
        out[slot] = text.slice(from, from + (m >>> 2));
      } else out[slot] = decode(a, units + slot * w, m);
    }
    return out;
  }
}

/** Table cells for `cap` ids: the next power of two ≥ 2 × cap (load ≤ 1/2). */
function tableSize(cap: number): number {
  let size = 4;
  while (size < cap * 2) size <<= 1;
  return size;
}

/** The ring for the ids of a checkpoint (`ring`, arrival order from `head` once full), keeping at most `kept`:
 * slot 0 the oldest, so the caller's head becomes 0. */
export function buildIdRing(ring: readonly string[], head: number, kept: number): IdRing {
  // Oldest first, then keep the newest `kept` (the config may have shrunk since the checkpoint).
  let ordered = ring.length < kept ? ring : [...ring.slice(head), ...ring.slice(0, head)];
  if (ordered.length > kept) ordered = ordered.slice(ordered.length - kept);
  // Slots as wide as 9 in 10 of the ids need (the rest widen them up to twice, or are strings: remember).
  const widths = ordered.map((id) => (encode(id) === LONG ? 0 : encodedW)).sort((x, y) => x - y);
  const w = widths.length > 0 ? widths[Math.floor(0.9 * (widths.length - 1))]! : 0;
  const r = new IdRing(kept, Math.min(kept, Math.max(INITIAL_CAP, ordered.length)), w);
  const headRef = { recentHead: 0 };
  // A checkpoint never holds the same id twice; remember() skips one anyway, so ring and table stay in step.
  for (const id of ordered) remember(r, headRef, id);
  return r;
}

/** Remembers `id`; returns false (and changes nothing) when it is among the kept ids. `headRef.recentHead` is
 * the slot the next eviction overwrites (the state's field, checkpointed). */
export function remember(r: IdRing, headRef: { recentHead: number }, id: string): boolean {
  let meta = encode(id);
  const h = encodedHash;
  const w = encodedW;
  if (find(r, id, h, meta, w) >= 0) return false;
  // An id more than twice as wide as the slots, once there are a few, is an outlier: a string, not wider slots
  // for every id (a room with ids of 10 characters and one of 60 would otherwise take 64 bytes for each).
  if (meta !== LONG && w > 2 * r.w && r.n >= INITIAL_CAP) meta = LONG;
  if (r.kept <= 0) return true;
  let slot: number;
  if (r.n < r.kept) {
    if (r.n === r.cap) rebuild(r, Math.min(r.kept, r.cap * 2), Math.max(r.w, meta === LONG ? 0 : w));
    slot = r.n++;
  } else {
    slot = headRef.recentHead;
    headRef.recentHead = slot + 1 === r.kept ? 0 : slot + 1;
    removeSlot(r, slot);
  }
  if (meta !== LONG && w > r.w) rebuild(r, r.cap, w);
  const metas = r.mask + 1 + r.cap;
  r.a[metas + slot] = meta;
  if (meta === LONG) (r.long ??= [])[slot] = id;
  else {
    const s = metas + r.cap + slot * r.w;
    for (let k = 0; k < w; k++) r.a[s + k] = UNITS[k]!;
  }
  place(r, slot, h);
  return true;
}

/** `id` encoded by `encode`: its units packed (UNITS, `encodedW` ints) and its hash; it returns the meta. */
const UNITS = new Int32Array(MAX_W);
let encodedW = 0;
let encodedHash = 0;

/**
 * One pass over `id`: its units packed 4 to an int while they are one byte (almost always; a wider one packs
 * them again 2 to an int), and a 32-bit hash of the packed ints and the length (FNV-1a over ints, then
 * murmur3's finaliser: one multiply per 4 units, where hash32 takes one per unit).
 * Returns length × 4 + kind (ASCII, NARROW: some unit ≥ 128, WIDE: some unit ≥ 256), or LONG when the units
 * take more than MAX_W ints (hashed all the same).
 */
function encode(id: string): number {
  const len = id.length;
  let h = 0x811c9dc5 ^ len;
  let any = 0; // the units or-ed: > 255 when some unit is wide
  let i = 0;
  let k = 0;
  for (; i + 3 < len; i += 4, k++) {
    const c0 = id.charCodeAt(i);
    const c1 = id.charCodeAt(i + 1);
    const c2 = id.charCodeAt(i + 2);
    const c3 = id.charCodeAt(i + 3);
    any |= c0 | c1 | c2 | c3;
    // Wide units are folded in too (c << 8 overlaps, which a hash may do): the word is exact only if narrow.
    const word = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    h = Math.imul(h ^ word, 0x01000193);
    if (k < MAX_W) UNITS[k] = word;
  }
  if (i < len) {
    let word = 0;
    for (let shift = 0; i < len; i++, shift += 8) {
      const c = id.charCodeAt(i);
      any |= c;
      word |= c << shift;
    }
    h = Math.imul(h ^ word, 0x01000193);
    if (k < MAX_W) UNITS[k] = word;
  }
  if (any > 255) {
    // Wide: the packed words above lost high bits, so the hash takes every unit itself.
    for (let j = 0; j < len; j++) h = Math.imul(h ^ id.charCodeAt(j), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  encodedHash = h | 0;
  if (any <= 255) {
    encodedW = (len + 3) >>> 2;
    return encodedW > MAX_W ? LONG : len * 4 + (any < 128 ? ASCII : NARROW);
  }
  encodedW = (len + 1) >>> 1;
  if (encodedW > MAX_W) return LONG;
  for (let j = 0; j < len; j += 2) UNITS[j >>> 1] = id.charCodeAt(j) | (j + 1 < len ? id.charCodeAt(j + 1) << 16 : 0);
  return len * 4 + WIDE;
}

/** The id of meta `m` whose units start at `s`. */
function decode(a: Int32Array, s: number, m: number): string {
  const len = m >>> 2;
  const codes = new Array<number>(len);
  if ((m & 3) === WIDE) for (let i = 0; i < len; i++) codes[i] = (a[s + (i >>> 1)]! >>> ((i & 1) << 4)) & 0xffff;
  else for (let i = 0; i < len; i++) codes[i] = (a[s + (i >>> 2)]! >>> ((i & 3) << 3)) & 0xff;
  return String.fromCharCode(...codes);
}

/** Table cell holding `id` (hash `h`, meta and `w` ints in UNITS, from encode), or -1. */
function find(r: IdRing, id: string, h: number, meta: number, w: number): number {
  const { a, mask } = r;
  const metas = mask + 1 + r.cap;
  const units = metas + r.cap;
  let p = h & mask;
  for (;;) {
    const v = a[p]!;
    if (v === 0) return -1;
    // Hash of slot v − 1 at mask + 1 + (v − 1); the same meta means the same length and layout, so the same width
    // (any id may be a string: the outliers, and those past MAX_W).
    const m = a[metas + v - 1];
    if (a[mask + v] === h && (m === meta || m === LONG)) {
      if (m === LONG) {
        if (r.long![v - 1] === id) return p;
      } else {
        const s = units + (v - 1) * r.w;
        let k = 0;
        while (k < w && a[s + k] === UNITS[k]) k++;
        if (k === w) return p;
      }
    }
    p = (p + 1) & mask;
  }
}

function place(r: IdRing, slot: number, h: number): void {
  const { a, mask } = r;
  a[mask + 1 + slot] = h;
  let p = h & mask;
  while (a[p] !== 0) p = (p + 1) & mask;
  a[p] = slot + 1;
}

/** Drops slot `slot`'s id from the table (backward-shift deletion keeps probe chains intact). */
function removeSlot(r: IdRing, slot: number): void {
  const { a, mask } = r;
  if (r.long !== null) r.long[slot] = undefined;
  let i = a[mask + 1 + slot]! & mask;
  while (a[i] !== slot + 1) i = (i + 1) & mask;
  for (;;) {
    a[i] = 0;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = a[j]!;
      if (v === 0) return;
      const home = a[mask + v]! & mask;
      // Entry at j may move back to i only if its home is not cyclically within (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      a[i] = v;
      i = j;
      break;
    }
  }
}

/** A fresh array for `cap` slots `w` ints wide (both ≥ what they were), holding the ids as they are. An id being
 * written (slot `n − 1` or an evicted one) is out of the table already; its old units are copied harmlessly. */
function rebuild(r: IdRing, cap: number, w: number): void {
  const old = r.a;
  const oldHashes = r.mask + 1;
  const oldMetas = oldHashes + r.cap;
  const oldUnits = oldMetas + r.cap;
  const mask = tableSize(cap) - 1;
  const a = new Int32Array(mask + 1 + (2 + w) * cap);
  const hashes = mask + 1;
  const metas = hashes + cap;
  const units = metas + cap;
  if (mask === r.mask) a.set(old.subarray(0, oldMetas)); // same cap: table and hashes stay as they are
  for (let slot = 0; slot < r.n; slot++) {
    a[metas + slot] = old[oldMetas + slot]!;
    for (let k = 0; k < r.w; k++) a[units + slot * w + k] = old[oldUnits + slot * r.w + k]!;
  }
  if (mask !== r.mask) {
    for (let p = 0; p <= r.mask; p++) {
      const v = old[p]!;
      if (v === 0) continue;
      const h = old[oldHashes + v - 1]!;
      a[hashes + v - 1] = h;
      let q = h & mask;
      while (a[q] !== 0) q = (q + 1) & mask;
      a[q] = v;
    }
  }
  r.a = a;
  r.cap = cap;
  r.mask = mask;
  r.w = w;
}
