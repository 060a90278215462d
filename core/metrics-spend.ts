/**
 * Ad spend over event time, as much as boost timing needs (issue 5: the share of a window's spend that fell
 * in its build-up, onset → peak, versus after the peak). Window boundaries are only known after the fact —
 * the onset when `rising` is called, the peak when the drop is seen, the end when the level is back — so the
 * spend since each boundary is read back from a short log of recent on-time `ad.spend` events.
 *
 * Bounded: the log keeps events of the last SPEND_LOG_MS of event time and at most SPEND_LOG_MAX of them
 * (2 numbers each: ~1 KB of heap when full, nothing for a room that never reports spend). Spend older than
 * the log is folded into `base`; a boundary that reaches past it is marked approximate, never guessed silently.
 */
export const SPEND_LOG_MS = 15 * 60_000;
export const SPEND_LOG_MAX = 64;

export interface SpendLog {
  /** [ts, amount, ts, amount, …] of on-time spend, ascending ts (same-ts events merged). */
  log: number[];
  /** Spend folded out of the log, and the newest event time among it (-1: nothing folded). */
  base: number;
  cut: number;
}

export function createSpendLog(): SpendLog {
  return { log: [], base: 0, cut: -1 };
}

/** Records on-time spend at `ts`; `clock` is the room's watermark (for trimming). */
export function logSpend(s: SpendLog, ts: number, amount: number, clock: number): void {
  if (amount === 0) return;
  if (ts <= s.cut) {
    s.base += amount;
  } else {
    const log = s.log;
    let i = log.length;
    while (i > 0 && log[i - 2] > ts) i -= 2;
    if (i > 0 && log[i - 2] === ts) log[i - 1] += amount;
    else log.splice(i, 0, ts, amount);
  }
  trimSpend(s, clock);
}

/** Folds into `base` what is older than the horizon or over the cap. */
export function trimSpend(s: SpendLog, clock: number): void {
  const log = s.log;
  let drop = 0;
  while (drop < log.length && (log[drop] < clock - SPEND_LOG_MS || log.length - drop > SPEND_LOG_MAX * 2)) {
    s.base += log[drop + 1];
    if (log[drop] > s.cut) s.cut = log[drop];
    drop += 2;
  }
  if (drop > 0) log.splice(0, drop);
}

/** On-time spend with event time ≥ `t`, and whether the log still reaches back that far. */
export function spendSince(s: SpendLog, t: number): { amount: number; exact: boolean } {
  let amount = 0;
  for (let i = s.log.length - 2; i >= 0 && s.log[i] >= t; i -= 2) amount += s.log[i + 1];
  return { amount, exact: t > s.cut };
}
