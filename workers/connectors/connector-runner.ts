/**
 * Runs platform connectors inside a Crest process or `crest connect`: one TikTokConnector per room,
 * submitting in-process through IngestService with claims for that room only, and publishing each
 * connector's state (plus a heartbeat) to Redis for `GET /api/v1/connectors` and the panel.
 */
import type { CrestConfig } from '../../config/config.ts';
import type { ConnectorState } from '../../core/protocol.ts';
import type { IngestService } from '../../server/ingest-service.ts';
import type { RedisClient } from '../../server/lua/scripts.ts';
import type { Logger } from '../../server/logger.ts';
import { ConnectorStateStore } from './connector-state-store.ts';
import { TikTokConnector, type TikTokConnectorOptions } from './tiktok-connector.ts';
import { SourceTable } from './tiktok-mapping.ts';
import { TikTokPackageMissingError } from './tiktok-package.ts';

export interface ConnectorRunnerOptions {
  rooms: { room: string; account: string }[];
  config: Pick<CrestConfig, 'tiktok' | 'connector'>;
  ingest: IngestService;
  redis: RedisClient;
  log: Logger;
  /** Tests: extra connector options (package loader, connection factory). */
  connectorOptions?: Partial<TikTokConnectorOptions>;
}

export interface ConnectorRunner {
  connectors: TikTokConnector[];
  /** Resolves when every connector has ended, errored or been stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** How often a running connector rewrites its state even when nothing changed (so staleness shows). */
export const CONNECTOR_HEARTBEAT_MS = 15_000;

/**
 * Starts the connectors. Throws TikTokPackageMissingError when the optional package is not installed
 * (after recording that as each room's connector state, so the panel says it too).
 */
export async function startConnectors(opts: ConnectorRunnerOptions): Promise<ConnectorRunner> {
  const store = new ConnectorStateStore(opts.redis, opts.log);
  const sources = SourceTable.withExtraRules(opts.config.tiktok.sourceRules);
  const connectors = opts.rooms.map(
    ({ room, account }) =>
      new TikTokConnector({
        room,
        account,
        sources,
        log: opts.log,
        submit: (events) => opts.ingest.ingest(events, { rooms: [room] }),
        onState: (s) => store.publish(s),
        backoffMs: opts.config.connector.backoffMs,
        backoffMaxMs: opts.config.connector.backoffMaxMs,
        maxAttempts: opts.config.connector.maxAttempts,
        signApiKey: opts.config.tiktok.signApiKey,
        ...opts.connectorOptions,
      }),
  );
  try {
    for (const c of connectors) await c.start();
  } catch (err) {
    await Promise.all(connectors.map((c) => c.stop()));
    if (err instanceof TikTokPackageMissingError) {
      for (const c of connectors) store.publish({ ...c.state, status: 'error', reason: err.message, since: Date.now(), updatedAt: Date.now() } satisfies ConnectorState);
    }
    await store.close();
    throw err;
  }
  const heartbeat = setInterval(() => {
    for (const c of connectors) {
      const s = c.state;
      if (s.status !== 'ended' && s.status !== 'error' && s.status !== 'stopped') store.publish({ ...s, updatedAt: Date.now() });
    }
  }, CONNECTOR_HEARTBEAT_MS);
  heartbeat.unref?.();
  const done = Promise.all(connectors.map((c) => c.done())).then(() => undefined);
  void done.then(() => clearInterval(heartbeat));
  return {
    connectors,
    done,
    async stop() {
      clearInterval(heartbeat);
      await Promise.all(connectors.map((c) => c.stop()));
      await store.close();
    },
  };
}
