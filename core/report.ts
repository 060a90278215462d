/**
 * The post-stream report (issue 5, Report): a pure function of what Crest kept about a room — metrics,
 * highlight windows, suggestions, acknowledgements, the 1 s series — plus the planned moments, if any.
 * No I/O and no clock: `generatedAt` comes in with the input, so the same input gives the same report.
 *
 * Honest gaps are part of the output, never papered over: a figure the data cannot give is `null` with a
 * note saying why (e.g. metrics or windows kept by an older Crest that did not track spend per window).
 * Fed live from the room store, or from an archive replayed through the core (history): the same function.
 */
import { TRAFFIC_SOURCES, type TrafficSource } from './events.ts';
import type {
  Ack,
  Audience,
  HighlightWindow,
  ProductSales,
  ReasonCode,
  RoomMetrics,
  SeriesPoint,
  Suggestion,
  SuggestionKind,
  WindowState,
} from './protocol.ts';
import type { BoostOutcome, OutcomeVerdict } from './outcome.ts';

/** At most this many timeline points in a report (the retained 1 s series is downsampled to fit). */
export const MAX_TIMELINE_POINTS = 1_000;
/** 2: boost timing from the windows' own spend, top products, per-source decomposition, spend in/out of windows. */
export const REPORT_VERSION = 2;

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
 * A series point; `adSpend` (stream-to-date ad spend, minor units), when a series carries it, is the fallback
 * for boost timing of windows that do not carry their own spend split (kept by an older Crest).
 */
export type ReportSeriesPoint = SeriesPoint & { adSpend?: number };

export interface ReportInput {
  room: string;
  /** Which stream this is about: `current` (live-retained) or a past stream's id (its archive). */
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
  /**
   * Did ad spend follow each `boost.now` (core/outcome.ts)? It needs the room's ad.spend events, so callers
   * that have them (an archived stream) pass it; absent or null: not known, and the report says so.
   */
  boostOutcomes?: readonly BoostOutcome[] | null;
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
  /** Why a figure is null, or what to keep in mind. */
  note: string | null;
  /** True when part of the split reached past the room's bounded spend log (metrics-spend.ts). */
  approximate: boolean;
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
  /** boost.now only, when outcomes were given: whether spend followed, and how much in the span after it. */
  outcome: { verdict: OutcomeVerdict; spendAfter: number; spendBefore: number; firstSpendAfterMs: number | null } | null;
}

export interface SourceDecomposition {
  source: TrafficSource;
  exposure: number;
  entries: number;
  /** entries ÷ exposure; null without exposure events for this source. */
  clickInRate: number | null;
  /** This source's session watch-minutes ÷ its entries (room-level when `perRoomFactors` says so). */
  watchMinutesPerEntry: number | null;
  /** This source's GMV ÷ its session watch-minutes (room-level when `perRoomFactors` says so). */
  gmvPerWatchMinute: number | null;
  /** The source's session watch-minutes, orders and GMV (null when not kept per source). */
  watchMinutes: number | null;
  orders: number | null;
  /** entries × watch-min/entry × GMV/watch-min: the source's own GMV (or the room's split by entries). */
  gmvAttributed: number | null;
  entryShare: number | null;
}

export interface GmvDecomposition {
  formula: string;
  /** Factors that are room-level approximations ([] when every factor is the source's own). */
  perRoomFactors: ('watchMinutesPerEntry' | 'gmvPerWatchMinute')[];
  note: string;
  entries: number;
  watchMinutes: number;
  gmv: number;
  /** GMV whose payer had no open session (no viewer, or not seen entering): in no source. */
  gmvUnattributed: number | null;
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
  /** Stream-to-date mean concurrency; null from metrics without detail. */
  concurrencyMean: number | null;
  /** On-time ad spend and GMV inside highlight windows vs outside; late spend apart (null without detail). */
  adSpendInWindows: number | null;
  adSpendOutsideWindows: number | null;
  adSpendLate: number | null;
  gmvInWindows: number | null;
  gmvOutsideWindows: number | null;
  gmvPerSpendInWindows: number | null;
  gmvPerSpendOutsideWindows: number | null;
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
  suggestionCounts: {
    total: number;
    acknowledged: number;
    suppressed: number;
    notAcknowledged: number;
    /** boost.now advice that spend followed / did not (null without outcomes). */
    boostFollowed: number | null;
    boostNotFollowed: number | null;
  };
  gmvDecomposition: GmvDecomposition | null;
  /** Best sellers by GMV (at most 10); null when the metrics do not carry them. */
  topProducts: ProductSales[] | null;
  topProductsNote: string;
}

const NO_SPEND_SERIES =
  'this window was kept without its own ad-spend split (an older Crest) and the series carries no spend, so it cannot be split into build-up and after-peak';
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
  const suggestions = reportSuggestions(input.suggestions, input.acks, input.boostOutcomes ?? null);
  const m = input.metrics;

  const notes = [
    ...(input.stream === 'current'
      ? ["The current stream's live-retained data: totals are stream-to-date, and windows and suggestions too are those since its stream.start; the timeline holds the room's last hour of 1 s points at most (earlier streams' seconds included)."]
      : []),
    'Money is in minor units (cents, fen) as ingested; GMV is gross (order.paid), refunds are reported apart.',
    'Highlight windows are [onset, end) in event time; boost timing splits on-time ad spend at the peak: build-up [onset, peak), after the peak [peak, end). Late events count in totals only.',
  ];
  if (reportWindows.some((w) => w.boostTiming.note === NO_SPEND_SERIES)) notes.push(`Boost timing: ${NO_SPEND_SERIES}.`);
  if (!input.boostOutcomes) {
    notes.push('Whether ad spend followed each boost.now needs the ad.spend events themselves: it is reported for archived streams, not from live-retained state.');
  }
  const products = m?.detail?.topProducts ?? null;

  return {
    version: REPORT_VERSION,
    room: input.room,
    stream: input.stream,
    generatedAt: input.generatedAt,
    span,
    notes,
    summary: m ? summaryOf(m) : null,
    follows: m
      ? { gained: m.follows, note: 'engage.follow events (with their count) over the data the report covers' }
      : { gained: null, note: 'no metrics for this room yet' },
    timeline: downsample(series, MAX_TIMELINE_POINTS),
    windows: reportWindows,
    // A retracted early call was no highlight: a plan is not matched against it.
    plans: planVsReality(input.plannedMoments, windows.filter((w) => w.state !== 'retracted'), byId, lastTs),
    suggestions,
    suggestionCounts: {
      total: suggestions.length,
      acknowledged: suggestions.filter((s) => s.status === 'acknowledged').length,
      suppressed: suggestions.filter((s) => s.status === 'suppressed').length,
      notAcknowledged: suggestions.filter((s) => s.status === 'not acknowledged').length,
      boostFollowed: input.boostOutcomes ? suggestions.filter((s) => s.outcome?.verdict === 'followed').length : null,
      boostNotFollowed: input.boostOutcomes ? suggestions.filter((s) => s.outcome?.verdict === 'not-followed').length : null,
    },
    gmvDecomposition: m ? decompose(m) : null,
    topProducts: products,
    topProductsNote:
      products === null
        ? 'per-product GMV is not in these metrics (kept by an older Crest)'
        : 'GMV of order.paid events by sku; products are tracked in a bounded table of 32, so gmvError > 0 marks an upper bound (exact otherwise)',
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
    concurrencyMean: m.detail?.concurrencyMean ?? null,
    adSpendInWindows: m.detail?.adSpendInWindows ?? null,
    adSpendOutsideWindows: m.detail?.adSpendOutsideWindows ?? null,
    adSpendLate: m.detail?.adSpendLate ?? null,
    gmvInWindows: m.detail?.gmvInWindows ?? null,
    gmvOutsideWindows: m.detail?.gmvOutsideWindows ?? null,
    gmvPerSpendInWindows: m.detail?.gmvPerSpendInWindows ?? null,
    gmvPerSpendOutsideWindows: m.detail?.gmvPerSpendOutsideWindows ?? null,
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

/**
 * Spend in [onset, peak) vs [peak, end): the window's own split, kept by the core as the window ran; else from
 * the cumulative `adSpend` of a series that carries it. Never estimated.
 */
function boostTiming(w: HighlightWindow, series: readonly ReportSeriesPoint[], hasSpend: boolean, lastTs: number): BoostTiming {
  if (w.adSpendBuildUp !== undefined && w.adSpendAfterPeak !== undefined) {
    const build = w.adSpendBuildUp;
    const after = w.peakTs === null ? null : w.adSpendAfterPeak;
    const total = build + (after ?? 0);
    return {
      buildUpSpend: build,
      afterPeakSpend: after,
      buildUpShare: after !== null && total > 0 ? build / total : null,
      note: w.peakTs === null ? 'no peak yet: all spend so far is build-up' : total === 0 ? 'no ad spend during this window' : null,
      approximate: w.adSpendApprox === true,
    };
  }
  if (!hasSpend) return { buildUpSpend: null, afterPeakSpend: null, buildUpShare: null, note: NO_SPEND_SERIES, approximate: false };
  if (series[0].ts > w.onsetTs) return { buildUpSpend: null, afterPeakSpend: null, buildUpShare: null, note: SERIES_TOO_SHORT, approximate: false };
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
    approximate: false,
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

function outcomeSummary(o: BoostOutcome | undefined): ReportSuggestion['outcome'] {
  return o ? { verdict: o.verdict, spendAfter: o.spendAfter, spendBefore: o.spendBefore, firstSpendAfterMs: o.firstSpendAfterMs } : null;
}

function reportSuggestions(suggestions: readonly Suggestion[], acks: readonly Ack[], outcomes: readonly BoostOutcome[] | null): ReportSuggestion[] {
  const ackOf = new Map(acks.map((a) => [a.suggestionId, a]));
  const outcomeOf = new Map((outcomes ?? []).map((o) => [o.suggestionId, o]));
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
        outcome: outcomeSummary(outcomeOf.get(s.id)),
      };
    });
}

const PER_SOURCE_NOTE =
  "Per source: exposure from room.exposure; entries and watch time of viewer sessions by the source they entered from; GMV of order.paid by the payer's open session. Orders from payers with no open session are unattributed. A source without room.exposure has no click-in rate, so its product starts at entries.";
const PER_ROOM_NOTE =
  'Exposure, entries and click-in rate are per source. Watch-minutes per entry and GMV per watch-minute are per-room approximations (these metrics do not carry them per source), so GMV is attributed to a source by its share of entries. A source without room.exposure events has no click-in rate.';

/**
 * exposure × click-in rate × watch-minutes per entry × GMV per watch-minute, per source. With per-source
 * metrics (detail) every factor is the source's own and the product is exactly the GMV its viewers paid; from
 * metrics without detail the last two factors are room-level and a source's GMV is the room's split by entries.
 */
function decompose(m: RoomMetrics): GmvDecomposition {
  const entries = TRAFFIC_SOURCES.reduce((n, s) => n + m.entriesTotal[s], 0);
  const d = m.detail;
  const roomWmpe = entries > 0 ? m.watchMinutes / entries : null;
  const roomGpwm = m.watchMinutes > 0 ? m.gmv / m.watchMinutes : null;
  return {
    formula: 'GMV(source) = exposure × click-in rate × watch-minutes per entry × GMV per watch-minute',
    perRoomFactors: d ? [] : ['watchMinutesPerEntry', 'gmvPerWatchMinute'],
    note: d ? PER_SOURCE_NOTE : PER_ROOM_NOTE,
    entries,
    watchMinutes: m.watchMinutes,
    gmv: m.gmv,
    gmvUnattributed: d ? d.gmvUnattributed : null,
    sources: TRAFFIC_SOURCES.map((source) => {
      const exposure = m.exposureTotal[source];
      const n = m.entriesTotal[source];
      const wm = d ? d.watchMinutesBySource[source] : null;
      const gmv = d ? d.gmvBySource[source] : null;
      const wmpe = wm === null ? roomWmpe : n > 0 ? wm / n : null;
      const gpwm = wm === null ? roomGpwm : wm > 0 ? gmv! / wm : null;
      return {
        source,
        exposure,
        entries: n,
        clickInRate: exposure > 0 ? n / exposure : null,
        watchMinutesPerEntry: wmpe,
        gmvPerWatchMinute: gpwm,
        watchMinutes: wm,
        orders: d ? d.ordersBySource[source] : null,
        gmvAttributed: gmv ?? (wmpe !== null && gpwm !== null ? n * wmpe * gpwm : null),
        entryShare: entries > 0 ? n / entries : null,
      };
    }),
  };
}
