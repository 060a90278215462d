/**
 * The event load the fault tests send and count: batches of fresh events over a few rooms with rising event
 * time (every fourth a paid order, the rest entries), and the independent per-room count they check the
 * detector's totals against.
 */
import assert from 'node:assert/strict';

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

export interface SentBatch {
  events: Ev[];
  acked: boolean;
  /** When it was sent and when its answer came (ms). */
  sentAt: number;
  at: number;
}

/** POSTs a batch to a Crest's ingest API with an ingest token. */
export const postBatch = (crest: { url: string; token(role: 'ingest', rooms: '*'): string }, events: Ev[]) =>
  fetch(`${crest.url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${crest.token('ingest', '*')}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });

/**
 * A client posting batches in a loop, as fast as they are answered (backing off after a refusal), until
 * `stop`; every batch is kept with whether it was acknowledged (200, all accepted) and when.
 */
export function startWriter(post: (events: Ev[]) => Promise<Response>, nextBatch: () => Ev[]): { batches: SentBatch[]; stop(): Promise<void> } {
  const batches: SentBatch[] = [];
  let writing = true;
  const loop = (async () => {
    while (writing) {
      const events = nextBatch();
      const sentAt = Date.now();
      const res = await post(events).catch(() => null);
      const acked = res?.status === 200;
      if (acked) {
        const body = (await res.json()) as { accepted: number };
        if (body.accepted !== events.length) throw new Error(`a 200 that accepted ${body.accepted} of ${events.length}`);
      } else await res?.arrayBuffer();
      batches.push({ events, acked, sentAt, at: Date.now() });
      await new Promise((r) => setTimeout(r, acked ? 20 : 200));
    }
  })();
  return {
    batches,
    async stop() {
      writing = false;
      await loop;
    },
  };
}

/**
 * Resends every batch, as a client does after an outage (ids make it safe), honouring 503s for a while; a batch
 * acknowledged before must answer all duplicates: it was stored. Throws naming the batch otherwise.
 */
export async function resendAll(post: (events: Ev[]) => Promise<Response>, batches: readonly SentBatch[]): Promise<void> {
  for (const [i, b] of batches.entries()) {
    let res = await post(b.events);
    for (let tries = 0; res.status === 503 && tries < 20; tries++) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 500));
      res = await post(b.events);
    }
    const text = await res.text();
    if (res.status !== 200) throw new Error(`batch ${i} resent: ${res.status} ${text}`);
    const body = JSON.parse(text) as { duplicate: number };
    if (b.acked && body.duplicate !== b.events.length) throw new Error(`batch ${i} was acknowledged, yet ${b.events.length - body.duplicate} of its events were not stored`);
  }
}

/**
 * Every room's totals, as the API reports them, equal the independent count of the batches sent (each event
 * once, resent or not), and no event reached a room state twice (the core's duplicate guard never fired).
 */
export async function assertExactTotals(crest: { url: string; token(role: 'admin', rooms: '*'): string }, rooms: readonly string[], batches: readonly SentBatch[], what: string): Promise<void> {
  const admin = crest.token('admin', '*');
  for (const [room, want] of totalsOf(rooms, batches.flatMap((b) => b.events))) {
    const { duplicateEvents, ...got } = await stateTotals(crest.url, admin, room);
    assert.deepEqual(got, want, `${room}: totals ${what}`);
    assert.equal(duplicateEvents, 0, `${room}: no event reached the room state twice`);
  }
}
