/**
 * `crest connect tiktok --room ROOM --user @handle`: one TikTok LIVE connector in the foreground,
 * submitting in-process through IngestService on REDIS_URL, its state in Redis for the panel. Exits
 * when the stream ends (0), when the connector gives up (1), or on Ctrl-C. The same connectors run
 * inside `npm start` from CREST_TIKTOK_ROOMS.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import type { ConnectorState } from '../core/protocol.ts';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import { createLogger } from '../server/logger.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { startConnectors } from './connectors/connector-runner.ts';
import { openIngest } from './ingest-connection.ts';

export const CONNECT_USAGE = 'crest connect tiktok --room ROOM --user @handle';

export async function connectCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<ConnectorState> {
  const [platform, ...rest] = args;
  if (platform !== 'tiktok') throw new CommandUsageError(`usage: ${CONNECT_USAGE} (tiktok is the only platform with a connector; others post events: see docs/send-events.md)`);
  const { values } = parseArgs({ args: rest, options: { room: { type: 'string' }, user: { type: 'string' } } });
  if (!values.room || !values.user) throw new CommandUsageError(`usage: ${CONNECT_USAGE}`);
  if (!ROOM_ID_PATTERN.test(values.room)) throw new CommandUsageError('--room must be 1–64 characters of A-Z a-z 0-9 _ . -');
  const config = loadConfig(env);
  const log = createLogger(config.logLevel);
  const conn = await openIngest(config, 'crest connect');
  try {
    const runner = await startConnectors({ rooms: [{ room: values.room, account: values.user }], config, ingest: conn.ingest, redis: conn.redis, log });
    const stop = () => void runner.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await runner.done;
    await runner.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    const state = runner.connectors[0]!.state;
    if (state.status === 'error') throw new Error(`the TikTok connector gave up: ${state.reason}`);
    return state;
  } finally {
    conn.close();
  }
}
