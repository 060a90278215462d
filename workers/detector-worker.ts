/**
 * Detector worker: holds shard leases, reads each owned shard's event stream from its checkpoint,
 * runs the pure core, and commits states + cursor + outputs in one fenced script (checkpoint.lua).
 *
 * Dedupe key: the event-stream id. A batch is committed with the id it ends at, so replaying a range
 * after a crash re-derives the same outputs and commits them once. Time with no events comes from
 * clock records the lease holder writes into the shard stream itself, so replay stays deterministic.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseEvent, type CrestEvent } from '../core/events.ts';
import { advanceTo, applyEvent, createRoomState, roomMetrics, roomWindows, type RoomState } from '../core/engine.ts';
import type { EngineConfig } from '../core/engine-config.ts';
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
}

/** A room's checkpoint record: its core state plus the anchor that maps arrival time to event time. */
interface RoomRecord {
  state: RoomState;
  /** Event time and arrival (stream-id ms) of the room's latest event: clocks project from here. */
  anchorTs: number;
  anchorArrival: number;
  lastSuggestion: Suggestion | null;
}

interface ShardRuntime {
  shard: number;
  cursor: string;
  /** Rooms the clock advances; part of the checkpoint so a successor advances the same ones. */
  active: Set<string>;
  rooms: Map<string, RoomRecord>;
  lastClockAt: number;
}

const SUGGESTIONS_KEPT = 500;
const SERIES_KEPT = 3_600;
/** A room with no event for this long (arrival time) stops being advanced by the clock. */
const ROOM_IDLE_MS = 30 * 60_000;
const CLOCK_EVERY_MS = 1_000;

export class DetectorWorker {
  readonly id: string;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly owned = new Map<number, ShardRuntime>();
  private running = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private loopDone: Promise<void> | null = null;
  readonly stats = { events: 0, batches: 0, invalid: 0, leaseLost: 0 };

  constructor(private readonly opts: DetectorWorkerOptions) {
    this.id = opts.workerId ?? `det-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    // Blocking reads get their own connection so they never delay checkpoints and lease renewals.
    this.reader = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    for (const c of [this.redis, this.reader]) c.on('error', (e) => opts.log.debug('detector redis', { error: e.message }));
  }

  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.reader.connect()]);
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
      [...this.owned.keys()].map((s) => scripts.lease.run(this.redis, [keys.lease(s)], [this.id, this.opts.leaseMs, 'release'])),
    );
    this.owned.clear();
    this.redis.disconnect();
  }

  ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  private async refreshLeases(): Promise<void> {
    if (!this.running) return;
    for (let s = 0; s < this.opts.shards; s++) {
      const mode = this.owned.has(s) ? 'renew' : 'acquire';
      try {
        const held = (await scripts.lease.run(this.redis, [keys.lease(s)], [this.id, this.opts.leaseMs, mode])) === 1;
        if (held && mode === 'acquire') this.owned.set(s, await this.loadShard(s));
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
    const rt: ShardRuntime = { shard, cursor: cursor ?? '0-0', active: new Set(active ? (JSON.parse(active) as string[]) : []), rooms: new Map(), lastClockAt: 0 };
    await this.loadRooms(rt, [...rt.active]);
    this.opts.log.debug('detector took shard', { worker: this.id, shard, cursor: rt.cursor, activeRooms: rt.active.size });
    return rt;
  }

  private async loadRooms(rt: ShardRuntime, rooms: string[]): Promise<void> {
    const missing = rooms.filter((r) => !rt.rooms.has(r));
    if (missing.length === 0) return;
    const raw = await this.redis.hmget(keys.checkpoint(rt.shard), ...missing.map(CHECKPOINT_FIELDS.room));
    missing.forEach((room, i) => {
      const json = raw[i];
      const rec: RoomRecord = json
        ? (JSON.parse(json) as RoomRecord)
        : { state: createRoomState(room, this.opts.engine), anchorTs: 0, anchorArrival: 0, lastSuggestion: null };
      rt.rooms.set(room, rec);
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
        const ids = shards.map((s) => s.cursor);
        const reply = (await this.reader.xread('COUNT', this.opts.batchSize ?? 2000, 'BLOCK', 200, 'STREAMS', ...streams, ...ids)) as
          | [string, [string, string[]][]][]
          | null;
        if (!reply) continue;
        for (const [stream, entries] of reply) {
          const rt = shards.find((s) => keys.events(s.shard) === stream);
          if (rt && this.owned.get(rt.shard) === rt && entries.length > 0) await this.processBatch(rt, entries);
        }
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
    for (let i = 0; i < entries.length; i++) {
      const e = fieldOf(entries[i]![1], 'e');
      if (e === undefined) continue;
      const parsed = safeParse(e);
      parsedEvents[i] = parsed;
      if (parsed) needed.add(parsed.room);
    }
    await this.loadRooms(rt, [...needed]);

    const outputs: RoomUpdate[] = [];
    const dirty = new Set<string>();
    let events = 0;
    for (let i = 0; i < entries.length; i++) {
      const [id, fields] = entries[i]!;
      const arrival = idMs(id);
      const parsed = parsedEvents[i];
      if (parsed !== undefined) {
        events++;
        if (!parsed) {
          this.stats.invalid++;
          this.opts.log.warn('skipped invalid stream entry', { shard: rt.shard, id });
          continue;
        }
        const rec = rt.rooms.get(parsed.room)!;
        applyEvent(rec.state, parsed, this.opts.engine, outputs);
        const watermark = roomMetrics(rec.state).ts;
        rec.anchorTs = Math.max(rec.anchorTs, watermark);
        rec.anchorArrival = arrival;
        rt.active.add(parsed.room);
        dirty.add(parsed.room);
      } else if (fieldOf(fields, 'c') !== undefined) {
        for (const room of [...rt.active]) {
          const rec = rt.rooms.get(room);
          if (!rec) continue;
          if (arrival - rec.anchorArrival > ROOM_IDLE_MS) {
            rt.active.delete(room);
            continue;
          }
          advanceTo(rec.state, rec.anchorTs + (arrival - rec.anchorArrival), this.opts.engine, outputs);
          dirty.add(room);
        }
      }
    }
    for (const o of outputs) if (o.type === 'suggestion') rt.rooms.get(o.room)!.lastSuggestion = o.suggestion;
    const cursor = entries[entries.length - 1]![0];
    await this.commit(rt, cursor, events, outputs, dirty);
    rt.cursor = cursor;
    // Rooms that went idle leave memory; their state stays in the checkpoint for the API.
    for (const room of rt.rooms.keys()) if (!rt.active.has(room)) rt.rooms.delete(room);
    this.stats.events += events;
    this.stats.batches++;
  }

  private async commit(rt: ShardRuntime, cursor: string, events: number, outputs: RoomUpdate[], dirty: Set<string>): Promise<void> {
    const perRoom = new Map<string, { sugs: string[]; series: string[] }>();
    for (const room of dirty) perRoom.set(room, { sugs: [], series: [] });
    for (const o of outputs) {
      const slot = perRoom.get(o.room);
      if (!slot) continue;
      if (o.type === 'suggestion') slot.sugs.push(JSON.stringify(o.suggestion));
      else if (o.type === 'tick') {
        const m = o.tick.metrics;
        slot.series.push(`${o.tick.ts},${m.concurrency},${m.gmv},${m.orders}`);
      }
    }
    const roomKeys: string[] = [];
    const roomArgs: string[] = [];
    for (const [room, slot] of perRoom) {
      const rec = rt.rooms.get(room)!;
      roomKeys.push(keys.suggestions(rt.shard, room), keys.series(rt.shard, room));
      roomArgs.push(room, JSON.stringify(rec), JSON.stringify(summaryOf(room, rec)), JSON.stringify(slot.sugs), JSON.stringify(slot.series));
    }
    const trimBefore = Date.now() - this.opts.eventRetentionMs;
    const minId = trimBefore > 0 && idMs(cursor) > trimBefore ? `${trimBefore}-0` : cursor;
    const keyList = [keys.lease(rt.shard), keys.checkpoint(rt.shard), keys.out(rt.shard), keys.view(rt.shard), keys.events(rt.shard), ...roomKeys];
    const args = [
      this.id,
      cursor,
      events,
      this.opts.outStreamMaxLen,
      minId,
      JSON.stringify([...rt.active]),
      JSON.stringify(outputs.map((o) => [o.room, JSON.stringify(o)])),
      SUGGESTIONS_KEPT,
      SERIES_KEPT,
      perRoom.size,
      ...roomArgs,
    ];
    try {
      await scripts.checkpoint.run(this.redis, keyList, args);
    } catch (err) {
      if (err instanceof Error && err.message.includes('CREST_LEASE_LOST')) {
        this.dropShard(rt.shard, 'lease lost before commit; successor resumes from the last checkpoint');
        return;
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
