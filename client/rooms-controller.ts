/**
 * Polls `GET /api/v1/rooms` every 2 s for the room list. A failed poll keeps the last rows on screen
 * and says so through `state`; an auth error stops polling, since retrying cannot fix it.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ErrorBody, RoomSummary } from '../core/protocol.ts';
import type { ConnState } from './connection-controller.ts';

const POLL_MS = 2_000;
const FATAL = new Set([401, 403]);

export class RoomsController implements ReactiveController {
  state: ConnState = 'connecting';
  error: string | null = null;
  rooms: readonly RoomSummary[] = [];
  /** Wall-clock time of the last good answer. */
  fetchedAt = 0;

  private timer: ReturnType<typeof setTimeout> | undefined;
  private abort: AbortController | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly token: string | null,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    if (!this.token) {
      this.set('error', 'no-token');
      return;
    }
    void this.poll();
  }

  hostDisconnected(): void {
    clearTimeout(this.timer);
    this.abort?.abort();
    this.abort = null;
  }

  private async poll(): Promise<void> {
    this.abort = new AbortController();
    const signal = this.abort.signal;
    let stop = false;
    try {
      const res = await fetch('/api/v1/rooms', {
        headers: { Authorization: `Bearer ${this.token}` },
        signal: AbortSignal.any([signal, AbortSignal.timeout(POLL_MS * 3)]),
      });
      const body = (await res.json().catch(() => null)) as { rooms?: RoomSummary[]; error?: ErrorBody } | null;
      if (res.ok && body?.rooms) {
        this.rooms = body.rooms;
        this.fetchedAt = Date.now();
        this.set('connected');
      } else {
        stop = FATAL.has(res.status);
        const code = body?.error?.code ?? `http-${res.status}`;
        this.set(stop ? 'error' : 'reconnecting', code);
      }
    } catch (err) {
      if (signal.aborted) return;
      // Network failure: keep the rows, say we are retrying (or offline), try again on schedule.
      this.set(navigator.onLine ? 'reconnecting' : 'offline', err instanceof Error ? err.name : null);
    }
    if (!stop && !signal.aborted) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private set(state: ConnState, error: string | null = null): void {
    this.state = state;
    this.error = state === 'error' ? error : null;
    this.host.requestUpdate();
  }
}
