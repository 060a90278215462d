import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../../config/config.ts';
import type { CrestEvent } from '../../core/events.ts';
import type { HighlightWindow, RoomUpdate } from '../../core/protocol.ts';
import { forecastErrors, replayCounts, REPLAY_T0, type EngineApi } from './crest-replay.ts';

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

test('replay: with advanceTo, an alarm raised when the clock passes row i is attributed to row i (no one-row lag)', () => {
  let last = 0;
  let open = false;
  const eng: EngineApi = {
    createRoomState: () => ({}),
    applyEvent(_s, ev: CrestEvent) {
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
  const run = replayCounts(eng, engineConfig('balanced'), 'r', [100, 100, 200, 200]);
  assert.deepEqual(run.alarms.map((a) => a.row), [2]);
});
