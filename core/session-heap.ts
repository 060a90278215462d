/**
 * A room's open viewer sessions as a binary min-heap on (due, viewer). The viewer breaks ties so that the order
 * is total: the heap's top — the next session to expire or to evict over the cap — is then a function of the
 * set of sessions alone, not of the heap's layout, and a heap rebuilt from a checkpoint (core/room-parts.ts)
 * behaves exactly like the one that was never written out.
 */

/** One open viewer session. Only `v`, `src`, `enter` and `seen` are checkpointed; `due` and `i` are derived. */
export interface ViewerSession {
  v: string;
  /** Traffic source index (SOURCES in room-state.ts). */
  src: number;
  enter: number;
  /** Time of the viewer's last event. */
  seen: number;
  /** Heap key: a lower bound of `seen + viewerIdleMs`, raised lazily when it reaches the top (no re-heap per event). */
  due: number;
  /** Position in the heap (so a leave removes it in O(log n)). */
  i: number;
}

function before(a: ViewerSession, b: ViewerSession): boolean {
  return a.due < b.due || (a.due === b.due && a.v < b.v);
}

function swap(h: ViewerSession[], a: number, b: number): void {
  const x = h[a];
  h[a] = h[b];
  h[b] = x;
  h[a].i = a;
  h[b].i = b;
}

function siftUp(h: ViewerSession[], i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[i], h[p])) return;
    swap(h, p, i);
    i = p;
  }
}

/** Restores the heap below `i` after its key was raised. */
export function siftDown(h: ViewerSession[], i: number): void {
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const r = l + 1;
    const c = r < n && before(h[r], h[l]) ? r : l;
    if (!before(h[c], h[i])) return;
    swap(h, i, c);
    i = c;
  }
}

export function heapPush(h: ViewerSession[], s: ViewerSession): void {
  s.i = h.length;
  h.push(s);
  siftUp(h, s.i);
}

export function heapRemove(h: ViewerSession[], i: number): void {
  const last = h.pop()!;
  if (i === h.length) return;
  h[i] = last;
  last.i = i;
  siftDown(h, i);
  siftUp(h, last.i);
}

/** Orders `h` (any order in) into a heap in O(n). */
export function heapify(h: ViewerSession[]): void {
  for (const _ of heapifySteps(h, Infinity));
}

/**
 * heapify in steps of at most `step` positions each (a big room's restore yields the thread between them:
 * core/room-parts.ts RoomRestore). The same loops cut into pieces, so the same heap as heapify; `h` must not
 * change between steps.
 */
export function* heapifySteps(h: ViewerSession[], step: number): Generator<void, void, void> {
  let n = 0;
  for (let i = 0; i < h.length; i++) {
    h[i].i = i;
    if (++n >= step) {
      n = 0;
      yield;
    }
  }
  for (let i = (h.length >> 1) - 1; i >= 0; i--) {
    siftDown(h, i);
    if (++n >= step) {
      n = 0;
      yield;
    }
  }
}
