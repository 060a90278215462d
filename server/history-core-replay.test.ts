/**
 * The pure half of history, without I/O: stream ids, archive line validation, and a core replay whose
 * clock lines make quiet seconds tick and whose per-minute rollups add up to the stream's totals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import type { CrestEvent } from '../core/events.ts';
import { parseArchiveLine, streamIdOf, STREAM_ID_PATTERN, type ArchiveLine } from '../workers/stream-archive-format.ts';
import { replayThroughCore } from './history-core-replay.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

test('stream ids are the UTC start second in ISO basic form, a suffix for a second stream in that second', () => {
  assert.equal(streamIdOf(Date.UTC(2026, 0, 5, 12, 3, 9, 450)), '20260105T120309Z');
  assert.equal(streamIdOf(Date.UTC(2026, 0, 5, 12, 3, 9), 2), '20260105T120309Z-2');
  for (const ok of ['20260105T120309Z', '20260105T120309Z-2']) assert.match(ok, STREAM_ID_PATTERN);
  for (const bad of ['current', '2026-01-05', '../x', '20260105T120309Z/..', '20260105T120309']) assert.doesNotMatch(bad, STREAM_ID_PATTERN);
});

test('archive lines are events (validated like ingest), clock lines or plan lines; anything else is refused', () => {
  assert.deepEqual(parseArchiveLine({ clock: 1000 }), { clock: 1000 });
  assert.equal(parseArchiveLine({ clock: 1.5 }), null);
  assert.equal(parseArchiveLine({ clock: 1000, extra: 1 }), null);
  assert.equal(parseArchiveLine({ id: 'a', room: 'r', ts: 1, type: 'room.online', count: -1 }), null);
  assert.equal(parseArchiveLine({ plan: { nonsense: true } }), null);
  assert.equal(parseArchiveLine('{"clock":1}'), null);
  const ev = { id: 'a', room: 'r', ts: 1, type: 'room.online', count: 3 };
  assert.deepEqual(parseArchiveLine(ev), ev);
});

test('a core replay ticks through quiet seconds on clock lines, and its rollups add up to the totals', () => {
  const cfg = engineConfig('balanced');
  const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
  const ev = (i: number, e: Partial<CrestEvent> & { type: CrestEvent['type'] }) => ({ id: `e${i}`, room: 'r', ts: t0 + i * 1000, ...e }) as CrestEvent;
  const events: CrestEvent[] = [ev(0, { type: 'stream.start' })];
  for (let i = 1; i <= 150; i++) {
    events.push(ev(i, { type: 'room.online', count: 100 + i } as never));
    if (i % 20 === 0) events.push({ ...ev(i, { type: 'order.paid', order: `o${i}`, amount: 1000 + i } as never), id: `o${i}` });
  }
  const noClock = replayThroughCore('r', events, cfg);
  // The same events, with a 90 s silence after the last one filled by clock lines (as the archiver writes them).
  const withClock: ArchiveLine[] = [...events];
  for (let s = 1; s <= 90; s++) withClock.push({ clock: t0 + (150 + s) * 1000 });
  const clocked = replayThroughCore('r', withClock, cfg);
  assert.equal(clocked.series.length, noClock.series.length + 90, 'one tick per quiet second');
  assert.equal(clocked.metrics!.gmv, noClock.metrics!.gmv);
  const gmv = events.filter((e) => e.type === 'order.paid').reduce((a, e) => a + (e as { amount: number }).amount, 0);
  assert.equal(clocked.metrics!.gmv, gmv);
  assert.equal(clocked.rollups.reduce((a, r) => a + r.gmv, 0), gmv, 'rollup GMV adds up');
  assert.equal(clocked.rollups.reduce((a, r) => a + r.orders, 0), 7);
  assert.deepEqual(clocked.rollups.map((r) => r.ts), [t0, t0 + 60_000, t0 + 120_000, t0 + 180_000, t0 + 240_000]);
  assert.equal(Math.max(...clocked.rollups.map((r) => r.concurrencyMax)), clocked.metrics!.peakConcurrency);
  // Deterministic: the same lines give the same outputs.
  assert.deepEqual(replayThroughCore('r', withClock, cfg).outputs, clocked.outputs);
});
