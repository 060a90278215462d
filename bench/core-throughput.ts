/**
 * Detector-core throughput: room.online events through applyEvent, no I/O, one core. Not a test.
 *   node --import tsx bench/core-throughput.ts [--events 5000000] [--rooms 100] [--interval-ms 100]
 * Each room gets one event per `interval-ms` of event time (a random walk with a highlight now and then),
 * so every room also crosses a sample and a tick boundary once per second: ticks, windows and suggestions
 * are produced and counted, not skipped. Events are generated in chunks outside the timed section.
 * Prints a table and the JSON size of one room state; writes bench/results/core-throughput.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { engineConfig } from '../config/config.ts';
import { applyEvent, createRoomState, type RoomOutput, type RoomState } from '../core/engine.ts';
import type { CrestEvent } from '../core/events.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const EVENTS = arg('events', 5_000_000);
const ROOMS = arg('rooms', 100);
const INTERVAL = arg('interval-ms', 100);
const CHUNK = 250_000;
const T0 = 1_700_000_000_000;

const cfg = engineConfig('balanced');
const rooms: RoomState[] = [];
const level: number[] = [];
for (let r = 0; r < ROOMS; r++) {
  rooms.push(createRoomState(`room-${r}`, cfg));
  level.push(200 + ((r * 37) % 800));
}
let seed = 12345;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

const out: RoomOutput[] = [];
const counts = { tick: 0, window: 0, suggestion: 0, ack: 0 };
const chunk: CrestEvent[] = new Array(CHUNK);
let made = 0;
let elapsedMs = 0;
while (made < EVENTS) {
  const n = Math.min(CHUNK, EVENTS - made);
  for (let k = 0; k < n; k++) {
    const i = made + k;
    const r = i % ROOMS;
    const step = Math.floor(i / ROOMS);
    const ts = T0 + step * INTERVAL + r; // rooms a millisecond apart, like a real shard
    const sec = Math.floor((step * INTERVAL) / 1000);
    // a slow highlight every ~15 min per room: +60 % over 2 min, back down over 3 min
    const phase = (sec + r * 53) % 900;
    const bump = phase < 120 ? phase / 120 : phase < 300 ? 1 - (phase - 120) / 180 : 0;
    const count = Math.max(0, Math.round(level[r] * (1 + 0.6 * bump) + (rnd() - 0.5) * 0.04 * level[r]));
    chunk[k] = { id: `${r}-${step}`, room: `room-${r}`, ts, type: 'room.online', count };
  }
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const ev = chunk[k];
    applyEvent(rooms[made + k - Math.floor((made + k) / ROOMS) * ROOMS], ev, cfg, out);
    if (out.length > 4096) {
      for (const o of out) counts[o.type]++;
      out.length = 0;
    }
  }
  elapsedMs += performance.now() - t0;
  made += n;
}
for (const o of out) counts[o.type]++;

const perSec = EVENTS / (elapsedMs / 1000);
const stateBytes = Buffer.byteLength(JSON.stringify(rooms[0]));
const rows: [string, string][] = [
  ['events', EVENTS.toLocaleString('en')],
  ['rooms', String(ROOMS)],
  ['event interval per room (ms)', String(INTERVAL)],
  ['apply time (s)', (elapsedMs / 1000).toFixed(2)],
  ['events/s', Math.round(perSec).toLocaleString('en')],
  ['ticks / windows / suggestions', `${counts.tick} / ${counts.window} / ${counts.suggestion}`],
  ['room state JSON (bytes)', stateBytes.toLocaleString('en')],
];
const w = Math.max(...rows.map((r) => r[0].length));
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/core-throughput.json', import.meta.url),
  JSON.stringify({ events: EVENTS, rooms: ROOMS, intervalMs: INTERVAL, seconds: elapsedMs / 1000, eventsPerSec: Math.round(perSec), outputs: counts, roomStateBytes: stateBytes }, null, 2),
);
