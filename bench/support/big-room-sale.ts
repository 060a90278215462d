/**
 * The big room's events at a sale's ratios, and what its figures must be after them (the reference the
 * big-room bench checks the detector's totals against). Per 100 steps: 70 entries, 5 exits each followed
 * by an entry (a viewer leaving ten entries back, a new one coming in from a paid ad), 2 paid orders and
 * 23 likes, as bench/big-room-core.ts ramps it. Orders and likes name viewers already seen, some of whom
 * have left: an order's GMV goes to its payer's open session's source, else to "unattributed" (core/room-state.ts).
 */
const SOURCES = ['follow', 'public', 'paid', 'other'] as const;
type Source = (typeof SOURCES)[number];

export interface SaleTotals {
  entries: number;
  concurrency: number;
  orders: number;
  gmv: number;
  payingViewers: number;
  likes: number;
  gmvBySource: Record<Source, number>;
  gmvUnattributed: number;
  /** Distinct viewers seen (an estimate past the exact limit: the HLL, ~1.6 % standard error). */
  uniqueViewers: number;
}

/** The sale until `target` sessions are open at once. */
export class BigRoomSale {
  /** Viewers entered so far: viewer u<i> for i < entered. */
  entered = 0;
  events = 0;
  private step = 0;
  private leaves = 0;
  private orders = 0;
  private gmv = 0;
  private likes = 0;
  private unattributed = 0;
  private readonly gmvBySrc = [0, 0, 0, 0];
  private readonly payers = new Set<number>();
  /** Source index of each entered viewer, and whether it has left. */
  private readonly src: Uint8Array;
  private readonly left: Uint8Array;

  constructor(
    readonly room: string,
    readonly target: number,
  ) {
    // Entries needed: target open sessions + the ~5 % who leave on the way.
    this.src = new Uint8Array(Math.ceil(target * 1.2) + 16);
    this.left = new Uint8Array(this.src.length);
  }

  /** `target` sessions open. */
  get done(): boolean {
    return this.entered - this.leaves >= this.target;
  }

  /** About `n` more events (a step may make two) at event time `ts`; none once `target` sessions are open. */
  next(n: number, ts: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    const room = this.room;
    while (out.length < n && !this.done) {
      const k = this.step++;
      const r = k % 100;
      if (r < 70) out.push(this.enter(ts, `b${k}`, this.entered % 4));
      else if (r < 75 && this.entered > 10) {
        const v = this.entered - 10;
        // Each exit names a different viewer (entered only grows), so it always closes an open session.
        this.left[v] = 1;
        this.leaves++;
        out.push({ id: `b${k}`, room, ts, type: 'viewer.leave', viewer: `u${v}` });
        out.push(this.enter(ts, `b${k}x`, 2));
      } else if (r < 77) {
        const v = k % Math.max(1, this.entered);
        const amount = 1999 + (k % 13) * 100;
        this.orders++;
        this.gmv += amount;
        this.payers.add(v);
        if (v < this.entered && !this.left[v]) this.gmvBySrc[this.src[v]!]! += amount;
        else this.unattributed += amount;
        out.push({ id: `b${k}`, room, ts, type: 'order.paid', order: `o${k}`, viewer: `u${v}`, amount });
      } else {
        this.likes++;
        out.push({ id: `b${k}`, room, ts, type: 'engage.like', viewer: `u${k % Math.max(1, this.entered)}` });
      }
    }
    this.events += out.length;
    return out;
  }

  private enter(ts: number, id: string, src: number): Record<string, unknown> {
    const v = this.entered++;
    this.src[v] = src;
    return { id, room: this.room, ts, type: 'viewer.enter', viewer: `u${v}`, source: SOURCES[src]! };
  }

  /** What the room must show now. */
  totals(): SaleTotals {
    const bySource = Object.fromEntries(SOURCES.map((s, i) => [s, this.gmvBySrc[i]!])) as Record<Source, number>;
    return {
      entries: this.entered,
      concurrency: this.entered - this.leaves,
      orders: this.orders,
      gmv: this.gmv,
      payingViewers: this.payers.size,
      likes: this.likes,
      gmvBySource: bySource,
      gmvUnattributed: this.unattributed,
      uniqueViewers: this.entered,
    };
  }
}
