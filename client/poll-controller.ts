/**
 * Polls one JSON endpoint of the API on a fixed interval for a view that has no socket feed (the room
 * list, the connector state). A failed poll keeps the last data on screen and says so through `state`;
 * an auth error stops polling, since retrying cannot fix it.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ErrorBody } from '../core/protocol.ts';
import type { ConnState } from './connection-controller.ts';

const FATAL = new Set([401, 403]);

export class PollController<T> implements ReactiveController {
  state: ConnState = 'connecting';
  error: string | null = null;
  data: T;
  /** Wall-clock time of the last good answer. */
  fetchedAt = 0;

  private timer: ReturnType<typeof setTimeout> | undefined;
  private abort: AbortController | null = null;

  /** `pick` takes what the view needs out of a 2xx body, or undefined when the body is not what was asked for. */
  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly token: string | null,
    private readonly path: string,
    private readonly pick: (body: unknown) => T | undefined,
    initial: T,
    private readonly everyMs: number,
  ) {
    this.data = initial;
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

  /** Polls now (after a write that changed what the endpoint answers) instead of at the next tick. */
  refresh(): void {
    if (!this.token || this.state === 'error') return;
    this.hostDisconnected();
    void this.poll();
  }

  private async poll(): Promise<void> {
    this.abort = new AbortController();
    const signal = this.abort.signal;
    let stop = false;
    try {
      const res = await fetch(this.path, {
        headers: { Authorization: `Bearer ${this.token}` },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.everyMs * 3)]),
      });
      const body = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
      const data = res.ok && body ? this.pick(body) : undefined;
      if (data !== undefined) {
        this.data = data;
        this.fetchedAt = Date.now();
        this.set('connected');
      } else {
        stop = FATAL.has(res.status);
        const code = body?.error?.code ?? `http-${res.status}`;
        this.set(stop ? 'error' : 'reconnecting', code);
      }
    } catch (err) {
      if (signal.aborted) return;
      // Network failure: keep the data, say we are retrying (or offline), try again on schedule.
      this.set(navigator.onLine ? 'reconnecting' : 'offline', err instanceof Error ? err.name : null);
    }
    if (!stop && !signal.aborted) this.timer = setTimeout(() => void this.poll(), this.everyMs);
  }

  private set(state: ConnState, error: string | null = null): void {
    this.state = state;
    this.error = state === 'error' ? error : null;
    this.host.requestUpdate();
  }
}
