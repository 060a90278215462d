/**
 * CREST_MIN_REPLICAS against a real primary and a real replica (two private redis-servers): a batch is
 * acknowledged only once the replica has it, so a failover to the replica cannot lose an acknowledged event.
 * The replica is held still with DEBUG SLEEP, the way a slow or partitioned replica looks to the primary.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { shardOf } from '../core/sharding.ts';
import { HttpError } from './http-error.ts';
import { IngestService } from './ingest-service.ts';
import { keys } from './redis-keys.ts';
import { startTestRedis, type TestRedis } from '../test/support/redis.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

const SHARDS = 2;
const ROOM = 'rep-room';
let primary: TestRedis;
let replica: TestRedis;
let onPrimary: Redis;
let onReplica: Redis;

before(async () => {
  // The replica's first sync at once (Redis waits 5 s by default for more replicas to share it).
  primary = await startTestRedis({ args: ['--repl-diskless-sync-delay', '0'] });
  replica = await startTestRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port), '--enable-debug-command', 'yes'] });
  onPrimary = new Redis(primary.url);
  onReplica = new Redis(replica.url);
  for (let i = 0; !/master_link_status:up/.test(await onReplica.info('replication')); i++) {
    assert.ok(i < 200, 'the replica linked to the primary');
    await new Promise((r) => setTimeout(r, 50));
  }
});
after(async () => {
  onPrimary.disconnect();
  onReplica.disconnect();
  await replica.cleanup();
  await primary.cleanup();
});
exitsWithin();

let seq = 0;
const batch = (n: number) =>
  Array.from({ length: n }, () => ({ id: `r${seq++}`, room: ROOM, ts: 1_700_000_000_000 + seq, type: 'viewer.enter', viewer: `v${seq}`, source: 'public' }));
const stream = keys.events(shardOf(ROOM, SHARDS));

/** Holds the replica's main thread for `s` seconds (a connection of its own); resolves when it is free again. */
function holdReplica(s: number): Promise<unknown> {
  const c = new Redis(replica.url);
  return c.call('DEBUG', 'SLEEP', String(s)).finally(() => c.disconnect());
}

test('with CREST_MIN_REPLICAS 1 a batch is acknowledged only once the replica has it; without, at once', async () => {
  const waiting = new IngestService(onPrimary, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 1_000_000, replicas: { min: 1, waitMs: 5_000 } });
  const alone = new IngestService(onPrimary, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 1_000_000 });

  // Held 2 s: a loaded machine's ordinary delays stay well inside the gap between the two answers.
  let held = holdReplica(2);
  await new Promise((r) => setTimeout(r, 50));
  let t0 = performance.now();
  const unconfirmed = await alone.ingest(batch(10), { rooms: '*' });
  const aloneMs = performance.now() - t0;
  await held;
  assert.equal(unconfirmed.accepted, 10);
  assert.ok(aloneMs < 1_000, `without replicas required the answer does not wait for the replica (${aloneMs.toFixed(0)} ms)`);

  held = holdReplica(2);
  await new Promise((r) => setTimeout(r, 50));
  t0 = performance.now();
  const confirmed = await waiting.ingest(batch(10), { rooms: '*' });
  const waitedMs = performance.now() - t0;
  assert.equal(confirmed.accepted, 10);
  assert.ok(waitedMs >= 1_500, `the answer waited for the replica (${waitedMs.toFixed(0)} ms)`);
  await held;
  assert.equal(await onReplica.xlen(stream), 20, 'the replica has every acknowledged event');
});

test('too few replicas in time: 503 that says so, nothing acknowledged; the resend answers duplicates once the replica has them', async () => {
  const ingest = new IngestService(onPrimary, { shards: SHARDS, dedupeHorizonS: 60, maxLag: 1_000_000, replicas: { min: 1, waitMs: 200 } });
  const events = batch(10);
  const before = await onPrimary.xlen(stream);
  const held = holdReplica(1.5);
  await new Promise((r) => setTimeout(r, 50));
  const err = await ingest.ingest(events, { rooms: '*' }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpError, `a 503, not an acknowledgement (${String(err)})`);
  assert.equal(err.status, 503);
  assert.match(err.message, /confirmed by 0 of 1 replica\(s\) within 200 ms: resend the same request/);
  assert.equal(await onPrimary.xlen(stream), before + 10, 'the primary has them, unconfirmed');
  await held;
  const resent = await ingest.ingest(events, { rooms: '*' });
  assert.deepEqual([resent.accepted, resent.duplicate], [0, 10], 'stored once; the resend confirms them');
  assert.equal(await onReplica.xlen(stream), before + 10, 'and the replica has them');
});
