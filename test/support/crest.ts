/**
 * A whole Crest for one test file: private redis-server, API + gateway on a free port, detector and
 * alert workers, no demo. Plus the small clients tests need: HTTP with a token, and socket.io clients.
 */
import { io, type Socket } from 'socket.io-client';
import { loadConfig, type CrestConfig } from '../../config/config.ts';
import type { ClientToServerEvents, JoinResult, ServerToClientEvents } from '../../core/protocol.ts';
import { startCrest, type CrestHandle } from '../../server/crest.ts';
import { silentLogger, createLogger, type Logger } from '../../server/logger.ts';
import { startTestRedis } from './redis.ts';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestCrest extends CrestHandle {
  redis: Awaited<ReturnType<typeof startTestRedis>>;
  config: CrestConfig;
  /** fetch against the API with a bearer token. */
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  post(events: unknown, token?: string): Promise<Response>;
  socket(token: string): Promise<TestSocket>;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-0123456789abcdef';

export interface TestCrestOptions {
  /** AOF fsync policy of the private redis-server (default everysec, as in production). */
  appendfsync?: 'everysec' | 'always';
  /** Where Crest logs (default: silent, or debug to stderr with CREST_TEST_LOG=1). */
  log?: Logger;
}

export async function startTestCrest(env: Record<string, string> = {}, opts: TestCrestOptions = {}): Promise<TestCrest> {
  const redis = await startTestRedis({ appendfsync: opts.appendfsync });
  const config = loadConfig({
    PORT: '0',
    CREST_DEMO: '0',
    CREST_SHARDS: '4',
    CREST_TOKEN_SECRET: TEST_SECRET,
    CREST_LEASE_MS: '1500',
    CREST_WEBHOOK_BACKOFF_MS: '50',
    ...env,
    REDIS_URL: redis.url,
  });
  const log = opts.log ?? (process.env.CREST_TEST_LOG ? createLogger('debug') : silentLogger);
  const crest = await startCrest(config, { log });
  const sockets: TestSocket[] = [];
  const ingestToken = crest.token('ingest', '*');
  const t: TestCrest = {
    ...crest,
    redis,
    config,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set('authorization', `Bearer ${init.token}`);
      return fetch(crest.url + path, { ...init, headers });
    },
    post(events, token = ingestToken) {
      return t.api('/api/v1/events', { method: 'POST', token, body: JSON.stringify(events), headers: { 'content-type': 'application/json' } });
    },
    async socket(token) {
      const s: TestSocket = io(crest.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(s);
      await new Promise<void>((ok, fail) => {
        s.once('connect', () => ok());
        s.once('connect_error', (e) => fail(e));
      });
      return s;
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await crest.stop();
      await redis.cleanup();
    },
  };
  return t;
}

export function join(s: TestSocket, room: string, since?: string): Promise<JoinResult> {
  return s.timeout(5_000).emitWithAck('room:join', since ? { room, since } : { room });
}

/** Resolves with the first value `pick` returns non-undefined for, or rejects after `ms`. */
export function waitFor<T>(what: string, ms: number, pick: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((ok, fail) => {
    const tick = async () => {
      try {
        const v = await pick();
        if (v !== undefined) return ok(v);
      } catch (err) {
        if (Date.now() > deadline) return fail(err);
      }
      if (Date.now() > deadline) return fail(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    void tick();
  });
}

/**
 * Stops a Crest (or anything with stop()) but waits at most `ms`: a fault test's teardown must not hang on a
 * part still retrying a Redis the test killed. Clears its own timer, so that it holds nothing afterwards
 * (test/support/exit-watch.ts would see it).
 */
export async function stopWithin(what: { stop(): Promise<unknown> } | null | undefined, ms = 5_000): Promise<void> {
  if (!what) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((ok) => (timer = setTimeout(ok, ms)));
  await Promise.race([what.stop().catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

/**
 * The Crest the failover tests point at a Redis they break (`url`: a server, a Sentinel or a cluster): API and
 * detector, no demo, no rate limit (one token posts everything), a 1.5 s lease; `env` adds to or overrides it.
 */
export function startFailoverCrest(url: string, shards: number, env: Record<string, string> = {}): Promise<CrestHandle> {
  return startCrest(
    loadConfig({ PORT: '0', CREST_DEMO: '0', CREST_SHARDS: String(shards), CREST_TOKEN_SECRET: TEST_SECRET, CREST_LEASE_MS: '1500', CREST_ROLES: 'api,detector', CREST_RATE_LIMIT_PER_S: '0', ...env, REDIS_URL: url }),
    { log: silentLogger },
  );
}

/**
 * A scripted highlight on event time, as the platform would report it: `room.online` every second,
 * flat around `base`, then a rise to `peak` over `riseS` seconds, a plateau, and a decay, plus entries (follow
 * before the rise; from it on paid, and public during the rise and plateau), and a burst of paid orders at the top. Returns events and the true onset time.
 */
export function scriptedRise(room: string, t0: number, opts: { base?: number; peak?: number; flatS?: number; riseS?: number; holdS?: number; decayS?: number } = {}) {
  const base = opts.base ?? 200;
  const peak = opts.peak ?? 500;
  const flatS = opts.flatS ?? 360;
  const riseS = opts.riseS ?? 90;
  const holdS = opts.holdS ?? 40;
  const decayS = opts.decayS ?? 120;
  const events: Record<string, unknown>[] = [];
  let seq = 0;
  const id = () => `${room}-${seq++}`;
  const total = flatS + riseS + holdS + decayS;
  events.push({ id: id(), room, ts: t0, type: 'stream.start' });
  for (let s = 0; s <= total; s++) {
    const ts = t0 + s * 1000;
    let v: number;
    if (s < flatS) v = base + ((s * 7919) % 11) - 5; // deterministic ±5 jitter
    else if (s < flatS + riseS) v = base + ((peak - base) * (s - flatS)) / riseS;
    else if (s < flatS + riseS + holdS) v = peak;
    else v = peak - ((peak - base) * (s - flatS - riseS - holdS)) / decayS;
    events.push({ id: id(), room, ts, type: 'room.online', count: Math.round(v) });
    if (s % 5 === 0) events.push({ id: id(), room, ts, type: 'viewer.enter', viewer: `v${s}`, source: s >= flatS ? 'paid' : 'follow' });
    // The rise is not only bought: the feed sends organic viewers too, three for every paid one (a crowd that is
    // mostly paid is the buyer's boost working, which the detector rightly does not call a build-up).
    else if (s >= flatS && s < flatS + riseS + holdS && s % 5 < 4) events.push({ id: id(), room, ts, type: 'viewer.enter', viewer: `v${s}`, source: 'public' });
    if (s >= flatS + riseS && s < flatS + riseS + holdS && s % 4 === 0) {
      events.push({ id: id(), room, ts, type: 'order.paid', order: `o${s}`, viewer: `v${s - (s % 5)}`, sku: 'hot-1', amount: 9900 });
    }
  }
  return { events, onsetTs: t0 + flatS * 1000, peakTs: t0 + (flatS + riseS) * 1000 };
}
