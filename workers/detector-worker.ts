/**
 * Detector worker: holds shard leases, reads each owned shard's event stream, runs the pure core, and
 * commits outputs + cursor in one fenced script per batch (checkpoint.lua).
 *
 * Dedupe key: the event-stream id. Time with no events comes from clock records the lease holder writes
 * into the shard stream itself, so replay stays deterministic.
 *
 * CHECKPOINT INVARIANT (exactly-once with deferred room states). Writing every touched room's full state
 * on every batch cost more than the detection itself, so room states are written lazily:
 *  - `@cursor` (C) is the output mark: every output (out stream, suggestion logs, series) of every stream
 *    entry ≤ C is committed, and so are `@processed` and `@active` (the rooms the clock advances) as they
 *    stood after C. Outputs and C always move together, in one script. (Room summaries may trail while
 *    events are waiting; see VIEW_EVENTS_MS.)
 *  - each room record `r:<room>` carries its own `cursor` c_R ≤ C: the state holds the effect of exactly the
 *    entries ≤ c_R. A room's state is written when it joins `@active`, when it leaves it (idle), when it
 *    changed while not in `@active` (a plan record), and otherwise at most every STATE_FLUSH_MS while it has
 *    changed, so c_R lags C by about that much.
 *  - hence a room is continuously in `@active` over (c_R, C], so a successor that loads `@active` at C knows
 *    which rooms each clock record in (c_R, C] advanced, and a room outside `@active` has c_R ≥ any entry
 *    ≤ C that touched it.
 * A successor therefore reads from min(c_R over @active) (C when none), skips for each room the entries ≤ its
 * c_R, re-derives the rest — deterministically: the core is a pure reducer — and discards the outputs of
 * entries ≤ C, which were committed before. Entries > C are new: their outputs go out with the next C.
 * The event stream is never trimmed past min(c_R), so the replay range is always there. A worker that dies
 * anywhere loses only uncommitted work; a fenced-out worker (lease lost) writes nothing.
 */
import type { WorkerMetrics } from '../server/metrics-registry.ts';
import { randomBytes } from 'node:crypto';
import type { CrestEvent } from '../core/events.ts';
import { advanceTo, applyEvent, createRoomState, roomClock, roomMetrics, roomWindows, type RoomState } from '../core/engine.ts';
import type { EngineConfig } from '../core/engine-config.ts';
import { applyPlanRecord, parsePlanRecord } from '../core/plans.ts';
import { deltaSize, partsNeeded, RoomRestore, takeDelta, takeDeltaSlice, type RoomDelta } from '../core/room-parts.ts';
import type { RoomUpdate, Suggestion } from '../core/protocol.ts';
import type { RoomView } from '../server/room-store.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { luaJsonArray } from '../server/lua/json-argument.ts';
import { scripts, type RedisClient } from '../server/lua/scripts.ts';
import { createRedis, isCluster, readStreams } from '../server/redis-connection.ts';
import { dueAgain } from './periodic-phase.ts';
import { ShardBalancer } from './shard-balancer.ts';
import { compareIds, eventOf, fieldOf, idMs, ROOM_IDLE_MS } from './stream-entry.ts';
import type { Logger } from '../server/logger.ts';

export interface DetectorWorkerOptions {
  redisUrl: string;
  shards: number;
  leaseMs: number;
  engine: EngineConfig;
  outStreamMaxLen: number;
  /** Keep processed events this long in the input stream (for inspection and late takeovers). */
  eventRetentionMs: number;
  log: Logger;
  /** Max stream entries read per shard per batch. */
  batchSize?: number;
  workerId?: string;
  /** A changed room state is written about once per this period (default STATE_FLUSH_MS; 0: with every batch). */
  stateFlushMs?: number;
  /** Where detector lag is observed (/metrics); none: not measured. */
  metrics?: WorkerMetrics;
  /** A room's per-viewer delta goes out in slices of at most this many entries (default DELTA_SLICE). */
  deltaSlice?: number;
  /** At most this many slices of one room per batch, unless its state must be written now (default DELTA_SLICES_PER_BATCH). */
  deltaSlicesPerBatch?: number;
}

/** A room's checkpoint record: its core state plus the anchor that maps arrival time to event time. */
interface RoomRecord {
  state: RoomState;
  /** Event time and arrival (stream-id ms) of the room's latest event: clocks project from here. */
  anchorTs: number;
  anchorArrival: number;
  lastSuggestion: Suggestion | null;
  /** c_R: the last stream id whose effect the state holds (see the invariant above). Absent in records
   * written before deferred states: those were always written with the shard cursor, so C stands in. */
  cursor?: string;
}

/** A loaded room: its record and when its state was last written (never serialised). */
interface RoomSlot {
  rec: RoomRecord;
  /** Wall-clock ms of the last state write (or of the load), for the STATE_FLUSH_MS deferral. */
  flushedAt: number;
  /** The state changed since it was last written. */
  changed: boolean;
  /** Must be written with the next commit (joined or left the active set). */
  mustWrite: boolean;
  /** The room's summary in the view hash is older than its state; `viewEvents`: by an event or plan record
   * (its totals), not only by the clock. See VIEW_REFRESH_MS. */
  viewStale: boolean;
  viewEvents: boolean;
  /** Wall-clock ms of the last summary write (or of the load). */
  viewAt: number;
  /** Events applied to the room since its summary was last written: counted in `@owed`, not yet in `@processed`. */
  owed: number;
  /** The room's place in every write period, in [0, 1): see dueAgain. */
  phase: number;
  /** Slices of its delta are in Redis and its JSON is not yet (a sliced checkpoint under way: checkpoint-slice.lua). */
  writing: boolean;
}

interface ShardRuntime {
  shard: number;
  /** C: every output of the entries up to here is committed. */
  cursor: string;
  /** Where the next read starts (below C while replaying after a takeover). */
  readFrom: string;
  /** C as loaded: until a batch reaches it the shard is replaying, and no summary is written (see viewsToWrite). */
  replayTo: string;
  /** Rooms the clock advances; part of the checkpoint so a successor advances the same ones. */
  active: Set<string>;
  activeChanged: boolean;
  rooms: Map<string, RoomSlot>;
  /** Rooms whose viewStale is set. */
  staleViews: Set<string>;
  /** Events added but not yet applied, as the last commit left them (0 after a load). */
  backlog: number;
  /** `@owed` as loaded (a predecessor's events whose summaries it had not written), and the rooms loaded with
   * it whose summaries this worker has not written yet: once none is left, those events show in the views. */
  inheritedOwed: number;
  owedUnwritten: Set<string>;
  lastClockAt: number;
  /**
   * The request whose entries the stream is in the middle of at readFrom: ingest.lua writes a request's id
   * (`q`) and entry count (`qn`) on the first of a shard's entries only, and the `left` entries after it are that
   * request's too. Kept with readFrom (set together, after a commit), so a batch read again starts from the
   * same run; a fresh runtime (a takeover) starts with none, and the rest of a run it began inside has no id.
   */
  run: { rid: string; left: number };
}

const SUGGESTIONS_KEPT = 500;
/** Max stream entries read per shard per batch (DetectorWorkerOptions.batchSize). */
const BATCH_SIZE = 2_000;
const SERIES_KEPT = 3_600;
const CLOCK_EVERY_MS = 1_000;
/**
 * A changed room state is written about once per this period (each room at its own point of it: dueAgain),
 * so a takeover replays about this much of the stream.
 * Writing every touched room's full state with every batch cost more than the detection itself (the bench
 * measured ~4k ev/s through the worker at 10k rooms that way). An earlier session saw test/fault-redis-
 * restart.test.ts over-count a few events with this on; it did not recur in this code (loops of every
 * restart test, plus a staged machine crash that cuts the AOF back while the worker is ahead of Redis),
 * and test/fault-redis-restart.test.ts now also fails on any replayed duplicate the core's guard catches.
 * 10 s rather than 5: a state was then the room's open sessions and grew with its audience (~20 KB at 150 viewers;
 * now its JSON is fixed-size and only changed sessions are written beside it: docs/big-rooms.md),
 * and under the latency bench's load halving these writes took the detector stage's p99 from ~450 to ~250 ms
 * (with VIEW_EVENTS_MS at 2 s); a takeover replays up to ~10 s of the shard's events instead of ~5.
 */
const STATE_FLUSH_MS = 10_000;
/**
 * Room summaries (the view hash the API reads) cost tens of µs each to build and serialise, as much as
 * several events: writing one for every touched room with every small batch was most of the worker's cost
 * at a steady load. So a summary goes out with a commit only when it must:
 *  - the batch produced a window, suggestion or plan output for the room, or the room left the active set;
 *  - events changed the room: at once while the shard is caught up (up to VIEW_BURST rooms), but about once
 *    per VIEW_EVENTS_MS while events are waiting (the batch was full, or the last commit saw a backlog);
 *  - only the clock moved it (metrics drift with time, totals do not): about once per VIEW_REFRESH_MS.
 * (Each room at its own point of the period: dueAgain.)
 * `@processed` counts the events whose effect the views show, so whenever the counters say the detector is
 * caught up (`@processed` = `@added`), the views show every event. An event applied to a room whose summary
 * is deferred is counted in `@owed` instead, and moves to `@processed` with the commit that writes the summary.
 * (An earlier design refused such a commit when it would leave the shard caught up and wrote every deferred
 * summary at once; under a steady load that refusal hit one commit in eight and summaries cost a fifth of the
 * detector's CPU.) A successor does not know which summaries its predecessor deferred: it treats every active
 * room's as stale and releases the inherited `@owed` once it has written all of them.
 * VIEW_EVENTS_MS is 2 s, not 1: half the summaries under a steady load (the live ticks carry the metrics anyway).
 */
const VIEW_EVENTS_MS = 2_000;
const VIEW_REFRESH_MS = 5_000;
/** A caught-up shard writes at most this many deferred summaries at once (see viewsToWrite). */
const VIEW_BURST = 32;
/**
 * A big room's delta (a sale's 10k entries/s make ~100k changed sessions per STATE_FLUSH_MS) goes out in slices
 * of this many entries, each its own fenced script, the thread free between them (docs/big-rooms.md): taking
 * and sending 20k entries at once held the thread ~100 ms; 2,000 hold it ~1-2 ms, and Redis about as long.
 * The JSON and the stream id it covers go only with the last part, in the batch's checkpoint.lua call.
 */
const DELTA_SLICE = 2_000;
/**
 * Slices of one room per batch: the rest waits for the next batch (its JSON with it), so the shard's other
 * rooms are not held up behind a whole big delta. 16 × 2,000 per batch outruns any room: a batch holds at most
 * BATCH_SIZE events, and an event changes at most one session and two members.
 */
const DELTA_SLICES_PER_BATCH = 16;
/**
 * A batch's events are applied, and its commit built, in steps of about this long, the thread free between them:
 * a big room's 2,000 events took 20-30 ms in one go (GC included), its commit 20-30 ms, and every other room of
 * the worker waited behind them.
 */
const STEP_MS = 4;
/** While a shard's batch is under way, the others are read with this short a block, so it is read again soon after. */
const BUSY_READ_BLOCK_MS = 10;
/**
 * A room's restore builds its session heap this many sessions per synchronous step, the thread free between
 * steps (core/room-parts.ts RoomRestore); the stored parts go in page by page as HSCAN reads them (10,000 a
 * page). In one block a 1M-session restore held the thread 2.5 s, past a 1 s lease's renewals; 20,000 take
 * ~15 ms on this machine. (The longest step left is the viewer map's own growth, ~70-100 ms at 260k and 520k.)
 */
const RESTORE_STEP = 20_000;

export class DetectorWorker {
  readonly id: string;
  private readonly redis: RedisClient;
  private readonly reader: RedisClient;
  private readonly leases: RedisClient;
  private readonly balancer: ShardBalancer;
  /** Shards whose lease this worker holds and renews, whether their state is loaded (owned) or not yet. */
  private readonly held = new Set<number>();
  /** Shards loaded and being processed: a subset of `held`. */
  private readonly owned = new Map<number, ShardRuntime>();
  /** Loads under way, by shard. A load whose entry was removed or replaced meanwhile (lease lost, reconnect)
   * is abandoned: its result never becomes `owned`. */
  private readonly loading = new Map<number, { done: Promise<void> }>();
  private running = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private refreshing = false;
  private loopDone: Promise<void> | null = null;
  /** viewsDeferred: commits that left summaries of event changes for later (their events stay in `@owed`).
   * The longest synchronous steps, which hold the thread (bench/big-room.ts reads them): a step of a batch's events
   * parsed and applied (longestApplyMs: STEP_MS), a step of a commit built and sent (longestCommitMs), a slice (longestSliceMs), a step of a room's
   * restore (longestRestoreStepMs: a page of its parts added, or a step of its heap). Not synchronous, in steps:
   * the longest read of a room's parts (longestPartsScanMs: HSCAN/SSCAN pages, each added as it comes) and the
   * longest finish of a restore after it (longestRestoreMs: check, heap, attach). Lease renewals: the longest
   * time between two refreshes sending them (longestRenewGapMs: the timer held back by a stalled thread, or a
   * refresh still waiting) and the longest round trip of one (longestRenewRttMs: Redis busy, or the reply's
   * callback held back); a lease lapses when the two add up to more than the lease. */
  readonly stats = {
    events: 0,
    batches: 0,
    invalid: 0,
    leaseLost: 0,
    viewsDeferred: 0,
    slices: 0,
    longestSliceMs: 0,
    longestApplyMs: 0,
    longestCommitMs: 0,
    longestPartsScanMs: 0,
    longestRestoreMs: 0,
    longestRestoreStepMs: 0,
    longestRenewGapMs: 0,
    longestRenewRttMs: 0,
  };
  /** When the last refresh sent its renewals (performance.now()), for longestRenewGapMs. */
  private lastRenewSentAt = 0;

  constructor(private readonly opts: DetectorWorkerOptions) {
    this.id = opts.workerId ?? `det-${process.pid}-${randomBytes(3).toString('hex')}`;
    // Writes are never queued while Redis is away nor resent after a reconnect: a checkpoint whose reply
    // was lost may have landed, and sending it again would count its batch twice. A write cut off fails
    // at once (maxRetriesPerRequest 0: without it ioredis would neither resend nor ever settle it), the
    // shard is dropped, and its state is reloaded from what Redis really holds.
    this.redis = createRedis(opts.redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, lazyConnect: true });
    // Blocking reads get their own connection so they never delay checkpoints and lease renewals; so do
    // lease renewals, so they never queue behind several shards' checkpoints in flight at once.
    this.reader = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.leases = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.balancer = new ShardBalancer(this.leases, this.id, opts.shards, opts.leaseMs);
    for (const c of [this.redis, this.reader, this.leases]) c.on('error', (e) => opts.log.debug('detector redis', { error: e.message }));
    // Back from a reconnect, Redis may have restarted and lost its last second (AOF everysec, machine
    // crash): what we hold in memory may be ahead of it. Forget it; refreshLeases reloads each shard.
    let connectedOnce = false;
    this.redis.on('ready', () => {
      if (connectedOnce && (this.owned.size > 0 || this.loading.size > 0)) {
        opts.log.warn('detector reconnected to redis: reloading its shards from their checkpoints', { worker: this.id });
        this.owned.clear();
        // Loads under way read that Redis too: abandoned (the next refresh loads every held shard again).
        this.loading.clear();
      }
      connectedOnce = true;
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.reader.connect(), this.leases.connect()]);
    this.running = true;
    await this.refreshLeases();
    this.leaseTimer = setInterval(() => void this.refreshLeases(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
    this.loopDone = this.loop();
    // Resolves with the shards taken now loaded, as before loads left the refresh (renewed meanwhile).
    await Promise.all([...this.loading.values()].map((l) => l.done));
  }

  /** Stops reading, gives the leases back (so a successor need not wait for expiry), closes connections. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.reader.disconnect();
    await this.loopDone?.catch(() => undefined);
    const held = [...this.held];
    this.held.clear();
    this.loading.clear();
    this.owned.clear();
    await Promise.allSettled(held.map((s) => scripts.lease.run(this.leases, [keys.lease(s)], [this.id, this.opts.leaseMs, 'release'])));
    await this.balancer.leave().catch(() => undefined);
    this.redis.disconnect();
    this.leases.disconnect();
  }

  ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  private async refreshLeases(): Promise<void> {
    // One refresh at a time: while Redis is away the timer fires again before a refresh ends, and two
    // overlapping acquires would load one shard twice and process its entries twice.
    if (!this.running || this.refreshing) return;
    this.refreshing = true;
    try {
      await this.refreshLeasesOnce();
    } finally {
      this.refreshing = false;
    }
  }

  /**
   * Renews every held lease at once (one round trip, beside the fair-share beat), then gives back a surplus
   * and takes free shards up to the share. A refresh only talks to Redis: a shard taken is loaded apart
   * (startLoad), so a big room's restore never holds back the renewals — its own shard's included. (It used
   * to load inside this loop: a 500k-session room's read and restore took ~4 s, the leases taken before it and
   * its own lapsed meanwhile, and the worker lost, retook and reloaded every shard about every 7 s.)
   */
  private async refreshLeasesOnce(): Promise<void> {
    const renewing = [...this.held];
    const sentAt = performance.now();
    if (renewing.length > 0 && this.lastRenewSentAt > 0) this.stats.longestRenewGapMs = Math.max(this.stats.longestRenewGapMs, sentAt - this.lastRenewSentAt);
    this.lastRenewSentAt = renewing.length > 0 ? sentAt : 0;
    // Fair share (workers/shard-balancer.ts): give back the surplus, take no more than the share. Unknown
    // while Redis is away: then keep what we hold and take what is free, as before.
    const [share, renewed] = await Promise.all([
      this.balancer.fairShare().catch(() => this.opts.shards),
      Promise.all(renewing.map((s) => this.leaseCall(s, 'renew'))),
    ]);
    if (renewing.length > 0) this.stats.longestRenewRttMs = Math.max(this.stats.longestRenewRttMs, performance.now() - sentAt);
    renewing.forEach((s, i) => {
      if (renewed[i] === false) this.dropShard(s, 'lease renewal refused');
      // Held but neither loaded nor loading: its state was dropped (a failed write, a reconnect): load it again.
      else if (renewed[i] === true && this.held.has(s) && !this.owned.has(s) && !this.loading.has(s)) this.startLoad(s);
    });
    for (let s = 0; s < this.opts.shards; s++) {
      if (this.held.has(s) && this.held.size > share) {
        this.held.delete(s);
        this.owned.delete(s);
        this.loading.delete(s);
        this.opts.log.info('detector handed a shard over to rebalance', { worker: this.id, shard: s, share });
        await scripts.lease.run(this.leases, [keys.lease(s)], [this.id, this.opts.leaseMs, 'release']).catch(() => undefined);
        continue;
      }
      if (this.held.has(s) || this.held.size >= share || !this.running) continue;
      if ((await this.leaseCall(s, 'acquire')) === true && this.running) {
        this.held.add(s);
        this.startLoad(s);
      }
    }
  }

  /** One lease call: whether we hold it afterwards; null when Redis did not answer (keep what we have: the
   * checkpoint fence stops us writing if the lease lapsed meanwhile). */
  private async leaseCall(shard: number, mode: 'acquire' | 'renew'): Promise<boolean | null> {
    try {
      return (await scripts.lease.run(this.leases, [keys.lease(shard)], [this.id, this.opts.leaseMs, mode])) === 1;
    } catch (err) {
      this.opts.log.debug('lease refresh failed', { shard, error: (err as Error).message });
      return null;
    }
  }

  /** Loads a held shard's checkpoint apart from the lease refresh; it is processed (`owned`) once loaded, if still held. */
  private startLoad(shard: number): void {
    const load = { done: Promise.resolve() };
    this.loading.set(shard, load);
    const current = () => this.loading.get(shard) === load;
    load.done = this.loadShard(shard, current).then(
      (rt) => {
        if (!current()) return;
        this.loading.delete(shard);
        if (rt && this.running && this.held.has(shard)) this.owned.set(shard, rt);
      },
      (err: unknown) => {
        if (!current()) return;
        this.loading.delete(shard);
        // Still held: the next refresh loads it again.
        this.opts.log.warn('detector could not load a shard; retrying at the next lease refresh', { worker: this.id, shard, error: (err as Error).message });
      },
    );
  }

  /** Whether `rt` is still this worker's runtime for its shard (a drop or a takeover replaces or removes it). */
  private owns(rt: ShardRuntime): boolean {
    return this.owned.get(rt.shard) === rt;
  }

  private dropShard(shard: number, why: string): void {
    this.owned.delete(shard);
    this.loading.delete(shard);
    if (this.held.delete(shard)) {
      this.stats.leaseLost++;
      this.opts.log.warn('detector gave up shard', { worker: this.id, shard, why });
    }
  }

  /** The shard's runtime from its checkpoint; null when abandoned on the way (`current` turned false). */
  private async loadShard(shard: number, current: () => boolean): Promise<ShardRuntime | null> {
    const [cursor, active, owed] = await this.redis.hmget(keys.checkpoint(shard), CHECKPOINT_FIELDS.cursor, CHECKPOINT_FIELDS.active, CHECKPOINT_FIELDS.owed);
    const c = cursor ?? '0-0';
    const rt: ShardRuntime = {
      shard,
      cursor: c,
      readFrom: c,
      replayTo: c,
      active: new Set(active ? (JSON.parse(active) as string[]) : []),
      activeChanged: false,
      rooms: new Map(),
      staleViews: new Set(),
      backlog: 0,
      inheritedOwed: Number(owed ?? 0),
      owedUnwritten: new Set(),
      lastClockAt: 0,
      run: { rid: '', left: 0 },
    };
    if (!(await this.loadRooms(rt, [...rt.active], current))) return null;
    for (const [room, slot] of rt.rooms) markView(rt, room, slot, true);
    if (rt.inheritedOwed !== 0) rt.owedUnwritten = new Set(rt.rooms.keys());
    // Replay from the oldest room state of the active set; every room skips what its own state holds.
    for (const slot of rt.rooms.values()) if (compareIds(slot.rec.cursor!, rt.readFrom) < 0) rt.readFrom = slot.rec.cursor!;
    this.opts.log.debug('detector took shard', { worker: this.id, shard, cursor: rt.cursor, replayFrom: rt.readFrom, activeRooms: rt.active.size });
    return rt;
  }

  /**
   * Loads rooms into the shard's runtime from their checkpoints; false when abandoned on the way (`current`
   * turned false: the shard was dropped), with nothing loaded. A big room's parts are restored in steps with the
   * thread free between them (RESTORE_STEP), so lease renewals and the other shards go on meanwhile.
   */
  private async loadRooms(rt: ShardRuntime, rooms: string[], current: () => boolean): Promise<boolean> {
    const missing = rooms.filter((r) => !rt.rooms.has(r));
    if (missing.length === 0) return true;
    const fields = await this.redis.hmget(keys.checkpoint(rt.shard), ...missing.map(CHECKPOINT_FIELDS.room), ...missing.map(CHECKPOINT_FIELDS.writing));
    const raw = fields.slice(0, missing.length);
    // A sliced checkpoint left half-written (its worker died between slices): undone before the parts are read.
    for (const [i, room] of missing.entries()) if (fields[missing.length + i] !== null) await this.undoSlices(rt.shard, room);
    const recs = missing.map((room, i) => {
      const json = raw[i];
      return json ? (JSON.parse(json) as RoomRecord) : { state: createRoomState(room, this.opts.engine), anchorTs: 0, anchorArrival: 0, lastSuggestion: null, cursor: '0-0' };
    });
    // The per-viewer parts, read only for rooms that have some (no lease holder but us writes them meanwhile).
    const s = this.stats;
    const step = (t: number) => (s.longestRestoreStepMs = Math.max(s.longestRestoreStepMs, performance.now() - t));
    const restored = await Promise.all(
      recs.map(async (rec, i) => {
        if (raw[i] === null) return true;
        const need = partsNeeded(rec.state);
        const room = missing[i]!;
        const restore = new RoomRestore(rec.state, this.opts.engine);
        const scanFrom = performance.now();
        // Each page goes into the restore as it comes: its work is proportional to the page (10,000 entries).
        const add = (fn: (page: string[]) => void) => (page: string[]) => {
          const t = performance.now();
          fn(page);
          step(t);
        };
        await Promise.all([
          need.sessions ? scanPages(this.redis, 'hscan', keys.sessions(rt.shard, room), add((p) => restore.addSessions(p))) : undefined,
          need.unique ? scanPages(this.redis, 'sscan', keys.uniqueViewers(rt.shard, room), add((p) => restore.addUnique(p))) : undefined,
          need.payers ? scanPages(this.redis, 'sscan', keys.payingViewers(rt.shard, room), add((p) => restore.addPayers(p))) : undefined,
        ]);
        const restoreFrom = performance.now();
        s.longestPartsScanMs = Math.max(s.longestPartsScanMs, restoreFrom - scanFrom);
        const steps = restore.finish(RESTORE_STEP);
        for (;;) {
          const t = performance.now();
          const done = steps.next().done;
          step(t);
          if (done) break;
          if (!current()) return false;
          await yieldThread();
        }
        s.longestRestoreMs = Math.max(s.longestRestoreMs, performance.now() - restoreFrom);
        return true;
      }),
    );
    if (!restored.every(Boolean) || !current()) return false;
    const now = Date.now();
    missing.forEach((room, i) => {
      const rec = recs[i]!;
      rec.cursor ??= rt.cursor;
      rt.rooms.set(room, {
        rec,
        flushedAt: now,
        changed: false,
        mustWrite: false,
        viewStale: false,
        viewEvents: false,
        viewAt: now,
        owed: 0,
        phase: Math.random(),
        writing: false,
      });
    });
    return true;
  }

  /**
   * Reads the owned shards' streams and hands each batch to processBatch. A shard with a batch under way is not
   * read again until that batch is committed (its state must not take two batches at once), but the others go on
   * being read and processed meanwhile: a big room's batch is applied and checkpointed in steps with the thread
   * free between them, and the rooms of the other shards are served in those gaps (they used to wait for the
   * slowest shard of the read, every read).
   */
  private async loop(): Promise<void> {
    const busy = new Map<ShardRuntime, Promise<void>>();
    while (this.running) {
      const owned = [...this.owned.values()];
      const shards = owned.filter((s) => !busy.has(s));
      if (shards.length === 0) {
        await (busy.size > 0 ? Promise.race(busy.values()) : sleep(100));
        continue;
      }
      try {
        await this.writeClocks(owned);
        const streams = shards.map((s) => keys.events(s.shard));
        const ids = shards.map((s) => s.readFrom);
        // While a shard is busy its batch's end is not waited for behind a long block on the others.
        const blockMs = busy.size > 0 ? BUSY_READ_BLOCK_MS : 200;
        const reply = await readStreams(this.reader, streams, ids, { count: this.opts.batchSize ?? BATCH_SIZE, blockMs });
        if (!reply) continue;
        for (const [stream, entries] of reply) {
          const rt = shards.find((s) => keys.events(s.shard) === stream);
          if (!rt || !this.owns(rt) || busy.has(rt) || entries.length === 0) continue;
          const run = this.processBatch(rt, entries)
            .catch(async (err: unknown) => {
              if (!this.running) return;
              this.opts.log.warn('detector loop error, retrying', { worker: this.id, shard: rt.shard, error: (err as Error).message });
              await sleep(250);
            })
            .finally(() => busy.delete(rt));
          busy.set(rt, run);
        }
      } catch (err) {
        if (!this.running) break;
        this.opts.log.warn('detector loop error, retrying', { worker: this.id, error: (err as Error).message });
        await sleep(250);
      }
    }
    await Promise.allSettled(busy.values());
  }

  /** Writes a clock record into each owned shard with active rooms, about once a second. */
  private async writeClocks(shards: ShardRuntime[]): Promise<void> {
    const now = Date.now();
    // Each shard at its own point of the second: records written together made every room of every shard
    // tick in one cycle (1,000 outputs and their commits at once, then a burst at the gateway).
    const due = shards.filter((s) => s.active.size > 0 && dueAgain(s.lastClockAt, now, CLOCK_EVERY_MS, s.shard / this.opts.shards));
    if (due.length === 0) return;
    for (const s of due) s.lastClockAt = now;
    // A pipeline may name one slot only on a Redis Cluster: there, one call per shard.
    if (isCluster(this.redis)) {
      await Promise.all(due.map((s) => this.redis.xadd(keys.events(s.shard), '*', 'c', '1')));
      return;
    }
    const pipe = this.redis.pipeline();
    for (const s of due) pipe.xadd(keys.events(s.shard), '*', 'c', '1');
    await pipe.exec();
  }

  private async processBatch(rt: ShardRuntime, entries: [string, string[]][]): Promise<void> {
    // Parse and validate each entry once (the bench measured JSON.parse + parseEvent at several times the
    // core's own cost per event), then load every room this batch touches in one round trip.
    const parsedEvents: (CrestEvent | null | undefined)[] = new Array(entries.length);
    const needed = new Set<string>();
    // Plan records (field `p`, written by the plan scheduler and the plans API): few, so a sparse map.
    const planRecords = new Map<number, ReturnType<typeof parsePlanRecord>>();
    const current = () => this.owns(rt);
    // Parsed and applied in steps of about STEP_MS, the thread free between them (nothing else touches this
    // shard meanwhile: loop() does not read it again before this batch is done; a drop during a pause abandons it).
    const box = new TimeBox(STEP_MS);
    for (let i = 0; i < entries.length; i++) {
      if ((i & 31) === 31 && box.due() && !(await box.pauseFor(current))) return;
      const e = fieldOf(entries[i]![1], 'e');
      if (e === undefined) {
        const p = fieldOf(entries[i]![1], 'p');
        if (p !== undefined) planRecords.set(i, parsePlanRecord(p));
        if (p !== undefined && planRecords.get(i)) needed.add(planRecords.get(i)!.room);
        continue;
      }
      const parsed = eventOf(e);
      parsedEvents[i] = parsed;
      if (parsed) needed.add(parsed.room);
    }
    box.end();
    if (!(await this.loadRooms(rt, [...needed], current))) return;
    box.restart();

    // Entries ≤ C were committed by a predecessor: re-derive their effect on the room states (from each
    // room's own cursor) but drop their outputs, which are in the out stream already.
    const outputs: RoomUpdate[] = [];
    const replayed: RoomUpdate[] = [];
    let events = 0;
    /** Fresh events that no room owes (invalid ones): they count as processed with this commit. */
    let unowed = 0;
    /** Append times (stream-id ms) of this batch's fresh events: detector lag, observed once committed. */
    const arrivals: number[] = [];
    let { rid: runRid, left: runLeft } = rt.run;
    for (let i = 0; i < entries.length; i++) {
      if ((i & 31) === 31 && box.due() && !(await box.pauseFor(current))) return;
      const [id, fields] = entries[i]!;
      const arrival = idMs(id);
      const fresh = compareIds(id, rt.cursor) > 0;
      const out = fresh ? outputs : replayed;
      const outBefore = outputs.length;
      const parsed = parsedEvents[i];
      // This entry's request id (see ShardRuntime.run): its own `q`, or the run's it is part of.
      const q = fieldOf(fields, 'q');
      let rid: string | undefined;
      if (q !== undefined) {
        rid = runRid = q;
        runLeft = Math.max(0, Number(fieldOf(fields, 'qn') ?? 1) - 1);
      } else if (runLeft > 0 && parsed !== undefined) {
        rid = runRid;
        runLeft--;
      } else runLeft = 0;
      if (parsed !== undefined) {
        if (fresh) {
          events++;
          arrivals.push(arrival);
        }
        if (!parsed) {
          if (fresh) {
            unowed++;
            this.stats.invalid++;
            this.opts.log.warn('skipped invalid stream entry', { shard: rt.shard, id });
          }
          continue;
        }
        const slot = rt.rooms.get(parsed.room)!;
        const rec = slot.rec;
        if (compareIds(id, rec.cursor!) <= 0) continue; // already in this room's state
        applyEvent(rec.state, parsed, this.opts.engine, out);
        if (fresh) slot.owed++;
        rec.anchorTs = Math.max(rec.anchorTs, roomClock(rec.state));
        rec.anchorArrival = arrival;
        slot.changed = true;
        markView(rt, parsed.room, slot, true);
        if (!rt.active.has(parsed.room)) {
          rt.active.add(parsed.room);
          rt.activeChanged = true;
          slot.mustWrite = true;
        }
      } else if (planRecords.has(i)) {
        // Dedupe key: the cue id, remembered in the room state (core/plans.ts) and set NX by plan-fire.lua.
        const plan = planRecords.get(i);
        if (!plan) {
          if (fresh) this.opts.log.warn('skipped invalid plan record', { shard: rt.shard, id });
          continue;
        }
        const slot = rt.rooms.get(plan.room)!;
        if (compareIds(id, slot.rec.cursor!) <= 0) continue;
        if (applyPlanRecord(slot.rec.state, plan, this.opts.engine, out)) {
          slot.changed = true;
          markView(rt, plan.room, slot, true);
        }
      } else if (fieldOf(fields, 'c') !== undefined) {
        for (const room of rt.active) {
          const slot = rt.rooms.get(room);
          if (!slot || compareIds(id, slot.rec.cursor!) <= 0) continue;
          const rec = slot.rec;
          if (arrival - rec.anchorArrival > ROOM_IDLE_MS) {
            rt.active.delete(room);
            rt.activeChanged = true;
            slot.mustWrite = true;
            continue;
          }
          advanceTo(rec.state, rec.anchorTs + (arrival - rec.anchorArrival), this.opts.engine, out);
          slot.changed = true;
          markView(rt, room, slot, false);
        }
      }
      // Where each output came from (core/protocol.ts RoomUpdate): lag metrics and request ids.
      if (outputs.length > outBefore) {
        for (let k = outBefore; k < outputs.length; k++) {
          const o = outputs[k]!;
          o.at = arrival;
          if (rid !== undefined) o.rid = rid;
        }
      }
    }
    // Rooms whose summary must go out with this batch (see VIEW_REFRESH_MS).
    const urgent = new Set<string>();
    for (const list of [replayed, outputs]) {
      for (const o of list) {
        if (o.type === 'suggestion') rt.rooms.get(o.room)!.rec.lastSuggestion = o.suggestion;
        if (o.type !== 'tick') urgent.add(o.room);
      }
    }
    const end = entries[entries.length - 1]![0];
    const cursor = compareIds(end, rt.cursor) > 0 ? end : rt.cursor;
    this.stats.longestApplyMs = Math.max(this.stats.longestApplyMs, box.end());
    const toWrite = await this.sliceBigDeltas(rt, this.statesToWrite(rt));
    if (toWrite === false) return;
    const waiting = entries.length >= (this.opts.batchSize ?? BATCH_SIZE) || rt.backlog > 0;
    const views = this.viewsToWrite(rt, urgent, waiting, compareIds(end, rt.replayTo) < 0);
    // Events whose effect the views show once this commit lands (see VIEW_EVENTS_MS).
    let released = unowed;
    for (const room of views.rooms) released += rt.rooms.get(room)!.owed;
    let inheritedDone = false;
    if (rt.inheritedOwed !== 0) {
      const written = new Set(views.rooms);
      inheritedDone = [...rt.owedUnwritten].every((r) => written.has(r));
    }
    if (inheritedDone) released += rt.inheritedOwed;
    if (cursor !== rt.cursor || outputs.length > 0 || views.rooms.length > 0 || toWrite.length > 0 || rt.activeChanged || released !== 0) {
      const done = await this.commit(rt, cursor, end, released, events - released, outputs, views.rooms, toWrite);
      if (done === false) return;
      rt.backlog = done;
      if (views.eventsDeferred) this.stats.viewsDeferred++;
    }
    if (inheritedDone) {
      rt.inheritedOwed = 0;
      rt.owedUnwritten.clear();
    }
    rt.cursor = cursor;
    rt.readFrom = end;
    rt.run = { rid: runRid, left: runLeft };
    rt.activeChanged = false;
    const now = Date.now();
    for (const room of toWrite) {
      const slot = rt.rooms.get(room)!;
      slot.flushedAt = now;
      slot.changed = false;
      slot.mustWrite = false;
      slot.writing = false;
    }
    for (const room of views.rooms) {
      const slot = rt.rooms.get(room)!;
      slot.viewStale = false;
      slot.viewEvents = false;
      slot.viewAt = now;
      slot.owed = 0;
      rt.staleViews.delete(room);
      rt.owedUnwritten.delete(room);
    }
    // Rooms outside the active set leave memory (a changed one was written above); their state stays in the
    // checkpoint for the API and for their next event.
    for (const [room, slot] of rt.rooms) {
      if (rt.active.has(room)) continue;
      rt.rooms.delete(room);
      // Left while replaying, its summary unwritten: the predecessor wrote it when the room left, from this very state.
      if (slot.viewStale) rt.staleViews.delete(room);
    }
    this.stats.events += events;
    this.stats.batches++;
    const m = this.opts.metrics;
    if (m) {
      const shard = String(rt.shard);
      const lag = m.detectorLag.labels(shard);
      for (const a of arrivals) lag.observe((now - a) / 1000);
      m.detectorBatches.labels(shard).inc();
    }
  }

  /**
   * Rooms whose summary goes into this commit (see VIEW_REFRESH_MS), and whether summaries of event changes stay
   * behind. None while `replaying` (the batch ends before the cursor C the shard was loaded at): a room state is
   * then behind what its published summary shows — the predecessor's, written up to C — and a summary from it
   * would show fewer events (seen for ~2.5 s after a takeover, the counters saying caught up meanwhile). They stay
   * stale and go out once the replay reaches C; a predecessor's deferred summaries are still owed until then.
   */
  private viewsToWrite(rt: ShardRuntime, urgent: Set<string>, waiting: boolean, replaying: boolean): { rooms: string[]; eventsDeferred: boolean } {
    const now = Date.now();
    const rooms: string[] = [];
    let eventsDeferred = false;
    if (replaying) return { rooms, eventsDeferred };
    // Rooms loaded with an inherited `@owed` that left during the replay and did not come back: their
    // summaries are the predecessor's, written when they left (they owe nothing), so the owed is not held by them.
    if (rt.owedUnwritten.size > 0) for (const room of rt.owedUnwritten) if (!rt.rooms.has(room)) rt.owedUnwritten.delete(room);
    // Caught up, a shard writes its summaries of event changes at once, unless there are many: those would
    // all come due again together (each at its own point of the period is what keeps commits small).
    const atOnce = !waiting && rt.staleViews.size <= VIEW_BURST;
    for (const room of rt.staleViews) {
      const slot = rt.rooms.get(room)!;
      const due = slot.viewEvents ? atOnce || dueAgain(slot.viewAt, now, VIEW_EVENTS_MS, slot.phase) : dueAgain(slot.viewAt, now, VIEW_REFRESH_MS, slot.phase);
      if (due || urgent.has(room) || !rt.active.has(room)) rooms.push(room);
      else if (slot.viewEvents) eventsDeferred = true;
    }
    return { rooms, eventsDeferred };
  }

  /**
   * Sends the deltas of the rooms due for a write that are bigger than a slice, slice by slice, until what is
   * left fits in one (it then goes with the JSON in this batch's commit), or DELTA_SLICES_PER_BATCH are out —
   * then the room's JSON waits for a later batch, unless it must be written now (joined or left the active
   * set, or leaves memory): those are sliced to the end here. Returns the rooms whose JSON goes into this
   * commit, or false when the shard was lost meanwhile (nothing more is written).
   */
  private async sliceBigDeltas(rt: ShardRuntime, due: string[]): Promise<string[] | false> {
    const max = this.opts.deltaSlice ?? DELTA_SLICE;
    const perBatch = this.opts.deltaSlicesPerBatch ?? DELTA_SLICES_PER_BATCH;
    const ready: string[] = [];
    // Slices are sent one after another without waiting for each reply (one connection: Redis runs them in
    // order), the thread free after each; the commit goes only once every one of them has landed.
    const sent: Promise<void>[] = [];
    let failure: { err: unknown } | null = null;
    const current = () => this.owns(rt) && failure === null;
    for (const room of due) {
      const slot = rt.rooms.get(room)!;
      const writeNow = slot.mustWrite || !rt.active.has(room);
      let n = 0;
      while (deltaSize(slot.rec.state) > max && (writeNow || n < perBatch) && current()) {
        // The first slice of a batch is awaited, with run()'s EVAL fallback: the script is then in Redis's
        // cache (a fresh or restarted Redis does not have it) and the pipelined ones after it run by SHA.
        const first = sent.length === 0;
        const reply = this.sendSlice(rt, room, slot, max, first).then(
          () => undefined,
          (err: unknown) => void (failure ??= { err }),
        );
        sent.push(reply);
        n++;
        await (first ? reply : yieldThread());
      }
      if (deltaSize(slot.rec.state) <= max) ready.push(room);
    }
    await Promise.all(sent);
    if (failure !== null) {
      const err = (failure as { err: unknown }).err;
      if (err instanceof Error && err.message.includes('CREST_LEASE_LOST')) {
        this.dropShard(rt.shard, 'lease lost between slices; successor undoes them and resumes from the last checkpoint');
        return false;
      }
      // A slice may or may not have landed, and it is drained from the state: reload from what Redis holds
      // (its undo log puts the parts back as the last checkpoint left them, whatever landed in whatever order).
      if (this.owns(rt)) this.owned.delete(rt.shard);
      throw err;
    }
    return this.owns(rt) ? ready : false;
  }

  /** Sends one slice of a room's delta (checkpoint-slice.lua; pipelined ones by SHA only: LuaScript.runBySha); settles with its reply. */
  private sendSlice(rt: ShardRuntime, room: string, slot: RoomSlot, max: number, withFallback: boolean): Promise<unknown> {
    const t = performance.now();
    const d = takeDeltaSlice(slot.rec.state, max);
    const mode = d.fresh ? (d.first ? 'F' : 'f') : '';
    const items: string[] = [];
    for (const list of [d.closed, d.put, d.unique, d.payers]) for (const x of list) items.push(x);
    const args = [this.id, room, mode, d.closed.length, d.put.length, d.unique.length, d.payers.length, luaJsonArray(items)];
    slot.writing = true;
    // Taking the slice, building the arguments and ioredis's encoding on send: the step that holds the thread.
    const script = scripts.checkpointSlice;
    const reply = withFallback ? script.run(this.redis, slicedKeys(rt.shard, room), args) : script.runBySha(this.redis, slicedKeys(rt.shard, room), args);
    this.stats.longestSliceMs = Math.max(this.stats.longestSliceMs, performance.now() - t);
    this.stats.slices++;
    return reply;
  }

  /** Undoes a sliced checkpoint that never ended (checkpoint-undo.lua), page by page, before the room is read. */
  private async undoSlices(shard: number, room: string): Promise<void> {
    const keyList = slicedKeys(shard, room);
    for (const which of ['s', 'u', 'p']) {
      let cursor = '0';
      do cursor = String(await scripts.checkpointUndo.run(this.redis, keyList, [this.id, room, which, cursor, this.opts.deltaSlice ?? DELTA_SLICE]));
      while (cursor !== '0');
    }
    await scripts.checkpointUndo.run(this.redis, keyList, [this.id, room, 'end', '0', 0]);
    this.opts.log.info('detector undid a sliced checkpoint left half-written', { worker: this.id, shard, room });
  }

  /** Rooms whose state goes into this commit: joined/left the active set, changed outside it, or changed and due. */
  private statesToWrite(rt: ShardRuntime): string[] {
    const now = Date.now();
    const flushMs = this.opts.stateFlushMs ?? STATE_FLUSH_MS;
    const out: string[] = [];
    for (const [room, slot] of rt.rooms) {
      if (slot.mustWrite || (slot.changed && (dueAgain(slot.flushedAt, now, flushMs, slot.phase) || !rt.active.has(room)))) out.push(room);
    }
    return out;
  }

  /**
   * Commits one batch: the shard's backlog after it (events added but not yet applied); false when the lease
   * was lost (nothing written, the shard is dropped). `released` events move to `@processed` (their rooms'
   * summaries are in this commit or need none); `@owed` changes by `owedDelta`.
   */
  private async commit(
    rt: ShardRuntime,
    cursor: string,
    end: string,
    released: number,
    owedDelta: number,
    outputs: RoomUpdate[],
    viewRooms: string[],
    toWrite: string[],
  ): Promise<number | false> {
    // Built in steps (STEP_MS), the thread free between them: nothing else touches this shard meanwhile (loop()
    // reads it again only once this batch is done); dropped during a pause, nothing is sent.
    const box = new TimeBox(STEP_MS);
    const current = () => this.owns(rt);
    const step = async () => !box.due() || box.pauseFor(current);
    const perRoom = new Map<string, { record: string; summary: string; sugs: string[]; series: string[]; delta: RoomDelta | null; sliced: boolean }>();
    const slotOf = (room: string) => {
      let slot = perRoom.get(room);
      if (!slot) perRoom.set(room, (slot = { record: '', summary: '', sugs: [], series: [], delta: null, sliced: false }));
      return slot;
    };
    for (const room of viewRooms) {
      slotOf(room).summary = JSON.stringify(summaryOf(room, rt.rooms.get(room)!.rec));
      if (!(await step())) return false;
    }
    for (const room of toWrite) {
      if (!(await step())) return false;
      const rec = rt.rooms.get(room)!.rec;
      // The state now holds every entry up to the end of this batch (or more, while still replaying).
      if (compareIds(end, rec.cursor!) > 0) rec.cursor = end;
      const slot = slotOf(room);
      slot.record = JSON.stringify(rec);
      // What changed in its sessions and viewer sets goes with it, in the same script (every failure below
      // drops the shard's in-memory states, so a drained delta is never lost: the successor re-derives it).
      slot.delta = takeDelta(rec.state);
      slot.sliced = rt.rooms.get(room)!.writing;
    }
    const outArgs: string[] = [];
    for (const o of outputs) {
      if (!(await step())) return false;
      outArgs.push(o.room, JSON.stringify(o));
      if (o.type === 'suggestion') slotOf(o.room).sugs.push(JSON.stringify(o.suggestion));
      else if (o.type === 'tick') {
        const m = o.tick.metrics;
        slotOf(o.room).series.push(`${o.tick.ts},${m.concurrency},${m.gmv},${m.orders}`);
      }
    }
    const roomKeys: string[] = [];
    const slicedRoomKeys: string[] = [];
    const roomArgs: (string | number)[] = [];
    const lists: string[] = [];
    if (!(await step())) return false;
    for (const [room, slot] of perRoom) {
      roomKeys.push(
        keys.suggestions(rt.shard, room),
        keys.series(rt.shard, room),
        keys.sessions(rt.shard, room),
        keys.uniqueViewers(rt.shard, room),
        keys.payingViewers(rt.shard, room),
      );
      const d = slot.delta;
      let flags = d ? `${d.reset ? 'r' : ''}${d.uniqueDropped ? 'u' : ''}${d.payersDropped ? 'p' : ''}` : '';
      if (slot.sliced) {
        // This ends the room's sliced checkpoint: its undo log goes, its fresh keys replace the parts on a reset.
        flags += d!.fresh ? 'wf' : 'w';
        slicedRoomKeys.push(...slicedKeys(rt.shard, room).slice(5));
      }
      roomArgs.push(room, slot.record, slot.summary, slot.sugs.length, slot.series.length, flags);
      roomArgs.push(d?.closed.length ?? 0, d?.put.length ?? 0, d?.unique.length ?? 0, d?.payers.length ?? 0);
      for (const x of slot.sugs) lists.push(x);
      for (const x of slot.series) lists.push(x);
      if (d) for (const list of [d.closed, d.put, d.unique, d.payers]) for (const x of list) lists.push(x);
    }
    // Never trim what a successor would replay: the oldest room state of the active set bounds the trim.
    let minId = cursor;
    for (const room of rt.active) {
      const c = rt.rooms.get(room)?.rec.cursor;
      if (c !== undefined && compareIds(c, minId) < 0) minId = c;
    }
    const trimBefore = Date.now() - this.opts.eventRetentionMs;
    if (trimBefore > 0 && idMs(minId) > trimBefore) minId = `${trimBefore}-0`;
    if (!(await step())) return false;
    const keyList = [keys.lease(rt.shard), keys.checkpoint(rt.shard), keys.out(rt.shard), keys.view(rt.shard), keys.events(rt.shard), ...roomKeys, ...slicedRoomKeys];
    const args = [
      this.id,
      cursor,
      released,
      this.opts.outStreamMaxLen,
      minId,
      rt.activeChanged ? JSON.stringify([...rt.active]) : '',
      SUGGESTIONS_KEPT,
      SERIES_KEPT,
      perRoom.size,
      outputs.length,
      owedDelta,
      ...roomArgs,
      ...lists,
      ...outArgs,
    ];
    // Dropped while this batch was in flight (lease lost, or a reconnect): its state may be stale.
    if (!this.owns(rt)) return false;
    try {
      const reply = scripts.checkpoint.run(this.redis, keyList, args);
      this.stats.longestCommitMs = Math.max(this.stats.longestCommitMs, box.end());
      return Number(await reply);
    } catch (err) {
      if (err instanceof Error && err.message.includes('CREST_LEASE_LOST')) {
        this.dropShard(rt.shard, 'lease lost before commit; successor resumes from the last checkpoint');
        return false;
      }
      // Not committed: forget in-memory states so the retry re-derives them from the checkpoint.
      if (this.owns(rt)) this.owned.delete(rt.shard);
      throw err;
    }
  }
}

/** The room's summary is now older than its state (by an event or plan record, or only by the clock). */
function markView(rt: ShardRuntime, room: string, slot: RoomSlot, byEvent: boolean): void {
  slot.viewStale = true;
  if (byEvent) slot.viewEvents = true;
  rt.staleViews.add(room);
}

/** What the API and the room list read without parsing the (possibly large) room state. */
function summaryOf(room: string, rec: RoomRecord): RoomView {
  const windows = roomWindows(rec.state);
  const last = windows[windows.length - 1];
  return {
    room,
    metrics: roomMetrics(rec.state),
    activeWindow: last && last.state !== 'ended' ? last : null,
    lastSuggestion: rec.lastSuggestion,
    windows,
  };
}

/** The KEYS of checkpoint-slice.lua and checkpoint-undo.lua for a room (the last six follow checkpoint.lua's). */
function slicedKeys(shard: number, room: string): string[] {
  return [
    keys.lease(shard),
    keys.checkpoint(shard),
    keys.sessions(shard, room),
    keys.uniqueViewers(shard, room),
    keys.payingViewers(shard, room),
    keys.sessionsUndo(shard, room),
    keys.uniqueUndo(shard, room),
    keys.payersUndo(shard, room),
    keys.sessionsFresh(shard, room),
    keys.uniqueFresh(shard, room),
    keys.payersFresh(shard, room),
  ];
}

/** Every item of a hash (field, value, …) or set, page by page (SCAN): a big room's parts never block Redis in one reply. */
async function scanPages(redis: RedisClient, cmd: 'hscan' | 'sscan', key: string, onPage: (page: string[]) => void): Promise<void> {
  let cursor = '0';
  do {
    const [next, page] = await redis[cmd](key, cursor, 'COUNT', 10_000);
    cursor = next;
    onPage(page);
  } while (cursor !== '0');
}

/** Lets timers (lease renewals) and replies in before the next step: setImmediate runs after the poll phase. */
const yieldThread = () => new Promise<void>((ok) => setImmediate(ok));

/**
 * Synchronous work cut into steps of about `ms`: `pause()` yields the thread once the current step has run that
 * long (then `longest` holds the longest step so far); `end()` closes the last step and returns `longest`.
 */
class TimeBox {
  private from = performance.now();
  longest = 0;
  constructor(private readonly ms: number) {}
  /** Whether the step has run its time (cheap enough to ask every few items). */
  due(): boolean {
    return performance.now() - this.from >= this.ms;
  }
  async pause(): Promise<void> {
    this.end();
    await yieldThread();
    this.restart();
  }
  /** Pauses, then says whether the work may go on (`stillOn`: e.g. the shard is still this worker's). */
  async pauseFor(stillOn: () => boolean): Promise<boolean> {
    await this.pause();
    return stillOn();
  }
  /** A new step begins (after an await of something else). */
  restart(): void {
    this.from = performance.now();
  }
  end(): number {
    this.longest = Math.max(this.longest, performance.now() - this.from);
    return this.longest;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
