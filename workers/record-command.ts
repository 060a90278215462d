/**
 * `crest record --room ROOM --out FILE.ndjson.gz [--from-start] [--until-end]`: writes every accepted
 * event of one room to gzip NDJSON as it arrives (see room-recorder.ts). Ctrl-C stops it cleanly; the
 * file is valid whenever it stops.
 */
import { createRedis } from '../server/redis-connection.ts';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.ts';
import { ROOM_ID_PATTERN } from '../core/events.ts';
import { CommandUsageError } from './command-usage-error.ts';
import { recordRoom, type RecordSummary } from './room-recorder.ts';

export const RECORD_USAGE = 'crest record --room ROOM --out FILE.ndjson.gz [--from-start] [--until-end]';

export async function recordCommand(args: string[], env: Record<string, string | undefined> = process.env): Promise<RecordSummary> {
  const { values } = parseArgs({
    args,
    options: {
      room: { type: 'string' },
      out: { type: 'string' },
      'from-start': { type: 'boolean', default: false },
      'until-end': { type: 'boolean', default: false },
    },
  });
  if (!values.room || !values.out) throw new CommandUsageError(`usage: ${RECORD_USAGE}`);
  if (!ROOM_ID_PATTERN.test(values.room)) throw new CommandUsageError('--room must be 1–64 characters of A-Z a-z 0-9 _ . -');
  const config = loadConfig(env);
  if (!config.redisUrl) throw new CommandUsageError('crest record needs REDIS_URL pointing at Crest\'s Redis (`crest start` prints it)');

  // A connection of its own: it blocks on XREAD.
  const redis = createRedis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (e) => process.stderr.write(`crest record: redis: ${e.message} (retrying)\n`));
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const tty = process.stderr.isTTY;
  process.stderr.write(`recording room ${values.room} to ${values.out}${values['from-start'] ? ' (from the oldest event kept)' : ''}; Ctrl-C to stop\n`);
  try {
    const sum = await recordRoom({
      redis,
      shards: config.shards,
      room: values.room,
      out: values.out,
      fromStart: values['from-start'],
      untilStreamEnd: values['until-end'],
      signal: abort.signal,
      onProgress: (n) => {
        if (tty) process.stderr.write(`\r${n} events written\x1b[K`);
      },
    });
    process.stderr.write(`${tty ? '\n' : ''}wrote ${sum.events} events of ${values.room} to ${values.out}${sum.invalid ? ` (${sum.invalid} unreadable entries skipped)` : ''}\n`);
    return sum;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    redis.disconnect();
  }
}
