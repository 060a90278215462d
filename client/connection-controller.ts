/**
 * The one place the socket lives. Joins one room, folds what the server pushes into a RoomState
 * (room-state.ts, deduped), re-joins with `since: cursor` after a reconnect so the server replays what
 * was missed, and tells its host element to re-render. Views never see the socket: they get data and
 * call `ack()` through events handled by the app.
 */
import { io, type Socket } from 'socket.io-client';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ClientToServerEvents, ServerToClientEvents } from '../core/protocol.ts';
import {
  EMPTY_ROOM,
  addAck,
  addSuggestion,
  applyPlan,
  applySnapshot,
  applyTick,
  upsertWindow,
  withCursor,
  type RoomState,
} from './room-state.ts';

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'error';

/** 'pending' while an acknowledgement is in flight, else the error code it failed with. */
export type AckStatus = 'pending' | string;

type CrestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const JOIN_TIMEOUT_MS = 10_000;
const JOIN_RETRY_MS = 2_000;
const JOIN_UNAVAILABLE_RETRY_MS = 5_000;
const ACK_TIMEOUT_MS = 10_000;
const SERVER_DISCONNECT_RETRY_MS = 1_000;

export class ConnectionController implements ReactiveController {
  state: ConnState = 'connecting';
  /** Short error code while state is 'error' ('unauthorized', 'forbidden', 'no-token', ...). */
  error: string | null = null;
  room: RoomState = EMPTY_ROOM;
  ackStatus: ReadonlyMap<string, AckStatus> = new Map();

  private socket: CrestSocket | null = null;
  private joinRetry: ReturnType<typeof setTimeout> | undefined;
  /** Server-side disconnects since the last good join: backs off the manual reconnect. */
  private kicks = 0;
  /** Event time of the newest tick and the wall clock when it came: lets views count down between ticks. */
  private clock: { eventTs: number; wallTs: number } | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    readonly roomId: string,
    private readonly token: string | null,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    if (!this.token) {
      this.set('error', 'no-token');
      return;
    }
    addEventListener('offline', this.onOffline);
    addEventListener('online', this.onOnline);
    // WebSocket first; polling only when a proxy refuses the upgrade.
    const socket: CrestSocket = io({
      auth: { token: this.token },
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
    });
    this.socket = socket;

    socket.on('connect', () => this.join());
    socket.on('connect_error', (err) => {
      // Refused by the server's middleware (bad token): the client does not retry, so neither do we.
      if (!socket.active) this.set('error', err.message || 'connect_error');
      else this.set(navigator.onLine ? 'reconnecting' : 'offline');
    });
    socket.on('disconnect', (reason) => {
      clearTimeout(this.joinRetry);
      if (reason === 'io server disconnect') {
        // The gateway dropped us on purpose (draining for a deploy, say). socket.io will not retry on
        // its own; try once more after a pause: a revoked token then ends in connect_error.
        const delay = Math.min(30_000, SERVER_DISCONNECT_RETRY_MS * 2 ** this.kicks++);
        this.joinRetry = setTimeout(() => socket.connect(), delay);
        this.set('reconnecting');
        return;
      }
      this.set(!socket.active ? 'offline' : navigator.onLine ? 'reconnecting' : 'offline');
    });

    socket.on('room:tick', (msg) => {
      if (msg.room !== this.roomId) return;
      this.seeTime(msg.tick.ts);
      this.update(applyTick(withCursor(this.room, msg.cursor), msg.tick));
    });
    socket.on('window:update', (msg) => {
      if (msg.room === this.roomId) this.update(upsertWindow(withCursor(this.room, msg.cursor), msg.window));
    });
    socket.on('suggestion:new', (msg) => {
      if (msg.room === this.roomId) this.update(addSuggestion(withCursor(this.room, msg.cursor), msg.suggestion));
    });
    socket.on('plan:update', (msg) => {
      if (msg.room === this.roomId) this.update(applyPlan(withCursor(this.room, msg.cursor), msg.planId, msg.plan));
    });
    socket.on('suggestion:acked', (msg) => {
      if (msg.room === this.roomId) this.update(addAck(this.room, msg.ack));
    });
    socket.on('room:resync', (msg) => {
      if (msg.room !== this.roomId) return;
      // The server cannot replay the gap: drop what we hold so nothing stale survives, then join afresh.
      this.update(EMPTY_ROOM);
      this.join();
    });
  }

  hostDisconnected(): void {
    removeEventListener('offline', this.onOffline);
    removeEventListener('online', this.onOnline);
    clearTimeout(this.joinRetry);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
  }

  /** Event time now: the newest tick's time moved on by the wall clock since it arrived. */
  now(): number {
    return this.clock ? this.clock.eventTs + (Date.now() - this.clock.wallTs) : Date.now();
  }

  ack(id: string): void {
    const socket = this.socket;
    if (!socket?.connected) {
      this.setAck(id, 'offline');
      return;
    }
    this.setAck(id, 'pending');
    socket.timeout(ACK_TIMEOUT_MS).emit('suggestion:ack', { room: this.roomId, id }, (err, res) => {
      if (err) this.setAck(id, 'timeout');
      else if (!res.ok) this.setAck(id, res.error.code);
      else {
        this.room = addAck(this.room, res.ack);
        this.setAck(id, null);
      }
    });
  }

  private join(): void {
    const socket = this.socket;
    if (!socket?.connected) return;
    clearTimeout(this.joinRetry);
    // The last cursor seen: the server replays everything after it (deduped on our side by id).
    const since = this.room.cursor ?? undefined;
    socket.timeout(JOIN_TIMEOUT_MS).emit('room:join', { room: this.roomId, since }, (err, res) => {
      if (socket !== this.socket) return;
      if (err) {
        this.joinRetry = setTimeout(() => this.join(), JOIN_RETRY_MS);
        return;
      }
      if (!res.ok) {
        this.set('error', res.error.code);
        // 'unavailable' is the server's own trouble (Redis down, say), 'rate-limited' a busy token: worth another
        // try. 'forbidden' is not.
        if (res.error.code === 'unavailable' || res.error.code === 'rate-limited') this.joinRetry = setTimeout(() => this.join(), JOIN_UNAVAILABLE_RETRY_MS);
        return;
      }
      const snap = res.snapshot;
      if (snap.metrics) this.seeTime(snap.metrics.ts);
      this.room = applySnapshot(this.room, snap);
      this.kicks = 0;
      this.set('connected');
    });
  }

  private readonly onOffline = (): void => this.set('offline');
  private readonly onOnline = (): void => {
    if (!this.socket?.connected) this.set('reconnecting');
  };

  private seeTime(ts: number): void {
    if (!this.clock || ts >= this.clock.eventTs) this.clock = { eventTs: ts, wallTs: Date.now() };
  }

  private set(state: ConnState, error: string | null = null): void {
    this.state = state;
    this.error = error;
    this.host.requestUpdate();
  }

  private update(next: RoomState): void {
    if (next === this.room) return;
    this.room = next;
    this.host.requestUpdate();
  }

  private setAck(id: string, status: AckStatus | null): void {
    const m = new Map(this.ackStatus);
    if (status === null) m.delete(id);
    else m.set(id, status);
    this.ackStatus = m;
    this.host.requestUpdate();
  }
}
