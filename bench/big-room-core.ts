/**
 * Big room, core only (`--only big-room-core`; the real path, Redis and the detector worker, is bench/big-room.ts):
 * one room ramped to `--sessions` open viewer sessions (default 1,000,000;
 * entries, a few exits, orders and likes at a sale's ratios) beside 999 normal rooms of 50 viewers, with a
 * checkpoint of every room every `--every` big-room entries as the detector worker makes it (the room's JSON +
 * takeDelta, both stringified). Reports the big room's checkpoint bytes, the longest single checkpoint (the
 * detector-thread stall it causes), heap/RSS added, and the time to restore it from its parts (restoreRoom).
 * Unsliced, without Redis: kept for the comparison with the sliced, real path (docs/big-rooms.md).
 */
import { engineConfig } from '../config/config.ts';
import { applyEvent, createRoomState, type RoomOutput, type RoomState } from '../core/engine.ts';
import { restoreRoom, roomParts, takeDelta } from '../core/room-parts.ts';
import { argNumber, main, QUICK, type PartResult } from './support/common.ts';

const cfg = engineConfig();
const T0 = 1_700_000_000_000;
const SOURCES = ['follow', 'public', 'paid', 'other'] as const;

async function runBigRoom(): Promise<PartResult> {
  const target = argNumber('sessions', QUICK ? 100_000 : 1_000_000);
  const every = argNumber('every', 50_000);
  const out: RoomOutput[] = [];
  const normal: RoomState[] = [];
  for (let r = 0; r < 999; r++) {
    const st = createRoomState(`n${r}`, cfg);
    for (let i = 0; i < 50; i++) applyEvent(st, { id: `n${r}-${i}`, room: `n${r}`, ts: T0 + i, type: 'viewer.enter', viewer: `v${i}`, source: 'public' }, cfg, out);
    normal.push(st);
  }
  out.length = 0;
  global.gc?.();
  const heap0 = process.memoryUsage();
  const big = createRoomState('big', cfg, { maxSessions: target * 2 });
  let n = 0;
  let entered = 0;
  let longestMs = 0;
  let normalMs = 0;
  let maxBytes = 0;
  let lastJsonBytes = 0;
  // Events applied in blocks of BLOCK, as the worker applies a batch: the longest block (GC and Map growth included).
  const BLOCK = 2_000;
  const blockMs: number[] = [];
  let blockFrom = performance.now();
  // Entries arrive over ~100 s of event time (10k/s), so no session idles out; 5 % leave, 2 % pay, 20 % like.
  while (entered < target) {
    const ts = T0 + Math.floor(entered / 10);
    const k = n++;
    const r = k % 100;
    const viewer = `u${entered}`;
    if (r < 70) {
      applyEvent(big, { id: `b${k}`, room: 'big', ts, type: 'viewer.enter', viewer, source: SOURCES[entered % 4]! }, cfg, out);
      entered++;
    } else if (r < 75 && entered > 10) {
      applyEvent(big, { id: `b${k}`, room: 'big', ts, type: 'viewer.leave', viewer: `u${entered - 10}` }, cfg, out);
      applyEvent(big, { id: `b${k}x`, room: 'big', ts, type: 'viewer.enter', viewer, source: 'paid' }, cfg, out);
      entered++;
    } else if (r < 77) {
      applyEvent(big, { id: `b${k}`, room: 'big', ts, type: 'order.paid', order: `o${k}`, viewer: `u${k % Math.max(1, entered)}`, amount: 1999 }, cfg, out);
    } else {
      applyEvent(big, { id: `b${k}`, room: 'big', ts, type: 'engage.like', viewer: `u${k % Math.max(1, entered)}` }, cfg, out);
    }
    out.length = 0;
    if (n % BLOCK === 0) {
      blockMs.push(performance.now() - blockFrom);
      blockFrom = performance.now();
    }
    if (entered % every === 0 && r < 75) {
      const t = performance.now();
      const json = JSON.stringify(big);
      const delta = JSON.stringify(takeDelta(big));
      const ms = performance.now() - t;
      const t2 = performance.now();
      for (const st of normal) JSON.stringify(st), takeDelta(st);
      normalMs = Math.max(normalMs, performance.now() - t2);
      longestMs = Math.max(longestMs, ms);
      maxBytes = Math.max(maxBytes, json.length + delta.length);
      lastJsonBytes = json.length;
      blockFrom = performance.now(); // the checkpoint is timed apart
    }
  }
  global.gc?.();
  const heap1 = process.memoryUsage();
  const parts = roomParts(big);
  const json = JSON.stringify(big);
  const t = performance.now();
  const back = JSON.parse(json) as RoomState;
  restoreRoom(back, parts, cfg);
  const restoreMs = performance.now() - t;
  blockMs.sort((a, b) => a - b);
  const at = (q: number) => Math.round(blockMs[Math.min(blockMs.length - 1, Math.floor(q * blockMs.length))]! * 10) / 10;
  const mb = (x: number) => Math.round((x / 1e6) * 10) / 10;
  return {
    part: 'big-room-core',
    seconds: 0,
    figures: [
      { key: 'big_json_bytes', label: `big room state JSON at ${target.toLocaleString('en')} sessions`, value: lastJsonBytes, unit: 'B' },
      { key: 'big_ckpt_bytes', label: `largest checkpoint of it (JSON + delta of ${every.toLocaleString('en')} entries)`, value: maxBytes, unit: 'B' },
      {
        key: 'big_ckpt_stall',
        label: 'longest checkpoint of the big room (JSON + delta; detector-thread stall, core part)',
        value: Math.round(longestMs * 10) / 10,
        unit: 'ms',
        target: { of: 'value', op: '<=', value: 10 },
        note: `the 999 normal rooms' checkpoints take ${Math.round(normalMs * 10) / 10} ms at most`,
      },
      {
        key: 'big_heap_added',
        label: 'heap added by the big room (typed arrays included)',
        value: mb(heap1.heapUsed + heap1.arrayBuffers - heap0.heapUsed - heap0.arrayBuffers),
        unit: 'MB',
        target: { of: 'value', op: '<=', value: 200 },
        note: `RSS added ${mb(heap1.rss - heap0.rss)} MB${global.gc ? '' : ' (no --expose-gc: figures include garbage)'}`,
      },
      {
        key: 'big_block_apply',
        label: `longest block of ${BLOCK.toLocaleString('en')} big-room events applied (GC and growth included)`,
        value: at(1),
        unit: 'ms',
        target: { of: 'value', op: '<=', value: 10 },
        note: `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms over ${blockMs.length} blocks`,
      },
      { key: 'big_restore', label: 'restore from JSON + parts (core part, no HSCAN)', value: Math.round(restoreMs), unit: 'ms' },
    ],
    details: { sessions: target, every, events: n, rssAddedMB: mb(heap1.rss - heap0.rss) },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main(runBigRoom);
