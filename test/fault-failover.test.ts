/**
 * A primary that dies and a replica promoted in its place (by hand: REPLICAOF NO ONE, then Crest pointed at
 * it), with CREST_MIN_REPLICAS=1. While a client ingests and the detector runs, the primary is SIGKILLed.
 * On the promoted replica:
 * - every batch the first Crest acknowledged is there: resent, it answers all duplicates;
 * - the detector resumes from what the replica holds (an ordered prefix of the primary's writes: its
 *   checkpoints never point past the events it has) and, once the client resent everything, the totals
 *   equal an independent count of the events sent: nothing lost, nothing counted twice.
 */
import { exitsWithin } from './support/exit-watch.ts';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { CrestHandle } from '../server/crest.ts';
import { startFailoverCrest, stopWithin, waitFor } from './support/crest.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { assertExactTotals, batchMaker, postBatch, resendAll, startWriter } from './support/event-batches.ts';

const ROOMS = ['fo-a', 'fo-b', 'fo-c', 'fo-d'];
const BATCH = 20;
const SHARDS = 4;

const servers: TestRedis[] = [];
const crests: CrestHandle[] = [];
after(async () => {
  for (const c of crests) await stopWithin(c);
  for (const s of servers) await s.cleanup();
});
exitsWithin();

async function redisServer(args: string[]): Promise<TestRedis> {
  const s = await startTestRedis({ args });
  servers.push(s);
  return s;
}

async function crestOn(url: string, env: Record<string, string>): Promise<CrestHandle> {
  const crest = await startFailoverCrest(url, SHARDS, env);
  crests.push(crest);
  return crest;
}

test('primary SIGKILLed, replica promoted: every acknowledged batch is there, and the totals come out exact', async () => {
  const primary = await redisServer(['--repl-diskless-sync-delay', '0']);
  const replica = await redisServer(['--replicaof', '127.0.0.1', String(primary.port)]);
  const onReplica = new Redis(replica.url);
  try {
    await waitFor('the replica in sync', 20_000, async () => (/master_link_status:up/.test(await onReplica.info('replication')) ? true : undefined));
    const first = await crestOn(primary.url, { CREST_MIN_REPLICAS: '1', CREST_REPLICA_WAIT_MS: '2000' });

    const nextBatch = batchMaker(ROOMS, BATCH);
    const writer = startWriter((events) => postBatch(first, events), nextBatch);
    const batches = writer.batches;

    // Let the detector commit some checkpoints, then the primary dies mid-stream.
    await waitFor('events flowing and detected', 20_000, async () => (batches.filter((b) => b.acked).length >= 30 ? true : undefined));
    await primary.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await writer.stop();
    const acked = batches.filter((b) => b.acked).length;
    assert.ok(acked >= 30 && batches.some((b) => !b.acked), `${acked} batches acknowledged, then refused while the primary was gone`);

    await onReplica.call('REPLICAOF', 'NO', 'ONE');
    await stopWithin(first);
    const second = await crestOn(replica.url, {});

    // The client resends every batch, acknowledged or not (ids make it safe).
    await resendAll((events) => postBatch(second, events), batches);

    // Exact totals against an independent count of every event sent, each once.
    await waitCaughtUp(onReplica, SHARDS);
    await assertExactTotals(second, ROOMS, batches, 'after the failover');
  } finally {
    onReplica.disconnect();
  }
});
