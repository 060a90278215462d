/**
 * Core-only memory per room: the memory part's rooms (10,000 rooms, stream.start + room.online, then ~30 events
 * of the realistic mix each) built with core/engine.ts in this process, no Redis, no worker. The figure is heap +
 * typed-array bytes after a full GC, which does not move with the machine's load the way RSS does, so one run
 * compares two trees. It also prints a digest of every output, metrics and checkpoint (JSON + delta) so a
 * change that must keep outputs byte-identical can be checked in the same run.
 * With 10,000 rooms (a multiple of the event mix's 100-event wheel) the memory part gives each room 30 events of
 * ONE type (a quarter of the rooms get only viewer.enter, a tenth only room.online, …); this script does the same
 * by default, to match it, and with --mixed-per-room shifts the wheel by one event per round so that every room
 * gets the whole mix.
 *   node --expose-gc --import tsx bench/memory-core.ts [--rooms 10000] [--events-per-room 30] [--mixed-per-room]
 */
import { createHash } from 'node:crypto';
import { engineConfig } from '../config/config.ts';
import { advanceTo, applyEvent, createRoomState, roomMetrics, type RoomOutput, type RoomState } from '../core/engine.ts';
import { parseEvent } from '../core/events.ts';
import { takeDelta } from '../core/room-parts.ts';
import { argFlag, argNumber } from './support/common.ts';
import { EventMaker, roomNames } from './support/events.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const cfg = engineConfig('balanced');
const T0 = 1_700_000_000_000;
const roomCount = argNumber('rooms', 10_000);
const perRoom = argNumber('events-per-room', 30);
const mixedPerRoom = argFlag('mixed-per-room');

const used = () => {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, typed: m.arrayBuffers, rss: m.rss };
};

const digest = createHash('sha256');
const out: RoomOutput[] = [];
const flush = () => {
  for (const o of out) digest.update(JSON.stringify(o));
  out.length = 0;
};
const feed = (st: RoomState, json: string) => {
  const r = parseEvent(JSON.parse(json));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  applyEvent(st, r.event, cfg, out);
  if (out.length > 1024) flush();
};

const names = roomNames(roomCount, 'mem');
const maker = new EventMaker('mem');
const m0 = used();
const rooms = names.map((room) => createRoomState(room, cfg));
for (let r = 0; r < roomCount; r++) {
  feed(rooms[r]!, maker.streamStart(names[r]!, T0 + r));
  feed(rooms[r]!, maker.online(names[r]!, T0 + r, 100));
}
// The bench's rooms take ~15 s of event time for their traffic, with the clock advancing them every second.
let t = T0 + 2_000;
for (let k = 0; k < perRoom; k++) {
  if (mixedPerRoom) maker.mixed('wheel-shift', 0);
  for (let r = 0; r < roomCount; r++) feed(rooms[r]!, maker.mixed(names[r]!, t + (r % 400)));
  t += 500;
  if (k % 2 === 1) for (const st of rooms) advanceTo(st, t, cfg, out);
}
for (const st of rooms) advanceTo(st, t + 2_000, cfg, out);
flush();
// A checkpoint, as the worker writes one: the state's JSON and the delta (then the delta is empty again).
const cp = createHash('sha256');
for (const st of rooms) {
  cp.update(JSON.stringify(st));
  cp.update(JSON.stringify(takeDelta(st)));
  digest.update(JSON.stringify(roomMetrics(st)));
}
const m1 = used();
const per = (a: number, b: number) => ((a - b) / roomCount / 1024).toFixed(3);
console.log(
  `rooms ${roomCount} × ${perRoom} events${mixedPerRoom ? ' (whole mix per room)' : ''}: heap+typed ${per(m1.heap + m1.typed, m0.heap + m0.typed)} KB/room ` +
    `(heap ${per(m1.heap, m0.heap)}, typed ${per(m1.typed, m0.typed)}; rss ${per(m1.rss, m0.rss)})`,
);
console.log(`outputs+metrics ${digest.digest('hex').slice(0, 16)} checkpoint ${cp.digest('hex').slice(0, 16)}`);
// Keep the rooms alive through the reading.
if (rooms.length < 0) console.log(rooms);
