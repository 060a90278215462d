/**
 * The post-stream report (issue 5, Report): a pure function of what Crest kept about a room — metrics,
 * highlight windows, suggestions, acknowledgements, the 1 s series — plus the planned moments, if any.
 * No I/O and no clock: `generatedAt` comes in with the input, so the same input gives the same report.
 *
 * Honest gaps are part of the output, never papered over: a figure the data cannot give is `null` with a
 * note saying why (ad spend by window phase, per-product sales, per-source watch time).
 */
import { TRAFFIC_SOURCES, type TrafficSource } from './events.ts';
import type { Ack, Audience, HighlightWindow, ReasonCode, RoomMetrics, SeriesPoint, Suggestion, SuggestionKind, WindowState } from './protocol.ts';

/** At most this many timeline points in a report (the retained 1 s series is downsampled to fit). */
export const MAX_TIMELINE_POINTS = 1_000;
export const REPORT_VERSION = 1;

/**
 * A planned highlight moment as the report needs it: the fields of protocol's PlannedMoment it reads, so a
 * PlannedMoment (or a hand-written JSON plan for `crest report --plans`) fits as is.
 */
export interface PlannedMomentInput {
  id: string;
  /** Planned event time of the moment (ms since epoch). */
  at: number;
  sku: string;
  name?: string | null;
  /** Build-up length before `at`, minutes. */
  leadMin: number;
  /** Planned ad budget for the build-up, minor units. */
  budget?: number | null;
}

/**
 * A series point; `adSpend` (stream-to-date ad spend, minor units) is used when the series carries it.
 * Today's series does not, so boost timing is reported as unavailable.
 */
export type ReportSeriesPoint = SeriesPoint & { adSpend?: number };

export interface ReportInput {
  room: string;
  /** Which stream this is about; only the current, live-retained one exists until history lands. */
  stream: string;
  generatedAt: number;
  metrics: RoomMetrics | null;
  windows: readonly HighlightWindow[];
  suggestions: readonly Suggestion[];
  acks: readonly Ack[];
  /** Oldest first. */
  series: readonly ReportSeriesPoint[];
  /** `null`: plans are not available to the caller at all; `[]`: none were planned. */
  plannedMoments: readonly PlannedMomentInput[] | null;
}

export interface TimelinePoint {
  ts: number;
  /** Highest concurrency in the bucket (so peaks survive downsampling). */
  concurrency: number;
  /** Stream-to-date GMV and paid orders at the bucket's last point. */
  gmv: number;
  orders: number;
}

export interface BoostTiming {
  /** Ad spend from onset to peak (the build-up), and from peak to the window's end (or the last point). */
  buildUpSpend: number | null;
  afterPeakSpend: number | null;
  /** buildUpSpend ÷ (buildUpSpend + afterPeakSpend), 0..1; null when there was no spend or no data. */
  buildUpShare: number | null;
  /** Why a figure is null. */
  note: string | null;
}

export interface ReportWindow {
  id: string;
  state: WindowState;
  onsetTs: number;
  detectedTs: number;
  /** detectedTs − onsetTs: how long after the true start the rise was called. */
  onsetLatencyMs: number;
  peakTs: number | null;
  endTs: number | null;
  durationMs: number;
  baseline: number;
  peak: number;
  liftPct: number;
  confidence: number;
  gmv: number;
  orders: number;
  boostTiming: BoostTiming;
}

export type PlanOutcome = 'hit' | 'early' | 'late' | 'miss' | 'pending';

export interface PlanVsReality {
  id: string;
  at: number;
  sku: string;
  name: string | null;
  leadMin: number;
  budget: number | null;
  /** Start of the build-up: at − leadMin. */
  leadStartTs: number;
  /**
   * hit: a window's onset fell inside [leadStart, at]; early: a window that began before the lead window
   * was still open at `at`; late: a window began after `at` but within one lead length of it; miss: none;
   * pending: `at` lies after the last data the report has.
   */
  outcome: PlanOutcome;
  rose: boolean;
  windowId: string | null;
  /** Minutes from the window's onset to `at` (positive: the rise came before the moment). */
  onsetBeforeAtMin: number | null;
  liftPct: number | null;
  peak: number | null;
  gmv: number | null;
  orders: number | null;
  boostTiming: BoostTiming | null;
}

export type SuggestionStatus = 'acknowledged' | 'suppressed' | 'not acknowledged';

export interface ReportSuggestion {
  id: string;
  createdAt: number;
  audience: Audience;
  kind: SuggestionKind;
  reasonCode: ReasonCode;
  reason: string;
  confidence: number;
  windowId: string | null;
  status: SuggestionStatus;
  /** Why the policy held it back (cooldown, quiet rule), or null. */
  suppressed: string | null;
  ackBy: string | null;
  ackRole: string | null;
  ackAt: number | null;
  /** ackAt − createdAt. */
  ackAfterMs: number | null;
}

export interface SourceDecomposition {
  source: TrafficSource;
  exposure: number;
  entries: number;
  /** entries ÷ exposure; null without exposure events for this source. */
  clickInRate: number | null;
  /** Room-level approximation (watch time is not kept per source). */
  watchMinutesPerEntry: number | null;
  /** Room-level approximation (GMV is not attributed to sources). */
  gmvPerWatchMinute: number | null;
  /** entries × watch-min/entry × GMV/watch-min: the room's GMV split by share of entries. */
  gmvAttributed: number | null;
  entryShare: number | null;
}

export interface GmvDecomposition {
  formula: string;
  perRoomFactors: ('watchMinutesPerEntry' | 'gmvPerWatchMinute')[];
  note: string;
  entries: number;
  watchMinutes: number;
  gmv: number;
  sources: SourceDecomposition[];
}

export interface ReportSummary {
  asOfTs: number;
  live: boolean;
  concurrencyNow: number;
  peakConcurrency: number;
  uniqueViewers: number;
  avgWatchSec: number;
  watchMinutes: number;
  gmv: number;
  orders: number;
  refunds: number;
  conversion: number;
  gmvPerKWatchMin: number;
  adSpend: number;
  follows: number;
  likes: number;
  comments: number;
  shares: number;
  gifts: number;
  events: number;
  lateEvents: number;
}

export interface RoomReport {
  version: number;
  room: string;
  stream: string;
  generatedAt: number;
  /** Event-time range the report covers (series and windows), or null with no data. */
  span: { fromTs: number; toTs: number } | null;
  /** Gaps and approximations, in plain words. */
  notes: string[];
  summary: ReportSummary | null;
  follows: { gained: number | null; note: string };
  timeline: { sourcePoints: number; bucketPoints: number; points: TimelinePoint[] };
  windows: ReportWindow[];
  plans: { available: boolean; moments: PlanVsReality[]; note: string | null };
  suggestions: ReportSuggestion[];
  suggestionCounts: { total: number; acknowledged: number; suppressed: number; notAcknowledged: number };
  gmvDecomposition: GmvDecomposition | null;
  topProducts: null;
  topProductsNote: string;
}

const NO_SPEND_SERIES =
  'ad spend is kept only as a stream-to-date total (metrics.adSpend), not over time, so it cannot be split into build-up and after-peak';
const SERIES_TOO_SHORT = 'the window starts before the oldest retained series point, so its spend cannot be split';

/** Builds the report. Pure: same input, same report. */
export function buildReport(input: ReportInput): RoomReport {
  const series = [...input.series].sort((a, b) => a.ts - b.ts);
  const windows = [...input.windows].sort((a, b) => a.onsetTs - b.onsetTs);
  const lastTs = Math.max(series.at(-1)?.ts ?? -Infinity, input.metrics?.ts ?? -Infinity, ...windows.map((w) => w.updatedTs));
  const firstTs = Math.min(series[0]?.ts ?? Infinity, ...windows.map((w) => w.onsetTs));
  const span = Number.isFinite(lastTs) && Number.isFinite(firstTs) ? { fromTs: firstTs, toTs: lastTs } : null;
  const hasSpend = series.length > 0 && series.every((p) => typeof p.adSpend === 'number');

  const reportWindows = windows.map((w) => reportWindow(w, series, hasSpend, lastTs));
  const byId = new Map(reportWindows.map((w) => [w.id, w]));
  const suggestions = reportSuggestions(input.suggestions, input.acks);
  const m = input.metrics;

  const notes = [
    "Only the current stream's live-retained data is covered: totals are room-to-date, the timeline holds the last hour of 1 s points at most; past streams need history/archiving (not built yet).",
    'Money is in minor units (cents, fen) as ingested; GMV is gross (order.paid), refunds are reported apart.',
  ];
  if (!hasSpend) notes.push(`Boost timing: ${NO_SPEND_SERIES}.`);

  return {
    version: REPORT_VERSION,
    room: input.room,
    stream: input.stream,
    generatedAt: input.generatedAt,
    span,
    notes,
    summary: m ? summaryOf(m) : null,
    follows: m
      ? { gained: m.follows, note: 'engage.follow events counted room-to-date (not only this stream)' }
      : { gained: null, note: 'no metrics for this room yet' },
    timeline: downsample(series, MAX_TIMELINE_POINTS),
    windows: reportWindows,
    plans: planVsReality(input.plannedMoments, windows, byId, lastTs),
    suggestions,
    suggestionCounts: {
      total: suggestions.length,
      acknowledged: suggestions.filter((s) => s.status === 'acknowledged').length,
      suppressed: suggestions.filter((s) => s.status === 'suppressed').length,
      notAcknowledged: suggestions.filter((s) => s.status === 'not acknowledged').length,
    },
    gmvDecomposition: m ? decompose(m) : null,
    topProducts: null,
    topProductsNote: 'per-product GMV is not tracked yet (the room state sums order.paid amounts without keeping them by sku)',
  };
}

function summaryOf(m: RoomMetrics): ReportSummary {
  return {
    asOfTs: m.ts,
    live: m.live,
    concurrencyNow: m.concurrency,
    peakConcurrency: m.peakConcurrency,
    uniqueViewers: m.uniqueViewers,
    avgWatchSec: m.avgWatchSec,
    watchMinutes: m.watchMinutes,
    gmv: m.gmv,
    orders: m.orders,
    refunds: m.refunds,
    conversion: m.conversion,
    gmvPerKWatchMin: m.gmvPerKWatchMin,
    adSpend: m.adSpend,
    follows: m.follows,
    likes: m.likes,
    comments: m.comments,
    shares: m.shares,
    gifts: m.gifts,
    events: m.events,
    lateEvents: m.lateEvents,
  };
}

/** Fixed-size buckets by index; each keeps its highest concurrency and its last cumulative GMV/orders. */
export function downsample(series: readonly SeriesPoint[], max: number): RoomReport['timeline'] {
  const per = Math.max(1, Math.ceil(series.length / max));
  const points: TimelinePoint[] = [];
  for (let i = 0; i < series.length; i += per) {
    const bucket = series.slice(i, i + per);
    const last = bucket[bucket.length - 1];
    points.push({ ts: last.ts, concurrency: Math.max(...bucket.map((p) => p.concurrency)), gmv: last.gmv, orders: last.orders });
  }
  return { sourcePoints: series.length, bucketPoints: per, points };
}

function reportWindow(w: HighlightWindow, series: readonly ReportSeriesPoint[], hasSpend: boolean, lastTs: number): ReportWindow {
  const end = w.endTs ?? w.updatedTs;
  return {
    id: w.id,
    state: w.state,
    onsetTs: w.onsetTs,
    detectedTs: w.detectedTs,
    onsetLatencyMs: w.detectedTs - w.onsetTs,
    peakTs: w.peakTs,
    endTs: w.endTs,
    durationMs: end - w.onsetTs,
    baseline: w.baseline,
    peak: w.peak,
    liftPct: w.liftPct,
    confidence: w.confidence,
    gmv: w.gmv,
    orders: w.orders,
    boostTiming: boostTiming(w, series, hasSpend, lastTs),
  };
}

/** Spend in onset→peak vs peak→end, from the cumulative `adSpend` of the series (never estimated). */
function boostTiming(w: HighlightWindow, series: readonly ReportSeriesPoint[], hasSpend: boolean, lastTs: number): BoostTiming {
  if (!hasSpend) return { buildUpSpend: null, afterPeakSpend: null, buildUpShare: null, note: NO_SPEND_SERIES };
  if (series[0].ts > w.onsetTs) return { buildUpSpend: null, afterPeakSpend: null, buildUpShare: null, note: SERIES_TOO_SHORT };
  const at = (t: number) => spendAt(series, t);
  const peakTs = w.peakTs ?? Math.min(w.updatedTs, lastTs);
  const buildUp = at(peakTs) - at(w.onsetTs);
  const after = w.peakTs === null ? null : at(w.endTs ?? lastTs) - at(w.peakTs);
  const total = buildUp + (after ?? 0);
  return {
    buildUpSpend: buildUp,
    afterPeakSpend: after,
    buildUpShare: total > 0 && after !== null ? buildUp / total : null,
    note: w.peakTs === null ? 'no peak yet: all spend so far is build-up' : total === 0 ? 'no ad spend during this window' : null,
  };
}

/** Cumulative spend at the last point at or before `t` (0 before the first point). */
function spendAt(series: readonly ReportSeriesPoint[], t: number): number {
  let lo = 0;
  let hi = series.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid].ts <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? 0 : (series[found].adSpend ?? 0);
}

function planVsReality(
  moments: readonly PlannedMomentInput[] | null,
  windows: readonly HighlightWindow[],
  byId: Map<string, ReportWindow>,
  lastTs: number,
): RoomReport['plans'] {
  if (moments === null) {
    return { available: false, moments: [], note: 'planned moments are not stored for reports yet (the plans feature is being built)' };
  }
  const out = [...moments]
    .sort((a, b) => a.at - b.at)
    .map((p): PlanVsReality => {
      const lead = p.leadMin * 60_000;
      const leadStartTs = p.at - lead;
      const biggest = (ws: HighlightWindow[]) => ws.sort((a, b) => b.peak - a.peak || a.onsetTs - b.onsetTs)[0];
      const inLead = biggest(windows.filter((w) => w.onsetTs >= leadStartTs && w.onsetTs <= p.at));
      const early = biggest(windows.filter((w) => w.onsetTs < leadStartTs && (w.endTs ?? Infinity) >= p.at));
      const late = biggest(windows.filter((w) => w.onsetTs > p.at && w.onsetTs <= p.at + lead));
      const w = inLead ?? early ?? late;
      const outcome: PlanOutcome = inLead ? 'hit' : early ? 'early' : late ? 'late' : p.at > lastTs || !Number.isFinite(lastTs) ? 'pending' : 'miss';
      const rw = w ? byId.get(w.id)! : null;
      return {
        id: p.id,
        at: p.at,
        sku: p.sku,
        name: p.name ?? null,
        leadMin: p.leadMin,
        budget: p.budget ?? null,
        leadStartTs,
        outcome,
        rose: outcome === 'hit',
        windowId: rw?.id ?? null,
        onsetBeforeAtMin: rw ? (p.at - rw.onsetTs) / 60_000 : null,
        liftPct: rw?.liftPct ?? null,
        peak: rw?.peak ?? null,
        gmv: rw?.gmv ?? null,
        orders: rw?.orders ?? null,
        boostTiming: rw?.boostTiming ?? null,
      };
    });
  return { available: true, moments: out, note: out.length ? null : 'no planned moments for this stream' };
}

function reportSuggestions(suggestions: readonly Suggestion[], acks: readonly Ack[]): ReportSuggestion[] {
  const ackOf = new Map(acks.map((a) => [a.suggestionId, a]));
  return [...suggestions]
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
    .map((s) => {
      const a = ackOf.get(s.id);
      return {
        id: s.id,
        createdAt: s.createdAt,
        audience: s.audience,
        kind: s.kind,
        reasonCode: s.reasonCode,
        reason: s.reason,
        confidence: s.confidence,
        windowId: s.windowId,
        status: a ? 'acknowledged' : s.suppressed !== null ? 'suppressed' : 'not acknowledged',
        suppressed: s.suppressed,
        ackBy: a?.by ?? null,
        ackRole: a?.role ?? null,
        ackAt: a?.at ?? null,
        // Acks are wall-clock, suggestions event-time: equal clocks in live use, meaningless in a replay of old events.
        ackAfterMs: a ? a.at - s.createdAt : null,
      };
    });
}

/**
 * exposure × click-in rate × watch-minutes per entry × GMV per watch-minute, per source. The last two
 * factors are room-level (watch time and GMV are not kept per source), so a source's GMV is the room's
 * GMV split by its share of entries.
 */
function decompose(m: RoomMetrics): GmvDecomposition {
  const entries = TRAFFIC_SOURCES.reduce((n, s) => n + m.entriesTotal[s], 0);
  const wmpe = entries > 0 ? m.watchMinutes / entries : null;
  const gpwm = m.watchMinutes > 0 ? m.gmv / m.watchMinutes : null;
  return {
    formula: 'GMV(source) = exposure × click-in rate × watch-minutes per entry × GMV per watch-minute',
    perRoomFactors: ['watchMinutesPerEntry', 'gmvPerWatchMinute'],
    note:
      'Exposure, entries and click-in rate are per source. Watch-minutes per entry and GMV per watch-minute are per-room approximations (not kept per source), so GMV is attributed to a source by its share of entries. A source without room.exposure events has no click-in rate.',
    entries,
    watchMinutes: m.watchMinutes,
    gmv: m.gmv,
    sources: TRAFFIC_SOURCES.map((source) => {
      const exposure = m.exposureTotal[source];
      const n = m.entriesTotal[source];
      return {
        source,
        exposure,
        entries: n,
        clickInRate: exposure > 0 ? n / exposure : null,
        watchMinutesPerEntry: wmpe,
        gmvPerWatchMinute: gpwm,
        gmvAttributed: wmpe !== null && gpwm !== null ? n * wmpe * gpwm : null,
        entryShare: entries > 0 ? n / entries : null,
      };
    }),
  };
}
