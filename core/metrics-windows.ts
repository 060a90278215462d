/**
 * What happened inside highlight windows: paid GMV and ad spend per window ([onset, end) of event time), the
 * spend split at the peak (boost timing), and the room's running totals inside windows vs outside them.
 *
 * Boundaries arrive late (see metrics-spend.ts), so each one is applied as a correction when the detector
 * reports it: `rising` credits what already happened since the onset, a peak moves the spend since the peak
 * from build-up to after-peak, an end takes back what came after the end. Only on-time events count (late ones
 * are totals, not re-windowed); an on-time event that arrives out of order is credited by its own event time.
 */
import type { HighlightWindow } from './protocol.ts';
import { spendSince } from './metrics-spend.ts';
import type { RoomState } from './room-state.ts';

/**
 * The current stream's window `ts` lies in (its end is exclusive), else null. Windows never overlap and are in
 * onset order; a window of an earlier stream is history and takes nothing of this one's orders or spend.
 */
function windowAt(st: RoomState, ts: number): HighlightWindow | null {
  const first = Math.max(0, st.windows.length - st.streamWindows);
  for (let i = st.windows.length - 1; i >= first; i--) {
    const w = st.windows[i];
    if (w.endTs !== null && ts >= w.endTs) return null;
    if (ts >= w.onsetTs) return w;
  }
  return null;
}

/** An on-time paid order at `ts`. */
export function creditOrder(st: RoomState, ts: number, amount: number): void {
  const w = windowAt(st, ts);
  if (!w) return;
  w.gmv += amount;
  w.orders++;
  st.gmvIn += amount;
}

/** On-time ad spend at `ts` (already in the spend log). */
export function creditSpend(st: RoomState, ts: number, amount: number): void {
  const w = windowAt(st, ts);
  if (!w) return;
  w.adSpend = (w.adSpend ?? 0) + amount;
  if (w.peakTs !== null && ts >= w.peakTs) w.adSpendAfterPeak = (w.adSpendAfterPeak ?? 0) + amount;
  else w.adSpendBuildUp = (w.adSpendBuildUp ?? 0) + amount;
  st.adSpendIn += amount;
}

/** A window was just opened (`rising`): credit the spend since its onset (its GMV was credited by the engine). */
export function openWindowSpend(st: RoomState, w: HighlightWindow): void {
  const s = spendSince(st.spend, w.onsetTs);
  w.adSpend = s.amount;
  w.adSpendBuildUp = s.amount;
  w.adSpendAfterPeak = 0;
  w.adSpendApprox = !s.exact;
  st.adSpendIn += s.amount;
  st.gmvIn += w.gmv;
}

/**
 * The detector moved the window's peak from `prevPeakTs` (null: none yet) to `w.peakTs`: spend since the new
 * peak is after-peak, the rest of the window's spend is build-up.
 */
export function movePeak(st: RoomState, w: HighlightWindow, prevPeakTs: number | null): void {
  if (w.peakTs === null || w.peakTs === prevPeakTs) return;
  const s = spendSince(st.spend, w.peakTs);
  const total = w.adSpend ?? 0;
  const after = Math.min(total, s.amount);
  w.adSpendAfterPeak = after;
  w.adSpendBuildUp = total - after;
  if (!s.exact) w.adSpendApprox = true;
}

/**
 * The window ended at `w.endTs`: what was credited from then on (orders and spend at or after the end) is
 * taken back. `gmvSinceEnd` / `ordersSinceEnd` come from the per-second order log (metrics-orders.ts).
 */
export function closeWindowAt(st: RoomState, w: HighlightWindow, gmvSinceEnd: number, ordersSinceEnd: number): void {
  if (w.endTs === null) return;
  const s = spendSince(st.spend, w.endTs);
  const spend = Math.min(w.adSpend ?? 0, s.amount);
  w.adSpend = (w.adSpend ?? 0) - spend;
  const fromAfter = Math.min(w.adSpendAfterPeak ?? 0, spend);
  w.adSpendAfterPeak = (w.adSpendAfterPeak ?? 0) - fromAfter;
  w.adSpendBuildUp = (w.adSpendBuildUp ?? 0) - (spend - fromAfter);
  if (!s.exact) w.adSpendApprox = true;
  st.adSpendIn -= spend;
  const gmv = Math.min(w.gmv, gmvSinceEnd);
  w.gmv -= gmv;
  w.orders -= Math.min(w.orders, ordersSinceEnd);
  st.gmvIn -= gmv;
}
