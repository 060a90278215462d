/**
 * A Redis Cluster master killed while Crest ingests and detects on it (3 masters with 2 replicas each,
 * CREST_MIN_REPLICAS=1): the cluster promotes one of its replicas, and Crest — API, detector and the rest,
 * unrestarted — follows the new topology by itself and acknowledges that master's shards again. Every batch
 * acknowledged before is there (resent, it answers all duplicates), and after the client resends everything
 * the totals equal an independent count: nothing lost, nothing counted twice.
 */
import { exitsWithin } from './support/exit-watch.ts';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { shardOf } from '../core/sharding.ts';
import type { CrestHandle } from '../server/crest.ts';
import type { RedisClient } from '../server/lua/scripts.ts';
import { createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { startFailoverCrest, stopWithin, waitFor } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { assertExactTotals, batchMaker, postBatch, resendAll, startWriter } from './support/event-batches.ts';
import { slotMasterPort, startTestRedisCluster, type TestRedisCluster } from './support/redis-cluster.ts';

const SHARDS = 8;
const BATCH = 20;
let cluster: TestRedisCluster;
let redis: RedisClient;
let crest: CrestHandle | null = null;

before(async () => {
  cluster = await startTestRedisCluster(3, 2);
  redis = createRedis(cluster.url, { maxRetriesPerRequest: 3 });
  await waitFor('every master with two online replicas', 30_000, async () => {
    let full = 0;
    for (const n of cluster.nodes) {
      const c = new Redis(n.url);
      const info = await c.info('replication').finally(() => c.disconnect());
      if ((info.match(/state=online/g) ?? []).length === 2) full++;
    }
    return full === 3 ? true : undefined;
  });
});
after(async () => {
  await stopWithin(crest);
  redis?.disconnect();
  await cluster?.cleanup();
});
exitsWithin();

test('a cluster master killed mid-ingest: Crest follows the promoted replica by itself, no acknowledged batch lost, totals exact', async (t) => {
  // Two rooms per shard, so every master's slots carry rooms.
  const rooms: string[] = [];
  const perShard = new Map<number, number>();
  for (let i = 0; rooms.length < SHARDS * 2; i++) {
    const s = shardOf(`cf-${i}`, SHARDS);
    if ((perShard.get(s) ?? 0) >= 2) continue;
    perShard.set(s, (perShard.get(s) ?? 0) + 1);
    rooms.push(`cf-${i}`);
  }
  crest = await startFailoverCrest(cluster.url, SHARDS, { CREST_MIN_REPLICAS: '1', CREST_REPLICA_WAIT_MS: '2000' });
  const c = crest;
  const nextBatch = batchMaker(rooms, BATCH);
  const writer = startWriter((events) => postBatch(c, events), nextBatch);
  const batches = writer.batches;

  await waitFor('events flowing', 30_000, async () => (batches.filter((b) => b.acked).length >= 30 ? true : undefined));
  // The master of shard 0's slot dies.
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', keys.events(0)));
  const ownerPort = slotMasterPort(String(await redis.call('CLUSTER', 'NODES')), slot)!;
  const victim = cluster.nodes.find((n) => n.port === ownerPort)!;
  const killedAt = Date.now();
  await victim.stop('SIGKILL');
  // cluster-node-timeout 2 s, then a replica is elected; batches touch every shard, so an acknowledgement
  // after that means the dead master's shards are written again.
  const survivor = cluster.nodes.find((n) => n !== victim)!;
  const probe = new Redis(survivor.url);
  const promotedAt = await waitFor('a replica promoted', 60_000, async () => {
    const port = slotMasterPort(String(await probe.call('CLUSTER', 'NODES')), slot);
    return port !== undefined && port !== victim.port ? Date.now() : undefined;
  });
  probe.disconnect();
  t.diagnostic(`a replica took the slots over ${promotedAt - killedAt} ms after the kill`);
  await waitFor('batches acknowledged again after the failover', 60_000, async () => (batches.filter((b) => b.acked && b.at > killedAt + 500).length >= 10 ? true : undefined));
  await writer.stop();
  // The death was felt: a batch refused, or one held for at least a second of the outage (the writer sends one
  // batch at a time, so the one in flight at the kill is often answered before the kill bites, and it is the next
  // one, sent just after, that waits out the failover). A batch answered in milliseconds never qualifies.
  const outage = promotedAt - killedAt;
  const heldFor = (b: { sentAt: number; at: number }) => Math.min(b.at, promotedAt) - Math.max(b.sentAt, killedAt);
  const felt = batches.filter((b) => !b.acked || heldFor(b) >= Math.min(1000, outage / 2));
  assert.ok(felt.length > 0, `some batch was refused or held while the master was gone (outage ${outage} ms)`);
  const back = batches.find((b) => b.acked && b.at > killedAt)!.at - killedAt;
  t.diagnostic(`acknowledged again ${back} ms after the kill; ${batches.length} batches, ${batches.filter((b) => !b.acked).length} refused`);
  // Before ingest asked for the new slot map itself, the WAIT pipeline kept hitting MOVED for ~25 s.
  assert.ok(back - (promotedAt - killedAt) < 10_000, `Crest followed the new master ${back - (promotedAt - killedAt)} ms after it took the slots`);

  await resendAll((events) => postBatch(c, events), batches);

  await waitCaughtUp(redis, SHARDS, 60_000);
  await assertExactTotals(c, rooms, batches, 'after the failover');
});
