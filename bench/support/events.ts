/**
 * Realistic contract-v1 events for the load generators, built as JSON text directly (the generator must
 * stay cheap next to the server it loads). Every id is unique within the run (`tag` + sequence), so
 * dedupe accepts them all and "accepted" can be checked against the streams.
 */
const SOURCES = ['follow', 'public', 'paid', 'other'] as const;

/** Share of each type in the mix, per 100 events (viewer traffic dominates, as on a live room). */
const MIX: [string, number][] = [
  ['room.online', 10],
  ['viewer.enter', 25],
  ['viewer.leave', 12],
  ['engage.like', 20],
  ['engage.comment', 10],
  ['product.click', 10],
  ['order.created', 5],
  ['order.paid', 5],
  ['engage.share', 3],
];
const WHEEL: string[] = MIX.flatMap(([t, n]) => Array<string>(n).fill(t));

export class EventMaker {
  private seq = 0;
  private readonly viewers = new Map<string, number>();

  constructor(private readonly tag: string) {}

  /** One event of the realistic mix for `room` at event time `ts`, as JSON text. */
  mixed(room: string, ts: number): string {
    const n = this.seq++;
    const type = WHEEL[(n * 37) % WHEEL.length]!;
    const id = `${this.tag}-${n}`;
    const seen = this.viewers.get(room) ?? 0;
    const head = `{"id":"${id}","room":"${room}","ts":${ts},"type":"${type}"`;
    switch (type) {
      case 'room.online':
        return `${head},"count":${200 + (seen % 300)}}`;
      case 'viewer.enter':
        this.viewers.set(room, seen + 1);
        return `${head},"viewer":"u${seen}","source":"${SOURCES[n & 3]}"}`;
      case 'viewer.leave':
        return `${head},"viewer":"u${Math.max(0, seen - 20)}"}`;
      case 'order.created':
      case 'order.paid':
        return `${head},"order":"o${n}","viewer":"u${seen >> 1}","sku":"sku-${n % 7}","amount":${1990 + (n % 50) * 100},"qty":1}`;
      case 'product.click':
        return `${head},"viewer":"u${seen >> 1}","sku":"sku-${n % 7}"}`;
      default:
        return `${head},"viewer":"u${seen >> 1}"}`;
    }
  }

  /** A platform concurrency report: what drives the detector and the ticks. */
  online(room: string, ts: number, count: number): string {
    return `{"id":"${this.tag}-${this.seq++}","room":"${room}","ts":${ts},"type":"room.online","count":${count}}`;
  }

  streamStart(room: string, ts: number): string {
    return `{"id":"${this.tag}-${this.seq++}","room":"${room}","ts":${ts},"type":"stream.start"}`;
  }
}

export const roomNames = (n: number, prefix = 'room'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
