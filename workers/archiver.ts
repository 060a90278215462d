/**
 * Archiver: turns each room's stream (stream.start … stream.end) into `<dir>/<room>/<streamId>.ndjson.gz`
 * (workers/stream-archive-format.ts) and its per-minute rollups in Redis, so a past stream can be reported on
 * long after the live shard streams were trimmed.
 *
 * It reads every shard's event stream on its own cursor (independent of the detector, like the alert
 * worker's consumer group), holding a lease per shard so two archivers never write the same spool.
 *
 * NEVER LOSE, NEVER DOUBLE:
 *  - Each entry of a room with an open stream is appended to that stream's spool file
 *    (`<dir>/.spool/<room>/<streamId>.spool`, one `<entry id>\t<line>` per line) and fsynced; only then does
 *    the cursor move (`@archived` in the shard's checkpoint hash). A restart re-reads from the cursor and skips,
 *    per room, the entries its spool already holds (ids ≤ the spool's last id), so nothing is written twice.
 *  - `@archived` is "<cursor> <hold-until ms>"; checkpoint.lua never trims the event stream past it while the
 *    hold is in the future (refreshed every few seconds, CREST_ARCHIVE_HOLD_MS ahead), so an archiver that is
 *    down — but back within the hold — finds every event it has not read. The trade-off: a shard keeps up to
 *    the hold's worth of events while the archiver is away; after that, retention wins and says so in the log.
 *  - A stream closes at its stream.end, at the room's next stream.start, or after CREST_ARCHIVE_IDLE_MS
 *    without events. Closing writes the archive atomically, then the rollups and the index in one
 *    transaction (both idempotent), then the cursor, and only then deletes the spool: a crash anywhere redoes
 *    the same writes.
 *
 * Clock lines: the detector advances active rooms from shard clock records by `anchorTs + (arrival −
 * anchorArrival)` (workers/detector-worker.ts); the archiver mirrors that projection and writes the times the
 * room really moved to, so a core replay of the file reproduces the live ticks and windows exactly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CrestEvent } from '../core/events.ts';
import type { EngineConfig } from '../core/engine-config.ts';
import { parsePlanRecord } from '../core/plans.ts';
import { shardOf } from '../core/sharding.ts';
import { replayThroughCore } from '../server/history-core-replay.ts';
import { ARCHIVED_FIELD, historyKeys, HistoryStore, type StreamEndReason, type StreamMeta } from '../server/history-store.ts';
import type { Logger } from '../server/logger.ts';
import { scripts, type RedisClient } from '../server/lua/scripts.ts';
import { createRedis, readStreams } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { compareIds, eventOf, fieldOf, idMs, maxId, ROOM_IDLE_MS } from './stream-entry.ts';
import { archivePath, parseArchiveLine, streamIdOf, writeArchive, type ArchiveLine } from './stream-archive-format.ts';

export interface ArchiverOptions {
  redisUrl: string;
  shards: number;
  /** Archive folder (spools live in its `.spool` subfolder). */
  dir: string;
  engine: EngineConfig;
  rollupDays: number;
  idleCloseMs: number;
  holdMs: number;
  leaseMs: number;
  log: Logger;
  batchSize?: number;
  workerId?: string;
}

const HEARTBEAT_MS = 2_000;

interface OpenStream {
  id: string;
  startTs: number;
  openedBy: StreamMeta['openedBy'];
  spool: string;
  fh: FileHandle | null;
  /** Stream id of the last spooled line. */
  lastId: string;
  events: number;
  /** Set once a closing line is spooled. */
  endedBy: StreamEndReason | null;
}

/** The archiver's mirror of the detector's per-room clock projection, plus the room's open stream. */
interface RoomTrack {
  room: string;
  shard: number;
  clock: number;
  anchorTs: number;
  anchorArrival: number;
  active: boolean;
  open: OpenStream | null;
  /** Entries of this room up to here were in a stream already archived (after a restart). */
  closedThrough: string;
}

interface Closing {
  room: string;
  stream: OpenStream;
  shard: number;
}

export class Archiver {
  readonly id: string;
  private readonly redis: RedisClient;
  private readonly reader: RedisClient;
  private readonly history: HistoryStore;
  private readonly cursors = new Map<number, string>();
  private readonly rooms = new Map<string, RoomTrack>();
  /** Spools already archived, deleted once their shard's cursor is saved past them. */
  private readonly spent: { shard: number; lastId: string; path: string }[] = [];
  /** Closed streams whose archiving failed (Redis or disk away): retried by housekeeping; their spools stay. */
  private readonly unarchived: Closing[] = [];
  private lastRetryAt = 0;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly stats = { entries: 0, archived: 0, batches: 0 };

  constructor(private readonly opts: ArchiverOptions) {
    this.id = opts.workerId ?? `arch-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.redis = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.reader = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    for (const c of [this.redis, this.reader]) c.on('error', (e) => opts.log.debug('archiver redis', { error: e.message }));
    this.history = new HistoryStore(this.redis, opts.shards);
  }

  private get spoolDir(): string {
    return join(this.opts.dir, '.spool');
  }

  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.reader.connect()]);
    await mkdir(this.spoolDir, { recursive: true });
    await this.recoverSpools();
    this.running = true;
    await this.refreshLeases();
    this.timer = setInterval(() => void this.housekeeping(), HEARTBEAT_MS);
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.reader.disconnect();
    await this.loopDone?.catch(() => undefined);
    for (const t of this.rooms.values()) await t.open?.fh?.close().catch(() => undefined);
    await Promise.allSettled([...this.cursors.keys()].map((s) => scripts.lease.run(this.redis, [historyKeys.lease(s)], [this.id, this.opts.leaseMs, 'release'])));
    this.redis.disconnect();
  }

  /** Open streams (room → stream id), for tests and logs. */
  openStreams(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const t of this.rooms.values()) if (t.open) out[t.room] = t.open.id;
    return out;
  }

  // ---- startup ---------------------------------------------------------------------------------------

  /** Rebuilds open streams (and the clock mirror) from the spools; archives the ones already closed. */
  private async recoverSpools(): Promise<void> {
    for (const room of await readdir(this.spoolDir).catch(() => [] as string[])) {
      const files = (await readdir(join(this.spoolDir, room))).filter((f) => f.endsWith('.spool')).sort();
      for (const f of files) {
        const path = join(this.spoolDir, room, f);
        const lines = await readSpool(path);
        if (lines.length === 0) {
          await rm(path, { force: true });
          continue;
        }
        const track = this.track(room);
        const first = lines.find((l) => l.line && 'type' in l.line)?.line as CrestEvent | undefined;
        const stream: OpenStream = {
          id: f.slice(0, -'.spool'.length),
          startTs: first?.ts ?? 0,
          openedBy: first?.type === 'stream.start' ? 'stream.start' : 'event',
          spool: path,
          fh: null,
          lastId: lines[lines.length - 1]!.id,
          events: 0,
          endedBy: null,
        };
        for (const l of lines) {
          if (l.closed) stream.endedBy = l.closed;
          else if (l.line) this.mirror(track, l.id, l.line);
          if (l.line && 'type' in l.line) {
            stream.events++;
            if (l.line.type === 'stream.end') stream.endedBy = 'stream.end';
          }
        }
        if (stream.endedBy) {
          await this.archive(room, stream);
          track.closedThrough = maxId(track.closedThrough, stream.lastId);
          this.spent.push({ shard: track.shard, lastId: stream.lastId, path });
        } else {
          if (track.open) {
            // Two open spools for one room (never written by this code): archive the older as ended by the newer.
            track.open.endedBy = 'next-start';
            await this.archive(room, track.open);
            await rm(track.open.spool, { force: true });
          }
          track.open = stream;
          track.active = true;
        }
      }
    }
  }

  private track(room: string): RoomTrack {
    let t = this.rooms.get(room);
    if (!t) this.rooms.set(room, (t = { room, shard: shardOf(room, this.opts.shards), clock: -1, anchorTs: 0, anchorArrival: 0, active: false, open: null, closedThrough: '0-0' }));
    return t;
  }

  /** Applies a spooled line to the clock mirror (the same rules as reading it live). */
  private mirror(t: RoomTrack, id: string, line: ArchiveLine): void {
    if ('type' in line) {
      t.clock = t.clock < 0 ? line.ts : Math.max(t.clock, line.ts);
      t.anchorTs = Math.max(t.anchorTs, t.clock);
      t.anchorArrival = idMs(id);
      t.active = true;
    } else if ('clock' in line) t.clock = Math.max(t.clock, line.clock);
  }

  // ---- leases, heartbeat, idle close -------------------------------------------------------------------

  private async refreshLeases(): Promise<void> {
    for (let s = 0; s < this.opts.shards; s++) {
      const mode = this.cursors.has(s) ? 'renew' : 'acquire';
      try {
        const held = (await scripts.lease.run(this.redis, [historyKeys.lease(s)], [this.id, this.opts.leaseMs, mode])) === 1;
        if (held && mode === 'acquire') {
          const raw = await this.redis.hget(keys.checkpoint(s), ARCHIVED_FIELD);
          const cursor = raw?.split(' ')[0] ?? '0-0';
          const first = (await this.redis.xrange(keys.events(s), '-', '+', 'COUNT', 1))[0]?.[0];
          if (raw && first && compareIds(first, cursor) > 0 && cursor !== '0-0') {
            // The hold ran out while no archiver was running: retention trimmed events never archived.
            this.opts.log.warn('archiver: events were trimmed before they were archived (archiver away longer than CREST_ARCHIVE_HOLD_MS)', { shard: s, cursor, oldestKept: first });
          }
          this.cursors.set(s, cursor);
          await this.saveCursor(s);
        }
        if (!held && mode === 'renew') {
          this.cursors.delete(s);
          this.opts.log.warn('archiver lost its lease on a shard', { shard: s, worker: this.id });
        }
      } catch (err) {
        this.opts.log.debug('archiver lease refresh failed', { shard: s, error: (err as Error).message });
      }
    }
  }

  private async housekeeping(): Promise<void> {
    if (!this.running) return;
    try {
      await this.refreshLeases();
      // Refresh the hold even when nothing arrives, so retention keeps waiting for us.
      for (const s of this.cursors.keys()) await this.saveCursor(s);
    } catch (err) {
      this.opts.log.debug('archiver housekeeping failed', { error: (err as Error).message });
    }
  }

  private async saveCursor(shard: number): Promise<void> {
    const c = this.cursors.get(shard);
    if (c === undefined) return;
    await this.redis.hset(keys.checkpoint(shard), ARCHIVED_FIELD, `${c} ${Date.now() + this.opts.holdMs}`);
    // Spools archived earlier are deleted only once the cursor is saved past them (see the header).
    for (let i = this.spent.length - 1; i >= 0; i--) {
      const sp = this.spent[i]!;
      if (sp.shard === shard && compareIds(sp.lastId, c) <= 0) {
        await rm(sp.path, { force: true });
        this.spent.splice(i, 1);
      }
    }
  }

  // ---- the read loop -----------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (this.running) {
      const shards = [...this.cursors.keys()];
      if (shards.length === 0) {
        await sleep(100);
        continue;
      }
      try {
        const reply = await readStreams(
          this.reader,
          shards.map((s) => keys.events(s)),
          shards.map((s) => this.cursors.get(s)!),
          { count: this.opts.batchSize ?? 2000, blockMs: 500 },
        );
        if (reply) {
          for (const [stream, entries] of reply) {
            const shard = shards.find((s) => keys.events(s) === stream);
            if (shard !== undefined && this.cursors.has(shard) && entries.length > 0) await this.processBatch(shard, entries);
          }
        }
        await this.maintain();
      } catch (err) {
        if (!this.running) break;
        this.opts.log.warn('archiver loop error, retrying', { worker: this.id, error: (err as Error).message });
        await sleep(500);
      }
    }
  }

  private async processBatch(shard: number, entries: [string, string[]][]): Promise<void> {
    const appends = new Map<OpenStream, string[]>();
    const closing: Closing[] = [];
    const append = (st: OpenStream, id: string, text: string) => {
      let a = appends.get(st);
      if (!a) appends.set(st, (a = []));
      a.push(`${id}\t${text}`);
      st.lastId = id;
    };
    const close = (t: RoomTrack, id: string, reason: StreamEndReason) => {
      const st = t.open!;
      if (reason !== 'stream.end') append(st, id, JSON.stringify({ closed: reason }));
      st.endedBy = reason;
      closing.push({ room: t.room, stream: st, shard });
      t.open = null;
      t.closedThrough = maxId(t.closedThrough, st.lastId);
    };

    for (const [id, fields] of entries) {
      const arrival = idMs(id);
      const e = fieldOf(fields, 'e');
      if (e !== undefined) {
        const ev = eventOf(e);
        if (!ev) continue; // the detector logs and skips it too
        const t = this.track(ev.room);
        if (compareIds(id, t.closedThrough) <= 0) continue;
        if (t.open && compareIds(id, t.open.lastId) <= 0) continue; // spooled before a restart
        if (ev.type === 'stream.start' && t.open) close(t, id, 'next-start');
        if (!t.open) t.open = await this.openStream(t, ev, id);
        this.mirror(t, id, ev);
        t.open.events++;
        append(t.open, id, e);
        if (ev.type === 'stream.end') close(t, id, 'stream.end');
        continue;
      }
      const p = fieldOf(fields, 'p');
      if (p !== undefined) {
        const plan = parsePlanRecord(p);
        const t = plan ? this.rooms.get(plan.room) : undefined;
        if (plan && t?.open && compareIds(id, t.open.lastId) > 0) append(t.open, id, JSON.stringify({ plan }));
        continue;
      }
      if (fieldOf(fields, 'c') !== undefined) {
        for (const t of this.rooms.values()) {
          if (t.shard !== shard || !t.active) continue;
          if (arrival - t.anchorArrival > ROOM_IDLE_MS) {
            t.active = false;
            continue;
          }
          const T = t.anchorTs + (arrival - t.anchorArrival);
          if (T <= t.clock) continue;
          t.clock = T;
          if (t.open && compareIds(id, t.open.lastId) > 0) append(t.open, id, JSON.stringify({ clock: T }));
        }
      }
    }

    // 1. Spools durable. 2. Closed streams archived. 3. Cursor saved. 4. Their spools deleted (saveCursor).
    for (const [st, lines] of appends) {
      st.fh ??= await open(st.spool, 'a');
      await st.fh.write(lines.join('\n') + '\n');
      await st.fh.sync();
    }
    for (const c of closing) {
      await c.stream.fh?.close();
      c.stream.fh = null;
      await this.archiveOrRetry(c);
    }
    this.cursors.set(shard, maxId(this.cursors.get(shard) ?? '0-0', entries[entries.length - 1]![0]));
    await this.saveCursor(shard);
    this.stats.entries += entries.length;
    this.stats.batches++;
  }

  private async openStream(t: RoomTrack, ev: CrestEvent, _id: string): Promise<OpenStream> {
    let n = 1;
    let id = streamIdOf(ev.ts);
    // A second stream of the room opened in the same second gets a suffix.
    while ((await this.history.get(t.room, id)) || existsSync(archivePath(this.opts.dir, t.room, id)) || existsSync(join(this.spoolDir, t.room, `${id}.spool`))) {
      id = streamIdOf(ev.ts, ++n);
    }
    await mkdir(join(this.spoolDir, t.room), { recursive: true });
    const st: OpenStream = {
      id,
      startTs: ev.ts,
      openedBy: ev.type === 'stream.start' ? 'stream.start' : 'event',
      spool: join(this.spoolDir, t.room, `${id}.spool`),
      fh: null,
      lastId: '0-0',
      events: 0,
      endedBy: null,
    };
    await this.history.markOpen({
      id,
      room: t.room,
      status: 'open',
      startTs: st.startTs,
      endTs: null,
      openedBy: st.openedBy,
      endedBy: null,
      events: null,
      archive: null,
      summary: null,
      rollupsExpireAt: null,
    });
    this.opts.log.info('archiver: stream opened', { room: t.room, stream: id, openedBy: st.openedBy });
    return st;
  }

  /**
   * Runs in the read loop (never beside a batch, which holds RoomTrack references): closes idle streams,
   * retries failed archiving, and forgets rooms with nothing open that the detector no longer advances.
   */
  private async maintain(): Promise<void> {
    if (this.unarchived.length > 0 && Date.now() - this.lastRetryAt >= HEARTBEAT_MS) {
      this.lastRetryAt = Date.now();
      for (const c of this.unarchived.splice(0)) await this.archiveOrRetry(c);
    }
    for (const [room, t] of this.rooms) {
      const c = this.cursors.get(t.shard);
      if (!t.open && !t.active && c !== undefined && compareIds(t.closedThrough, c) <= 0) this.rooms.delete(room);
    }
    await this.closeIdle();
  }

  /** Closes streams whose room sent nothing for CREST_ARCHIVE_IDLE_MS (arrival time). */
  private async closeIdle(): Promise<void> {
    const now = Date.now();
    for (const t of this.rooms.values()) {
      const st = t.open;
      const cursor = this.cursors.get(t.shard);
      if (!st || cursor === undefined || now - t.anchorArrival < this.opts.idleCloseMs) continue;
      const markId = maxId(cursor, st.lastId);
      st.fh ??= await open(st.spool, 'a');
      await st.fh.write(`${markId}\t${JSON.stringify({ closed: 'idle' })}\n`);
      await st.fh.sync();
      await st.fh.close();
      st.fh = null;
      st.lastId = markId;
      st.endedBy = 'idle';
      t.open = null;
      t.closedThrough = maxId(t.closedThrough, markId);
      await this.archiveOrRetry({ room: t.room, stream: st, shard: t.shard });
      await this.saveCursor(t.shard);
    }
  }

  /** Archives a closed stream; on failure keeps it for housekeeping to retry (the spool is kept until it succeeds). */
  private async archiveOrRetry(c: Closing): Promise<void> {
    try {
      await this.archive(c.room, c.stream);
      this.spent.push({ shard: c.shard, lastId: c.stream.lastId, path: c.stream.spool });
    } catch (err) {
      this.opts.log.warn('archiver: archiving a stream failed; retrying', { room: c.room, stream: c.stream.id, error: (err as Error).message });
      this.unarchived.push(c);
    }
  }

  /** Writes the archive file, then the index record and rollups. Idempotent: a redo writes the same. */
  private async archive(room: string, st: OpenStream): Promise<void> {
    const spooled = await readSpool(st.spool);
    const texts: string[] = [];
    const lines: ArchiveLine[] = [];
    for (const l of spooled) {
      if (!l.line) continue;
      texts.push(l.text);
      lines.push(l.line);
    }
    const file = archivePath(this.opts.dir, room, st.id);
    const bytes = await writeArchive(file, texts);
    const rep = replayThroughCore(room, lines, this.opts.engine);
    const ttlS = this.opts.rollupDays * 86_400;
    const m = rep.metrics;
    const meta: StreamMeta = {
      id: st.id,
      room,
      status: 'archived',
      startTs: st.startTs,
      endTs: rep.lastTs,
      openedBy: st.openedBy,
      endedBy: st.endedBy,
      events: rep.events,
      archive: { file: `${room}/${st.id}.ndjson.gz`, bytes, lines: texts.length },
      summary: m
        ? {
            peakConcurrency: m.peakConcurrency,
            uniqueViewers: m.uniqueViewers,
            gmv: m.gmv,
            orders: m.orders,
            adSpend: m.adSpend,
            follows: m.follows,
            windows: rep.windows.length,
            suggestions: rep.suggestions.length,
          }
        : null,
      rollupsExpireAt: Date.now() + ttlS * 1000,
    };
    await this.history.markArchived(meta, rep.rollups, ttlS);
    this.stats.archived++;
    this.opts.log.info('archiver: stream archived', { room, stream: st.id, events: rep.events, endedBy: st.endedBy, file });
  }
}

interface SpoolLine {
  id: string;
  text: string;
  line: ArchiveLine | null;
  closed: StreamEndReason | null;
}

/** Reads a spool; a last line cut short by a crash is dropped and truncated away before anything is appended. */
async function readSpool(path: string): Promise<SpoolLine[]> {
  const raw = await readFile(path, 'utf8');
  const end = raw.lastIndexOf('\n') + 1;
  if (end < raw.length) await truncate(path, Buffer.byteLength(raw.slice(0, end)));
  const out: SpoolLine[] = [];
  for (const row of raw.slice(0, end).split('\n')) {
    if (!row) continue;
    const tab = row.indexOf('\t');
    const id = row.slice(0, tab);
    const text = row.slice(tab + 1);
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.closed === 'string') out.push({ id, text, line: null, closed: value.closed as StreamEndReason });
    else out.push({ id, text, line: parseArchiveLine(value), closed: null });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
