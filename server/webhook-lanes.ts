/**
 * Delivery lanes: per-subscription order for webhooks on open-source BullMQ (its "groups" are a Pro
 * feature). A subscription covers one room, so one lane per subscription keeps per-(subscription, room)
 * order while different subscriptions deliver in parallel.
 *
 *   push ─► lane list (Redis, FIFO) ─► only the head has a BullMQ job ─► delivered or dead-lettered
 *                                          └─ pop itself, then kick: the next head gets its job
 *
 * The head blocks its lane while it retries with backoff (that is what keeps order when a receiver is down);
 * when it finally succeeds or is dead-lettered, the next item goes. Invariant: a lane's head has a job that
 * is waiting, delayed or active, or will get one on the next kick. A crash between a push or pop and the
 * BullMQ add is repaired by `sweep()` (at start and every claim interval), and `kick()` is idempotent: the job
 * id is the item's, and BullMQ ignores an add with an existing id.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis, Cluster } from 'ioredis';
import type { Suggestion } from '../core/protocol.ts';
import { scripts } from './lua/scripts.ts';
import { webhookKeys } from './webhook-keys.ts';

/** How long a lane item's job id is remembered: a re-read out-stream entry pushes nothing twice meanwhile. */
export const LANE_DEDUPE_TTL_S = 7 * 24 * 3600;

/** One pending delivery. `jobId` is unique per delivery attempt series (a replay has its own). */
export interface LaneItem {
  jobId: string;
  deliveryId: string;
  subscriptionId: string;
  suggestion: Suggestion;
  /** X-Request-Id of the ingest request whose event raised the suggestion (for the delivery's log line). */
  requestId?: string;
}

/** What a lane job carries: the item, and its exact stored JSON (how the processor finds itself in the lane). */
export interface LaneJobData extends LaneItem {
  lane: string;
}

type RedisLike = Redis | Cluster;

export type LaneJobOptions = (jobId: string) => JobsOptions;

export class WebhookLanes {
  constructor(
    private readonly redis: RedisLike,
    private readonly queue: Queue,
    private readonly jobOptions: LaneJobOptions,
  ) {}

  /**
   * Appends items to their lanes in the given order (one round trip per call, order kept by the pipeline),
   * then starts the lanes that were empty. Returns how many were new (repeats are dropped by job id).
   */
  async push(items: LaneItem[]): Promise<number> {
    if (items.length === 0) return 0;
    const pipe = this.redis.pipeline();
    for (const item of items) {
      pipe.evalsha(scripts.lanePush.sha, 3, webhookKeys.seen(item.jobId), webhookKeys.lane(item.subscriptionId), webhookKeys.lanes(), JSON.stringify(item), LANE_DEDUPE_TTL_S, item.subscriptionId);
    }
    let replies = (await pipe.exec()) ?? [];
    if (replies.some(([err]) => err instanceof Error && err.message.startsWith('NOSCRIPT'))) {
      // First use after a (re)start of Redis: run one by one, which loads the script; the dedupe keys make
      // the items the pipeline did push count as repeats, so nothing is pushed twice.
      replies = [];
      for (const item of items) replies.push([null, await this.pushOne(item)]);
    }
    const toKick = new Set<string>();
    let added = 0;
    items.forEach((item, i) => {
      const [err, n] = replies[i] ?? [new Error('no reply'), 0];
      if (err) throw err;
      if (Number(n) > 0) added++;
      if (Number(n) === 1) toKick.add(item.subscriptionId);
    });
    for (const sub of toKick) await this.kick(sub);
    return added;
  }

  private pushOne(item: LaneItem): Promise<unknown> {
    return scripts.lanePush.run(this.redis, [webhookKeys.seen(item.jobId), webhookKeys.lane(item.subscriptionId), webhookKeys.lanes()], [
      JSON.stringify(item),
      LANE_DEDUPE_TTL_S,
      item.subscriptionId,
    ]);
  }

  /** The processor's first question: is this job its lane's head (deliver), still queued behind it (wait), or gone (done)? */
  async position(data: LaneJobData): Promise<'head' | 'queued' | 'gone'> {
    const key = webhookKeys.lane(data.subscriptionId);
    if ((await this.redis.lindex(key, 0)) === data.lane) return 'head';
    return (await this.redis.lpos(key, data.lane)) === null ? 'gone' : 'queued';
  }

  /** Removes a finished head (delivered, dead-lettered or skipped) and starts the next one. */
  async done(data: LaneJobData): Promise<void> {
    await scripts.lanePop.run(this.redis, [webhookKeys.lane(data.subscriptionId), webhookKeys.lanes()], [data.lane, data.subscriptionId]);
    await this.kick(data.subscriptionId);
  }

  /** Drops a deleted subscription's whole lane: nothing of it will be delivered. */
  async clear(subscriptionId: string): Promise<void> {
    await this.redis.multi().del(webhookKeys.lane(subscriptionId)).srem(webhookKeys.lanes(), subscriptionId).exec();
  }

  /**
   * Makes sure the lane's head has a job. A head whose job already finished (a crash between the job's end
   * and its pop) is popped here, so a lane never stalls behind a delivery that is over.
   */
  async kick(subscriptionId: string): Promise<void> {
    for (let guard = 0; guard < 1_000; guard++) {
      const raw = await this.redis.lindex(webhookKeys.lane(subscriptionId), 0);
      if (raw === null) return;
      const item = JSON.parse(raw) as LaneItem;
      const job = await this.queue.getJob(item.jobId);
      if (!job) {
        const data: LaneJobData = { ...item, lane: raw };
        await this.queue.add(item.suggestion.kind, data, this.jobOptions(item.jobId));
        return;
      }
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed') return;
      await scripts.lanePop.run(this.redis, [webhookKeys.lane(subscriptionId), webhookKeys.lanes()], [raw, subscriptionId]);
    }
  }

  /** Kicks every non-empty lane: repairs heads left without a job by a crash. */
  async sweep(): Promise<number> {
    const subs = await this.redis.smembers(webhookKeys.lanes());
    for (const sub of subs) await this.kick(sub);
    return subs.length;
  }

  /** Pending items of one lane, head first (for the API and tests). */
  async pending(subscriptionId: string): Promise<LaneItem[]> {
    return (await this.redis.lrange(webhookKeys.lane(subscriptionId), 0, -1)).map((raw) => JSON.parse(raw) as LaneItem);
  }
}
