/**
 * An IngestService for a CLI command running beside Crest (connect, replay): its own Redis
 * connection, the same settings `crest start` uses, so events take exactly the path HTTP ingest takes.
 */
import type { RedisClient } from '../server/lua/scripts.ts';
import { createRedis } from '../server/redis-connection.ts';
import type { CrestConfig } from '../config/config.ts';
import { IngestService } from '../server/ingest-service.ts';
import { CommandUsageError } from './command-usage-error.ts';

export interface IngestConnection {
  ingest: IngestService;
  redis: RedisClient;
  close(): void;
}

export async function openIngest(config: CrestConfig, command: string): Promise<IngestConnection> {
  if (!config.redisUrl) {
    throw new CommandUsageError(`${command} needs REDIS_URL pointing at Crest's Redis (\`crest start\` prints it)`);
  }
  // Fail fast while Redis is away (the caller retries the batch), as the API does.
  const redis = createRedis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {}); // reported through the failing calls, which the callers retry
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new CommandUsageError(`${command}: cannot reach Redis at REDIS_URL (${(err as Error).message})`);
  }
  const ingest = new IngestService(redis, { shards: config.shards, dedupeHorizonS: config.dedupeHorizonS, maxLag: config.maxLag, replicas: config.replicas });
  return { ingest, redis, close: () => redis.disconnect() };
}
