/**
 * Detector worker: holds shard leases, reads each owned shard's event stream, runs the pure core, and
 * commits outputs + cursor in one fenced script per batch (checkpoint.lua).
 *
 * Dedupe key: the event-stream id. Time with no events comes from clock records the lease holder writes
 * into the shard stream itself, so replay stays deterministic.
 *
 * CHECKPOINT INVARIANT (exactly-once with deferred room states). Writing every touched room's full state
 * on every batch cost more than the detection itself, so room states are written lazily:
 *  - `@cursor` (C) is the output mark: every output (out stream, summaries, suggestion logs, series) of every
 *    stream entry ≤ C is committed, and so are `@processed` and `@active` (the rooms the clock advances) as
 *    they stood after C. Outputs and C always move together, in one script.
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
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseEvent, type CrestEvent } from '../core/events.ts';
import { advanceTo, applyEvent, createRoomState, roomClock, roomMetrics, roomWindows, type RoomState } from '../core/engine.ts';
import type { EngineConfig } from '../core/engine-config.ts';
import { applyPlanRecord, parsePlanRecord } from '../core/plans.ts';
import type { RoomUpdate, Suggestion } from '../core/protocol.ts';
import type { RoomView } from '../server/room-store.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { scripts } from '../server/lua/scripts.ts';
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
  /** A changed room state is written at most this often (default 0: every batch); see STATE_FLUSH_MS. */
  stateFlushMs?: number;
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
}

interface ShardRuntime {
  shard: number;
  /** C: every output of the entries up to here is committed. */
  cursor: string;
  /** Where the next read starts (below C while replaying after a takeover). */
  readFrom: string;
  /** Rooms the clock advances; part of the checkpoint so a successor advances the same ones. */
  active: Set<string>;
  activeChanged: boolean;
  rooms: Map<string, RoomSlot>;
  lastClockAt: number;
}

const SUGGESTIONS_KEPT = 500;
const SERIES_KEPT = 3_600;
/** A room with no event for this long (arrival time) stops being advanced by the clock. */
const ROOM_IDLE_MS = 30 * 60_000;
const CLOCK_EVERY_MS = 1_000;
/**
 * A changed room state is written at most this often (the replay range after a takeover is about this long).
 * 0 = every changed room with every batch, the default: with a deferral (5 s was measured) test/fault-redis-
 * restart.test.ts over-counted a few events after a redis-server restart, a hole not yet found, so the
 * deferral stays off until it is. The per-room cursors and the replay logic are exercised either way.
 */
const STATE_FLUSH_MS = 0;

export class DetectorWorker {
  readonly id: string;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly leases: Redis;
  private readonly owned = new Map<number, ShardRuntime>();
  private running = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private refreshing = false;
  private loopDone: Promise<void> | null = null;
  readonly stats = { events: 0, batches: 0, invalid: 0, leaseLost: 0 };

  constructor(private readonly opts: DetectorWorkerOptions) {
    this.id = opts.workerId ?? `det-${process.pid}-${randomBytes(3).toString('hex')}`;
    // Writes are never queued while Redis is away nor resent after a reconnect: a checkpoint whose reply
    // was lost may have landed, and sending it again would count its batch twice. A write cut off fails
    // at once (maxRetriesPerRequest 0: without it ioredis would neither resend nor ever settle it), the
    // shard is dropped, and its state is reloaded from what Redis really holds.
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, lazyConnect: true });
    // Blocking reads get their own connection so they never delay checkpoints and lease renewals; so do
    // lease renewals, so they never queue behind several shards' checkpoints in flight at once.
    this.reader = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.leases = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    for (const c of [this.redis, this.reader, this.leases]) c.on('error', (e) => opts.log.debug('detector redis', { error: e.message }));
    // Back from a reconnect, Redis may have restarted and lost its last second (AOF everysec, machine
    // crash): what we hold in memory may be ahead of it. Forget it; refreshLeases reloads each shard.
    let connectedOnce = false;
    this.redis.on('ready', () => {
      if (connectedOnce && this.owned.size > 0) {
        opts.log.warn('detector reconnected to redis: reloading its shards from their checkpoints', { worker: this.id });
        this.owned.clear();
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
  }

  /** Stops reading, gives the leases back (so a successor need not wait for expiry), closes connections. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.reader.disconnect();
    await this.loopDone?.catch(() => undefined);
    await Promise.allSettled(
      [...this.owned.keys()].map((s) => scripts.lease.run(this.leases, [keys.lease(s)], [this.id, this.opts.leaseMs, 'release'])),
    );
    this.owned.clear();
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

  private async refreshLeasesOnce(): Promise<void> {
    for (let s = 0; s < this.opts.shards; s++) {
      const mode = this.owned.has(s) ? 'renew' : 'acquire';
      try {
        const held = (await scripts.lease.run(this.leases, [keys.lease(s)], [this.id, this.opts.leaseMs, mode])) === 1;
        if (held && mode === 'acquire') {
          const rt = await this.loadShard(s);
          if (!this.owned.has(s)) this.owned.set(s, rt);
        }
        if (!held && mode === 'renew') this.dropShard(s, 'lease renewal refused');
      } catch (err) {
        // Redis unreachable: keep what we have; the checkpoint fence stops us writing if the lease lapsed.
        this.opts.log.debug('lease refresh failed', { shard: s, error: (err as Error).message });
      }
    }
  }

  private dropShard(shard: number, why: string): void {
    if (this.owned.delete(shard)) {
      this.stats.leaseLost++;
      this.opts.log.warn('detector gave up shard', { worker: this.id, shard, why });
    }
  }

  private async loadShard(shard: number): Promise<ShardRuntime> {
    const [cursor, active] = await this.redis.hmget(keys.checkpoint(shard), CHECKPOINT_FIELDS.cursor, CHECKPOINT_FIELDS.active);
    const c = cursor ?? '0-0';
    const rt: ShardRuntime = {
      shard,
      cursor: c,
      readFrom: c,
      active: new Set(active ? (JSON.parse(active) as string[]) : []),
      activeChanged: false,
      rooms: new Map(),
      lastClockAt: 0,
    };
    await this.loadRooms(rt, [...rt.active]);
    // Replay from the oldest room state of the active set; every room skips what its own state holds.
    for (const slot of rt.rooms.values()) if (compareIds(slot.rec.cursor!, rt.readFrom) < 0) rt.readFrom = slot.rec.cursor!;
    this.opts.log.debug('detector took shard', { worker: this.id, shard, cursor: rt.cursor, replayFrom: rt.readFrom, activeRooms: rt.active.size });
    return rt;
  }

  private async loadRooms(rt: ShardRuntime, rooms: string[]): Promise<void> {
    const missing = rooms.filter((r) => !rt.rooms.has(r));
    if (missing.length === 0) return;
    const raw = await this.redis.hmget(keys.checkpoint(rt.shard), ...missing.map(CHECKPOINT_FIELDS.room));
    const now = Date.now();
    const flushMs = this.opts.stateFlushMs ?? STATE_FLUSH_MS;
    missing.forEach((room, i) => {
      const json = raw[i];
      const rec: RoomRecord = json
        ? (JSON.parse(json) as RoomRecord)
        : { state: createRoomState(room, this.opts.engine), anchorTs: 0, anchorArrival: 0, lastSuggestion: null, cursor: '0-0' };
      rec.cursor ??= rt.cursor;
      // Spread the first writes of rooms loaded together over a flush period, so they do not all land in one batch.
      rt.rooms.set(room, { rec, flushedAt: now - Math.floor(Math.random() * flushMs), changed: false, mustWrite: false });
    });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const shards = [...this.owned.values()];
      if (shards.length === 0) {
        await sleep(100);
        continue;
      }
      try {
        await this.writeClocks(shards);
        const streams = shards.map((s) => keys.events(s.shard));
        const ids = shards.map((s) => s.readFrom);
        const reply = (await this.reader.xread('COUNT', this.opts.batchSize ?? 2000, 'BLOCK', 200, 'STREAMS', ...streams, ...ids)) as
          | [string, [string, string[]][]][]
          | null;
        if (!reply) continue;
        // Shards are independent (own lease, own checkpoint): while one commits, the next one computes.
        const runs: Promise<void>[] = [];
        for (const [stream, entries] of reply) {
          const rt = shards.find((s) => keys.events(s.shard) === stream);
          if (rt && this.owned.get(rt.shard) === rt && entries.length > 0) runs.push(this.processBatch(rt, entries));
        }
        const failed = (await Promise.allSettled(runs)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      } catch (err) {
        if (!this.running) break;
        this.opts.log.warn('detector loop error, retrying', { worker: this.id, error: (err as Error).message });
        await sleep(250);
      }
    }
  }

  /** Writes a clock record into each owned shard with active rooms, at most once a second. */
  private async writeClocks(shards: ShardRuntime[]): Promise<void> {
    const now = Date.now();
    const due = shards.filter((s) => s.active.size > 0 && now - s.lastClockAt >= CLOCK_EVERY_MS);
    if (due.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const s of due) {
      pipe.xadd(keys.events(s.shard), '*', 'c', '1');
      s.lastClockAt = now;
    }
    await pipe.exec();
  }

  private async processBatch(rt: ShardRuntime, entries: [string, string[]][]): Promise<void> {
    // Parse and validate each entry once (the bench measured JSON.parse + parseEvent at several times the
    // core's own cost per event), then load every room this batch touches in one round trip.
    const parsedEvents: (CrestEvent | null | undefined)[] = new Array(entries.length);
    const needed = new Set<string>();
    // Plan records (field `p`, written by the plan scheduler and the plans API): few, so a sparse map.
    const planRecords = new Map<number, ReturnType<typeof parsePlanRecord>>();
    for (let i = 0; i < entries.length; i++) {
      const e = fieldOf(entries[i]![1], 'e');
      if (e === undefined) {
        const p = fieldOf(entries[i]![1], 'p');
        if (p !== undefined) planRecords.set(i, parsePlanRecord(p));
        if (p !== undefined && planRecords.get(i)) needed.add(planRecords.get(i)!.room);
        continue;
      }
      const parsed = safeParse(e);
      parsedEvents[i] = parsed;
      if (parsed) needed.add(parsed.room);
    }
    await this.loadRooms(rt, [...needed]);

    // Entries ≤ C were committed by a predecessor: re-derive their effect on the room states (from each
    // room's own cursor) but drop their outputs, which are in the out stream already.
    const outputs: RoomUpdate[] = [];
    const replayed: RoomUpdate[] = [];
    const touched = new Set<string>();
    let events = 0;
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i]!;
      const arrival = idMs(id);
      const fresh = compareIds(id, rt.cursor) > 0;
      const out = fresh ? outputs : replayed;
      const parsed = parsedEvents[i];
      if (parsed !== undefined) {
        if (fresh) events++;
        if (!parsed) {
          if (fresh) {
            this.stats.invalid++;
            this.opts.log.warn('skipped invalid stream entry', { shard: rt.shard, id });
          }
          continue;
        }
        const slot = rt.rooms.get(parsed.room)!;
        const rec = slot.rec;
        if (compareIds(id, rec.cursor!) <= 0) continue; // already in this room's state
        applyEvent(rec.state, parsed, this.opts.engine, out);
        rec.anchorTs = Math.max(rec.anchorTs, roomClock(rec.state));
        rec.anchorArrival = arrival;
        slot.changed = true;
        if (!rt.active.has(parsed.room)) {
          rt.active.add(parsed.room);
          rt.activeChanged = true;
          slot.mustWrite = true;
        }
        if (fresh) touched.add(parsed.room);
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
          if (fresh) touched.add(plan.room);
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
          if (fresh) touched.add(room);
        }
      }
    }
    for (const list of [replayed, outputs]) {
      for (const o of list) if (o.type === 'suggestion') rt.rooms.get(o.room)!.rec.lastSuggestion = o.suggestion;
    }
    const end = entries[entries.length - 1]![0];
    const cursor = compareIds(end, rt.cursor) > 0 ? end : rt.cursor;
    const toWrite = this.statesToWrite(rt);
    if (cursor !== rt.cursor || outputs.length > 0 || touched.size > 0 || toWrite.length > 0 || rt.activeChanged) {
      if (!(await this.commit(rt, cursor, end, events, outputs, touched, toWrite))) return;
    }
    rt.cursor = cursor;
    rt.readFrom = end;
    rt.activeChanged = false;
    const now = Date.now();
    for (const room of toWrite) {
      const slot = rt.rooms.get(room)!;
      slot.flushedAt = now;
      slot.changed = false;
      slot.mustWrite = false;
    }
    // Rooms outside the active set leave memory (a changed one was written above); their state stays in the
    // checkpoint for the API and for their next event.
    for (const room of rt.rooms.keys()) if (!rt.active.has(room)) rt.rooms.delete(room);
    this.stats.events += events;
    this.stats.batches++;
  }

  /** Rooms whose state goes into this commit: joined/left the active set, changed outside it, or changed and due. */
  private statesToWrite(rt: ShardRuntime): string[] {
    const now = Date.now();
    const flushMs = this.opts.stateFlushMs ?? STATE_FLUSH_MS;
    const out: string[] = [];
    for (const [room, slot] of rt.rooms) {
      if (slot.mustWrite || (slot.changed && (now - slot.flushedAt >= flushMs || !rt.active.has(room)))) out.push(room);
    }
    return out;
  }

  /** Commits one batch; false when the lease was lost (nothing written, the shard is dropped). */
  private async commit(
    rt: ShardRuntime,
    cursor: string,
    end: string,
    events: number,
    outputs: RoomUpdate[],
    touched: Set<string>,
    toWrite: string[],
  ): Promise<boolean> {
    const perRoom = new Map<string, { record: string; summary: string; sugs: string[]; series: string[] }>();
    const slotOf = (room: string) => {
      let slot = perRoom.get(room);
      if (!slot) perRoom.set(room, (slot = { record: '', summary: '', sugs: [], series: [] }));
      return slot;
    };
    for (const room of touched) slotOf(room).summary = JSON.stringify(summaryOf(room, rt.rooms.get(room)!.rec));
    for (const room of toWrite) {
      const rec = rt.rooms.get(room)!.rec;
      // The state now holds every entry up to the end of this batch (or more, while still replaying).
      if (compareIds(end, rec.cursor!) > 0) rec.cursor = end;
      slotOf(room).record = JSON.stringify(rec);
    }
    const outArgs: string[] = [];
    for (const o of outputs) {
      outArgs.push(o.room, JSON.stringify(o));
      if (o.type === 'suggestion') slotOf(o.room).sugs.push(JSON.stringify(o.suggestion));
      else if (o.type === 'tick') {
        const m = o.tick.metrics;
        slotOf(o.room).series.push(`${o.tick.ts},${m.concurrency},${m.gmv},${m.orders}`);
      }
    }
    const roomKeys: string[] = [];
    const roomArgs: (string | number)[] = [];
    const lists: string[] = [];
    for (const [room, slot] of perRoom) {
      roomKeys.push(keys.suggestions(rt.shard, room), keys.series(rt.shard, room));
      roomArgs.push(room, slot.record, slot.summary, slot.sugs.length, slot.series.length);
      for (const x of slot.sugs) lists.push(x);
      for (const x of slot.series) lists.push(x);
    }
    // Never trim what a successor would replay: the oldest room state of the active set bounds the trim.
    let minId = cursor;
    for (const room of rt.active) {
      const c = rt.rooms.get(room)?.rec.cursor;
      if (c !== undefined && compareIds(c, minId) < 0) minId = c;
    }
    const trimBefore = Date.now() - this.opts.eventRetentionMs;
    if (trimBefore > 0 && idMs(minId) > trimBefore) minId = `${trimBefore}-0`;
    const keyList = [keys.lease(rt.shard), keys.checkpoint(rt.shard), keys.out(rt.shard), keys.view(rt.shard), keys.events(rt.shard), ...roomKeys];
    const args = [
      this.id,
      cursor,
      events,
      this.opts.outStreamMaxLen,
      minId,
      rt.activeChanged ? JSON.stringify([...rt.active]) : '',
      SUGGESTIONS_KEPT,
      SERIES_KEPT,
      perRoom.size,
      outputs.length,
      ...roomArgs,
      ...lists,
      ...outArgs,
    ];
    // Dropped while this batch was in flight (lease lost, or a reconnect): its state may be stale.
    if (this.owned.get(rt.shard) !== rt) return false;
    try {
      await scripts.checkpoint.run(this.redis, keyList, args);
      return true;
    } catch (err) {
      if (err instanceof Error && err.message.includes('CREST_LEASE_LOST')) {
        this.dropShard(rt.shard, 'lease lost before commit; successor resumes from the last checkpoint');
        return false;
      }
      // Not committed: forget in-memory states so the retry re-derives them from the checkpoint.
      this.owned.delete(rt.shard);
      throw err;
    }
  }
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

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Orders two stream ids (`<ms>-<seq>`) numerically: negative, zero or positive. */
function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = Number(a.slice(0, da));
  const mb = Number(b.slice(0, db));
  if (ma !== mb) return ma - mb;
  return Number(a.slice(da + 1)) - Number(b.slice(db + 1));
}

/** Stream ids are `<ms>-<seq>`; the ms part is when Redis appended the entry (arrival time). */
function idMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function safeParse(json: string): CrestEvent | null {
  try {
    const r = parseEvent(JSON.parse(json));
    return r.ok ? r.event : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
