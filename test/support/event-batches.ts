/**
 * The event load the fault tests send and count: batches of fresh events over a few rooms with rising event
 * time (every fourth a paid order, the rest entries), and the independent per-room count they check the
 * detector's totals against.
 */
export type Ev = Record<string, unknown> & { id: string; room: string; ts: number; type: string };

export interface RoomTotals {
  entries: number;
  orders: number;
  gmv: number;
}

/** A maker of such batches: each call gives `size` new events, ids never repeated. */
export function batchMaker(rooms: readonly string[], size: number, t0 = Date.now() - 10 * 60_000): () => Ev[] {
  let seq = 0;
  return () =>
    Array.from({ length: size }, () => {
      const n = seq++;
      const room = rooms[n % rooms.length]!;
      const ts = t0 + n * 5;
      return n % 4 === 0
        ? { id: `o${n}`, room, ts, type: 'order.paid', order: `ord${n}`, viewer: `u${n % 40}`, amount: 500 + (n % 13) }
        : { id: `e${n}`, room, ts, type: 'viewer.enter', viewer: `u${n}`, source: 'public' };
    });
}

/** Per room of `rooms`: the entries, orders and GMV in `events`. */
export function totalsOf(rooms: readonly string[], events: Iterable<Ev>): Map<string, RoomTotals> {
  const out = new Map(rooms.map((r) => [r, { entries: 0, orders: 0, gmv: 0 }]));
  for (const e of events) {
    const t = out.get(e.room)!;
    if (e.type === 'viewer.enter') t.entries++;
    else if (e.type === 'order.paid') {
      t.orders++;
      t.gmv += e.amount as number;
    }
  }
  return out;
}

/** A room's stream-to-date totals as `GET /rooms/:room/state` reports them, and how many events its state guard caught twice. */
export async function stateTotals(baseUrl: string, token: string, room: string): Promise<RoomTotals & { duplicateEvents: number }> {
  const res = await fetch(`${baseUrl}/api/v1/rooms/${room}/state`, { headers: { authorization: `Bearer ${token}` } });
  const s = (await res.json()) as { metrics: { entriesTotal: Record<string, number>; orders: number; gmv: number; duplicateEvents: number } };
  const entries = Object.values(s.metrics.entriesTotal).reduce((a, b) => a + b, 0);
  return { entries, orders: s.metrics.orders, gmv: s.metrics.gmv, duplicateEvents: s.metrics.duplicateEvents };
}
