/**
 * Records one room: tails its shard's event stream (every event there was accepted by ingest, after
 * validation and dedupe) and writes that room's events, as they are, to gzip NDJSON — the format
 * `crest replay` and the fixtures use. After every batch the gzip stream is sync-flushed, so even a
 * killed recorder leaves every written line readable; a clean stop (abort signal, Ctrl-C) also writes
 * the gzip trailer.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { constants as zlib, createGzip } from 'node:zlib';
import type { RedisClient } from '../server/lua/scripts.ts';
import { parseEvent } from '../core/events.ts';
import { shardOf } from '../core/sharding.ts';
import { keys } from '../server/redis-keys.ts';
import { fieldOf } from './stream-entry.ts';

export interface RecordRoomOptions {
  /** A connection this recorder may block on (XREAD BLOCK). */
  redis: RedisClient;
  shards: number;
  room: string;
  /** Output file (gzip NDJSON). */
  out: string;
  /** Start from the oldest event the stream still holds, instead of from now. */
  fromStart?: boolean;
  /** Stop after writing the room's `stream.end`. */
  untilStreamEnd?: boolean;
  signal?: AbortSignal;
  /** Called after each written batch with the running total. */
  onProgress?: (written: number) => void;
  /** Stream entries per read. Default 1000. */
  batch?: number;
}

export interface RecordSummary {
  events: number;
  /** Entries of the room that did not pass contract v1 when read back (never expected; counted, not written). */
  invalid: number;
  /** Stream id of the last entry read: resume point. */
  lastId: string;
}

/** Records until `signal` aborts (or the room's stream.end, with `untilStreamEnd`). */
export async function recordRoom(opts: RecordRoomOptions): Promise<RecordSummary> {
  const stream = keys.events(shardOf(opts.room, opts.shards));
  const gzip = createGzip();
  const file = createWriteStream(opts.out);
  gzip.pipe(file);
  const summary: RecordSummary = { events: 0, invalid: 0, lastId: '0-0' };
  try {
    // Resolve "now" to a concrete id once: `$` on every XREAD would skip what arrives between reads.
    if (!opts.fromStart) {
      const last = await opts.redis.xrevrange(stream, '+', '-', 'COUNT', 1);
      summary.lastId = last[0]?.[0] ?? '0-0';
    }
    let done = false;
    while (!done && !opts.signal?.aborted) {
      const reply = (await opts.redis.xread('COUNT', opts.batch ?? 1000, 'BLOCK', 500, 'STREAMS', stream, summary.lastId)) as [string, [string, string[]][]][] | null;
      if (!reply) continue;
      const lines: string[] = [];
      for (const [id, fields] of reply[0]![1]) {
        summary.lastId = id;
        const json = fieldOf(fields, 'e'); // other entries (detector clock records) carry no event
        if (!json || !json.includes(`"room":${JSON.stringify(opts.room)}`)) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(json);
        } catch {
          // Ingest wrote it; unreadable means corruption: count it, keep recording.
          summary.invalid += 1;
          continue;
        }
        const r = parseEvent(parsed);
        if (!r.ok) {
          summary.invalid += 1;
          continue;
        }
        if (r.event.room !== opts.room) continue;
        lines.push(JSON.stringify(r.event));
        if (opts.untilStreamEnd && r.event.type === 'stream.end') {
          done = true;
          break;
        }
      }
      if (lines.length > 0) {
        if (!gzip.write(lines.join('\n') + '\n')) await once(gzip, 'drain');
        await new Promise<void>((ok) => gzip.flush(zlib.Z_SYNC_FLUSH, () => ok()));
        summary.events += lines.length;
        opts.onProgress?.(summary.events);
      }
    }
  } finally {
    gzip.end();
    await once(file, 'close');
  }
  return summary;
}
