/**
 * How a process without an API (`crest worker detector`, `crest worker alerts`) shows its metrics: it writes
 * its registries' JSON to Redis every PUBLISH_EVERY_MS with a TTL, and every API process adds up what it
 * finds there into its /metrics (server/metrics-registry.ts). prom-client's AggregatorRegistry only gathers
 * node:cluster workers by IPC, and a port per worker would leave the operator to find every one of them; a
 * few KB in Redis every few seconds is the cheaper way for a deployment whose parts already share that Redis.
 * A process that stops publishing drops out after METRICS_TTL_MS (its counters then look like a reset).
 */
import { AggregatorRegistry } from 'prom-client';
import type { RedisClient } from './lua/scripts.ts';
import type { Logger } from './logger.ts';
import type { MetricsJson } from './metrics-registry.ts';
import { keys } from './redis-keys.ts';

export const PUBLISH_EVERY_MS = 5_000;
/** Three missed publishes: a process that is gone, not one that is slow. */
export const METRICS_TTL_MS = 3 * PUBLISH_EVERY_MS;

export class MetricsPublisher {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly id: string,
    private readonly source: () => Promise<MetricsJson[]>,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => void this.publish().catch((e: Error) => this.log.debug('metrics publish failed', { error: e.message }));
    tick();
    this.timer = setInterval(tick, PUBLISH_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.multi().zrem(keys.metricsProcs(), this.id).del(keys.metricsOf(this.id)).exec();
  }

  async publish(): Promise<void> {
    const parts = await this.source();
    const json = parts.length === 1 ? parts[0]! : await AggregatorRegistry.aggregate(parts).getMetricsAsJSON();
    await this.redis
      .multi()
      .set(keys.metricsOf(this.id), JSON.stringify(json), 'PX', METRICS_TTL_MS)
      .zadd(keys.metricsProcs(), Date.now(), this.id)
      .exec();
  }
}

/** Every live publisher's registry JSON (those silent for METRICS_TTL_MS are dropped from the set). */
export async function readPublished(redis: RedisClient): Promise<MetricsJson[]> {
  await redis.zremrangebyscore(keys.metricsProcs(), '-inf', String(Date.now() - METRICS_TTL_MS));
  const ids = await redis.zrange(keys.metricsProcs(), '0', '-1');
  if (ids.length === 0) return [];
  const values = await redis.mget(...ids.map((id) => keys.metricsOf(id)));
  const out: MetricsJson[] = [];
  for (const v of values) if (v) out.push(JSON.parse(v) as MetricsJson);
  return out;
}
