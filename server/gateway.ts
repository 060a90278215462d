/**
 * socket.io gateway: authenticates sockets by token, lets them join only their rooms, and pushes what
 * the detectors commit to the shard out streams. Every gateway node tails every out stream itself, so
 * several nodes behind a load balancer need no adapter for these pushes. A reconnecting client passes
 * the last cursor it saw and gets what it missed replayed from the stream, plus a fresh snapshot.
 */
import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import { ROOM_ID_PATTERN, firstFieldError } from '../core/events.ts';
import type {
  Audience,
  ClientToServerEvents,
  ErrorBody,
  InterServerEvents,
  Role,
  RoomUpdate,
  ServerToClientEvents,
  SocketData,
} from '../core/protocol.ts';
import type { AppContext } from './app-context.ts';
import { canAccessRoom, TokenError, verifyToken } from './auth/token.ts';
import type { RedisClient } from './lua/scripts.ts';
import { RateLimiter } from './rate-limiter.ts';
import { createRedis, readStreams } from './redis-connection.ts';
import { keys } from './redis-keys.ts';
import { visibleTo } from './room-store.ts';
import { compareIds, fieldOf } from '../workers/stream-entry.ts';

export type CrestServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type CrestSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const joinSchema = z.strictObject({
  room: z.string().regex(ROOM_ID_PATTERN, 'must be 1–64 characters of A-Z a-z 0-9 _ . -'),
  since: z.string().regex(STREAM_ID, 'must be a cursor received from the server').optional(),
});
const leaveSchema = z.strictObject({ room: z.string().regex(ROOM_ID_PATTERN) });
const ackSchema = z.strictObject({ room: z.string().regex(ROOM_ID_PATTERN), id: z.string().min(1).max(256) });
/** What each client message is validated with (server/openapi.ts documents them from here). */
export const SOCKET_INPUT_SCHEMAS = { 'room:join': joinSchema, 'room:leave': leaveSchema, 'suggestion:ack': ackSchema } satisfies Record<keyof ClientToServerEvents, z.ZodType>;
/** Replay at most this many out-stream entries per join; beyond that the snapshot stands in. */
const REPLAY_SCAN_LIMIT = 20_000;
/** Longest delay setTimeout takes (2^31 − 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const ticksRoom = (room: string) => `t:${room}`;
const suggestionsRoom = (room: string, audience: Audience) => `s:${room}:${audience}`;
/** Operators and admins get every audience's suggestions (suppressed ones too) through the operator room. */
const audienceOf = (role: Role): Audience => (role === 'host' || role === 'buyer' ? role : 'operator');

export class Gateway {
  private readonly tail: RedisClient;
  private running = false;
  private loopDone: Promise<void> | null = null;
  /**
   * Joins and acks per token (role + sub), the HTTP API's limit with a bucket of its own: a join with
   * `since` reads up to REPLAY_SCAN_LIMIT out-stream entries, so a looping client must not be free to repeat it.
   * Leaving is never limited. Per process, like the API's.
   */
  private readonly limiter: RateLimiter | null;

  constructor(
    private readonly io: CrestServer,
    private readonly ctx: AppContext,
    redisUrl: string,
  ) {
    this.limiter = ctx.config.rateLimitPerS > 0 ? new RateLimiter(ctx.config.rateLimitPerS) : null;
    this.tail = createRedis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.tail.on('error', (e) => ctx.log.debug('gateway redis', { error: e.message }));
    io.use((socket, next) => {
      try {
        const claims = verifyToken(ctx.tokenSecrets, readToken(socket));
        if (claims.role === 'ingest') return next(new Error('forbidden'));
        socket.data = { role: claims.role, rooms: claims.rooms, sub: claims.sub, exp: claims.exp };
        next();
      } catch (err) {
        next(new Error(err instanceof TokenError ? err.code : 'unauthorized'));
      }
    });
    io.on('connection', (socket) => this.onConnection(socket));
  }

  async start(): Promise<void> {
    await this.tail.connect();
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.tail.disconnect();
    await this.loopDone?.catch(() => undefined);
  }

  private onConnection(socket: CrestSocket): void {
    this.ctx.metrics.socketsConnected.inc();
    this.dropAtExpiry(socket);
    socket.on('room:join', async (raw, ack) => {
      if (typeof ack !== 'function') return;
      const req = this.admit(socket, joinSchema, raw);
      if ('error' in req) return ack({ ok: false, error: req.error });
      const { room, since } = req.value;
      try {
        await socket.join([ticksRoom(room), suggestionsRoom(room, audienceOf(socket.data.role))]);
        const replayed = since ? await this.replay(socket, room, since) : 0;
        const snapshot = await this.ctx.store.snapshot(room, socket.data.role);
        ack({ ok: true, snapshot, replayed });
      } catch (err) {
        ack({ ok: false, error: { code: 'unavailable', reason: `could not load the room: ${(err as Error).message}` } });
      }
    });
    socket.on('room:leave', async (raw, ack) => {
      const req = parse(leaveSchema, raw);
      if (!('error' in req)) {
        const { room } = req.value;
        await Promise.all([socket.leave(ticksRoom(room)), socket.leave(suggestionsRoom(room, audienceOf(socket.data.role)))]);
      }
      if (typeof ack === 'function') ack({ ok: !('error' in req) });
    });
    socket.on('suggestion:ack', async (raw, ack) => {
      if (typeof ack !== 'function') return;
      const req = this.admit(socket, ackSchema, raw);
      if ('error' in req) return ack({ ok: false, error: req.error });
      const { room, id } = req.value;
      try {
        const out = await this.ctx.store.ack(room, id, socket.data.sub, socket.data.role);
        if (!out.ok) return ack({ ok: false, error: { code: 'not-found', field: 'id', reason: `no suggestion "${id}" visible to this token` } });
        ack({ ok: true, ack: out.ack });
      } catch (err) {
        ack({ ok: false, error: { code: 'unavailable', reason: (err as Error).message } });
      }
    });
  }

  /**
   * A join or an ack, checked in the order that costs least to refuse: the token's rate, then the payload,
   * then the room against the token (rooms that do not exist are refused the same way).
   */
  private admit<T extends { room: string }>(socket: CrestSocket, schema: z.ZodType<T>, raw: unknown): { value: T } | { error: ErrorBody } {
    const limited = this.overLimit(socket);
    if (limited) return { error: limited };
    const req = parse(schema, raw);
    if ('error' in req) return req;
    const { room } = req.value;
    if (!canAccessRoom(socket.data, room)) return { error: { code: 'forbidden', field: 'room', reason: `this token does not grant room "${room}"` } };
    return req;
  }

  /** The error to answer when this socket's token is over its request rate, else null. */
  private overLimit(socket: CrestSocket): ErrorBody | null {
    const waitS = this.limiter?.take(`${socket.data.role}:${socket.data.sub}`) ?? 0;
    if (waitS === 0) return null;
    this.ctx.metrics.socketRateLimited.inc();
    return { code: 'rate-limited', reason: `over ${this.ctx.config.rateLimitPerS} requests/s for this token: retry in ${waitS} s` };
  }

  /**
   * The token was checked once, at the handshake; without this a socket would keep reading the room for as
   * long as it stays connected, past its token's expiry. The client then tries once more (see
   * client/connection-controller.ts) and is refused with `token-expired`.
   */
  private dropAtExpiry(socket: CrestSocket): void {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const left = socket.data.exp * 1000 - Date.now();
      if (left <= 0) {
        this.ctx.metrics.socketsExpired.inc();
        socket.disconnect(true);
        return;
      }
      // setTimeout holds at most ~24.8 days; a longer-lived token is re-armed when that fires.
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    arm();
    socket.on('disconnect', () => clearTimeout(timer));
  }

  /**
   * Sends this socket the room's out-stream entries after `since`, filtered for its role, and returns how
   * many. When the stream can no longer give everything after `since` — it was trimmed past it
   * (CREST_OUT_STREAM_MAXLEN), or more than REPLAY_SCAN_LIMIT entries came since — nothing is replayed
   * and 0 is returned: the snapshot the join answers with stands in alone (series, windows, newest
   * suggestions, acks), a full resync the client merges by id. Replaying only part would show a hole.
   */
  private async replay(socket: CrestSocket, room: string, since: string): Promise<number> {
    const key = keys.out(this.ctx.store.shardOf(room));
    // One transaction, so a trim cannot fall between the gap check and the read.
    const [[infoErr, info], [rangeErr, range]] = (await this.ctx.redis
      .multi()
      .xinfo('STREAM', key)
      .xrange(key, `(${since}`, '+', 'COUNT', REPLAY_SCAN_LIMIT)
      .exec()) as [Error | null, unknown][];
    if (infoErr) {
      if (/no such key/i.test(infoErr.message)) return 0;
      throw infoErr;
    }
    if (rangeErr) throw rangeErr;
    // `since` was an entry of this stream: if the oldest entry kept is newer, `since` and whatever
    // followed it up to there were trimmed. (Redis 7.0 does not move max-deleted-entry-id on MAXLEN trims.)
    const first = fieldOf(info as unknown[], 'first-entry') as [string, string[]] | null | undefined;
    const entries = range as [string, string[]][];
    if ((first && compareIds(first[0], since) > 0) || entries.length >= REPLAY_SCAN_LIMIT) {
      this.ctx.metrics.socketReplayGaps.inc();
      return 0;
    }
    let n = 0;
    for (const [id, fields] of entries) {
      if (fields[1] !== room) continue;
      const update = JSON.parse(fields[3]!) as RoomUpdate;
      if (this.emitTo(socket, socket.data.role, id, update)) n++;
    }
    return n;
  }

  private emitTo(target: CrestSocket, role: Role, cursor: string, u: RoomUpdate): boolean {
    switch (u.type) {
      case 'tick':
        target.emit('room:tick', { room: u.room, cursor, tick: u.tick });
        return true;
      case 'window':
        target.emit('window:update', { room: u.room, cursor, window: u.window });
        return true;
      case 'ack':
        target.emit('suggestion:acked', { room: u.room, ack: u.ack });
        return true;
      case 'plan':
        target.emit('plan:update', { room: u.room, cursor, planId: u.planId, plan: u.plan });
        return true;
      case 'suggestion':
        if (!visibleTo(u.suggestion, role)) return false;
        target.emit('suggestion:new', { room: u.room, cursor, suggestion: u.suggestion });
        return true;
    }
  }

  private broadcast(cursor: string, u: RoomUpdate): void {
    const room = u.room;
    switch (u.type) {
      case 'tick':
        this.io.to(ticksRoom(room)).emit('room:tick', { room, cursor, tick: u.tick });
        break;
      case 'window':
        this.io.to(ticksRoom(room)).emit('window:update', { room, cursor, window: u.window });
        break;
      case 'ack':
        this.io.to(ticksRoom(room)).emit('suggestion:acked', { room, ack: u.ack });
        break;
      case 'plan':
        this.io.to(ticksRoom(room)).emit('plan:update', { room, cursor, planId: u.planId, plan: u.plan });
        break;
      case 'suggestion': {
        const msg = { room, cursor, suggestion: u.suggestion };
        this.io.to(suggestionsRoom(room, 'operator')).emit('suggestion:new', msg);
        if (u.suggestion.suppressed === null && u.suggestion.audience !== 'operator') {
          this.io.to(suggestionsRoom(room, u.suggestion.audience)).emit('suggestion:new', msg);
        }
        break;
      }
    }
  }

  private async loop(): Promise<void> {
    const streams = Array.from({ length: this.ctx.config.shards }, (_, s) => keys.out(s));
    const ids = await this.lastIds(streams);
    while (this.running) {
      try {
        const reply = await readStreams(this.tail, streams, ids, { count: 1000, blockMs: 1000 });
        if (!reply) continue;
        for (const [stream, entries] of reply) {
          const i = streams.indexOf(stream);
          const lag = this.ctx.metrics.eventToSocket;
          for (const [id, fields] of entries) {
            ids[i] = id;
            try {
              const u = JSON.parse(fields[3]!) as RoomUpdate;
              this.broadcast(id, u);
              if (u.at !== undefined) lag.observe({ type: u.type }, (Date.now() - u.at) / 1000);
            } catch (err) {
              this.ctx.log.warn('skipped malformed out-stream entry', { stream, id, error: (err as Error).message });
            }
          }
        }
      } catch (err) {
        if (!this.running) break;
        this.ctx.log.debug('gateway tail error, retrying', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Starts from each stream's current end (a concrete id, not '$', so a reconnect misses nothing). */
  private async lastIds(streams: string[]): Promise<string[]> {
    for (;;) {
      try {
        // One call per stream, not a pipeline: on a Redis Cluster the streams live in different slots.
        const replies = await Promise.all(streams.map((s) => this.tail.xrevrange(s, '+', '-', 'COUNT', 1)));
        return replies.map((v) => v[0]?.[0] ?? '0-0');
      } catch (err) {
        if (!this.running) return streams.map(() => '0-0');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

function readToken(socket: CrestSocket): string | undefined {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (typeof auth?.token === 'string') return auth.token;
  const q = socket.handshake.query.token;
  return typeof q === 'string' ? q : undefined;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown): { value: T } | { error: ErrorBody } {
  const r = schema.safeParse(raw);
  if (r.success) return { value: r.data };
  const fe = firstFieldError(r.error, raw);
  return { error: { code: 'invalid', field: fe.field, reason: fe.reason } };
}
