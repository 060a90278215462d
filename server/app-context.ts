/** What every route and the gateway share: configuration, Redis, services and the logger. */
import type { CrestConfig } from '../config/config.ts';
import type { IngestService } from './ingest-service.ts';
import type { Logger } from './logger.ts';
import type { ApiMetrics } from './metrics-registry.ts';
import type { RoomStore } from './room-store.ts';
import type { RedisClient } from './lua/scripts.ts';

export interface AppContext {
  config: CrestConfig;
  tokenSecret: string;
  /** Secrets a token may be signed with: the current one, then CREST_TOKEN_SECRET_PREVIOUS during a rotation. */
  tokenSecrets: readonly string[];
  /** Fails fast while Redis is away (no offline queue), so the API answers 503 instead of hanging. */
  redis: RedisClient;
  ingest: IngestService;
  store: RoomStore;
  log: Logger;
  /** This API process's Prometheus registry (server/metrics-registry.ts), served on /metrics. */
  metrics: ApiMetrics;
}
