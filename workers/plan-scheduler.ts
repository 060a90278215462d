/**
 * Plan scheduler: BullMQ delayed jobs for the T-minus cues of planned moments (DESIGN §4 Plans).
 *
 *   plans API ──schedulePlan──► BullMQ delayed jobs ──Worker (at fire time)──► plan-fire.lua ──XADD `p`──► shard input stream
 *                                                                                  └─► detector: core/plans.ts → suggestion
 *
 * Per plan version: a `countdown` job per configured offset (default T−10, T−5, T−1 min), `launch` at T,
 * `build-up` at T − leadMin (boost.now when a budget is planned; arms the at-risk watch). Job ids are
 * deterministic, `${room}.${planId}.${version}.${kind}.${offsetMin}` (no ':' — BullMQ 6.7 refuses it), so
 * scheduling twice adds nothing; an edit bumps the version, removes the old version's jobs and adds new ones;
 * a delete removes them. A job never emits to sockets: it appends a plan record to the room's shard stream
 * and the detector applies it like an event.
 *
 * Dedupe key: the cue id (`room:kind:planId:version:offset`), set NX by plan-fire.lua together with the
 * XADD. A job that runs again (crash before completion, stalled-job retry, re-added after a restart) writes
 * nothing; a job of an old version (its removal raced the edit) finds another version stored and writes
 * nothing. At start the scheduler re-adds every stored plan's jobs (ids make it a no-op when they exist), so
 * a plan saved by an API that died before scheduling is still cued.
 */
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { parsePlanRecord, planCueId, planCueKind } from '../core/plans.ts';
import { shardOf } from '../core/sharding.ts';
import type { PlannedMoment, PlanRecord } from '../core/protocol.ts';
import type { Logger } from '../server/logger.ts';
import { bullConnection, createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { scripts, type RedisClient } from '../server/lua/scripts.ts';
import { closeBull } from './bull-close.ts';

export const PLAN_QUEUE = 'crest-plans';
/** Same hash tag as the webhook queue: every key of a BullMQ queue must share one Cluster slot. */
export const PLAN_QUEUE_PREFIX = '{crest-bull}';
/** How long a fired cue's id is remembered: longer than any plan's schedule can be re-added for. */
export const FIRE_ONCE_S = 7 * 86_400;
/** A launch up to this late (e.g. the plan was saved a few seconds before its time) still fires. */
const LATE_LAUNCH_MS = 60_000;
const JOB_RETENTION = { removeOnComplete: { age: 2 * 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400, count: 10_000 } } as const;

export interface PlanJob {
  id: string;
  fireAt: number;
  record: PlanRecord;
}

export function planJobId(r: Pick<PlanRecord, 'room' | 'planId' | 'version' | 'kind' | 'offsetMin'>): string {
  return `${r.room}.${r.planId}.${r.version}.${r.kind}.${r.offsetMin}`;
}

/** Every job a plan version could have, whatever the time (what an edit or delete removes). */
export function allPlanJobs(plan: PlannedMoment, countdownMin: readonly number[]): PlanJob[] {
  const rec = (kind: PlanRecord['kind'], offsetMin: number): PlanJob => {
    const record: PlanRecord = {
      room: plan.room,
      planId: plan.id,
      version: plan.version,
      kind,
      offsetMin,
      atTs: plan.at,
      sku: plan.sku,
      name: plan.name,
      welfare: plan.welfare,
      budget: plan.budget,
      leadMin: plan.leadMin,
    };
    return { id: planJobId(record), fireAt: plan.at - Math.round(offsetMin * 60_000), record };
  };
  return [...countdownMin.map((o) => rec('countdown', o)), rec('build-up', plan.leadMin), rec('launch', 0)];
}

/**
 * The jobs to add at wall time `now`. Past fire times are dropped, except: the build-up of a moment still
 * ahead fires now (its lead window has begun), the nearest past countdown fires now (the host sees the
 * countdown at once), and a launch less than LATE_LAUNCH_MS late fires now.
 */
export function duePlanJobs(plan: PlannedMoment, countdownMin: readonly number[], now: number): PlanJob[] {
  const all = allPlanJobs(plan, countdownMin);
  const ahead = plan.at > now;
  const pastCountdowns = all.filter((j) => j.record.kind === 'countdown' && j.fireAt <= now);
  const nearestPast = pastCountdowns.sort((a, b) => b.fireAt - a.fireAt)[0];
  return all.filter((j) => {
    if (j.fireAt > now) return true;
    if (j.record.kind === 'launch') return now - plan.at <= LATE_LAUNCH_MS;
    return ahead && (j.record.kind === 'build-up' || j === nearestPast);
  });
}

function jobOptions(job: PlanJob, now: number): JobsOptions {
  return { jobId: job.id, delay: Math.max(0, job.fireAt - now), attempts: 5, backoff: { type: 'exponential', delay: 500 }, ...JOB_RETENTION };
}

/** Adds a plan version's due jobs (existing ids are left alone, so this is safe to repeat). */
export async function schedulePlan(queue: Queue, plan: PlannedMoment, countdownMin: readonly number[], now = Date.now()): Promise<number> {
  const jobs = duePlanJobs(plan, countdownMin, now);
  if (jobs.length > 0) await queue.addBulk(jobs.map((j) => ({ name: j.record.kind, data: j.record, opts: jobOptions(j, now) })));
  return jobs.length;
}

/**
 * Removes a plan version's jobs. Best effort: a job already running cannot be removed, and then plan-fire.lua
 * refuses it because the stored version moved on.
 */
export async function unschedulePlan(queue: Queue, plan: PlannedMoment, countdownMin: readonly number[]): Promise<void> {
  await Promise.all(allPlanJobs(plan, countdownMin).map((j) => queue.remove(j.id).catch(() => 0)));
}

/** Appends a due plan record to its shard stream, once (plan-fire.lua). */
export async function firePlanRecord(redis: RedisClient, shards: number, rec: PlanRecord): Promise<'fired' | 'repeat' | 'stale'> {
  const shard = shardOf(rec.room, shards);
  const cueId = planCueId(rec.room, planCueKind(rec.kind)!, rec.planId, rec.version, rec.offsetMin);
  const r = (await scripts.planFire.run(
    redis,
    [keys.plans(shard, rec.room), keys.planFired(shard, cueId), keys.events(shard)],
    [rec.planId, rec.version, JSON.stringify(rec), FIRE_ONCE_S],
  )) as number;
  return r === 1 ? 'fired' : r === 0 ? 'repeat' : 'stale';
}

export interface PlanSchedulerOptions {
  redisUrl: string;
  shards: number;
  countdownMin: readonly number[];
  log: Logger;
  queueName?: string;
}

/** The `plans` part: runs the BullMQ worker that fires plan jobs, and re-adds stored plans' jobs at start. */
export class PlanScheduler {
  readonly stats = { fired: 0, repeats: 0, stale: 0 };
  private readonly redis: RedisClient;
  private bull: { close(): void } | null = null;
  private queue: Queue | null = null;
  private worker: Worker | null = null;

  constructor(private readonly opts: PlanSchedulerOptions) {
    this.redis = createRedis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.redis.on('error', (e: Error) => opts.log.debug('plan scheduler redis', { error: e.message }));
  }

  async start(): Promise<void> {
    await this.redis.connect();
    const name = this.opts.queueName ?? PLAN_QUEUE;
    const bull = (this.bull = bullConnection(this.opts.redisUrl));
    const connection = bull.connection;
    this.queue = new Queue(name, { connection, prefix: PLAN_QUEUE_PREFIX });
    this.queue.on('error', (e: Error) => this.opts.log.warn('plan queue error', { error: e.message }));
    await this.reconcile();
    this.worker = new Worker(name, (job) => this.fire(job), { connection, prefix: PLAN_QUEUE_PREFIX, concurrency: 8 });
    this.worker.on('error', (e: Error) => this.opts.log.warn('plan worker error', { error: e.message }));
    await this.worker.waitUntilReady();
    this.opts.log.info('plan scheduler started', { countdownMin: this.opts.countdownMin });
  }

  async stop(): Promise<void> {
    await closeBull(this.worker, 'plan worker', this.opts.log);
    await closeBull(this.queue, 'plan queue', this.opts.log);
    this.bull?.close();
    this.redis.disconnect();
  }

  /** Re-adds the due jobs of every stored plan (a no-op for jobs that exist). */
  private async reconcile(): Promise<void> {
    const now = Date.now();
    let plans = 0;
    for (let s = 0; s < this.opts.shards; s++) {
      for (const room of await this.redis.smembers(keys.planRooms(s))) {
        for (const raw of Object.values(await this.redis.hgetall(keys.plans(s, room)))) {
          await schedulePlan(this.queue!, JSON.parse(raw) as PlannedMoment, this.opts.countdownMin, now);
          plans++;
        }
      }
    }
    if (plans > 0) this.opts.log.info('plan scheduler re-checked stored plans', { plans });
  }

  private async fire(job: Job): Promise<string> {
    const rec = parsePlanRecord(JSON.stringify(job.data));
    if (!rec || rec.kind === 'cancel') throw new UnrecoverableError('malformed plan job data');
    const outcome = await firePlanRecord(this.redis, this.opts.shards, rec);
    if (outcome === 'fired') this.stats.fired++;
    else if (outcome === 'repeat') this.stats.repeats++;
    else this.stats.stale++;
    this.opts.log.debug('plan job', { job: job.id, outcome });
    return outcome;
  }
}
