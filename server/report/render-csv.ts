/**
 * The report as one CSV file for a spreadsheet: tables stacked one after another, a blank line between
 * them, and a `section` column first in every row (header rows included), so filtering column A on
 * "windows" gives that table alone. UTF-8 with a BOM so Excel shows Chinese room and product names.
 * Money columns are minor units (as ingested); times are `YYYY-MM-DD HH:MM:SS` in the chosen time zone,
 * with raw ms timestamps beside them where a chart needs them.
 */
import type { RoomReport } from '../../core/report.ts';
import { timeFormatter } from './report-format.ts';

type Cell = string | number | boolean | null;

export const CSV_SECTIONS = ['report', 'summary', 'timeline', 'windows', 'plans', 'suggestions', 'gmv_decomposition', 'top_products', 'notes'] as const;

export function renderReportCsv(r: RoomReport, opts: { timeZone?: string } = {}): string {
  const tz = opts.timeZone ?? 'UTC';
  const t = timeFormatter(tz);
  const tables: [string, string[], Cell[][]][] = [];
  const add = (section: (typeof CSV_SECTIONS)[number], header: string[], rows: Cell[][]) => tables.push([section, header, rows]);

  add('report', ['key', 'value'], [
    ['room', r.room],
    ['stream', r.stream],
    ['generated_at', t(r.generatedAt)],
    ['time_zone', tz],
    ['from', t(r.span?.fromTs ?? null)],
    ['to', t(r.span?.toTs ?? null)],
    ['follows_gained', r.follows.gained],
    ['top_products', r.topProductsNote],
    ['ad_spend_in_windows_minor', r.summary?.adSpendInWindows ?? null],
    ['ad_spend_outside_windows_minor', r.summary?.adSpendOutsideWindows ?? null],
    ['plans', r.plans.note ?? `${r.plans.moments.length} planned moments`],
  ]);
  add('summary', ['metric', 'value'], r.summary ? Object.entries(r.summary).map(([k, v]) => [k, k === 'asOfTs' ? t(v as number) : (v as Cell)]) : []);
  add(
    'timeline',
    ['ts_ms', 'time', 'concurrency_max', 'gmv_minor', 'orders'],
    r.timeline.points.map((p) => [p.ts, t(p.ts), p.concurrency, p.gmv, p.orders]),
  );
  add(
    'windows',
    ['id', 'state', 'onset', 'detected', 'onset_latency_s', 'peak_at', 'end', 'duration_s', 'baseline', 'peak', 'lift_pct', 'confidence', 'gmv_minor', 'orders', 'build_up_spend_minor', 'after_peak_spend_minor', 'build_up_share', 'boost_approximate', 'boost_note'],
    r.windows.map((w) => [
      w.id, w.state, t(w.onsetTs), t(w.detectedTs), w.onsetLatencyMs / 1000, t(w.peakTs), t(w.endTs), w.durationMs / 1000,
      w.baseline, w.peak, round(w.liftPct, 1), round(w.confidence, 3), w.gmv, w.orders,
      w.boostTiming.buildUpSpend, w.boostTiming.afterPeakSpend, nullableRound(w.boostTiming.buildUpShare, 3), w.boostTiming.approximate, w.boostTiming.note,
    ]),
  );
  add(
    'plans',
    ['id', 'at', 'sku', 'name', 'lead_min', 'budget_minor', 'outcome', 'rose', 'window_id', 'onset_before_at_min', 'lift_pct', 'peak', 'gmv_minor', 'orders', 'build_up_spend_minor', 'after_peak_spend_minor', 'build_up_share'],
    r.plans.moments.map((p) => [
      p.id, t(p.at), p.sku, p.name, p.leadMin, p.budget, p.outcome, p.rose, p.windowId, nullableRound(p.onsetBeforeAtMin, 1),
      nullableRound(p.liftPct, 1), p.peak, p.gmv, p.orders, p.boostTiming?.buildUpSpend ?? null, p.boostTiming?.afterPeakSpend ?? null,
      nullableRound(p.boostTiming?.buildUpShare ?? null, 3),
    ]),
  );
  add(
    'suggestions',
    ['id', 'created', 'audience', 'kind', 'reason_code', 'reason', 'confidence', 'window_id', 'status', 'suppressed_why', 'ack_by', 'ack_role', 'ack_at', 'ack_after_s', 'spend_outcome', 'spend_after_minor'],
    r.suggestions.map((s) => [
      s.id, t(s.createdAt), s.audience, s.kind, s.reasonCode, s.reason, round(s.confidence, 3), s.windowId, s.status, s.suppressed,
      s.ackBy, s.ackRole, t(s.ackAt), s.ackAfterMs === null ? null : s.ackAfterMs / 1000, s.outcome?.verdict ?? null, s.outcome?.spendAfter ?? null,
    ]),
  );
  const d = r.gmvDecomposition;
  add(
    'gmv_decomposition',
    ['source', 'exposure', 'entries', 'click_in_rate', 'watch_min_per_entry', 'gmv_per_watch_min_minor', 'watch_minutes', 'orders', 'gmv_minor', 'entry_share', 'per_room_factors'],
    d
      ? [
          ...d.sources.map((s): Cell[] => [
            s.source, s.exposure, s.entries, nullableRound(s.clickInRate, 4), nullableRound(s.watchMinutesPerEntry, 3),
            nullableRound(s.gmvPerWatchMinute, 2), s.watchMinutes, s.orders, nullableRound(s.gmvAttributed, 0), nullableRound(s.entryShare, 4),
            d.perRoomFactors.join(' '),
          ]),
          ['unattributed', null, null, null, null, null, null, null, d.gmvUnattributed, null, null],
        ]
      : [],
  );
  add(
    'top_products',
    ['rank', 'sku', 'name', 'gmv_minor', 'orders', 'gmv_error_minor'],
    (r.topProducts ?? []).map((p, i) => [i + 1, p.sku, p.name, p.gmv, p.orders, p.gmvError]),
  );
  add('notes', ['note'], [...r.notes, ...(d ? [d.note] : [])].map((n) => [n]));

  const lines: string[] = [];
  for (const [section, header, rows] of tables) {
    if (lines.length) lines.push('');
    lines.push(row(['section', ...header]));
    for (const cells of rows) lines.push(row([section, ...cells]));
  }
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
const nullableRound = (v: number | null, d: number) => (v === null ? null : round(v, d));

function row(cells: Cell[]): string {
  return cells.map(cell).join(',');
}

/**
 * RFC 4180 quoting. Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) gets
 * a leading apostrophe: reasons and product names come from outside.
 */
export function cell(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
