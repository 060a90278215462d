import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../../config/config.ts';
import type { CrestEvent } from '../../core/events.ts';
import type { HighlightWindow, RoomUpdate } from '../../core/protocol.ts';
import { crestAlarmRows, forecastErrors, replayCounts, REPLAY_T0, rowMsProblem, type EngineApi } from './crest-replay.ts';

/** A stand-in engine: `rising` when the count first exceeds 150 (forecast 300 in 5 s), `ended` when it falls under 120. */
function stubEngine(): EngineApi {
  const win = (state: 'rising' | 'ended', ts: number, onsetTs: number): HighlightWindow => ({
    id: `r:${onsetTs}`, room: 'r', state, onsetTs, detectedTs: ts, peakTs: null, endTs: state === 'ended' ? ts : null,
    updatedTs: ts, baseline: 100, peak: 0, liftPct: 0, slopePerMin: 0, confidence: 0.5, gmv: 0, orders: 0,
    forecastPeak: state === 'rising' ? 300 : null, forecastPeakTs: state === 'rising' ? ts + 5000 : null,
  });
  return {
    createRoomState: () => ({ open: null as number | null }),
    applyEvent(state, ev: CrestEvent, _cfg, out: RoomUpdate[]) {
      const s = state as { open: number | null };
      if (ev.type !== 'room.online') return 'applied';
      if (s.open === null && ev.count > 150) {
        s.open = ev.ts;
        out.push({ type: 'window', room: 'r', window: win('rising', ev.ts, ev.ts) });
        // A repeated rising update of the same window is not a second alarm.
        out.push({ type: 'window', room: 'r', window: win('rising', ev.ts, ev.ts) });
      } else if (s.open !== null && ev.count < 120) {
        out.push({ type: 'window', room: 'r', window: win('ended', ev.ts, s.open) });
        s.open = null;
      }
      return 'applied';
    },
  };
}

test('replay: one alarm per window at the row that produced it; forecast judged against the peak that followed', () => {
  const counts = [100, 100, 100, 200, 250, 400, 300, 100, 100, 100, 200, 100];
  const cfg = engineConfig('balanced');
  const run = replayCounts(stubEngine(), cfg, 'r', counts);
  assert.deepEqual(run.alarms.map((a) => a.row), [3, 10]);
  assert.equal(run.alarms[0]!.ts, REPLAY_T0 + 3 * cfg.detector.sampleMs);
  assert.equal(run.alarms[0]!.endRow, 7);
  const rowOf = (ts: number) => Math.floor((ts - REPLAY_T0) / cfg.detector.sampleMs);
  const errs = forecastErrors(run.alarms, counts, rowOf);
  // Window 1: forecast 300 at row 8; the peak that followed was 400 at row 5.
  assert.deepEqual(errs[0], { heightAbsPct: 25, timeRows: 3 });
  assert.equal(errs.length, 2);
});

/** A stand-in engine that raises `rising` on a clock advance once the last count exceeds 150; `seen` gets every event's ts. */
function risingOnAdvance(seen: number[] = []): EngineApi {
  let last = 0;
  let open = false;
  return {
    createRoomState: () => ({}),
    applyEvent(_s, ev: CrestEvent) {
      seen.push(ev.ts);
      if (ev.type === 'room.online') last = ev.count;
      return 'applied';
    },
    advanceTo(_s, ts, _cfg, out) {
      if (!open && last > 150) {
        open = true;
        const w = { id: `w${ts}`, state: 'rising', onsetTs: ts, forecastPeak: null, forecastPeakTs: null } as unknown as HighlightWindow;
        out.push({ type: 'window', room: 'r', window: w });
      }
    },
  };
}

test('replay: with advanceTo, an alarm raised when the clock passes row i is attributed to row i (no one-row lag)', () => {
  const run = replayCounts(risingOnAdvance(), engineConfig('balanced'), 'r', [100, 100, 200, 200]);
  assert.deepEqual(run.alarms.map((a) => a.row), [2]);
});

test('replay at a longer row step: row i at T0 + i·rowMs, the alarm attributed to the row whose count raised it', () => {
  const cfg = engineConfig('balanced');
  const rowMs = 10 * cfg.detector.sampleMs;
  const seen: number[] = [];
  const run = replayCounts(risingOnAdvance(seen), cfg, 'r', [100, 100, 100, 200, 200], rowMs);
  assert.deepEqual(seen, [0, 1, 2, 3, 4].map((i) => REPLAY_T0 + i * rowMs), 'one room.online event per row, rowMs apart');
  assert.deepEqual(run.alarms.map((a) => a.row), [3], 'the alarm is on the row whose count crossed, not on a sample index');
});

test('row step: a whole number of samples, no longer than the gap the engine carries a platform count across', () => {
  const cfg = engineConfig('balanced');
  const s = cfg.detector.sampleMs;
  assert.equal(rowMsProblem(s, cfg), null, 'one sample per row is the default');
  assert.equal(rowMsProblem(10 * s, cfg), null, '10 samples per row is fine');
  assert.equal(rowMsProblem(cfg.detector.gapResetSamples * s, cfg), null, 'up to the gap-reset horizon');
  assert.match(rowMsProblem(1.5 * s, cfg) ?? '', /multiple/, 'a fraction of a sample would drop or merge rows');
  assert.match(rowMsProblem((cfg.detector.gapResetSamples + 1) * s, cfg) ?? '', /at most/, 'a longer step is a gap: the engine would reset');
});

test('replay through the live engine: a 10 s row step still feeds the detector every row (no staleness reset between rows)', async () => {
  const engine = await import('../../core/engine.ts');
  const cfg = engineConfig('balanced');
  const rowMs = 10 * cfg.detector.sampleMs;
  // 100 quiet rows, then +2 % of the room a row (10 samples of one count each): a staleness reset between rows would
  // restart the detector's warm-up at every row and it would never call. Concurrency alone: no early call either.
  const counts = [...Array<number>(100).fill(1000), ...Array.from({ length: 40 }, (_, i) => 1000 + 20 * (i + 1))];
  const run = replayCounts(engine as unknown as EngineApi, cfg, 'eval.ramp', counts, rowMs);
  assert.equal(run.alarms.length, 1, `one alarm for one build-up, got rows ${run.alarms.map((a) => a.row)}`);
  const lag = run.alarms[0]!.row - 100;
  // Called once the lift reaches confirmLift (20 % = 10 rows), not rows later (a reset would delay it for ever).
  const liftRows = Math.ceil((cfg.detector.confirmLift * 1000) / 20);
  assert.ok(lag >= liftRows - 1 && lag <= liftRows + 2, `called ${lag} rows into the ramp (lift ${liftRows} rows)`);
});

/** A stand-in engine: `building` when the count first exceeds 150, then `rising` past 250 or `retracted` under 120. */
function earlyEngine(): EngineApi {
  let open: { id: string; state: string } | null = null;
  let k = 0;
  const win = (id: string, state: HighlightWindow['state'], ts: number) =>
    ({ id, state, onsetTs: ts, endTs: state === 'retracted' ? ts : null, retractReason: state === 'retracted' ? 'fell-back' : null, forecastPeak: null, forecastPeakTs: null }) as unknown as HighlightWindow;
  return {
    createRoomState: () => ({}),
    applyEvent(_s, ev: CrestEvent, _cfg, out: RoomUpdate[]) {
      if (ev.type !== 'room.online') return 'applied';
      if (!open && ev.count > 150) {
        open = { id: `w${k++}`, state: 'building' };
        out.push({ type: 'window', room: 'r', window: win(open.id, 'building', ev.ts) });
      } else if (open?.state === 'building' && ev.count > 250) {
        open.state = 'rising';
        out.push({ type: 'window', room: 'r', window: win(open.id, 'rising', ev.ts) });
      } else if (open?.state === 'building' && ev.count < 120) {
        out.push({ type: 'window', room: 'r', window: win(open.id, 'retracted', ev.ts) });
        open = null;
      }
      return 'applied';
    },
  };
}

test('replay: a row the folder lacks (a dropped report) leaves its gap; the next row\'s messages cover both steps at their own rate', async () => {
  const { replayRowTimes, rowAt } = await import('./crest-replay.ts');
  const cfg = engineConfig('balanced');
  const rowMs = 5000;
  const ts = [60_000, 65_000, 75_000, 80_000];
  const times = replayRowTimes(ts, 4, rowMs);
  assert.deepEqual(times, [0, 5000, 15_000, 20_000].map((d) => REPLAY_T0 + d));
  assert.deepEqual(replayRowTimes([0, 5000, 7000], 3, rowMs), [0, 5000, 10_000].map((d) => REPLAY_T0 + d), 'off the grid: one row per step');
  assert.deepEqual([REPLAY_T0 - 1, REPLAY_T0 + 4999, REPLAY_T0 + 14_999, REPLAY_T0 + 15_000, REPLAY_T0 + 99_999].map((t) => rowAt(times, t)), [0, 0, 1, 2, 3]);
  const seen: CrestEvent[] = [];
  const engine = risingOnAdvance();
  const spy: EngineApi = { ...engine, applyEvent: (st, ev, c, out) => (seen.push(ev), engine.applyEvent(st, ev, c, out)) };
  const extra = { entries_organic: [5, 5, 10, 5], entries_paid: [0, 0, 0, 0], interactions: [0, 0, 0, 0] };
  const run = replayCounts(spy, cfg, 'r', [100, 100, 200, 200], rowMs, extra, times);
  assert.deepEqual(seen.filter((e) => e.type === 'room.online').map((e) => e.ts - REPLAY_T0), [0, 5000, 15_000, 20_000]);
  const row2 = seen.filter((e) => e.id.startsWith('o2.')).map((e) => e.ts - REPLAY_T0);
  assert.equal(row2.length, 10);
  assert.ok(row2.every((t) => t >= 10_000 && t < 20_000), `row 2's entries over the 10 s it covers: ${row2}`);
  assert.deepEqual(seen.map((e) => e.ts), [...seen.map((e) => e.ts)].sort((a, b) => a - b), 'the engine gets every event in time order');
  assert.deepEqual(run.alarms.map((a) => a.row), [2], 'the alarm is on the row (not the step) that raised it');
});

test('replay: the first call (building) is the alarm row; a retracted window is a false alarm; --alarm-on rising scores the confirmation', () => {
  const counts = [100, 100, 200, 100, 100, 200, 200, 300, 300];
  const run = replayCounts(earlyEngine(), engineConfig('balanced'), 'r', counts);
  assert.deepEqual(run.windows.map((w) => [w.row, w.risingRow, w.retracted]), [[2, null, 'fell-back'], [5, 7, null]]);
  assert.deepEqual(crestAlarmRows(run, 'first-call'), { rows: [5], retractedRows: [2], openAtEnd: 0 });
  assert.deepEqual(crestAlarmRows(run, 'rising'), { rows: [7], retractedRows: [], openAtEnd: 0 });
});

test('row events: entries by source and one like per interaction, spread over the row span, unique ids, valid contract events', async () => {
  const { rowEvents } = await import('./crest-replay.ts');
  const { parseEvent } = await import('../../core/events.ts');
  const extra = { entries_organic: [0, 3], entries_paid: [0, 1], interactions: [0, 2] };
  const evs = rowEvents('eval.r', 1, REPLAY_T0 + 5000, REPLAY_T0 + 10000, extra);
  assert.equal(evs.length, 6);
  assert.deepEqual(evs.map((e) => e.type).sort(), ['engage.like', 'engage.like', 'viewer.enter', 'viewer.enter', 'viewer.enter', 'viewer.enter']);
  assert.equal(evs.filter((e) => e.type === 'viewer.enter' && e.source === 'paid').length, 1);
  assert.equal(new Set(evs.map((e) => e.id)).size, 6);
  assert.equal(new Set(evs.flatMap((e) => ('viewer' in e ? [e.viewer] : []))).size, 6);
  for (const e of evs) {
    assert.ok(e.ts >= REPLAY_T0 + 5000 && e.ts < REPLAY_T0 + 10000, `inside row 1's span: ${e.ts}`);
    assert.equal(parseEvent(e).ok, true, JSON.stringify(e));
  }
  assert.deepEqual(evs.map((e) => e.ts), [...evs.map((e) => e.ts)].sort((a, b) => a - b));
  assert.deepEqual(rowEvents('eval.r', 1, REPLAY_T0 + 5000, REPLAY_T0 + 10000, extra), evs, 'deterministic');
  assert.deepEqual(rowEvents('eval.r', 0, REPLAY_T0, REPLAY_T0 + 5000, extra), []);
});
