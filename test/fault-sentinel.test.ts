/**
 * An automatic failover under Sentinel: a primary with two replicas and one sentinel (quorum 1), Crest given
 * `redis-sentinel://…/crest` and CREST_MIN_REPLICAS=1. The primary is SIGKILLed while a client ingests and the
 * detector runs; Sentinel promotes a replica and re-points the other; Crest finds the new primary by itself
 * (no restart) and acknowledges batches again. Every batch acknowledged before the failover is there
 * (resent, it answers all duplicates), and after the client resends everything the totals equal an
 * independent count: nothing lost, nothing counted twice. The BullMQ parts (alerts, plans) run in the same
 * process on the sentinel connection options through all this; their deliveries are not checked here.
 */
import { exitsWithin } from './support/exit-watch.ts';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { CrestHandle } from '../server/crest.ts';
import { startFailoverCrest, stopWithin, waitFor } from './support/crest.ts';
import { startTestRedis, startTestSentinel, type TestRedis, type TestSentinel } from './support/redis.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { assertExactTotals, batchMaker, postBatch, resendAll, startWriter } from './support/event-batches.ts';

const ROOMS = ['se-a', 'se-b', 'se-c', 'se-d'];
const BATCH = 20;
const SHARDS = 4;

const servers: TestRedis[] = [];
let sentinel: TestSentinel | null = null;
let crest: CrestHandle | null = null;
after(async () => {
  await stopWithin(crest);
  sentinel?.cleanup();
  for (const s of servers) await s.cleanup();
});
// Crest's sentinel and BullMQ clients must let the process go (server/redis-client.ts): the watch fails the file otherwise.
exitsWithin();

async function redisServer(args: string[]): Promise<TestRedis> {
  // Any node may become the primary: each starts a replica's first sync at once.
  const s = await startTestRedis({ args: ['--repl-diskless-sync-delay', '0', ...args] });
  servers.push(s);
  return s;
}

test('Sentinel promotes a replica while ingesting: Crest follows by itself, loses no acknowledged batch, totals exact', async () => {
  const primary = await redisServer([]);
  const replicas = [await redisServer(['--replicaof', '127.0.0.1', String(primary.port)]), await redisServer(['--replicaof', '127.0.0.1', String(primary.port)])];
  const onReplicas = replicas.map((r) => new Redis(r.url));
  try {
    await waitFor('both replicas in sync', 20_000, async () => {
      for (const c of onReplicas) if (!/master_link_status:up/.test(await c.info('replication'))) return undefined;
      return true;
    });
    sentinel = await startTestSentinel(primary.port);
    const sentinelPort = sentinel.port;
    const sentinelUrl = `redis-sentinel://127.0.0.1:${sentinelPort}/crest`;
    crest = await startFailoverCrest(sentinelUrl, SHARDS, { CREST_ROLES: 'api,detector,alerts,plans', CREST_MIN_REPLICAS: '1', CREST_REPLICA_WAIT_MS: '2000' });
    const c = crest;

    const nextBatch = batchMaker(ROOMS, BATCH);
    const writer = startWriter((events) => postBatch(c, events), nextBatch);
    const batches = writer.batches;

    await waitFor('events flowing', 20_000, async () => (batches.filter((b) => b.acked).length >= 30 ? true : undefined));
    const killedAt = Date.now();
    await primary.stop('SIGKILL');
    // Sentinel notices (1 s), promotes a replica and re-points the other; Crest acknowledges again, unrestarted.
    await waitFor('batches acknowledged again after the failover', 40_000, async () => (batches.filter((b) => b.acked && b.at > killedAt + 500).length >= 10 ? true : undefined));
    await writer.stop();
    assert.ok(batches.some((b) => !b.acked), 'some batches were refused while there was no primary');
    const ask = new Redis(sentinelPort, '127.0.0.1');
    const [, port] = (await ask.call('SENTINEL', 'get-master-addr-by-name', 'crest').finally(() => ask.disconnect())) as [string, string];
    assert.ok(replicas.some((r) => r.port === Number(port)), `Sentinel promoted a replica (primary now on ${port})`);

    // The client resends every batch (ids make it safe); those acknowledged before all answer duplicates.
    // Like any client, it honours a 503's Retry-After (the re-pointed replica may still be syncing).
    await resendAll((events) => postBatch(c, events), batches);

    const now = new Redis({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'crest' });
    try {
      await waitCaughtUp(now, SHARDS);
    } finally {
      now.disconnect();
    }
    await assertExactTotals(c, ROOMS, batches, 'after the failover');
  } finally {
    for (const r of onReplicas) r.disconnect();
  }
});
