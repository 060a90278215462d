/**
 * Alert worker: turns suggestions on the shards' out streams into signed webhook deliveries.
 *
 *   out stream (per shard) ──XREADGROUP──► match subscriptions ──► lane per subscription ──► BullMQ ──► POST
 *                                                                   (server/webhook-lanes.ts)   └─ attempts exhausted ─► dead letters
 *
 * Stream side: one consumer group (`crest-alerts`) per out stream, created at '$' on first start, so history
 * older than that is never replayed. Entries are XACKed only after their deliveries are in their lanes;
 * entries a crashed worker left pending are taken over with XAUTOCLAIM (at start and every `claimIdleMs`).
 *
 * Order: a subscription covers one room, and its deliveries go out one at a time in out-stream order (its
 * lane); a delivery that keeps failing holds the ones behind it until it succeeds or is dead-lettered.
 * Different subscriptions deliver in parallel (`concurrency`). Order holds for one alert worker reading a
 * shard at a time (the consumer group splits a shard's entries between consumers when there are several).
 *
 * Dedupe key: the lane item's job id, `deliveryIdFor(subscriptionId, suggestion.id)`, remembered for
 * LANE_DEDUPE_TTL_S, so re-reading an entry (claimed after a crash, or a replayed stream range) never
 * delivers twice. The same id goes out as `X-Crest-Delivery`, so a receiver can drop the repeat of a
 * delivery whose 2xx we never saw (a worker killed mid-POST delivers again: at least once, never lost).
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis, type Cluster } from 'ioredis';
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import { SUGGESTION_KINDS, type Audience, type Suggestion, type SuggestionKind } from '../core/protocol.ts';
import type { RedisClient } from '../server/lua/scripts.ts';
import { bullConnection, createRedis, readGroupStreams } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import type { Logger } from '../server/logger.ts';
import type { WorkerMetrics } from '../server/metrics-registry.ts';
import { fieldOf } from './stream-entry.ts';
import { WebhookLanes, type LaneItem, type LaneJobData } from '../server/webhook-lanes.ts';
import { decide } from '../server/webhook-rules.ts';
import { SpendRecorder, type TickSpend } from '../server/webhook-spend.ts';
import { bodyVerdict, buildDelivery, WEBHOOK_PRESETS, type WebhookPreset } from '../server/webhook-presets.ts';
import { closeBull } from './bull-close.ts';

export const WEBHOOK_QUEUE = 'crest-webhooks';
/** Hash-tagged so every key of the queue lands in one Redis Cluster slot, as BullMQ requires there. */
export const WEBHOOK_QUEUE_PREFIX = '{crest-bull}';
export const ALERT_GROUP = 'crest-alerts';
/** Dead-letter list cap (newest first). */
export const DEAD_LETTERS_KEPT = 1_000;
/**
 * How long finished jobs (and so their ids, the dedupe keys) are kept. Re-reads only happen for entries
 * not yet XACKed, i.e. seconds after they were enqueued, far inside this horizon.
 */
const JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;
/** ±20 % jitter on the exponential backoff, so a receiver that comes back is not hit by every retry at once. */
const BACKOFF_JITTER = 0.2;

/** Kinds each audience can receive; the default `kinds` of a subscription. Operators get everything. */
export const AUDIENCE_KINDS: Record<Audience, readonly SuggestionKind[]> = {
  buyer: ['boost.now', 'boost.stop'],
  host: ['cue.tease', 'cue.launch', 'cue.hold', 'cue.countdown', 'cue.retract'],
  operator: SUGGESTION_KINDS,
};

const audienceSchema = z.enum(['buyer', 'host', 'operator']);
const kindSchema = z.enum(SUGGESTION_KINDS as [SuggestionKind, ...SuggestionKind[]]);

/** A stored subscription (hash keys.webhooks(): id → this JSON). The secret never leaves Redis but once. */
export const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  room: z.string().regex(ROOM_ID_PATTERN),
  audience: audienceSchema,
  kinds: z.array(kindSchema),
  secret: z.string(),
  /** Body shape (server/webhook-presets.ts); subscriptions stored before presets existed are generic. */
  preset: z.enum(WEBHOOK_PRESETS).default('generic'),
  /** The chat bot's own signing secret (Feishu, DingTalk); never shown again, like `secret`. */
  botSecret: z.string().optional(),
  createdBy: z.string(),
  createdAt: z.number(),
});
export type WebhookSubscription = z.infer<typeof subscriptionSchema>;

export function parseSubscription(raw: string): WebhookSubscription | null {
  try {
    const r = subscriptionSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/** Operators see every audience's suggestions (as in the room API); others only their own. */
export function subscriptionMatches(sub: WebhookSubscription, s: Pick<Suggestion, 'room' | 'audience' | 'kind' | 'suppressed'>): boolean {
  return (
    s.suppressed === null &&
    sub.room === s.room &&
    (sub.audience === 'operator' || sub.audience === s.audience) &&
    sub.kinds.includes(s.kind)
  );
}

/**
 * A suggestion read back from the out stream or a job: the fields we route on are checked, the rest passes
 * through untouched to the receiver.
 */
const suggestionSchema = z.looseObject({
  id: z.string().min(1).max(512),
  room: z.string().regex(ROOM_ID_PATTERN),
  audience: audienceSchema,
  kind: kindSchema,
  suppressed: z.string().nullable(),
});

/** `lane` and `jobId` are absent on jobs queued before delivery lanes existed: those deliver unordered, as then. */
const deliveryJobSchema = z.object({
  subscriptionId: z.string(),
  deliveryId: z.string(),
  suggestion: suggestionSchema,
  jobId: z.string().optional(),
  lane: z.string().optional(),
  requestId: z.string().optional(),
});
export interface DeliveryJob {
  subscriptionId: string;
  deliveryId: string;
  suggestion: Suggestion;
  jobId?: string;
  lane?: string;
  requestId?: string;
}

/** The generic preset's body. `id` is the delivery id (also in X-Crest-Delivery). */
export interface WebhookBody {
  id: string;
  type: 'suggestion';
  suggestion: Suggestion;
}

/** A delivery that exhausted its attempts (or was refused for good), as kept in keys.webhookDeadLetters(). */
export interface DeadLetter {
  /** Handle for replay; unique per dead-lettering. */
  id: string;
  jobId: string;
  deliveryId: string;
  subscriptionId: string;
  room: string;
  suggestionId: string;
  kind: SuggestionKind;
  /** Why it gave up, in one sentence for the operator panel ("gave up after 8 attempts: HTTP 503 …"). */
  reason: string;
  /** The last attempt's error as the receiver or the network gave it. */
  error: string;
  attempts: number;
  /** ms since epoch. */
  at: number;
  /** Kept so a replay does not depend on the failed job still being retained. */
  suggestion: Suggestion;
}

export const deadLetterSchema = z.object({
  id: z.string(),
  jobId: z.string(),
  deliveryId: z.string(),
  subscriptionId: z.string(),
  room: z.string(),
  suggestionId: z.string(),
  kind: kindSchema,
  // Records written before `reason` existed get it from `error` (see readDeadLetters).
  reason: z.string().optional(),
  error: z.string(),
  attempts: z.number(),
  at: z.number(),
  suggestion: suggestionSchema,
});

/**
 * Delivery id = job id = dedupe key, deterministic in (subscription, suggestion). BullMQ 6 refuses custom
 * ids containing ':' (suggestion ids may have them), so the suggestion id is percent-encoded; subscription
 * ids contain no '.', which keeps the mapping one-to-one. Receivers should treat it as opaque.
 */
export function deliveryIdFor(subscriptionId: string, suggestionId: string): string {
  return `${subscriptionId}.${encodeURIComponent(suggestionId)}`;
}

export function deliveryJobOptions(webhook: { attempts: number; backoffMs: number }, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: webhook.attempts,
    // Delay before retry n (1-based) = backoffMs · 2^(n-1), each drawn from [80 %, 100 %] of that.
    backoff: { type: 'exponential', delay: webhook.backoffMs, jitter: BACKOFF_JITTER },
    ...JOB_RETENTION,
  };
}

/**
 * Re-enqueues a dead letter with its original delivery id (a receiver that did act on it drops it), at the
 * tail of its subscription's lane. The job id is derived from the dead letter's id, so pressing replay twice
 * on one record enqueues once.
 */
export async function enqueueReplay(lanes: WebhookLanes, dl: DeadLetter): Promise<string> {
  const jobId = `${dl.deliveryId}.replay.${dl.id}`;
  await lanes.push([{ jobId, subscriptionId: dl.subscriptionId, deliveryId: dl.deliveryId, suggestion: dl.suggestion }]);
  return jobId;
}

/** The lanes of a queue, with the job options every lane job gets. */
export function lanesFor(redis: Redis | Cluster, queue: Queue, webhook: { attempts: number; backoffMs: number }): WebhookLanes {
  return new WebhookLanes(redis, queue, (jobId) => deliveryJobOptions(webhook, jobId));
}

/** The dead letter's one-sentence reason. */
export function deadLetterReason(err: unknown, attempts: number): string {
  const msg = (err as Error).message ?? String(err);
  return err instanceof UnrecoverableError
    ? `the receiver refused it for good (not retried): ${msg}`
    : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${msg}`;
}

/** Receiver answered non-2xx in a way a retry will not change (see `isPermanentStatus`): no more attempts. */
export class WebhookRejectedError extends UnrecoverableError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Timeout, network error, 5xx, 408 or 429: BullMQ retries it with backoff. */
export class WebhookRetryableError extends Error {
  override name = 'WebhookRetryableError';
  readonly status: number | null;
  constructor(status: number | null, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * 3xx (we never follow redirects: a subscription must name its final URL, and following could reach an
 * address nobody registered) and 4xx other than 408 / 429 mean "this request will never be accepted":
 * retrying the same body only burns attempts, so the delivery goes straight to the dead letters, where an
 * operator can replay it once the receiver is fixed.
 */
export function isPermanentStatus(status: number): boolean {
  return (status >= 300 && status < 500 && status !== 408 && status !== 429) || status < 200;
}

/**
 * POSTs one built request (server/webhook-presets.ts); resolves with the status on 2xx, throws
 * WebhookRejectedError / WebhookRetryableError. Chat presets that answer 200 with an error code in the body
 * are failures too (`bodyVerdict`).
 */
export async function postWebhook(opts: {
  url: string;
  headers: Record<string, string>;
  body: string;
  preset?: WebhookPreset;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<number> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Crest-Webhooks/1',
        ...opts.headers,
      },
      body: opts.body,
    });
  } catch (err) {
    const why = timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : describeFetchError(err);
    throw new WebhookRetryableError(null, why);
  }
  if (res.status >= 200 && res.status < 300) {
    const preset = opts.preset ?? 'generic';
    if (preset !== 'feishu' && preset !== 'dingtalk') {
      await res.body?.cancel();
      return res.status;
    }
    const verdict = bodyVerdict(preset, await readSnippet(res, 2_000));
    if (verdict === null) return res.status;
    if (verdict.retry) throw new WebhookRetryableError(res.status, verdict.message);
    throw new WebhookRejectedError(res.status, verdict.message);
  }
  const snippet = await readSnippet(res, 200);
  const msg = `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`;
  if (isPermanentStatus(res.status)) throw new WebhookRejectedError(res.status, msg);
  throw new WebhookRetryableError(res.status, msg);
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** At most `max` characters of the answer, for the error message; never reads an unbounded body. */
async function readSnippet(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let out = '';
  try {
    while (out.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
  } catch (err) {
    // The body is only decoration for the error message; a broken body must not hide the status.
    return `(body unreadable: ${(err as Error).message})`;
  } finally {
    // Releases the socket; a failure here means the body is already gone, which is what we want.
    void reader.cancel().catch(() => undefined);
  }
  return out.replace(/\s+/g, ' ').trim().slice(0, max);
}

export interface AlertWorkerOptions {
  redisUrl: string;
  shards: number;
  webhook: { attempts: number; backoffMs: number; timeoutMs: number };
  log: Logger;
  queueName?: string;
  /** Entries pending this long in another consumer are taken over; also how often we look. Default 30 s. */
  claimIdleMs?: number;
  /** XREADGROUP BLOCK timeout. Default 1 s. */
  blockMs?: number;
  /** Deliveries in flight at once. Default 16. */
  concurrency?: number;
  /** Stream entries read per call. Default 500. */
  batchSize?: number;
  consumerName?: string;
  /** Where delivery times are observed (/metrics); none: not measured. */
  metrics?: WorkerMetrics;
}

type StreamEntry = [id: string, fields: string[] | null];

export class AlertWorker {
  readonly consumer: string;
  readonly stats = { read: 0, enqueued: 0, held: 0, delivered: 0, retried: 0, deadLettered: 0, invalid: 0, claimed: 0, spendPoints: 0 };
  private readonly redis: RedisClient;
  /** Blocking reads get their own connection so deliveries' lookups never wait behind them. */
  private readonly reader: RedisClient;
  private bull: { close(): void } | null = null;
  private queue: Queue | null = null;
  private worker: Worker | null = null;
  private lanes: WebhookLanes | null = null;
  private spend!: SpendRecorder;
  private running = false;
  private loopDone: Promise<void> | null = null;
  private readonly queueName: string;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;

  constructor(private readonly opts: AlertWorkerOptions) {
    this.consumer = opts.consumerName ?? `alerts-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.queueName = opts.queueName ?? WEBHOOK_QUEUE;
    this.claimIdleMs = opts.claimIdleMs ?? 30_000;
    this.blockMs = opts.blockMs ?? 1_000;
    this.redis = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.reader = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    for (const c of [this.redis, this.reader]) c.on('error', (e: Error) => opts.log.debug('alert worker redis', { error: e.message }));
  }

  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.reader.connect()]);
    await this.ensureGroups();
    // Separate connections for Queue and Worker (BullMQ owns and closes them); null retries as BullMQ requires.
    // On a Redis Cluster it is one shared Cluster client instead, closed in stop() (server/redis-connection.ts).
    const bull = (this.bull = bullConnection(this.opts.redisUrl));
    const connection = bull.connection;
    this.queue = new Queue(this.queueName, { connection, prefix: WEBHOOK_QUEUE_PREFIX });
    this.worker = new Worker(this.queueName, (job, _token, signal) => this.deliver(job, signal), {
      connection,
      prefix: WEBHOOK_QUEUE_PREFIX,
      concurrency: this.opts.concurrency ?? 16,
    });
    this.queue.on('error', (e: Error) => this.opts.log.warn('alert queue error', { error: e.message }));
    this.worker.on('error', (e: Error) => this.opts.log.warn('alert worker error', { error: e.message }));
    await Promise.all([this.queue.waitUntilReady(), this.worker.waitUntilReady()]);
    this.lanes = lanesFor(this.redis, this.queue, this.opts.webhook);
    this.spend = new SpendRecorder(this.redis);
    // Heads a crash left without a job get one before anything new is read.
    await this.lanes.sweep();
    this.running = true;
    this.loopDone = this.loop();
    this.opts.log.info('alert worker started', { consumer: this.consumer, shards: this.opts.shards });
  }

  /** Stops reading, lets deliveries in flight finish (each bounded by the timeout), closes every connection. */
  async stop(): Promise<void> {
    this.running = false;
    this.reader.disconnect();
    await this.loopDone;
    await closeBull(this.worker, 'alert worker', this.opts.log);
    await closeBull(this.queue, 'alert queue', this.opts.log);
    this.bull?.close();
    this.redis.disconnect();
  }

  private streams(): string[] {
    return Array.from({ length: this.opts.shards }, (_, s) => keys.out(s));
  }

  /** '$': a new group starts at the stream's end, so a first start never replays old suggestions. */
  private async ensureGroups(): Promise<void> {
    for (const stream of this.streams()) {
      try {
        await this.redis.xgroup('CREATE', stream, ALERT_GROUP, '$', 'MKSTREAM');
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
      }
    }
  }

  private async loop(): Promise<void> {
    const streams = this.streams();
    let lastClaim = 0;
    while (this.running) {
      try {
        if (Date.now() - lastClaim >= this.claimIdleMs) {
          await this.claimStale();
          await this.lanes!.sweep();
          lastClaim = Date.now();
        }
        // One XREADGROUP over every shard on plain Redis; per shard on a cluster (the streams span slots).
        const reply = await readGroupStreams(this.reader, ALERT_GROUP, this.consumer, streams, {
          count: this.opts.batchSize ?? 500,
          blockMs: Math.min(this.blockMs, this.claimIdleMs),
        });
        for (const [stream, entries] of reply ?? []) await this.handleEntries(stream, entries);
      } catch (err) {
        if (!this.running) break;
        const msg = (err as Error).message;
        this.opts.log.warn('alert worker read failed, retrying', { error: msg });
        // The stream (and its group) was deleted under us: recreate at '$' rather than fail forever.
        if (msg.startsWith('NOGROUP')) await this.ensureGroups().catch((e: Error) => this.opts.log.warn('alert worker group create failed', { error: e.message }));
        await sleep(250);
      }
    }
  }

  /** Takes over entries idle in any consumer (a crashed predecessor, or our own failed enqueue) for claimIdleMs. */
  private async claimStale(): Promise<void> {
    for (const stream of this.streams()) {
      let cursor = '0-0';
      do {
        const [next, entries] = (await this.redis.xautoclaim(stream, ALERT_GROUP, this.consumer, this.claimIdleMs, cursor, 'COUNT', 500)) as [
          string,
          StreamEntry[],
          string[]?,
        ];
        if (entries.length > 0) {
          this.stats.claimed += entries.length;
          this.opts.log.info('alert worker claimed pending entries', { stream, count: entries.length });
          await this.handleEntries(stream, entries);
        }
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    }
  }

  /** Enqueues one job per matching (subscription, suggestion), then XACKs the whole batch. */
  private async handleEntries(stream: string, entries: StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.stats.read += entries.length;
    const suggestions: { s: Suggestion; rid?: string }[] = [];
    const ticks: TickSpend[] = [];
    for (const [id, fields] of entries) {
      const raw = fields ? fieldOf(fields, 'u') : undefined;
      if (raw === undefined) continue;
      const u = updateOf(raw);
      if (u === 'invalid') {
        this.stats.invalid++;
        this.opts.log.warn('alert worker skipped a malformed out-stream entry', { stream, id });
      } else if (u?.type === 'suggestion' && u.suggestion.suppressed === null) suggestions.push({ s: u.suggestion, rid: u.rid });
      else if (u?.type === 'tick') ticks.push(u.spend);
    }
    // Ad spend for outcome tracking (server/webhook-spend.ts): only rises are written.
    if (ticks.length > 0) this.stats.spendPoints += await this.spend.record(ticks);
    if (suggestions.length > 0) {
      const subs = await this.subscriptionsByRoom();
      // Out-stream order within a shard is room order; the lanes keep it per subscription. Rules are decided
      // in that order too, for every suggestion whether or not anyone subscribes, so decisions depend only on
      // the rules and the room's suggestions.
      const items: LaneItem[] = [];
      for (const { s, rid } of suggestions) {
        const holds = await decide(this.redis, s);
        for (const sub of subs.get(s.room) ?? []) {
          if (!subscriptionMatches(sub, s)) continue;
          // Operator subscriptions get every audience under the operator's rules.
          if (holds[sub.audience]) {
            this.stats.held++;
            continue;
          }
          const deliveryId = deliveryIdFor(sub.id, s.id);
          items.push({ jobId: deliveryId, deliveryId, subscriptionId: sub.id, suggestion: s, ...(rid ? { requestId: rid } : {}) });
        }
      }
      this.stats.enqueued += await this.lanes!.push(items);
    }
    await this.redis.xack(stream, ALERT_GROUP, ...entries.map(([id]) => id));
  }

  private async subscriptionsByRoom(): Promise<Map<string, WebhookSubscription[]>> {
    const all = await this.redis.hgetall(keys.webhooks());
    const byRoom = new Map<string, WebhookSubscription[]>();
    for (const [id, raw] of Object.entries(all)) {
      const sub = parseSubscription(raw);
      if (!sub) {
        this.opts.log.warn('alert worker ignored a malformed subscription', { id });
        continue;
      }
      const list = byRoom.get(sub.room) ?? [];
      list.push(sub);
      byRoom.set(sub.room, list);
    }
    return byRoom;
  }

  /** BullMQ processor: one attempt of one delivery. Throwing = failed attempt (retried unless unrecoverable). */
  private async deliver(job: Job, signal?: AbortSignal): Promise<{ status: number } | { skipped: string }> {
    const parsed = deliveryJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed job data: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const data = parsed.data as unknown as DeliveryJob;
    const lane = data.lane !== undefined ? (data as LaneJobData) : null;
    if (lane) {
      const at = await this.lanes!.position(lane);
      // Already delivered or dead-lettered (this run is a stalled job's second run): nothing left to do.
      if (at === 'gone') return { skipped: 'already finished' };
      // Not its turn (only heads get jobs, so only a replayed add gets here): look again a little later.
      if (at === 'queued') {
        await job.moveToDelayed(Date.now() + this.opts.webhook.backoffMs, job.token);
        throw new DelayedError();
      }
    }
    const raw = await this.redis.hget(keys.webhooks(), data.subscriptionId);
    const sub = raw ? parseSubscription(raw) : null;
    // Deleted since it was enqueued: the owner asked for no more deliveries, so this is done, not failed.
    if (!sub) {
      if (lane) await this.lanes!.clear(lane.subscriptionId);
      return { skipped: 'subscription deleted' };
    }
    // Built per attempt: the signatures' timestamps must be fresh on every retry.
    const request = buildDelivery({
      preset: sub.preset,
      url: sub.url,
      deliveryId: data.deliveryId,
      suggestion: data.suggestion,
      secret: sub.secret,
      botSecret: sub.botSecret,
      nowMs: Date.now(),
    });
    let status: number;
    const took = this.opts.metrics?.webhookDelivery.startTimer();
    try {
      status = await postWebhook({ ...request, preset: sub.preset, timeoutMs: this.opts.webhook.timeoutMs, signal });
    } catch (err) {
      const attempts = job.attemptsMade + 1;
      const final = err instanceof UnrecoverableError || attempts >= (job.opts.attempts ?? 1);
      took?.({ result: final ? 'dead-lettered' : 'failed' });
      // Written before BullMQ marks the job failed, so every failed job has its dead letter (a crash right
      // here could leave a duplicate record, never a missing one). Then the lane moves on.
      if (final) {
        await this.deadLetter(job, data, attempts, err);
        if (lane) await this.lanes!.done(lane);
      } else this.stats.retried++;
      this.opts.log.debug('webhook attempt failed', { job: job.id, attempt: attempts, final, error: (err as Error).message, ...(data.requestId ? { requestId: data.requestId } : {}) });
      throw err;
    }
    const seconds = took?.({ result: 'delivered' });
    this.stats.delivered++;
    this.opts.log.info('webhook delivered', {
      delivery: data.deliveryId,
      subscription: data.subscriptionId,
      room: data.suggestion.room,
      kind: data.suggestion.kind,
      status,
      attempt: job.attemptsMade + 1,
      ...(seconds !== undefined ? { ms: Math.round(seconds * 1000) } : {}),
      ...(data.requestId ? { requestId: data.requestId } : {}),
    });
    // Outside the try: a failed pop must not count as a failed delivery. BullMQ runs the job again, which
    // finds itself still the head (delivers again: the receiver drops it by X-Crest-Delivery) or gone.
    if (lane) await this.lanes!.done(lane);
    return { status };
  }

  private async deadLetter(job: Job, data: DeliveryJob, attempts: number, err: unknown): Promise<void> {
    const error = (err as Error).message ?? String(err);
    const dl: DeadLetter = {
      id: randomBytes(8).toString('hex'),
      jobId: String(job.id),
      deliveryId: data.deliveryId,
      subscriptionId: data.subscriptionId,
      room: data.suggestion.room,
      suggestionId: data.suggestion.id,
      kind: data.suggestion.kind,
      reason: deadLetterReason(err, attempts).slice(0, 600),
      error: error.slice(0, 500),
      attempts,
      at: Date.now(),
      suggestion: data.suggestion,
    };
    await this.redis
      .multi()
      .lpush(keys.webhookDeadLetters(), JSON.stringify(dl))
      .ltrim(keys.webhookDeadLetters(), 0, DEAD_LETTERS_KEPT - 1)
      .exec();
    this.stats.deadLettered++;
    this.opts.log.warn('webhook delivery dead-lettered', { deadLetter: dl.id, subscription: dl.subscriptionId, room: dl.room, attempts, error: dl.error, ...(data.requestId ? { requestId: data.requestId } : {}) });
  }
}

const tickSpendSchema = z.object({ room: z.string(), ts: z.number(), metrics: z.object({ adSpend: z.number() }) });

/** What the alert worker uses of an out-stream `u` value; null for other update types; 'invalid' when unreadable. */
function updateOf(raw: string): { type: 'suggestion'; suggestion: Suggestion; rid?: string } | { type: 'tick'; spend: TickSpend } | null | 'invalid' {
  let u: unknown;
  try {
    u = JSON.parse(raw);
  } catch (err) {
    if (err instanceof SyntaxError) return 'invalid';
    throw err;
  }
  if (typeof u !== 'object' || u === null) return null;
  const type = (u as { type?: unknown }).type;
  if (type === 'suggestion') {
    const r = suggestionSchema.safeParse((u as { suggestion?: unknown }).suggestion);
    const rid = (u as { rid?: unknown }).rid;
    return r.success ? { type, suggestion: r.data as unknown as Suggestion, ...(typeof rid === 'string' ? { rid } : {}) } : 'invalid';
  }
  if (type === 'tick') {
    const r = tickSpendSchema.safeParse((u as { tick?: unknown }).tick);
    // A tick is only read for its spend; one without it is not this worker's business, so no warning.
    return r.success ? { type, spend: { room: r.data.room, ts: r.data.ts, adSpend: r.data.metrics.adSpend } } : null;
  }
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
