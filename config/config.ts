/**
 * The only reader of process.env. Every key is parsed once, validated, frozen, and listed in the
 * docs/operations.md (Configuration) with its default. A bad value stops the process with a sentence naming the key.
 */
import { z } from 'zod';
import type { EngineConfig } from '../core/engine-config.ts';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import { parseSourceRules, type SourceRule } from '../workers/connectors/tiktok-mapping.ts';
import { redisTargetProblem } from '../server/redis-connection.ts';
import { DETECTOR_PROFILE_NAMES, DETECTOR_PROFILES, type DetectorProfileName } from './detector-profiles.ts';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  /**
   * When unset, `crest start` spawns a private redis-server and points everything at it.
   * `redis-cluster://host:port,host:port` runs every part on a Redis Cluster (server/redis-connection.ts).
   */
  REDIS_URL: z
    .string()
    .superRefine((v, ctx) => {
      const problem = redisTargetProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  CREST_SHARDS: int(1, 1024).default(8),
  /** Secret that signs access tokens. Unset: a random one per start (tokens die with the process). */
  CREST_TOKEN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * The secret the current secret replaced, during a rotation: tokens it signed are still accepted until
   * they expire (new tokens are signed with CREST_TOKEN_SECRET only). Unset once the old tokens are gone.
   */
  CREST_TOKEN_SECRET_PREVIOUS: z.string().min(16, 'must be at least 16 characters').optional(),
  CREST_TOKEN_TTL_S: int(60, 365 * 86400).default(12 * 3600),
  /**
   * API requests per second per token (sub + role), a token bucket with a burst of 2 s' worth. Ingest
   * tokens are exempt (the detector backlog limit, 429 on CREST_MAX_LAG, protects the store). 0 = off.
   */
  CREST_RATE_LIMIT_PER_S: int(0, 1_000_000).default(50),
  /**
   * Origins allowed to call the API and open sockets from a browser, comma list of exact origins
   * (https://ops.example.com). Unset: same origin only (no CORS headers are sent).
   */
  CREST_CORS_ORIGINS: z.string().default(''),
  CREST_DETECTOR_PROFILE: z.enum(DETECTOR_PROFILE_NAMES as [DetectorProfileName, ...DetectorProfileName[]]).default('balanced'),
  CREST_DEMO: bool.default(true),
  CREST_DEMO_ROOMS: int(1, 1000).default(3),
  /** Which parts this process runs: comma list of api, detector, alerts, plans, demo, connectors (or all). */
  CREST_ROLES: z.string().default('all'),
  CREST_DATA_DIR: z.string().default('.crest-data'),
  CREST_MAX_EVENTS_PER_REQUEST: int(1, 100_000).default(5_000),
  CREST_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Processed events older than this are trimmed from the shard streams (never unprocessed ones). */
  CREST_EVENT_RETENTION_MS: int(1_000, 30 * 86_400_000).default(3_600_000),
  CREST_OUT_STREAM_MAXLEN: int(1000, 100_000_000).default(200_000),
  CREST_DEDUPE_HORIZON_S: int(60, 30 * 86400).default(86_400),
  /** Ingest answers 429 when a shard's unprocessed backlog exceeds this many events. */
  CREST_MAX_LAG: int(1000, 100_000_000).default(500_000),
  /**
   * Acknowledge ingested events only once this many replicas have them (WAIT after the ingest script, on the
   * same node): a failover to a replica then cannot lose an acknowledged event. 0 = the primary alone (AOF).
   */
  CREST_MIN_REPLICAS: int(0, 16).default(0),
  /** How long ingest waits for those replicas before answering 503 (resend: ids make it safe). */
  CREST_REPLICA_WAIT_MS: int(10, 60_000).default(1_000),
  CREST_LEASE_MS: int(500, 600_000).default(5_000),
  /** A big room's per-viewer delta is checkpointed in slices of at most this many entries (docs/big-rooms.md). */
  CREST_DELTA_SLICE: int(10, 1_000_000).default(2_000),
  /** Run startCrest's detector on its own worker thread (a second core); 0 keeps it on the API's thread. */
  CREST_DETECTOR_THREAD: bool.default(true),
  CREST_VIEWER_IDLE_MS: int(1_000, 3_600_000).default(120_000),
  CREST_ALLOWED_LATENESS_MS: int(0, 3_600_000).default(30_000),
  CREST_COOLDOWN_MS: int(0, 3_600_000).default(120_000),
  /**
   * Host countdown cues before each planned moment, minutes before it (comma list, largest first or not;
   * decimals allowed, e.g. 0.5 = 30 s). Default T−10, T−5, T−1.
   */
  CREST_PLAN_COUNTDOWN_MIN: z.string().default('10,5,1'),
  CREST_WEBHOOK_ATTEMPTS: int(1, 50).default(8),
  CREST_WEBHOOK_BACKOFF_MS: int(10, 600_000).default(1_000),
  CREST_WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5_000),
  CREST_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** TikTok LIVE connectors the `connectors` part runs: comma list of room=@account. Needs the optional tiktok-live-connector package. */
  CREST_TIKTOK_ROOMS: z.string().default(''),
  /** Extra enter-source rules, tried before the built-in table: comma list of pattern=source (follow, public, paid, other). */
  CREST_TIKTOK_SOURCES: z.string().default(''),
  /** Euler Stream sign-server API key, handed to tiktok-live-connector as signApiKey (optional). */
  CREST_TIKTOK_SIGN_API_KEY: z.string().min(1).optional(),
  /** First reconnect delay of a platform connector; doubles per failure up to the max. */
  CREST_CONNECTOR_BACKOFF_MS: int(100, 600_000).default(2_000),
  CREST_CONNECTOR_BACKOFF_MAX_MS: int(1_000, 3_600_000).default(120_000),
  /** Consecutive failed connection attempts before a connector gives up with status error (0 = never). */
  CREST_CONNECTOR_MAX_ATTEMPTS: int(0, 1_000_000).default(50),
  /** Folder of stream archives (<room>/<streamId>.ndjson.gz). Unset: `crest start` / `crest worker` use CREST_DATA_DIR/archive; startCrest alone archives nothing. */
  CREST_ARCHIVE_DIR: z.string().min(1).optional(),
  /** Days the per-minute rollups of an archived stream stay in Redis. */
  CREST_ARCHIVE_ROLLUP_DAYS: int(1, 3650).default(30),
  /** A room's stream with no event for this long is closed and archived even without stream.end. */
  CREST_ARCHIVE_IDLE_MS: int(1_000, 7 * 86_400_000).default(30 * 60_000),
  /** How long events the archiver has not read are kept beyond CREST_EVENT_RETENTION_MS while it is away. */
  CREST_ARCHIVE_HOLD_MS: int(10_000, 30 * 86_400_000).default(86_400_000),
});

export type Env = z.infer<typeof envSchema>;

export interface CrestConfig {
  port: number;
  host: string;
  redisUrl: string | undefined;
  shards: number;
  tokenSecret: string | undefined;
  /** Accepted for verification only (rotation); never signs. */
  tokenSecretPrevious: string | undefined;
  tokenTtlS: number;
  rateLimitPerS: number;
  corsOrigins: readonly string[];
  demo: boolean;
  demoRooms: number;
  roles: ReadonlySet<(typeof ALL_ROLES)[number]>;
  dataDir: string;
  maxEventsPerRequest: number;
  maxBodyBytes: number;
  eventRetentionMs: number;
  outStreamMaxLen: number;
  dedupeHorizonS: number;
  maxLag: number;
  /** CREST_MIN_REPLICAS and CREST_REPLICA_WAIT_MS. */
  replicas: { min: number; waitMs: number };
  leaseMs: number;
  /** CREST_DELTA_SLICE. */
  deltaSlice: number;
  /** The detector role runs on its own worker thread (CREST_DETECTOR_THREAD). */
  detectorThread: boolean;
  webhook: { attempts: number; backoffMs: number; timeoutMs: number };
  /** Planned moments: countdown offsets in minutes before each moment, largest first. */
  plans: { countdownMin: readonly number[] };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  engine: EngineConfig;
  tiktok: { rooms: { room: string; account: string }[]; sourceRules: SourceRule[]; signApiKey: string | undefined };
  connector: { backoffMs: number; backoffMaxMs: number; maxAttempts: number };
  /** Stream history (workers/archiver.ts); `dir` undefined = no archiver and no past-stream reports. */
  archive: { dir: string | undefined; rollupDays: number; idleCloseMs: number; holdMs: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ALL_ROLES = ['api', 'detector', 'alerts', 'plans', 'demo', 'connectors', 'archiver'] as const;

/** Parses an environment (process.env by default) into a frozen config; throws ConfigError naming the key. */
export function loadConfig(env: Record<string, string | undefined> = process.env): CrestConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = envSchema.safeParse(clean);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`${i.path.join('.')}: ${i.message}`);
  }
  const e = r.data;
  const roleList = e.CREST_ROLES.split(',').map((s) => s.trim()).filter(Boolean);
  const roles = new Set<(typeof ALL_ROLES)[number]>();
  for (const role of roleList) {
    if (role === 'all') ALL_ROLES.forEach((x) => roles.add(x));
    else if ((ALL_ROLES as readonly string[]).includes(role)) roles.add(role as (typeof ALL_ROLES)[number]);
    else throw new ConfigError(`CREST_ROLES: unknown part "${role}"; expected all or ${ALL_ROLES.join(', ')}`);
  }
  if (!e.CREST_DEMO) roles.delete('demo');
  let sourceRules: SourceRule[];
  try {
    sourceRules = parseSourceRules(e.CREST_TIKTOK_SOURCES);
  } catch (err) {
    throw new ConfigError(`CREST_TIKTOK_SOURCES: ${(err as Error).message}`);
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    shards: e.CREST_SHARDS,
    tokenSecret: e.CREST_TOKEN_SECRET,
    tokenSecretPrevious: e.CREST_TOKEN_SECRET_PREVIOUS,
    tokenTtlS: e.CREST_TOKEN_TTL_S,
    rateLimitPerS: e.CREST_RATE_LIMIT_PER_S,
    corsOrigins: parseOrigins(e.CREST_CORS_ORIGINS),
    demo: e.CREST_DEMO,
    demoRooms: e.CREST_DEMO_ROOMS,
    roles,
    dataDir: e.CREST_DATA_DIR,
    maxEventsPerRequest: e.CREST_MAX_EVENTS_PER_REQUEST,
    maxBodyBytes: e.CREST_MAX_BODY_BYTES,
    eventRetentionMs: e.CREST_EVENT_RETENTION_MS,
    outStreamMaxLen: e.CREST_OUT_STREAM_MAXLEN,
    dedupeHorizonS: e.CREST_DEDUPE_HORIZON_S,
    maxLag: e.CREST_MAX_LAG,
    replicas: { min: e.CREST_MIN_REPLICAS, waitMs: e.CREST_REPLICA_WAIT_MS },
    leaseMs: e.CREST_LEASE_MS,
    deltaSlice: e.CREST_DELTA_SLICE,
    detectorThread: e.CREST_DETECTOR_THREAD,
    plans: { countdownMin: parseCountdown(e.CREST_PLAN_COUNTDOWN_MIN) },
    webhook: { attempts: e.CREST_WEBHOOK_ATTEMPTS, backoffMs: e.CREST_WEBHOOK_BACKOFF_MS, timeoutMs: e.CREST_WEBHOOK_TIMEOUT_MS },
    logLevel: e.CREST_LOG_LEVEL,
    engine: engineConfig(e.CREST_DETECTOR_PROFILE, e),
    tiktok: { rooms: parseConnectorRooms('CREST_TIKTOK_ROOMS', e.CREST_TIKTOK_ROOMS), sourceRules, signApiKey: e.CREST_TIKTOK_SIGN_API_KEY },
    connector: { backoffMs: e.CREST_CONNECTOR_BACKOFF_MS, backoffMaxMs: e.CREST_CONNECTOR_BACKOFF_MAX_MS, maxAttempts: e.CREST_CONNECTOR_MAX_ATTEMPTS },
    archive: { dir: e.CREST_ARCHIVE_DIR, rollupDays: e.CREST_ARCHIVE_ROLLUP_DAYS, idleCloseMs: e.CREST_ARCHIVE_IDLE_MS, holdMs: e.CREST_ARCHIVE_HOLD_MS },
  });
}

/** Comma list of exact origins (scheme://host[:port], no path); '*' is refused: name the origins. */
function parseOrigins(text: string): string[] {
  const out: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    let u: URL | null = null;
    try {
      u = new URL(item);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== item.replace(/\/$/, '')) {
      throw new ConfigError(`CREST_CORS_ORIGINS: "${item}" is not an origin like https://ops.example.com (scheme, host, optional port; no path, no *)`);
    }
    out.push(u.origin);
  }
  return out;
}

/** `10,5,1` → [10, 5, 1]: distinct positive minutes (≤ 24 h), largest first. */
function parseCountdown(text: string): number[] {
  const out = new Set<number>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const n = Number(item);
    if (!Number.isFinite(n) || n <= 0 || n > 1440) throw new ConfigError(`CREST_PLAN_COUNTDOWN_MIN: "${item}" is not a number of minutes above 0 and at most 1440`);
    out.add(n);
  }
  return [...out].sort((a, b) => b - a);
}

/** `room=@account,room2=account2` → pairs; a room appears once. */
function parseConnectorRooms(key: string, text: string): { room: string; account: string }[] {
  const out: { room: string; account: string }[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const room = eq > 0 ? item.slice(0, eq).trim() : '';
    const account = eq > 0 ? item.slice(eq + 1).trim().replace(/^@/, '') : '';
    if (!ROOM_ID_PATTERN.test(room) || !account) throw new ConfigError(`${key}: "${item}" is not room=@account (room: 1–64 of A-Z a-z 0-9 _ . -)`);
    if (out.some((r) => r.room === room)) throw new ConfigError(`${key}: room "${room}" is listed twice`);
    out.push({ room, account });
  }
  return out;
}

/** Engine settings for a profile; the environment may override the non-detector parts. */
export function engineConfig(profile: DetectorProfileName = 'balanced', e?: Partial<Env>): EngineConfig {
  return {
    detector: { ...DETECTOR_PROFILES[profile] },
    policy: { cooldownMs: e?.CREST_COOLDOWN_MS ?? 120_000, ttlMs: 5 * 60_000, defaultBoostMin: 10 },
    viewerIdleMs: e?.CREST_VIEWER_IDLE_MS ?? 120_000,
    onlineFreshMs: 10_000,
    allowedLatenessMs: e?.CREST_ALLOWED_LATENESS_MS ?? 30_000,
    tickMs: 1_000,
    // A second line of defence only: ingest already drops repeats for CREST_DEDUPE_HORIZON_S, and the detector
    // resumes by stream position, not by id. At 2,048 the id ring was ~90 KB of a busy room's memory.
    recentIdsKept: 256,
  };
}
