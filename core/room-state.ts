/**
 * One room's state (DESIGN §3, §5): viewer sessions, per-second counters, totals, the detector and the
 * windows. It comes in two parts (docs/big-rooms.md):
 *  - the state itself: plain JSON of a size that does not grow with the audience (counters, running sums,
 *    rings, the detector), checkpointed whole;
 *  - the per-viewer part, kept in the runtime beside it: open viewer sessions and the exact members of the
 *    unique / paying viewer counts. It is checkpointed incrementally (core/room-parts.ts: what changed since
 *    the last checkpoint) and restored with restoreRoom. Both are bounded:
 *  - viewer sessions: idle expiry, plus a hard cap (`maxSessions`, default 200,000) that evicts the viewer
 *    seen least recently (its watch time ends at its last event);
 *  - unique / paying viewers: exact up to `exactDistinct` (default 100,000), then a HyperLogLog estimate;
 *  - recent event ids: the last `recentIdsKept`; paid orders per second over 600 s, sparse (metrics-orders.ts); 10-s buckets over 5 min for the
 *    rolling figures (metrics-rolling.ts); the last 20 windows; a short ad-spend log (metrics-spend.ts); a
 *    32-entry product table (metrics-products.ts); per-source sums of 4 numbers each.
 * Totals are stream-to-date: each stream.start starts them again from zero (startStream).
 * Lookups by string (ids, viewers) go through Maps/Sets kept beside the state in a WeakMap (plain-object keys
 * would break on ids like "__proto__"); the recent ids are an IdRing (core/id-index.ts), built from the JSON's
 * plain ring on first use.
 */
import type { CrestEvent, TrafficSource } from './events.ts';
import type { EngineConfig } from './engine-config.ts';
import type { HighlightWindow, MetricsDetail, PerSource, RoomCounts, RoomMetrics } from './protocol.ts';
import { createDetector, type DetectorState } from './detector.ts';
import {
  ADDED_MEMBER,
  ADDED_SWITCHED,
  createDistinctCounter,
  distinctAdd,
  distinctCount,
  hasMembers,
  upgradeDistinct,
  type DistinctCounter,
} from './distinct-counter.ts';
import { SessionStore, viewerHash } from './session-store.ts';
import { buildIdRing, IdRing, remember } from './id-index.ts';
import { createPolicyState, type PolicyState } from './suggestion-policy.ts';
import {
  addAt,
  B_ENTRIES,
  B_EXITS,
  B_EXPOSURE,
  B_FOLLOWS,
  B_GMV,
  B_ORDERS,
  B_SPEND,
  compactRing,
  createRollingRing,
  ratio,
  rollingMetrics,
  rollTo,
  sumBuckets,
  type RollingRing,
} from './metrics-rolling.ts';
import { createSpendLog, logSpend, type SpendLog } from './metrics-spend.ts';
import { productLaunched, productPaid, topProducts, type ProductEntry } from './metrics-products.ts';
import { creditOrder, creditSpend } from './metrics-windows.ts';
import { logOrder, ORDER_WINDOW_S, ordersSince, trimOrders, type OrderLog } from './metrics-orders.ts';

/** Source codes used inside the state (index into the per-source arrays). */
export const SOURCES: readonly TrafficSource[] = ['follow', 'public', 'paid', 'other'];
const SOURCE_INDEX: Record<TrafficSource, number> = { follow: 0, public: 1, paid: 2, other: 3 };
/** Which interaction counter each engage.* event adds its count to. */
const ENGAGE_COUNTER = {
  'engage.like': 'likes',
  'engage.comment': 'comments',
  'engage.share': 'shares',
  'engage.follow': 'follows',
  'engage.gift': 'gifts',
} as const;

/** A session as version 1 checkpointed it inside the room's JSON (upgraded on read: upgradeLegacy). */
export interface LegacySession {
  v: string;
  src: number;
  enter: number;
  seen: number;
  due: number;
}

export interface RoomLimits {
  maxSessions: number;
  exactDistinct: number;
}

export const DEFAULT_LIMITS: RoomLimits = { maxSessions: 200_000, exactDistinct: 100_000 };
/** Highlight windows kept in the state (the open one included). */
export const WINDOWS_KEPT = 20;

export interface RoomState extends RoomCounts {
  /** 2: the per-viewer part is kept apart (RoomRuntime); 1 (older checkpoints): sessions and members inside. */
  version: 2;
  room: string;
  maxSessions: number;
  /** First event time: watch sums are kept relative to it so they stay exact in doubles. -1 before any. */
  originTs: number;
  /** Watermark: the largest event time seen (events or advanceTo). -1 before any. */
  clock: number;
  nextSampleTs: number;
  lastTickTs: number;
  live: boolean;
  liveTs: number;
  /** The last `recentIdsKept` event ids by ring slot (an IdRing once used; its JSON is the plain array), and the
   * slot the next one overwrites once full. */
  recentIds: string[] | IdRing;
  recentHead: number;
  /** Latest platform count, its event time, and until when it counts as fresh (-1: never). */
  online: number;
  onlineTs: number;
  onlineUntil: number;
  /** What the detector is fed: 0 nothing yet, 1 platform count, 2 own sessions (a switch resets it). */
  feed: 0 | 1 | 2;
  enterSumRel: number;
  finishedSessions: number;
  finishedWatchMs: number;
  evictedSessions: number;
  unique: DistinctCounter;
  payers: DistinctCounter;
  /** Head second of the order log and rings (ts / 1000, floored). */
  sec: number;
  orderLog: OrderLog;
  entriesTotal: number[];
  exposureTotal: number[];
  gmv: number;
  orders: number;
  ordersCreated: number;
  refunds: number;
  adSpend: number;
  peakConcurrency: number;
  /** ∫ concurrency dt over the samples, in viewer-ms (watch time that platform-only rooms have too). */
  viewerMs: number;
  /** Event time covered by concurrency samples, ms: the denominator of the stream-to-date mean (viewerMs ÷ it). */
  sampledMs: number;
  rolling: RollingRing;
  /** Per source (SOURCES order): finished sessions' watch ms, open sessions, Σ(enter − originTs) of open ones. */
  watchMsBySrc: number[];
  openBySrc: number[];
  enterRelBySrc: number[];
  /** Paid GMV / orders by the source of the payer's open session; the rest is unattributed. */
  gmvBySrc: number[];
  ordersBySrc: number[];
  gmvUnattributed: number;
  adSpendLate: number;
  spend: SpendLog;
  /** On-time ad spend and paid GMV inside highlight windows (metrics-windows.ts). */
  adSpendIn: number;
  gmvIn: number;
  products: ProductEntry[];
  detector: DetectorState;
  windows: HighlightWindow[];
  windowOpen: boolean;
  policy: PolicyState;
  /** Event time of the stream.start the stream-to-date figures count from (-1: none yet, they count from the first event). */
  streamTs: number;
  /** How many of the newest `windows` the current stream opened: only those take its orders and spend. */
  streamWindows: number;
}

/** What changed in the per-viewer part since it was last checkpointed (drained by takeDelta in room-parts.ts). */
export interface RoomDirty {
  // Sessions opened, changed or closed are tracked by the session store itself (session-store.ts).
  /** New exact members of the unique / paying viewer counts, in order. */
  unique: string[];
  payers: string[];
  /** Everything stored before is void (a stream began, or the state was upgraded): drop it first. */
  reset: boolean;
  /** The count switched to its estimate: its stored members are dropped. */
  uniqueDropped: boolean;
  payersDropped: boolean;
  /** Slices of this delta went to the fresh keys (a reset was pending: room-parts.ts, takeDeltaSlice). */
  freshSliced: boolean;
}

/** The per-viewer part of the state and the lookup structures derived from the state; never in its JSON. */
export interface RoomRuntime {
  /** Open sessions: by viewer, in expiry order (due, viewer), and what changed since the last checkpoint. */
  sessions: SessionStore;
  /** Exact members of `st.unique` / `st.payers` (empty once estimating). */
  unique: Set<string>;
  payers: Set<string>;
  dirty: RoomDirty;
}

export function emptyDirty(reset: boolean): RoomDirty {
  return { unique: [], payers: [], reset, uniqueDropped: false, payersDropped: false, freshSliced: false };
}

const runtimes = new WeakMap<RoomState, RoomRuntime>();

/** The members of a count with none yet, shared by every such room (an empty Set is ~150 B, and most rooms
 * have no paying viewer): a room makes its own on its first member (countUnique, countPayer). Never written. */
class NoMembers extends Set<string> {
  override add(): this {
    throw new Error('the shared empty member set is never written');
  }
}
const NO_MEMBERS: Set<string> = new NoMembers();

/** A fresh room. `limits` exist for tests and tuning; the defaults are documented above. */
export function createRoomState(room: string, cfg: EngineConfig, limits: Partial<RoomLimits> = {}): RoomState {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  const st: RoomState = {
    version: 2,
    room,
    maxSessions: lim.maxSessions,
    originTs: -1,
    clock: -1,
    nextSampleTs: -1,
    lastTickTs: -1,
    live: false,
    liveTs: -1,
    recentIds: [],
    recentHead: 0,
    sec: -1,
    ...streamFields(lim.exactDistinct),
    detector: createDetector(cfg.detector),
    windows: [],
    windowOpen: false,
    policy: createPolicyState(),
    streamTs: -1,
    streamWindows: 0,
  };
  runtimes.set(st, { sessions: new SessionStore(), unique: NO_MEMBERS, payers: NO_MEMBERS, dirty: emptyDirty(false) });
  return st;
}

/** The stream-to-date part of the state, empty: a new room's, and again at each stream.start (startStream). */
function streamFields(exactDistinct: number) {
  return {
    online: 0,
    onlineTs: -1,
    onlineUntil: -1,
    feed: 0 as const,
    enterSumRel: 0,
    finishedSessions: 0,
    finishedWatchMs: 0,
    evictedSessions: 0,
    unique: createDistinctCounter(exactDistinct),
    payers: createDistinctCounter(exactDistinct),
    orderLog: [] as OrderLog,
    entriesTotal: [0, 0, 0, 0],
    exposureTotal: [0, 0, 0, 0],
    gmv: 0,
    orders: 0,
    ordersCreated: 0,
    refunds: 0,
    adSpend: 0,
    likes: 0,
    comments: 0,
    shares: 0,
    follows: 0,
    gifts: 0,
    events: 0,
    lateEvents: 0,
    duplicateEvents: 0,
    peakConcurrency: 0,
    viewerMs: 0,
    ...metricsFields(),
  };
}

function metricsFields() {
  return {
    sampledMs: 0,
    rolling: createRollingRing(),
    watchMsBySrc: [0, 0, 0, 0],
    openBySrc: [0, 0, 0, 0],
    enterRelBySrc: [0, 0, 0, 0],
    gmvBySrc: [0, 0, 0, 0],
    ordersBySrc: [0, 0, 0, 0],
    gmvUnattributed: 0,
    adSpendLate: 0,
    spend: createSpendLog(),
    adSpendIn: 0,
    gmvIn: 0,
    products: [] as ProductEntry[],
  };
}

/**
 * A state checkpointed before the metrics fields existed gets them empty (its open sessions keep their source;
 * its GMV so far is unattributed), and dense order rings become the sparse log, so an upgrade never fails a restore.
 */
function upgrade(st: RoomState, sessions: LegacySession[]): void {
  const old = st as unknown as Record<string, unknown> & { ordersSec?: number[]; gmvSec?: number[] };
  if (old.ordersSec !== undefined && old.gmvSec !== undefined) {
    // Dense 600-s rings of an older checkpoint → the sparse log.
    const log: OrderLog = [];
    const n = old.ordersSec.length;
    for (let s = st.sec - n + 1; s <= st.sec; s++) {
      const k = ((s % n) + n) % n;
      if (s >= 0 && old.ordersSec[k] > 0) log.push(s, old.ordersSec[k], old.gmvSec[k]);
    }
    st.orderLog = log;
    delete old.ordersSec;
    delete old.gmvSec;
  }
  if (st.streamTs === undefined) {
    // Checkpointed before the per-stream reset: its figures count from the room's first event, and every kept
    // window still takes on-time orders and spend as it did.
    st.streamTs = -1;
    st.streamWindows = st.windows.length;
  }
  if (st.rolling !== undefined) return;
  Object.assign(st, metricsFields());
  // GMV from before the upgrade has no source: unattributed, so sources + unattributed still add up to GMV.
  st.gmvUnattributed = st.gmv;
  for (const k of ['entriesSec', 'exitsSec', 'entriesMin', 'exitsMin']) delete old[k];
  for (const s of sessions) {
    st.openBySrc[s.src]++;
    st.enterRelBySrc[s.src] += s.enter - st.originTs;
  }
}

/** The per-viewer part and lookups of a state: its own, or built on first use from an older checkpoint's JSON. */
export function runtimeOf(st: RoomState): RoomRuntime {
  const rt = runtimes.get(st);
  if (rt) return rt;
  if (st.version !== 2) return upgradeLegacy(st);
  if (openSessions(st) > 0 || hasMembers(st.unique) || hasMembers(st.payers)) {
    throw new Error(`room ${st.room}: a state read back from JSON needs its sessions and viewer sets: restore it with restoreRoom (core/room-parts.ts)`);
  }
  return attachBuilt(st, new SessionStore(), new Set(), new Set());
}

/**
 * Sets a per-viewer part built by the caller, taking the structures as they are (no copies: a big room's
 * restore builds them in steps, core/room-parts.ts RoomRestore): `sessions` with its heap built.
 */
export function attachBuilt(st: RoomState, sessions: SessionStore, unique: Set<string>, payers: Set<string>): RoomRuntime {
  const rt: RoomRuntime = { sessions, unique, payers, dirty: emptyDirty(false) };
  // Read back from JSON, the rings are plain arrays: typed again, as a live room keeps them (same figures).
  st.rolling = compactRing(st.rolling);
  runtimes.set(st, rt);
  return rt;
}

/**
 * A state of an older checkpoint holds its sessions and exact members inside its JSON: they move to the runtime,
 * all marked changed so the next checkpoint writes them apart, and the JSON loses them.
 */
function upgradeLegacy(st: RoomState): RoomRuntime {
  const legacy = st as unknown as { sessions?: LegacySession[]; version: number };
  const sessions = legacy.sessions ?? [];
  upgrade(st, sessions);
  delete legacy.sessions;
  const unique = upgradeDistinct(st.unique) ?? [];
  const payers = upgradeDistinct(st.payers) ?? [];
  st.version = 2;
  // In the JSON's order, then heapified: the heap keys (due) as that state had them.
  const store = new SessionStore();
  for (const s of sessions) store.load(s.v, s.src, s.enter, s.seen, s.due);
  for (const _ of store.buildHeap(Infinity));
  store.markAllDirty();
  const rt = attachBuilt(st, store, new Set(unique), new Set(payers));
  rt.dirty = emptyDirty(true);
  rt.dirty.unique.push(...rt.unique);
  rt.dirty.payers.push(...rt.payers);
  return rt;
}

/** Open viewer sessions (the per-source counts add up to them). */
export function openSessions(st: RoomState): number {
  const o = st.openBySrc;
  return o[0] + o[1] + o[2] + o[3];
}

/**
 * A stream begins at `ts`: every stream-to-date figure starts again from zero, as in a fresh room. Called for each
 * accepted stream.start in arrival order — where the archiver splits a room's streams — so the live figures of a
 * stream equal those of its archive replayed from an empty room. Open viewer sessions belong to the stream that
 * ended (a new live session's audience enters anew), so they are dropped, not carried over. What carries over:
 * the clock, recent event ids (a redelivery across the boundary is still a duplicate), the kept windows and the
 * suggestion policy (history). The engine resets the detector and closes the open window before this.
 */
export function startStream(st: RoomState, rt: RoomRuntime, ts: number): void {
  const bucket = st.rolling.bk;
  Object.assign(st, streamFields(st.unique.cap));
  st.rolling.bk = bucket; // the ring stays at the clock's bucket, empty
  st.originTs = ts;
  st.streamTs = ts;
  st.streamWindows = 0;
  rt.sessions = new SessionStore();
  rt.unique = NO_MEMBERS;
  rt.payers = NO_MEMBERS;
  rt.dirty = emptyDirty(true);
}

/** Remembers an event id; returns false when it is among the last `kept` (a duplicate). */
export function rememberId(st: RoomState, id: string, kept: number): boolean {
  let ring = st.recentIds;
  if (!(ring instanceof IdRing) || ring.kept !== kept) {
    // Read back from JSON (or `recentIdsKept` changed): built again, oldest id in slot 0.
    ring = st.recentIds = buildIdRing(ring instanceof IdRing ? ring.toJSON() : ring, st.recentHead, kept);
    st.recentHead = 0;
  }
  return remember(ring, st, id);
}

/**
 * Concurrency at event time `t`: the platform count while fresh (at most onlineFreshMs old, inclusive, so a
 * platform that reports exactly every 10 s never reads stale at the boundary), else open viewer sessions.
 */
export function concurrencyAt(st: RoomState, t: number): number {
  return st.onlineTs >= 0 && t <= st.onlineUntil ? st.online : openSessions(st);
}

/** Moves the per-second rings to second `sec`, clearing the seconds that fell out of them. */
export function rotateTo(st: RoomState, sec: number): void {
  const from = st.sec;
  if (sec <= from) return;
  st.sec = sec;
  rollTo(st.rolling, sec * 1000);
  trimOrders(st.orderLog, sec);
}

/** Paid orders in the `seconds` seconds up to and including second `st.sec`. */
export function ordersLastSeconds(st: RoomState, seconds: number): number {
  return ordersSince(st.orderLog, st.sec - Math.min(seconds, ORDER_WINDOW_S) + 1, 1);
}

/** Paid orders (field 1) or GMV (field 2) from second `fromSec` to `st.sec` (clamped to what the log holds). */
export function paidSince(st: RoomState, fromSec: number, field: 1 | 2): number {
  return ordersSince(st.orderLog, fromSec, field);
}

// ---- viewer sessions -------------------------------------------------------------------------------

/** Closes a session (slot `s`; `viewer` its id if at hand): its watch time runs from entry to `end`. */
function finish(st: RoomState, rt: RoomRuntime, s: number, end: number, viewer?: string): void {
  const ss = rt.sessions;
  const src = ss.src(s);
  const enter = ss.enter(s);
  ss.close(s, viewer);
  st.finishedSessions++;
  st.finishedWatchMs += Math.max(0, end - enter);
  st.enterSumRel -= enter - st.originTs;
  st.watchMsBySrc[src] += Math.max(0, end - enter);
  st.openBySrc[src]--;
  st.enterRelBySrc[src] -= enter - st.originTs;
}

/** Counts gone every viewer idle for `viewerIdleMs` at time `t`; their watch time ends at their last event. */
export function expireViewers(st: RoomState, rt: RoomRuntime, t: number, idleMs: number): void {
  const ss = rt.sessions;
  for (let s = ss.top(); s >= 0 && ss.due(s) <= t; s = ss.top()) {
    const seen = ss.seen(s);
    const due = seen + idleMs;
    if (due <= t) {
      const src = ss.src(s);
      finish(st, rt, s, seen);
      addAt(st.rolling, due, B_EXITS + src, 1);
    } else ss.raiseTop(due);
  }
}

/** Over the cap: drop the viewers seen least recently (the heap top once its key is made exact). */
function evictOverCap(st: RoomState, rt: RoomRuntime, idleMs: number): void {
  const ss = rt.sessions;
  while (ss.size > st.maxSessions) {
    while (ss.due(ss.top()) !== ss.seen(ss.top()) + idleMs) ss.raiseTop(ss.seen(ss.top()) + idleMs);
    const s = ss.top();
    finish(st, rt, s, ss.seen(s));
    st.evictedSessions++;
  }
}

/** Counts a viewer among the unique ones, remembering a new exact member (or the switch) for the next checkpoint. */
function countUnique(st: RoomState, rt: RoomRuntime, viewer: string): void {
  if (rt.unique === NO_MEMBERS) rt.unique = new Set();
  const added = distinctAdd(st.unique, rt.unique, viewer);
  if (added === ADDED_MEMBER) rt.dirty.unique.push(viewer);
  else if (added === ADDED_SWITCHED) {
    rt.dirty.unique.length = 0;
    rt.dirty.uniqueDropped = true;
  }
}

function countPayer(st: RoomState, rt: RoomRuntime, viewer: string): void {
  if (rt.payers === NO_MEMBERS) rt.payers = new Set();
  const added = distinctAdd(st.payers, rt.payers, viewer);
  if (added === ADDED_MEMBER) rt.dirty.payers.push(viewer);
  else if (added === ADDED_SWITCHED) {
    rt.dirty.payers.length = 0;
    rt.dirty.payersDropped = true;
  }
}

/** The viewer's open session (slot `s`, if any: ≥ 0) was seen at `ts`. */
function seenAt(rt: RoomRuntime, s: number, ts: number): void {
  if (s >= 0 && ts > rt.sessions.seen(s)) rt.sessions.setSeen(s, ts);
}

function touch(st: RoomState, rt: RoomRuntime, viewer: string, ts: number): void {
  countUnique(st, rt, viewer);
  seenAt(rt, rt.sessions.find(viewer, viewerHash(viewer)), ts);
}

// ---- events ----------------------------------------------------------------------------------------

/**
 * Applies an event to sessions, counters and totals (not to the clock: the engine moved it already).
 * A late event reaches the totals and the sessions but not the per-minute rings ("not re-windowed").
 * Returns the paid amount when this is a non-late order.paid (the engine credits the open window), else -1.
 */
export function applyToRoom(st: RoomState, rt: RoomRuntime, ev: CrestEvent, cfg: EngineConfig, late: boolean): number {
  const ts = ev.ts;
  switch (ev.type) {
    case 'room.online':
      // Only the newest count stands; an older one arriving late is counted as an event and nothing more.
      if (ts >= st.onlineTs) {
        st.online = ev.count;
        st.onlineTs = ts;
        st.onlineUntil = ts + cfg.onlineFreshMs;
        if (ev.count > st.peakConcurrency && !late) st.peakConcurrency = ev.count;
      }
      return -1;
    case 'viewer.enter': {
      countUnique(st, rt, ev.viewer);
      const h = viewerHash(ev.viewer);
      const open = rt.sessions.find(ev.viewer, h);
      if (open >= 0) {
        // Re-entry while a session is open: the same visit (platforms repeat enters), not a new entry.
        seenAt(rt, open, ts);
        return -1;
      }
      const src = SOURCE_INDEX[ev.source];
      rt.sessions.open(ev.viewer, h, src, ts, ts, ts + cfg.viewerIdleMs);
      st.enterSumRel += ts - st.originTs;
      st.openBySrc[src]++;
      st.enterRelBySrc[src] += ts - st.originTs;
      st.entriesTotal[src]++;
      if (!late) addAt(st.rolling, ts, B_ENTRIES + src, 1);
      if (rt.sessions.size > st.maxSessions) evictOverCap(st, rt, cfg.viewerIdleMs);
      return -1;
    }
    case 'viewer.leave': {
      countUnique(st, rt, ev.viewer);
      const s = rt.sessions.find(ev.viewer, viewerHash(ev.viewer));
      // A leave without an open session (never entered, or already idle-expired) changes nothing more.
      if (s < 0) return -1;
      const src = rt.sessions.src(s);
      finish(st, rt, s, Math.max(ts, rt.sessions.seen(s)), ev.viewer);
      if (!late) addAt(st.rolling, ts, B_EXITS + src, 1);
      return -1;
    }
    case 'room.exposure':
      st.exposureTotal[SOURCE_INDEX[ev.source]] += ev.count;
      if (!late) addAt(st.rolling, ts, B_EXPOSURE + SOURCE_INDEX[ev.source], ev.count);
      return -1;
    case 'engage.like':
    case 'engage.comment':
    case 'engage.share':
    case 'engage.follow':
    case 'engage.gift':
      touch(st, rt, ev.viewer, ts);
      st[ENGAGE_COUNTER[ev.type]] += ev.count ?? 1;
      if (ev.type === 'engage.follow' && !late) addAt(st.rolling, ts, B_FOLLOWS, ev.count ?? 1);
      return -1;
    case 'product.click':
      touch(st, rt, ev.viewer, ts);
      return -1;
    case 'product.launch':
      productLaunched(st.products, ev.sku, ev.name);
      return -1;
    case 'order.created':
      if (ev.viewer !== undefined) touch(st, rt, ev.viewer, ts);
      st.ordersCreated++;
      return -1;
    case 'order.paid': {
      // The source is that of the payer's open session, looked up before touch() could matter to it.
      const session = ev.viewer !== undefined ? rt.sessions.find(ev.viewer, viewerHash(ev.viewer)) : -1;
      const src = session >= 0 ? rt.sessions.src(session) : -1;
      if (ev.viewer !== undefined) {
        countUnique(st, rt, ev.viewer);
        seenAt(rt, session, ts);
        countPayer(st, rt, ev.viewer);
      }
      st.gmv += ev.amount;
      st.orders++;
      if (src >= 0) {
        st.gmvBySrc[src] += ev.amount;
        st.ordersBySrc[src]++;
      } else st.gmvUnattributed += ev.amount;
      if (ev.sku !== undefined) productPaid(st.products, ev.sku, ev.amount);
      if (late) return -1;
      addAt(st.rolling, ts, B_GMV, ev.amount);
      addAt(st.rolling, ts, B_ORDERS, 1);
      logOrder(st.orderLog, Math.floor(ts / 1000), ev.amount, st.sec);
      creditOrder(st, ts, ev.amount);
      return ev.amount;
    }
    case 'order.refunded':
      if (ev.viewer !== undefined) touch(st, rt, ev.viewer, ts);
      st.refunds += ev.amount;
      return -1;
    case 'ad.spend':
      st.adSpend += ev.amount;
      if (late) {
        st.adSpendLate += ev.amount;
        return -1;
      }
      addAt(st.rolling, ts, B_SPEND, ev.amount);
      logSpend(st.spend, ts, ev.amount, st.clock);
      creditSpend(st, ts, ev.amount);
      return -1;
    case 'stream.start':
    case 'stream.end':
      // The live flag follows the newest of them; the engine handles the detector side.
      if (ts >= st.liveTs) {
        st.liveTs = ts;
        st.live = ev.type === 'stream.start';
      }
      return -1;
  }
}

// ---- metrics ---------------------------------------------------------------------------------------

function perSource(a: number[]): PerSource {
  return { follow: a[0], public: a[1], paid: a[2], other: a[3] };
}

/** Per-source counts (entries or exits) of the 1 min rolling window: the tick's entries/exits per minute. */
function lastMinute(st: RoomState, field: number): PerSource {
  const r = st.rolling;
  return {
    follow: sumBuckets(r, 6, field),
    public: sumBuckets(r, 6, field + 1),
    paid: sumBuckets(r, 6, field + 2),
    other: sumBuckets(r, 6, field + 3),
  };
}

/** Live figures at event time `t` (the rings and sessions must already be brought to `t`). */
export function metricsAt(st: RoomState, t: number): RoomMetrics {
  const platform = st.onlineTs >= 0 && t <= st.onlineUntil;
  const active = openSessions(st);
  const concurrency = platform ? st.online : active;
  const sessions = st.finishedSessions + active;
  const ongoingMs = st.originTs >= 0 ? active * (t - st.originTs) - st.enterSumRel : 0;
  const watchMs = st.finishedWatchMs + Math.max(0, ongoingMs);
  const unique = distinctCount(st.unique);
  const paying = distinctCount(st.payers);
  const watchMinutes = st.viewerMs / 60_000;
  return {
    ts: t,
    concurrency,
    concurrencySource: platform ? 'platform' : 'sessions',
    peakConcurrency: Math.max(st.peakConcurrency, concurrency),
    entriesPerMin: lastMinute(st, B_ENTRIES),
    exitsPerMin: lastMinute(st, B_EXITS),
    entriesTotal: perSource(st.entriesTotal),
    exposureTotal: perSource(st.exposureTotal),
    uniqueViewers: unique,
    avgWatchSec: sessions > 0 ? round1(watchMs / sessions / 1000) : 0,
    watchMinutes: round1(watchMinutes),
    gmv: st.gmv,
    orders: st.orders,
    ordersCreated: st.ordersCreated,
    refunds: st.refunds,
    payingViewers: paying,
    conversion: unique > 0 ? round4(Math.min(1, paying / unique)) : 0,
    gmvPerKWatchMin: watchMinutes > 0 ? round1(st.gmv / (watchMinutes / 1000)) : 0,
    adSpend: st.adSpend,
    likes: st.likes,
    comments: st.comments,
    shares: st.shares,
    follows: st.follows,
    gifts: st.gifts,
    events: st.events,
    lateEvents: st.lateEvents,
    duplicateEvents: st.duplicateEvents,
    live: st.live,
    ...(st.streamTs >= 0 ? { streamStartTs: st.streamTs } : {}),
  };
}

/**
 * The figures beyond the tick's (protocol MetricsDetail) at event time `t`, for the room's state and reports.
 * Session watch time by source counts ongoing sessions up to `t`.
 */
export function metricsDetailAt(st: RoomState, t: number): MetricsDetail {
  const rel = st.originTs >= 0 ? t - st.originTs : 0;
  const watchMs = [0, 1, 2, 3].map((j) => st.watchMsBySrc[j] + Math.max(0, st.openBySrc[j] * rel - st.enterRelBySrc[j]));
  const entries = perSource(st.entriesTotal);
  const spendOnTime = st.adSpend - st.adSpendLate;
  const spendOut = spendOnTime - st.adSpendIn;
  const gmvOut = st.gmv - st.gmvIn;
  return {
    rolling: { m1: rollingMetrics(st.rolling, 60), m5: rollingMetrics(st.rolling, 300) },
    concurrencyMean: st.sampledMs > 0 ? round1(st.viewerMs / st.sampledMs) : 0,
    clickInRate: ratio(entries, perSource(st.exposureTotal)),
    watchMinutesBySource: perSource(watchMs.map((ms) => round1(ms / 60_000))),
    avgWatchSecBySource: perSource(watchMs.map((ms, j) => (st.entriesTotal[j] > 0 ? round1(ms / st.entriesTotal[j] / 1000) : 0))),
    gmvBySource: perSource(st.gmvBySrc),
    ordersBySource: perSource(st.ordersBySrc),
    gmvUnattributed: st.gmvUnattributed,
    adSpendInWindows: st.adSpendIn,
    adSpendOutsideWindows: spendOut,
    adSpendLate: st.adSpendLate,
    gmvInWindows: st.gmvIn,
    gmvOutsideWindows: gmvOut,
    gmvPerSpendInWindows: st.adSpendIn > 0 ? round4(st.gmvIn / st.adSpendIn) : null,
    gmvPerSpendOutsideWindows: spendOut > 0 ? round4(gmvOut / spendOut) : null,
    topProducts: topProducts(st.products),
  };
}

function round1(x: number): number {
  const r = Math.round(x * 10) / 10;
  return r === 0 ? 0 : r;
}

function round4(x: number): number {
  const r = Math.round(x * 10_000) / 10_000;
  return r === 0 ? 0 : r;
}
