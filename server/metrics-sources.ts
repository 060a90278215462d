/**
 * What an API process's scrape-time gauges read (server/metrics-registry.ts ApiMetricSources): the shard
 * checkpoints' counters, BullMQ's job counts, the socket.io engine, and the worker registries it can see.
 */
import { Queue } from 'bullmq';
import type { Server } from 'socket.io';
import { WEBHOOK_QUEUE, WEBHOOK_QUEUE_PREFIX } from '../workers/alert-worker.ts';
import { PLAN_QUEUE, PLAN_QUEUE_PREFIX } from '../workers/plan-scheduler.ts';
import type { Logger } from './logger.ts';
import type { RedisClient } from './lua/scripts.ts';
import type { ApiMetricSources, MetricsJson } from './metrics-registry.ts';
import { readPublished } from './metrics-publisher.ts';
import { CHECKPOINT_FIELDS as F, keys } from './redis-keys.ts';
import { shardCounters, unapplied } from './shard-counters.ts';

/** BullMQ states worth a gauge: what is queued or stuck (completed jobs are only kept as dedupe ids). */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export function apiMetricSources(opts: {
  redis: RedisClient;
  shards: number;
  io: Server;
  /** This process's own worker registries (in-process alert worker, detector thread). */
  local: () => Promise<MetricsJson[]>;
  log: Logger;
}): ApiMetricSources & { close(): Promise<void> } {
  const { redis, shards, log } = opts;
  // Shares the API connection (BullMQ leaves a shared client open), as the webhooks and plans routers do.
  const queues = [new Queue(WEBHOOK_QUEUE, { connection: redis, prefix: WEBHOOK_QUEUE_PREFIX }), new Queue(PLAN_QUEUE, { connection: redis, prefix: PLAN_QUEUE_PREFIX })];
  for (const q of queues) q.on('error', (e: Error) => log.debug('metrics queue error', { queue: q.name, error: e.message }));
  return {
    sockets: () => opts.io.engine.clientsCount,
    async shardStates() {
      // One call per shard: on a Redis Cluster the checkpoints live in different slots.
      return Promise.all(
        Array.from({ length: shards }, async (_, shard) => {
          // The active-room list comes in the same HMGET as the counters.
          const [added, processed, owed, active] = await redis.hmget(keys.checkpoint(shard), F.added, F.processed, F.owed, F.active);
          const backlog = unapplied(shardCounters(shard, added, processed, owed));
          return { shard, backlog, activeRooms: active ? (JSON.parse(active) as unknown[]).length : 0 };
        }),
      );
    },
    async queueCounts() {
      return Promise.all(queues.map(async (q) => ({ queue: q.name, counts: await q.getJobCounts(...QUEUE_STATES) })));
    },
    async workerJson() {
      // While Redis is away, /metrics still answers with what this process knows.
      const remote = await readPublished(redis).catch((err: Error) => {
        log.debug('metrics read failed', { what: 'published worker metrics', error: err.message });
        return [];
      });
      return [...(await opts.local()), ...remote];
    },
    onError: (what, err) => log.debug('metrics read failed', { what, error: err.message }),
    close: async () => {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
