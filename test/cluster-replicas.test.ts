/**
 * CREST_MIN_REPLICAS on a Redis Cluster (3 masters, a replica each, on loopback): the WAIT must run on the
 * node that took the shard's write, so it waits for that master's replica and for no other. One replica is
 * held still with DEBUG SLEEP: a batch for a shard on its master waits for it; a batch for a shard on another
 * master does not; and the held replica has the batch once it wakes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { shardOf } from '../core/sharding.ts';
import { IngestService } from '../server/ingest-service.ts';
import type { RedisClient } from '../server/lua/scripts.ts';
import { createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { slotMasterPort, startTestRedisCluster, type TestRedisCluster } from './support/redis-cluster.ts';
import { waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const SHARDS = 8;
let cluster: TestRedisCluster;
let redis: RedisClient;

/** Master port → the port of its replica, once that replica is online (what WAIT counts). */
const replicaOf = new Map<number, number>();

before(async () => {
  cluster = await startTestRedisCluster(3, 1);
  redis = createRedis(cluster.url, { maxRetriesPerRequest: 1 });
  await waitFor('every master with an online replica', 20_000, async () => {
    replicaOf.clear();
    for (const n of cluster.nodes) {
      const c = new Redis(n.url);
      const info = await c.info('replication').finally(() => c.disconnect());
      const online = /slave0:ip=[^,]+,port=(\d+),state=online/.exec(info);
      if (online) replicaOf.set(n.port, Number(online[1]));
    }
    return replicaOf.size === 3 ? true : undefined;
  });
});
after(async () => {
  redis?.disconnect();
  await cluster?.cleanup();
});
exitsWithin();

/** The port of the master serving `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  return slotMasterPort(String(await redis.call('CLUSTER', 'NODES')), slot)!;
}

test('the WAIT runs on the shard\'s own node: it waits for that master\'s replica only', async () => {
  // A room per shard, and two shards on different masters.
  const roomOf = new Map<number, string>();
  for (let i = 0; roomOf.size < SHARDS; i++) if (!roomOf.has(shardOf(`cr-${i}`, SHARDS))) roomOf.set(shardOf(`cr-${i}`, SHARDS), `cr-${i}`);
  const masters = new Map<number, number>();
  for (let s = 0; s < SHARDS; s++) masters.set(s, await masterOf(keys.events(s)));
  const held = 0;
  const other = [...masters].find(([, m]) => m !== masters.get(held))![0];

  const ingest = new IngestService(redis, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 1_000_000, replicas: { min: 1, waitMs: 10_000 } });
  const batch = (room: string, tag: string) =>
    Array.from({ length: 10 }, (_, i) => ({ id: `${tag}-${i}`, room, ts: 1_700_000_000_000 + i, type: 'viewer.enter', viewer: `v${i}`, source: 'public' }));
  // Scripts loaded on every master first, so the timed calls below are one round trip plus the WAIT.
  for (let s = 0; s < SHARDS; s++) assert.equal((await ingest.ingest(batch(roomOf.get(s)!, 'warm'), { rooms: '*' })).accepted, 10);

  const replicaPort = replicaOf.get(masters.get(held)!)!;
  const sleeper = new Redis(replicaPort, '127.0.0.1');
  // Connected first: on a loaded machine the connection alone can take longer than the 50 ms below, and then the
  // replica was not yet asleep when the held shard's WAIT ran (seen in CI: it answered in 61 ms).
  await sleeper.ping();
  const sleeping = sleeper.call('DEBUG', 'SLEEP', '3').finally(() => sleeper.disconnect());
  await new Promise((r) => setTimeout(r, 50));

  let t0 = performance.now();
  assert.equal((await ingest.ingest(batch(roomOf.get(other)!, 'other'), { rooms: '*' })).accepted, 10);
  const otherMs = performance.now() - t0;
  t0 = performance.now();
  assert.equal((await ingest.ingest(batch(roomOf.get(held)!, 'held'), { rooms: '*' })).accepted, 10);
  const heldMs = performance.now() - t0;
  await sleeping;
  assert.ok(otherMs < 1_500, `a shard on another master did not wait for the held replica (${otherMs.toFixed(0)} ms)`);
  assert.ok(heldMs >= 2_000, `the held replica's shard waited for it (${heldMs.toFixed(0)} ms)`);

  const onReplica = new Redis(replicaPort, '127.0.0.1');
  try {
    await onReplica.call('READONLY');
    assert.equal(await onReplica.xlen(keys.events(held)), 20, 'the held replica has the batch it confirmed');
  } finally {
    onReplica.disconnect();
  }
});
