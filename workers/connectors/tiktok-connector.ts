/**
 * TikTok LIVE connector: watches one @account with `tiktok-live-connector` (loaded on demand, see
 * tiktok-package.ts), maps what it emits to contract v1 (tiktok-mapping.ts) and submits the events in
 * small batches. It reconnects with backoff and says where it stands (ConnectorState): connecting,
 * connected, retrying (with the reason and the next attempt), ended (the host ended the stream) or
 * error (a permanent failure, or too many attempts). A payload it cannot read is logged and counted,
 * never thrown: a connector must not take the rest of Crest down.
 *
 * Ordering invariant: one batch is in flight at a time and a failed batch is resent as it was before
 * anything newer, so a room's events reach ingest in the order the platform sent them. Dedupe key: the
 * event id, derived from the platform's message id; resending after a failure or a reconnect is safe.
 */
import type { CrestEvent } from '../../core/events.ts';
import type { ConnectorState, ConnectorStatus, IngestResult } from '../../core/protocol.ts';
import type { Logger } from '../../server/logger.ts';
import { HttpError } from '../../server/http-error.ts';
import { TIKTOK_MAPPED_EVENTS, mapTikTokMessage, streamStartEvent, SourceTable, type TikTokMappedEvent } from './tiktok-mapping.ts';
import { loadTikTokPackage, type TikTokConnectionLike, type TikTokPackage } from './tiktok-package.ts';

export interface TikTokConnectorOptions {
  /** Crest room the events go to. */
  room: string;
  /** TikTok account to watch: `@handle`, `handle` or its live URL. */
  account: string;
  /** Hands a batch to ingest (IngestService.ingest with claims for this room). A throw means "resend later". */
  submit: (events: CrestEvent[]) => Promise<IngestResult>;
  log: Logger;
  sources?: SourceTable;
  /** Called on every state change and counter update (throttle downstream). */
  onState?: (state: ConnectorState) => void;
  /** First reconnect delay; doubles per consecutive failure up to `backoffMaxMs`. Default 2 s. */
  backoffMs?: number;
  /** Default 120 s. */
  backoffMaxMs?: number;
  /** Consecutive failed attempts before giving up with status `error`; 0 = never. "Not live" waits do not count. Default 50. */
  maxAttempts?: number;
  /** Euler Stream sign-server key, passed to the package as `signApiKey`. */
  signApiKey?: string;
  /** Extra options for `new TikTokLiveConnection(account, options)`. */
  connectionOptions?: Record<string, unknown>;
  /** Wall-clock ms between batches. Default 250. */
  batchMs?: number;
  /** Most events per batch. Default 200. */
  maxBatch?: number;
  now?: () => number;
  /** Tests: load a package stand-in or wrap the real one. */
  loadPackage?: () => Promise<TikTokPackage>;
  /** Tests: build the connection (default `new pkg.TikTokLiveConnection(account, options)`). */
  createConnection?: (pkg: TikTokPackage, account: string, options: Record<string, unknown>) => TikTokConnectionLike;
}

/** How long to wait between checks while the account is not live (not counted as a failure). */
const OFFLINE_RETRY_MS = 60_000;
const MAX_UNKNOWN_SOURCES = 50;
const LOG_EVERY_MS = 10_000;

export class TikTokConnector {
  private readonly opts: Required<Pick<TikTokConnectorOptions, 'backoffMs' | 'backoffMaxMs' | 'maxAttempts' | 'batchMs' | 'maxBatch' | 'now'>> &
    TikTokConnectorOptions;
  private readonly sources: SourceTable;
  private pkg: TikTokPackage | null = null;
  private conn: TikTokConnectionLike | null = null;
  private current: ConnectorState;
  private stopped = false;
  private ended = false;
  private endSignal: (() => void) | null = null;
  private wake: (() => void) | null = null;
  private queue: CrestEvent[] = [];
  private inFlight: Promise<unknown> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private submitFailures = 0;
  private lastLog = new Map<string, number>();
  private loop: Promise<void> | null = null;

  constructor(opts: TikTokConnectorOptions) {
    this.opts = { backoffMs: 2_000, backoffMaxMs: 120_000, maxAttempts: 50, batchMs: 250, maxBatch: 200, now: Date.now, ...opts };
    this.sources = opts.sources ?? new SourceTable();
    const account = opts.account.replace(/^https?:\/\/(www\.)?tiktok\.com\//, '').replace(/\/live\/?$/, '').replace(/^@/, '').trim();
    const now = this.opts.now();
    this.current = {
      platform: 'tiktok',
      room: opts.room,
      account,
      status: 'connecting',
      reason: null,
      since: now,
      updatedAt: now,
      attempt: 0,
      nextRetryAt: null,
      platformRoomId: null,
      counts: { received: 0, mapped: 0, accepted: 0, duplicate: 0, rejected: 0, skipped: 0, unexpected: 0, unknownSource: 0, submitRetries: 0 },
      unknownSources: {},
    };
  }

  get state(): ConnectorState {
    return structuredClone(this.current);
  }

  /**
   * Loads the package (throws TikTokPackageMissingError if it is not installed), then connects in the
   * background. `done()` resolves when the connector ends, errors out or is stopped.
   */
  async start(): Promise<void> {
    this.pkg = await (this.opts.loadPackage ?? loadTikTokPackage)();
    const options = { ...(this.opts.signApiKey ? { signApiKey: this.opts.signApiKey } : {}), ...this.opts.connectionOptions };
    this.conn = (this.opts.createConnection ?? ((p, a, o) => new p.TikTokLiveConnection(a, o)))(this.pkg, this.current.account, options);
    this.attach(this.conn);
    this.opts.log.info('tiktok connector connecting', { room: this.opts.room, account: this.current.account });
    this.loop = this.run().catch((err: unknown) => {
      // run() handles every expected failure; reaching here is a bug, reported as state, not a crash.
      this.setStatus('error', `connector stopped by an unexpected error: ${(err as Error).message}`);
    });
  }

  /** Resolves when the connector has stopped for good (ended, error or stop()). */
  async done(): Promise<void> {
    await this.loop;
  }

  /** Disconnects, sends what is queued (a few tries), and marks the state stopped unless it already ended. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loop ?? undefined;
    this.stopped = true;
    this.endSignal?.();
    this.wake?.();
    await this.conn?.disconnect().catch((e: Error) => this.opts.log.debug('tiktok disconnect failed', { error: e.message }));
    await this.loop;
    await this.drain();
    if (this.current.status !== 'ended' && this.current.status !== 'error') this.setStatus('stopped', 'stopped by the operator');
  }

  // ---- connection lifecycle ----

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped && !this.ended) {
      this.setStatus('connecting', null);
      let delay: number;
      let reason: string;
      try {
        const st = (await this.conn!.connect()) as { roomId?: unknown } | undefined;
        const platformRoomId = String((typeof st?.roomId === 'string' && st.roomId) || this.conn!.roomId || '') || null;
        failures = 0;
        this.current.attempt = 0;
        this.current.platformRoomId = platformRoomId;
        if (platformRoomId) {
          this.current.counts.mapped += 1;
          this.enqueue([streamStartEvent(this.opts.room, platformRoomId, Math.floor(this.opts.now()))]);
        }
        this.setStatus('connected', null);
        const closed = await this.waitForDisconnect();
        if (this.ended || this.stopped) break;
        reason = `disconnected by the platform${closed ? ` (${closed})` : ''}`;
        delay = this.opts.backoffMs;
      } catch (err) {
        if (this.stopped) break;
        const c = this.classify(err);
        if (c.permanent) {
          this.setStatus('error', c.reason);
          break;
        }
        if (!c.offline) failures += 1;
        this.current.attempt = failures;
        if (this.opts.maxAttempts > 0 && failures >= this.opts.maxAttempts) {
          this.setStatus('error', `${c.reason}; gave up after ${failures} attempts in a row`);
          break;
        }
        reason = c.reason;
        const backoff = Math.min(this.opts.backoffMaxMs, this.opts.backoffMs * 2 ** Math.max(0, failures - 1));
        delay = c.offline ? Math.min(OFFLINE_RETRY_MS, this.opts.backoffMaxMs) : Math.max(backoff, c.retryAfterMs ?? 0);
        this.logLimited('connect', 'warn', 'tiktok connect failed, retrying', { room: this.opts.room, account: this.current.account, reason, retryInMs: delay });
      }
      // ±20 % jitter so many connectors restarted together do not hit the platform in step.
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
      this.current.nextRetryAt = this.opts.now() + wait;
      this.setStatus('retrying', reason);
      await this.sleep(wait);
      this.current.nextRetryAt = null;
    }
    if (this.ended) this.setStatus('ended', 'the host ended the stream');
    await this.drain();
  }

  private classify(err: unknown): { permanent: boolean; offline: boolean; reason: string; retryAfterMs?: number } {
    const pkg = this.pkg!;
    const msg = err instanceof Error ? err.message.split('\n')[0]!.trim() : String(err);
    const is = (cls: (new (...a: any[]) => Error) | undefined) => !!cls && err instanceof cls;
    if (is(pkg.InvalidUniqueIdError)) return { permanent: true, offline: false, reason: `"${this.current.account}" is not a TikTok account name: ${msg}` };
    if (is(pkg.PremiumFeatureError)) return { permanent: true, offline: false, reason: `the sign server refused (a paid feature is needed): ${msg}` };
    if (is(pkg.UserOfflineError)) return { permanent: false, offline: true, reason: `@${this.current.account} is not live right now` };
    if (is(pkg.SignatureRateLimitError)) {
      const retryAfterMs = Number((err as { retryAfter?: number }).retryAfter) || undefined;
      return { permanent: false, offline: false, reason: `rate-limited by the sign server: ${msg}`, retryAfterMs };
    }
    return { permanent: false, offline: false, reason: msg || 'connection failed' };
  }

  /** Resolves with a description when the connection closes, the stream ends, or stop() is called. */
  private waitForDisconnect(): Promise<string> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (why: string) => {
        if (done) return;
        done = true;
        this.endSignal = null;
        this.closeSignal = null;
        resolve(why);
      };
      this.endSignal = () => finish('');
      this.closeSignal = finish;
      // stop() or a stream end may have come while connect() was still pending.
      if (this.stopped || this.ended) finish('');
    });
  }
  private closeSignal: ((why: string) => void) | null = null;

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private attach(conn: TikTokConnectionLike): void {
    for (const name of TIKTOK_MAPPED_EVENTS) conn.on(name, (payload: unknown) => this.onMessage(name, payload));
    conn.on('streamEnd', () => {
      this.ended = true;
      this.endSignal?.();
    });
    conn.on('disconnected', (info: { code?: number; reason?: string } | undefined) => {
      const why = [info?.code !== undefined ? `code ${info.code}` : '', info?.reason ?? ''].filter(Boolean).join(': ');
      this.closeSignal?.(why);
    });
    // The package emits 'error' for decode failures and socket errors after connecting; the close that
    // may follow is handled above. Listening also keeps EventEmitter from throwing on an unheard 'error'.
    conn.on('error', (e: { info?: string; exception?: unknown } | undefined) => {
      const ex = e?.exception instanceof Error ? e.exception.message.split('\n')[0] : String(e?.exception ?? '');
      this.logLimited('package-error', 'warn', 'tiktok connection reported an error', { room: this.opts.room, info: e?.info, error: ex });
    });
  }

  // ---- messages → events ----

  private onMessage(name: TikTokMappedEvent, payload: unknown): void {
    const c = this.current.counts;
    c.received += 1;
    try {
      const out = mapTikTokMessage(name, payload, {
        room: this.opts.room,
        now: this.opts.now(),
        sources: this.sources,
        platformRoomId: this.current.platformRoomId ?? undefined,
      });
      if (out.kind === 'skip') {
        c.skipped += 1;
        return;
      }
      if (out.source && !out.source.known) {
        c.unknownSource += 1;
        const key = out.source.value || '(none)';
        const seen = this.current.unknownSources;
        if (key in seen || Object.keys(seen).length < MAX_UNKNOWN_SOURCES) seen[key] = (seen[key] ?? 0) + 1;
      }
      c.mapped += out.events.length;
      this.enqueue(out.events);
    } catch (err) {
      c.unexpected += 1;
      this.logLimited(`unexpected:${name}`, 'warn', 'tiktok message not understood; dropped and counted', {
        room: this.opts.room,
        event: name,
        error: (err as Error).message,
        preview: preview(payload),
      });
    }
    this.emitState();
  }

  private enqueue(events: CrestEvent[]): void {
    this.queue.push(...events);
    this.scheduleFlush(this.queue.length >= this.opts.maxBatch ? 0 : this.opts.batchMs);
  }

  private scheduleFlush(ms: number): void {
    if (this.inFlight || (this.flushTimer && ms > 0)) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.inFlight = this.flushOnce().finally(() => {
        this.inFlight = null;
        if (this.queue.length > 0) this.scheduleFlush(this.submitFailures > 0 ? this.retryDelay() : this.queue.length >= this.opts.maxBatch ? 0 : this.opts.batchMs);
      });
    }, ms);
  }

  private retryDelay(): number {
    const ms = Math.min(10_000, 250 * 2 ** (this.submitFailures - 1));
    return Math.max(ms, this.retryAfterMs);
  }
  private retryAfterMs = 0;

  /** Sends the head of the queue; on failure leaves it there to be resent as it is. */
  private async flushOnce(): Promise<boolean> {
    if (this.queue.length === 0) return true;
    const batch = this.queue.slice(0, this.opts.maxBatch);
    const c = this.current.counts;
    try {
      const r = await this.opts.submit(batch);
      this.queue.splice(0, batch.length);
      this.submitFailures = 0;
      this.retryAfterMs = 0;
      c.accepted += r.accepted;
      c.duplicate += r.duplicate;
      c.rejected += r.rejected;
      if (r.rejected > 0) {
        // A mapping bug, not a transient failure: resending would be rejected again.
        const first = r.errors[0];
        this.logLimited('rejected', 'error', 'ingest rejected connector events', { room: this.opts.room, rejected: r.rejected, first });
      }
      this.emitState();
      return true;
    } catch (err) {
      this.submitFailures += 1;
      c.submitRetries += 1;
      this.retryAfterMs = err instanceof HttpError ? Number(err.headers['Retry-After'] ?? 0) * 1000 : 0;
      this.logLimited('submit', 'warn', 'submitting connector events failed; will resend the same batch', {
        room: this.opts.room,
        events: batch.length,
        attempt: this.submitFailures,
        error: (err as Error).message,
      });
      this.emitState();
      return false;
    }
  }

  /** Waits for the batch in flight, then tries to send what is left (bounded: a few tries). */
  private async drain(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.inFlight;
    for (let tries = 0; this.queue.length > 0 && tries < 3; ) {
      if (await this.flushOnce()) continue;
      tries += 1;
      await new Promise((r) => setTimeout(r, this.retryDelay()));
    }
    if (this.queue.length > 0) {
      this.opts.log.error('connector stopped with events not stored', { room: this.opts.room, events: this.queue.length });
    }
  }

  // ---- state ----

  private setStatus(status: ConnectorStatus, reason: string | null): void {
    if (status !== this.current.status || reason !== this.current.reason) {
      this.current.since = this.opts.now();
      this.opts.log.info(`tiktok connector ${status}`, { room: this.opts.room, account: this.current.account, ...(reason ? { reason } : {}) });
    }
    this.current.status = status;
    this.current.reason = reason;
    this.emitState();
  }

  private emitState(): void {
    this.current.updatedAt = this.opts.now();
    this.opts.onState?.(this.state);
  }

  private logLimited(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - (this.lastLog.get(key) ?? 0) < LOG_EVERY_MS) return;
    this.lastLog.set(key, now);
    this.opts.log[level](msg, fields);
  }
}

function preview(payload: unknown): string {
  try {
    const s = JSON.stringify(payload, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    return s === undefined ? String(payload) : s.slice(0, 300);
  } catch {
    // Circular or otherwise unserialisable: the type is all we can say.
    return `[unserialisable ${typeof payload}]`;
  }
}
