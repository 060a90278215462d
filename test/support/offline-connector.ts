/**
 * A real TikTok connector (the real `tiktok-live-connector` package, its state written by the connector's
 * own store) whose only fake part is the network: `connect()` is the given function. For browser tests
 * that need a connector state in the panel.
 */
import { Redis } from 'ioredis';
import type { CrestConfig } from '../../config/config.ts';
import { silentLogger } from '../../server/logger.ts';
import { startConnectors, type ConnectorRunner } from '../../workers/connectors/connector-runner.ts';
import type { TestCrest } from './crest.ts';

export interface OfflineConnector {
  runner: ConnectorRunner;
  stop(): Promise<void>;
}

export async function startOfflineConnector(
  crest: TestCrest,
  room: string,
  account: string,
  connect: () => Promise<unknown>,
  connector: CrestConfig['connector'] = crest.config.connector,
): Promise<OfflineConnector> {
  const redis = new Redis(crest.redisUrl);
  const runner = await startConnectors({
    rooms: [{ room, account }],
    config: { ...crest.config, connector },
    ingest: crest.ingest,
    redis,
    log: silentLogger,
    connectorOptions: {
      createConnection: (pkg, acc, options) => {
        const c = new pkg.TikTokLiveConnection(acc, options);
        c.connect = connect as typeof c.connect;
        return c;
      },
    },
  });
  return {
    runner,
    async stop() {
      await runner.stop();
      redis.disconnect();
    },
  };
}
