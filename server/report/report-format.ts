/**
 * Shared formatting for the report renderers: times in a chosen IANA time zone, money from minor units.
 * Pure; the time zone is validated once by `timeZoneOrThrow` at the boundary (route, CLI).
 */

/** Throws RangeError for a time zone Intl does not know. */
export function timeZoneOrThrow(tz: string): string {
  new Intl.DateTimeFormat('en', { timeZone: tz });
  return tz;
}

/** `YYYY-MM-DD HH:MM:SS` in `tz` (a form spreadsheets parse as a date-time). */
export function timeFormatter(tz: string): (ts: number | null) => string {
  // sv-SE formats dates as ISO-like "2026-01-01 10:00:00".
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return (ts) => (ts === null || !Number.isFinite(ts) ? '' : f.format(ts));
}

/** Minor units → major units with two decimals (the currency is whatever the room ingested). */
export const money = (minor: number | null) => (minor === null ? '' : (minor / 100).toFixed(2));
export const pct = (ratio: number | null, digits = 1) => (ratio === null ? '' : `${(ratio * 100).toFixed(digits)}%`);
export const num = (v: number | null, digits = 0) => (v === null ? '' : v.toFixed(digits));
