/**
 * Event → output-published latency of the rooms a bench feeds, read off the detector's out streams
 * (keys.out: what the gateway turns into socket messages). A room's tick for second boundary B is made by
 * the first event with ts ≥ B that reaches the detector (the engine ticks on event time), so per (room, B)
 * we remember which ingest call carried that event; the tick's out-stream id is the moment its commit landed
 * in Redis. Latency = that moment − the call's return (the accept; a commit that beats the return is 0).
 * A tick committed before its call was even sent was made by the detector's clock record, not by our
 * event: counted and left out, as bench/latency.ts does. Same machine, Date.now() on both sides.
 */
import { Redis } from 'ioredis';
import { keys } from '../../server/redis-keys.ts';
import { idMs } from '../../workers/stream-entry.ts';
import { summarize } from './common.ts';

export class OutStreamLatency {
  private readonly sentAt: number[] = [];
  private readonly ackAt: number[] = [];
  private readonly lastSec = new Map<string, number>();
  /** (room|B) → the call whose event crossed B first. */
  private readonly crossing = new Map<string, number>();
  /** (call, commit ms, room) of every tick matched to a call. */
  private readonly matched: { call: number; committed: number; room: string }[] = [];
  private unmatched = 0;
  private readonly reader: Redis;
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    redisUrl: string,
    private readonly shards: number,
    /** Rooms to measure (their ticks are read; any other room's are skipped). */
    private readonly rooms: Set<string>,
  ) {
    this.reader = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.done = this.read();
  }

  /** A new ingest call about to carry `events`; returns its number for `acked`. */
  sending(events: readonly { room: string; ts: number }[]): number {
    const call = this.sentAt.length;
    this.sentAt.push(Date.now());
    for (const e of events) {
      const sec = Math.floor(e.ts / 1000);
      if (sec > (this.lastSec.get(e.room) ?? 0)) {
        this.lastSec.set(e.room, sec);
        this.crossing.set(`${e.room}|${sec * 1000}`, call);
      }
    }
    return call;
  }

  acked(call: number): void {
    this.ackAt[call] = Date.now();
  }

  private async read(): Promise<void> {
    const streams = Array.from({ length: this.shards }, (_, s) => keys.out(s));
    const ids = streams.map(() => `${Date.now()}-0`);
    while (this.running) {
      const reply = (await this.reader.xread('COUNT', 5_000, 'BLOCK', 200, 'STREAMS', ...streams, ...ids).catch(() => null)) as [string, [string, string[]][]][] | null;
      if (!reply) continue;
      for (const [stream, entries] of reply) {
        ids[streams.indexOf(stream)] = entries[entries.length - 1]![0];
        for (const [id, fields] of entries) {
          const room = fields[1]!;
          const json = fields[3]!;
          if (!this.rooms.has(room) || !json.startsWith('{"type":"tick"')) continue;
          const tick = (JSON.parse(json) as { tick: { ts: number } }).tick;
          const key = `${room}|${tick.ts}`;
          const call = this.crossing.get(key);
          if (call === undefined) {
            this.unmatched++;
            continue;
          }
          this.crossing.delete(key);
          this.matched.push({ call, committed: idMs(id), room });
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.reader.disconnect();
  }

  /** Latencies of the ticks whose call was sent inside one of `windows` ([from, to) ms), of the rooms `only` picks. */
  within(windows: readonly [number, number][], only: (room: string) => boolean = () => true) {
    const fromAccept: number[] = [];
    let clockMade = 0;
    for (const m of this.matched) {
      const sent = this.sentAt[m.call]!;
      if (!windows.some(([from, to]) => sent >= from && sent < to) || !only(m.room)) continue;
      if (m.committed < sent) {
        clockMade++;
        continue;
      }
      fromAccept.push(Math.max(0, m.committed - (this.ackAt[m.call] ?? m.committed)));
    }
    return { ...summarize(fromAccept), clockMade };
  }

  get unmatchedTicks(): number {
    return this.unmatched;
  }
}
