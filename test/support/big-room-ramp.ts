/**
 * The big-room restart tests' ramp and its check: `viewers` entries in batches of 2,000 over the four sources,
 * and from the second batch on every 7th viewer of the batch before pays (attributed to its possibly restored
 * session). `want` is what the room must show at the end, however often its detector was killed.
 */
import assert from 'node:assert/strict';
import type { TestCrest } from './crest.ts';

const SOURCES = ['follow', 'public', 'paid', 'other'] as const;
const BATCH = 2_000;

export interface RampTotals {
  entries: number;
  orders: number;
  gmv: number;
  payers: Set<string>;
  gmvBySource: Record<(typeof SOURCES)[number], number>;
}

export function bigRoomRamp(room: string, viewers: number, t0: number): { batches: Record<string, unknown>[][]; want: RampTotals } {
  const want: RampTotals = { entries: 0, orders: 0, gmv: 0, payers: new Set<string>(), gmvBySource: { follow: 0, public: 0, paid: 0, other: 0 } };
  const batches: Record<string, unknown>[][] = [];
  for (let b = 0; b < viewers / BATCH; b++) {
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      batch.push({ id: `e${n}`, room, ts: t0 + n, type: 'viewer.enter', viewer: `u${n}`, source: SOURCES[n % 4]! });
      want.entries++;
      if (b > 0 && i % 7 === 0) {
        const payer = n - BATCH;
        const amount = 100 + (payer % 13);
        batch.push({ id: `o${n}`, room, ts: t0 + n, type: 'order.paid', order: `ord${n}`, viewer: `u${payer}`, amount });
        want.orders++;
        want.gmv += amount;
        want.payers.add(`u${payer}`);
        want.gmvBySource[SOURCES[payer % 4]!] += amount;
      }
    }
    batches.push(batch);
  }
  return { batches, want };
}

/** The room's figures through the API equal the ramp's: every viewer still in, every order, every source's GMV. */
export async function assertRampTotals(crest: TestCrest, room: string, viewers: number, want: RampTotals): Promise<void> {
  const s = await (await crest.api(`/api/v1/rooms/${room}/state`, { token: crest.token('admin', '*') })).json();
  const m = s.metrics;
  const entries = Object.values(m.entriesTotal as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.deepEqual(
    { entries, concurrency: m.concurrency, unique: m.uniqueViewers, orders: m.orders, gmv: m.gmv, paying: m.payingViewers },
    { entries: want.entries, concurrency: viewers, unique: viewers, orders: want.orders, gmv: want.gmv, paying: want.payers.size },
  );
  assert.deepEqual(m.detail.gmvBySource, want.gmvBySource);
  assert.equal(m.detail.gmvUnattributed, 0);
}
