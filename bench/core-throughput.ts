/**
 * Detector-core throughput with no I/O, on one core: events through applyEvent (core/engine.ts).
 *   node --import tsx bench/core-throughput.ts [--quick] [--events 3000000] [--rooms 100] [--interval-ms 100] [--json FILE]
 * Three figures:
 *  - room.online: each room gets one event per `interval-ms` of event time (a random walk with a highlight
 *    now and then), so every room also crosses a sample and a tick boundary once per second: ticks,
 *    windows and suggestions are produced and counted, not skipped. Target ≥ 1,000,000 events/s.
 *  - realistic mix (enter/leave/likes/clicks/orders/online) over the same rooms: sessions, distinct
 *    viewers and the order rings do their work too.
 *  - the same mix as the detector worker sees it: JSON text → JSON.parse → parseEvent (zod) → applyEvent,
 *    i.e. the per-entry CPU of workers/detector-worker.ts without Redis.
 * Events are generated in chunks outside the timed sections.
 */
import { performance } from 'node:perf_hooks';
import { engineConfig } from '../config/config.ts';
import { applyEvent, createRoomState, type RoomOutput, type RoomState } from '../core/engine.ts';
import { parseEvent, type CrestEvent } from '../core/events.ts';
import { argNumber, main, QUICK, type PartResult } from './support/common.ts';
import { EventMaker } from './support/events.ts';

const T0 = 1_700_000_000_000;
const CHUNK = 250_000;
const cfg = engineConfig('balanced');

interface CoreRun {
  events: number;
  seconds: number;
  eventsPerSec: number;
  outputs: Record<RoomOutput['type'], number>;
}

function makeRooms(n: number): RoomState[] {
  return Array.from({ length: n }, (_, r) => createRoomState(`room-${r}`, cfg));
}

/** Times `apply` over `total` events produced `CHUNK` at a time by `fill` (untimed). */
function timed<T>(total: number, fill: (from: number, n: number, into: T[]) => void, apply: (item: T, i: number, out: RoomOutput[]) => void): CoreRun {
  const out: RoomOutput[] = [];
  const outputs: Record<RoomOutput['type'], number> = { tick: 0, window: 0, suggestion: 0, ack: 0, plan: 0 };
  const chunk: T[] = new Array(CHUNK);
  let made = 0;
  let ms = 0;
  while (made < total) {
    const n = Math.min(CHUNK, total - made);
    fill(made, n, chunk);
    const t0 = performance.now();
    for (let k = 0; k < n; k++) {
      apply(chunk[k]!, made + k, out);
      if (out.length > 4096) {
        for (const o of out) outputs[o.type]++;
        out.length = 0;
      }
    }
    ms += performance.now() - t0;
    made += n;
  }
  for (const o of out) outputs[o.type]++;
  return { events: total, seconds: ms / 1000, eventsPerSec: total / (ms / 1000), outputs };
}

export function onlineRun(events: number, roomCount: number, intervalMs: number): CoreRun & { roomStateBytes: number } {
  const rooms = makeRooms(roomCount);
  const level = rooms.map((_, r) => 200 + ((r * 37) % 800));
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const run = timed<CrestEvent>(
    events,
    (from, n, into) => {
      for (let k = 0; k < n; k++) {
        const i = from + k;
        const r = i % roomCount;
        const step = Math.floor(i / roomCount);
        const ts = T0 + step * intervalMs + r; // rooms a millisecond apart, like a real shard
        const sec = Math.floor((step * intervalMs) / 1000);
        // a slow highlight every ~15 min per room: +60 % over 2 min, back down over 3 min
        const phase = (sec + r * 53) % 900;
        const bump = phase < 120 ? phase / 120 : phase < 300 ? 1 - (phase - 120) / 180 : 0;
        const count = Math.max(0, Math.round(level[r]! * (1 + 0.6 * bump) + (rnd() - 0.5) * 0.04 * level[r]!));
        into[k] = { id: `${r}-${step}`, room: `room-${r}`, ts, type: 'room.online', count };
      }
    },
    (ev, i, out) => applyEvent(rooms[i % roomCount]!, ev, cfg, out),
  );
  return { ...run, roomStateBytes: Buffer.byteLength(JSON.stringify(rooms[0])) };
}

/** The realistic mix; `asWorker` times JSON.parse + parseEvent + applyEvent per entry, as the worker does. */
export function mixRun(events: number, roomCount: number, intervalMs: number, asWorker: boolean): CoreRun {
  const rooms = makeRooms(roomCount);
  const maker = new EventMaker(asWorker ? 'w' : 'm');
  const fill = (from: number, n: number, into: string[]) => {
    for (let k = 0; k < n; k++) {
      const i = from + k;
      into[k] = maker.mixed(`room-${i % roomCount}`, T0 + Math.floor(i / roomCount) * intervalMs + (i % roomCount));
    }
  };
  if (asWorker) {
    return timed<string>(events, fill, (json, i, out) => {
      const r = parseEvent(JSON.parse(json));
      if (r.ok) applyEvent(rooms[i % roomCount]!, r.event, cfg, out);
    });
  }
  return timed<CrestEvent>(
    events,
    (from, n, into) => {
      const text: string[] = new Array(n);
      fill(from, n, text);
      for (let k = 0; k < n; k++) into[k] = JSON.parse(text[k]!) as CrestEvent;
    },
    (ev, i, out) => applyEvent(rooms[i % roomCount]!, ev, cfg, out),
  );
}

export async function runCore(): Promise<PartResult> {
  const events = argNumber('events', QUICK ? 1_000_000 : 3_000_000);
  const roomCount = argNumber('rooms', 100);
  const interval = argNumber('interval-ms', 100);
  const online = onlineRun(events, roomCount, interval);
  const mix = mixRun(Math.round(events / 2), roomCount, 20, false);
  const worker = mixRun(Math.round(events / 5), roomCount, 20, true);
  const outs = (r: CoreRun) => `ticks/windows/suggestions ${r.outputs.tick}/${r.outputs.window}/${r.outputs.suggestion}`;
  return {
    part: 'core',
    seconds: 0,
    figures: [
      {
        key: 'core_online',
        label: 'detector core, room.online (1 core, no I/O)',
        value: online.eventsPerSec,
        unit: 'ev/s',
        target: { of: 'value', op: '>=', value: 2_000_000 },
        note: `${online.events.toLocaleString('en')} events over ${roomCount} rooms, 1 per ${interval} ms of event time per room; ${outs(online)}`,
      },
      {
        key: 'core_mix',
        label: 'detector core, realistic mix',
        value: mix.eventsPerSec,
        unit: 'ev/s',
        note: `${mix.events.toLocaleString('en')} events: enter 25%, like 20%, leave 12%, online/comment/click 10% each, orders 10%, share 3%; ${outs(mix)}`,
      },
      {
        key: 'core_mix_parse',
        label: '… plus JSON.parse + parseEvent (worker per-entry CPU)',
        value: worker.eventsPerSec,
        unit: 'ev/s',
      },
    ],
    details: { rooms: roomCount, intervalMs: interval, online, mix, worker, roomStateBytesAfterOnlineRun: online.roomStateBytes },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main(runCore);
