/**
 * The big-room bench's load: the big room's sale (bench/support/big-room-sale.ts) at `rate` events/s and a
 * steady trickle of `trickle` events/s into each normal room (the realistic mix, event time = now), both
 * through IngestService — the validation, shard grouping and ingest.lua (XADD + dedupe + backlog check) the
 * HTTP API runs, without the HTTP layer. Each lane keeps one call in flight so the big room's events land
 * in the order the reference model applied them; a call refused for backlog (429, or its shard's events
 * rejected) is sent again as it was. Every trickle call is stamped for OutStreamLatency.
 */
import { HttpError } from '../../server/http-error.ts';
import type { IngestService } from '../../server/ingest-service.ts';
import type { BigRoomSale } from './big-room-sale.ts';
import { sleep } from './common.ts';
import { EventMaker } from './events.ts';
import type { OutStreamLatency } from './out-stream-latency.ts';

const ALL_ROOMS = { rooms: '*' as const };
/** Pacing step; a lane whose call outlasts it sends what fell due meanwhile in its next call, up to MAX_CALL. */
const STEP_MS = 20;
const MAX_CALL = 2_000;

export class BigRoomFeed {
  /** Events each normal room accepted (what its `events` figure must be). */
  readonly acceptedPerRoom = new Map<string, number>();
  refusedCalls = 0;
  /** Pacing steps at which a lane was still busy with its previous call (the load fell behind its rate). */
  busySteps = 0;
  private stopTrickle = false;
  private readonly maker = new EventMaker('n');
  private nextRoom = 0;

  constructor(
    private readonly ingest: IngestService,
    private readonly sale: BigRoomSale,
    private readonly rooms: readonly string[],
    private readonly opts: { rate: number; trickle: number },
    private readonly latency: OutStreamLatency,
  ) {}

  /** Sends `items` until all are stored; which were accepted (by index; duplicates count as stored). */
  async send(items: Record<string, unknown>[]): Promise<boolean[]> {
    const stored = items.map(() => false);
    let pending = items.map((_, i) => i);
    while (pending.length > 0) {
      try {
        const r = await this.ingest.ingest(pending.map((i) => items[i]!), ALL_ROOMS);
        const refused = new Set(r.errors.filter((e) => /backlog/.test(e.reason)).map((e) => e.index));
        const invalid = r.errors.filter((e) => !/backlog/.test(e.reason));
        if (invalid.length > 0) throw new Error(`bench events rejected: ${JSON.stringify(invalid.slice(0, 3))}`);
        pending.forEach((i, j) => !refused.has(j) && (stored[i] = true));
        pending = pending.filter((_, j) => refused.has(j));
        if (pending.length > 0) this.refusedCalls++;
      } catch (err) {
        if (!(err instanceof HttpError && err.status === 429)) throw err;
        this.refusedCalls++;
      }
      if (pending.length > 0) await sleep(200);
    }
    return stored;
  }

  /** The big room's lane: resolves once the sale's target of viewers entered (and is stored). */
  async runSale(): Promise<void> {
    const t0 = Date.now();
    while (!this.sale.done) {
      const due = Math.floor(((Date.now() - t0) / 1000) * this.opts.rate) - this.sale.events;
      if (due <= 0) {
        await sleep(STEP_MS);
        continue;
      }
      await this.send(this.sale.next(Math.min(due, MAX_CALL), Date.now()));
      if (due > (this.opts.rate * 2 * STEP_MS) / 1000) this.busySteps++;
    }
  }

  /** The normal rooms' lane, until stopTrickling(). */
  async runTrickle(): Promise<void> {
    const t0 = Date.now();
    const rate = this.opts.trickle * this.rooms.length;
    let sent = 0;
    while (!this.stopTrickle) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
      if (due <= 0) {
        await sleep(STEP_MS);
        continue;
      }
      const ts = Date.now();
      const items = Array.from({ length: Math.min(due, MAX_CALL) }, () => JSON.parse(this.maker.mixed(this.rooms[this.nextRoom++ % this.rooms.length]!, ts)) as Record<string, unknown> & { room: string; ts: number });
      sent += items.length;
      const call = this.latency.sending(items);
      const stored = await this.send(items);
      this.latency.acked(call);
      items.forEach((e, i) => stored[i] && this.acceptedPerRoom.set(e.room, (this.acceptedPerRoom.get(e.room) ?? 0) + 1));
      if (due > (rate * 2 * STEP_MS) / 1000) this.busySteps++;
    }
  }

  stopTrickling(): void {
    this.stopTrickle = true;
  }
}
