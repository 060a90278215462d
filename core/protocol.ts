/**
 * What Crest says about a room: the outputs of the pure core (ticks, highlight windows, suggestions),
 * the out-stream record that carries them, and the socket.io event maps. Server, workers and client
 * import these; nobody redeclares a payload. Types only (plus a few constant lists), so the client
 * bundle pays nothing for it.
 */
import type { TrafficSource } from './events.ts';

export type Role = 'ingest' | 'operator' | 'host' | 'buyer' | 'admin';
export const ROLES: readonly Role[] = ['ingest', 'operator', 'host', 'buyer', 'admin'];
/** Who a suggestion is for. Operators see every audience's suggestions. */
export type Audience = 'operator' | 'host' | 'buyer';

export type PerSource = Record<TrafficSource, number>;

/** Live figures for one room at one event-time instant (DESIGN §5). Money in minor units. */
/** Interaction and event counts: the same names in the room state and in the metrics sent from it. */
export interface RoomCounts {
  likes: number;
  comments: number;
  shares: number;
  follows: number;
  gifts: number;
  /** Events accepted into the room state, late events among them (counted, not re-windowed). */
  events: number;
  lateEvents: number;
  duplicateEvents: number;
}

export interface RoomMetrics extends RoomCounts {
  /** Event time these figures are for (ms since epoch). */
  ts: number;
  concurrency: number;
  /** Where `concurrency` came from: the platform's count (fresh within 10 s) or our own viewer sessions. */
  concurrencySource: 'platform' | 'sessions';
  peakConcurrency: number;
  /** Entries and exits in the last 60 s of event time, by traffic source. */
  entriesPerMin: PerSource;
  exitsPerMin: PerSource;
  entriesTotal: PerSource;
  exposureTotal: PerSource;
  uniqueViewers: number;
  /** Mean watch time of finished and ongoing sessions, in seconds. */
  avgWatchSec: number;
  watchMinutes: number;
  /** GMV = sum of order.paid amounts (gross: refunds are reported apart, not subtracted). */
  gmv: number;
  orders: number;
  ordersCreated: number;
  refunds: number;
  payingViewers: number;
  /** payingViewers / uniqueViewers, 0..1. */
  conversion: number;
  gmvPerKWatchMin: number;
  adSpend: number;
  live: boolean;
  /**
   * Event time of the stream.start the totals above count from (they are stream-to-date: each stream.start
   * starts them again). Absent while the room has had no stream.start: then they count from its first event.
   */
  streamStartTs?: number;
  /**
   * Rolling windows, per-source splits, spend inside vs outside highlight windows and top products. Present in
   * the room's state (`GET /rooms/:room/state`, snapshots, reports); left out of the 1 s ticks to keep them small.
   */
  detail?: MetricsDetail;
}

/** A ratio per source; null where its denominator is 0 (e.g. a source with no `room.exposure`). */
export type PerSourceRatio = Record<TrafficSource, number | null>;

/**
 * One rolling window at 10 s granularity: the current 10-s bucket of event time and the ones before it, so
 * `windowSec` 60 covers the last 50–60 s. Late events are not in it (they are counted, not re-windowed).
 */
export interface RollingMetrics {
  windowSec: number;
  /** Mean and highest of the concurrency samples (one per detector sample) in the window; 0 with none. */
  concurrencyMean: number;
  concurrencyPeak: number;
  /** Counts in the window divided by its length in minutes. */
  entriesPerMin: PerSource;
  exitsPerMin: PerSource;
  exposure: PerSource;
  /** entries ÷ exposure in the window, per source. */
  clickInRate: PerSourceRatio;
  gmv: number;
  orders: number;
  adSpend: number;
  follows: number;
  /** Σ concurrency × sample length, in minutes. */
  watchMinutes: number;
  gmvPerKWatchMin: number | null;
}

/** A product's sales, from `order.paid` events that carry its sku. */
export interface ProductSales {
  sku: string;
  /** From the latest `product.launch` of the sku, when one was seen while it was tracked. */
  name: string | null;
  gmv: number;
  orders: number;
  /** Upper bound of GMV that may be missing from `gmv` (0 = exact): the table is a bounded Space-Saving summary. */
  gmvError: number;
}

/** Stream-to-date figures beyond the tick's (DESIGN §5, issue 5 Metrics). Money in minor units. */
export interface MetricsDetail {
  rolling: { m1: RollingMetrics; m5: RollingMetrics };
  /** Mean concurrency over every detector sample since the first event. */
  concurrencyMean: number;
  /** entriesTotal ÷ exposureTotal per source. */
  clickInRate: PerSourceRatio;
  /** Watch time of viewer sessions (entered viewers), by the source they entered from; minutes. */
  watchMinutesBySource: PerSource;
  avgWatchSecBySource: PerSource;
  /** GMV by the source of the paying viewer's open session; orders without one are `gmvUnattributed`. */
  gmvBySource: PerSource;
  ordersBySource: PerSource;
  gmvUnattributed: number;
  /** Ad spend (on time, not late) with event time inside a highlight window [onset, end) vs outside it. */
  adSpendInWindows: number;
  adSpendOutsideWindows: number;
  /** Late ad spend: counted in `adSpend`, not split by window (not re-windowed). */
  adSpendLate: number;
  /** Paid GMV inside highlight windows (the windows' own GMV) vs the rest. */
  gmvInWindows: number;
  gmvOutsideWindows: number;
  /** GMV per unit of ad spend inside / outside windows; null without spend there. */
  gmvPerSpendInWindows: number | null;
  gmvPerSpendOutsideWindows: number | null;
  /** Highest GMV first, at most 10. */
  topProducts: ProductSales[];
}

export interface Tick {
  room: string;
  ts: number;
  metrics: RoomMetrics;
}

/**
 * `building`: the early, tentative call (a build-up may be starting); it either confirms to `rising` (same window
 * id) or is `retracted` with a reason, which ends it. `rising` → `peak` → `ended` as before.
 */
export type WindowState = 'building' | 'rising' | 'peak' | 'ended' | 'retracted';
export const WINDOW_STATES: readonly WindowState[] = ['building', 'rising', 'peak', 'ended', 'retracted'];

/** Why a `building` call was taken back: the level fell back (a giveaway crowd leaving, a glitch), or it stopped climbing. */
export type RetractReason = 'fell-back' | 'stalled' | 'reset';

/** A highlight window: a sustained rise of concurrency above its recent baseline. */
export interface HighlightWindow {
  /** Stable across state changes: `${room}:${onsetTs}`. */
  id: string;
  room: string;
  state: WindowState;
  /** Event time where the rise started (estimated, may be before detection). */
  onsetTs: number;
  /**
   * Event time of the first call, `building` or `rising`, whichever came first: detectedTs − onsetTs is the onset
   * latency (what a buyer could act on).
   */
  detectedTs: number;
  /**
   * Event time at which the window was confirmed `rising` (null while only `building`, and for a retracted one).
   * Optional only for windows stored before it existed (they were confirmed at detectedTs).
   */
  confirmedTs?: number | null;
  /** Set with state `retracted`. */
  retractReason?: RetractReason | null;
  peakTs: number | null;
  endTs: number | null;
  /** Event time of this update. */
  updatedTs: number;
  baseline: number;
  peak: number;
  /** (peak - baseline) / baseline * 100. */
  liftPct: number;
  /** Viewers per minute, over the rise so far. */
  slopePerMin: number;
  /** 0..1. */
  confidence: number;
  /** GMV and paid orders inside the window so far (minor units). */
  gmv: number;
  orders: number;
  /**
   * Ad spend inside the window [onset, end) so far, split at the peak: the build-up (onset → peak; all of it
   * while no peak is known) and after the peak. Optional only for windows stored before these were kept.
   */
  adSpend?: number;
  adSpendBuildUp?: number;
  adSpendAfterPeak?: number;
  /** True when part of the split reached back past the room's bounded spend log (then it is approximate). */
  adSpendApprox?: boolean;
  /** While rising: forecast peak height and event time, or null when there is not enough to say. */
  forecastPeak: number | null;
  forecastPeakTs: number | null;
}

export type SuggestionKind =
  | 'boost.now'
  | 'boost.stop'
  | 'cue.tease'
  | 'cue.launch'
  | 'cue.hold'
  | 'cue.countdown'
  /** The host's tease cue came from a `building` call that was taken back: carry on as before. */
  | 'cue.retract'
  | 'plan.at-risk';

export const SUGGESTION_KINDS: readonly SuggestionKind[] = [
  'boost.now',
  'boost.stop',
  'cue.tease',
  'cue.launch',
  'cue.hold',
  'cue.countdown',
  'cue.retract',
  'plan.at-risk',
];

/** Reason codes are translated by the client; `reason` is the English text for logs and webhooks. */
export type ReasonCode =
  | 'building'
  | 'retracted'
  | 'rising'
  | 'near-peak'
  | 'peak-passed'
  | 'falling-after-peak'
  | 'conversion-collapsing'
  | 'planned-moment'
  | 'plan-flat';

export interface Suggestion {
  /** Deterministic: derived from room, kind and the event time that caused it, so replays dedupe. */
  id: string;
  room: string;
  audience: Audience;
  kind: SuggestionKind;
  reasonCode: ReasonCode;
  /** Numbers the reason text uses (lift %, minutes to peak, ...), for translation. */
  params: Record<string, number | string>;
  reason: string;
  confidence: number;
  createdAt: number;
  expiresAt: number;
  cooldownKey: string;
  windowId: string | null;
  /** boost.now only: forecast peak time and suggested boost duration. */
  forecastPeakTs: number | null;
  suggestedBoostMin: number | null;
  /** Set when the policy held it back (cooldown, quiet rule): still logged for operators, never pushed to hosts or buyers. */
  suppressed: string | null;
}

/**
 * One record of a shard's out stream, as the detector writes it and the gateway reads it. Detector outputs
 * also say where they came from, never sent to clients: `at`, when the stream entry that produced it was
 * appended (its id's ms: the gateway's event→socket lag), and `rid`, the X-Request-Id of the ingest request
 * that carried that event, when it came over HTTP (the alert worker logs it with the webhook delivery).
 */
export type RoomUpdate = (
  | { type: 'tick'; room: string; tick: Tick }
  | { type: 'window'; room: string; window: HighlightWindow }
  | { type: 'suggestion'; room: string; suggestion: Suggestion }
  /** Written by the API (never by the core) so every gateway node tells its sockets. */
  | { type: 'ack'; room: string; ack: Ack }
  /** Written by the plans API when a planned moment is created, edited (plan) or deleted (plan: null). */
  | { type: 'plan'; room: string; planId: string; plan: PlannedMoment | null }
) & { at?: number; rid?: string };

/**
 * A planned highlight moment (DESIGN §4 Plans), as stored per room and shown in the panel and on the
 * chart. Times are ms since epoch; money in minor units. `version` goes up by one on every edit: it is
 * part of every scheduled job id and cue id, so an edit moves the cues and never fires the old ones.
 */
export interface PlannedMoment {
  id: string;
  room: string;
  version: number;
  /** When the moment is planned (the launch). */
  at: number;
  sku: string;
  name: string | null;
  /** Giveaway or coupon text to hold viewers with. */
  welfare: string | null;
  /** The build-up starts this many minutes before `at`: buyer boost.now (with a budget) and the at-risk watch. */
  leadMin: number;
  /** Planned ad budget for the build-up, minor units; null = no paid build-up planned. */
  budget: number | null;
  updatedAt: number;
  updatedBy: string;
}

/** What a scheduled plan job asks the core to do: a countdown, the launch, or the start of the build-up. */
export type PlanCueKind = 'countdown' | 'launch' | 'build-up' | 'cancel';

/**
 * A plan record in a shard's input stream (field `p`): written by the plan scheduler when a job fires
 * (or by the API with kind `cancel` when a plan is edited or deleted), applied by the detector through
 * the pure core so its cues go through the same checkpointed, exactly-once path as every suggestion.
 */
export interface PlanRecord {
  room: string;
  planId: string;
  version: number;
  kind: PlanCueKind;
  /** Minutes before `atTs` this record is for (0 for the launch, leadMin for the build-up). */
  offsetMin: number;
  atTs: number;
  sku: string;
  name: string | null;
  welfare: string | null;
  budget: number | null;
  leadMin: number;
}

export interface Ack {
  suggestionId: string;
  room: string;
  by: string;
  role: Role;
  at: number;
}

/** One point of the concurrency curve kept for charts (1 s resolution, bounded). */
export interface SeriesPoint {
  ts: number;
  concurrency: number;
  gmv: number;
  orders: number;
}

/** Resolutions of `GET /api/v1/rooms/:room/series?res=`. */
export type SeriesResolution = '1s' | '10s' | '1m';

/**
 * One 10 s or 1 min point: `ts` is the bucket's start; `concurrency` the mean of its 1 s points (0.1),
 * `concurrencyPeak` their highest; `gmv` / `orders` stream-to-date at its last 1 s point. `partial`: the newest
 * bucket, still filling.
 */
export interface SeriesBucketPoint extends SeriesPoint {
  concurrencyPeak: number;
  samples: number;
  partial: boolean;
}

/** What a client gets when it joins a room: enough to draw every view without waiting for a tick. */
export interface RoomSnapshot {
  room: string;
  metrics: RoomMetrics | null;
  windows: HighlightWindow[];
  suggestions: Suggestion[];
  acks: Ack[];
  series: SeriesPoint[];
  /** The room's planned moments, by time. */
  plans: PlannedMoment[];
  /** Out-stream id this snapshot is consistent with; pass it back as `since` after a reconnect. */
  cursor: string;
}

export interface ErrorBody {
  code: string;
  field?: string;
  reason: string;
}

export type JoinResult =
  | { ok: true; snapshot: RoomSnapshot; replayed: number }
  | { ok: false; error: ErrorBody };
export type AckResult = { ok: true; ack: Ack } | { ok: false; error: ErrorBody };

/** Every pushed message carries the out-stream id it came from, so a client can resume after it. */
export interface ServerToClientEvents {
  'room:tick': (msg: { room: string; cursor: string; tick: Tick }) => void;
  'window:update': (msg: { room: string; cursor: string; window: HighlightWindow }) => void;
  'suggestion:new': (msg: { room: string; cursor: string; suggestion: Suggestion }) => void;
  'suggestion:acked': (msg: { room: string; ack: Ack }) => void;
  /** A planned moment was created or edited (`plan`), or deleted (`plan: null`). */
  'plan:update': (msg: { room: string; cursor: string; planId: string; plan: PlannedMoment | null }) => void;
  /** The server could not replay what a client missed (too old): it must re-join for a fresh snapshot. */
  'room:resync': (msg: { room: string }) => void;
}

export interface ClientToServerEvents {
  /** `since`: the last cursor the client saw; the server replays what came after it, or sends a snapshot. */
  'room:join': (req: { room: string; since?: string }, ack: (res: JoinResult) => void) => void;
  'room:leave': (req: { room: string }, ack: (res: { ok: boolean }) => void) => void;
  'suggestion:ack': (req: { room: string; id: string }, ack: (res: AckResult) => void) => void;
}

export interface InterServerEvents {
  ping: () => void;
}

export interface SocketData {
  role: Role;
  rooms: string[] | '*';
  sub: string;
  /** Token expiry (Unix seconds): the gateway drops the socket then, so a leaked or stale token stops reading. */
  exp: number;
}

/** One row of the room list (`GET /api/v1/rooms`). */
export interface RoomSummary {
  room: string;
  metrics: RoomMetrics | null;
  activeWindow: HighlightWindow | null;
  lastSuggestion: Suggestion | null;
}

/** Answer of `POST /api/v1/events`: one entry per rejected or duplicate event, by index in the request. */
export interface IngestResult {
  accepted: number;
  duplicate: number;
  rejected: number;
  duplicates: { index: number; id: string }[];
  errors: { index: number; field: string; reason: string }[];
}

/** Where a platform connector stands (DESIGN §2 connectors): shown in the operator panel. */
export type ConnectorStatus = 'connecting' | 'connected' | 'retrying' | 'ended' | 'error' | 'stopped';

/**
 * One connector's state, as written to Redis (`crest:connectors`, field = room) and answered by
 * `GET /api/v1/connectors`. Times are wall-clock ms since epoch.
 */
export interface ConnectorState {
  platform: 'tiktok';
  room: string;
  /** The platform account watched (TikTok: the @handle without '@'). */
  account: string;
  status: ConnectorStatus;
  /** Why it is retrying, ended or in error (null while connected). */
  reason: string | null;
  /** When `status` last changed. */
  since: number;
  updatedAt: number;
  /** Consecutive failed connection attempts (0 once connected). */
  attempt: number;
  nextRetryAt: number | null;
  /** The platform's id of the live session, once known. */
  platformRoomId: string | null;
  counts: ConnectorCounts;
  /** Traffic-source values no rule matched (mapped to `other`), with how often: grow the table from these. */
  unknownSources: Record<string, number>;
}

export interface ConnectorCounts {
  /** Platform messages received (of the kinds mapped). */
  received: number;
  /** Contract-v1 events produced. */
  mapped: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  /** Messages deliberately not turned into events (a gift streak still running, a subscription notice...). */
  skipped: number;
  /** Messages whose shape was not what the connector expects: logged and dropped. */
  unexpected: number;
  /** Entries whose traffic source matched no rule (counted as `other`). */
  unknownSource: number;
  /** Batches submitted again after ingest failed or pushed back. */
  submitRetries: number;
}

/** Answer of `GET /api/v1/connectors`. `stale`: no update for over a minute (the connector process may be gone). */
export interface ConnectorsResponse {
  connectors: (ConnectorState & { stale: boolean })[];
}
