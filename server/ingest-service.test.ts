/**
 * Ingest's backlog guard, checked inside ingest.lua (no separate read): a shard over the lag limit writes
 * nothing; a request whose every shard lags is a 429 with nothing written anywhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { shardOf } from '../core/sharding.ts';
import { startTestRedis } from '../test/support/redis.ts';
import { HttpError } from './http-error.ts';
import { IngestService } from './ingest-service.ts';
import { keys } from './redis-keys.ts';

const SHARDS = 4;
let server: Awaited<ReturnType<typeof startTestRedis>>;
let redis: Redis;
before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});
after(async () => {
  redis.disconnect();
  await server.cleanup();
});

const enter = (room: string, id: string) => ({ id, room, ts: 1_700_000_000_000, type: 'viewer.enter', viewer: `v-${id}`, source: 'public' });

async function streamLengths(): Promise<number[]> {
  return Promise.all(Array.from({ length: SHARDS }, (_, s) => redis.xlen(keys.events(s))));
}

test('a lagging shard writes nothing: 429 when every shard of the request lags, per-event rejections otherwise', async () => {
  const ingest = new IngestService(redis, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 5 });
  const rooms = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const lagRoom = rooms[0]!;
  const lagShard = shardOf(lagRoom, SHARDS);
  const other = rooms.find((r) => shardOf(r, SHARDS) !== lagShard)!;
  await redis.hset(keys.checkpoint(lagShard), '@added', 100, '@processed', 0);

  const before = await streamLengths();
  await assert.rejects(
    ingest.ingest([enter(lagRoom, 'x1'), enter(lagRoom, 'x2')], { rooms: '*' }),
    (err: unknown) => err instanceof HttpError && err.status === 429,
  );
  assert.deepEqual(await streamLengths(), before, '429 wrote nothing');
  assert.equal(await redis.exists(keys.dedupe(lagShard, lagRoom, 'x1')), 0, 'no dedupe key either: a resend is accepted later');

  const mixed = await ingest.ingest([enter(lagRoom, 'y1'), enter(other, 'y2')], { rooms: '*' });
  assert.equal(mixed.accepted, 1);
  assert.equal(mixed.rejected, 1);
  assert.deepEqual(mixed.errors.map((e) => e.index), [0]);
  const after = await streamLengths();
  assert.equal(after[lagShard], before[lagShard], 'the lagging shard stayed untouched');

  await redis.hset(keys.checkpoint(lagShard), '@processed', 100);
  const resent = await ingest.ingest([enter(lagRoom, 'x1'), enter(lagRoom, 'x2')], { rooms: '*' });
  assert.equal(resent.accepted, 2, 'once the backlog is gone, the refused events are accepted as they were');
});
