/**
 * A big room across a crash: one room ramped to tens of thousands of open viewer sessions while its detector
 * worker is killed with SIGKILL mid-ramp (twice); a successor restores the room from its small JSON plus the
 * per-viewer hash and sets (docs/big-rooms.md) and ends with every total exact — open sessions, unique and
 * paying viewers, and GMV by the source of the payer's session (which needs the restored sessions). The room's
 * state JSON stays small while its sessions hash holds every open session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { assertRampTotals, bigRoomRamp } from './support/big-room-ramp.ts';
import { apiWithDetectorProcesses } from './support/detector-process.ts';
import { waitFor } from './support/crest.ts';
import { shardCounters, waitCaughtUp } from './support/caught-up.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { shardOf } from '../core/sharding.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = apiWithDetectorProcesses(1000, { CREST_MAX_EVENTS_PER_REQUEST: '5000' });
// After the helper above: its after() hook must run before this one.
exitsWithin();

const VIEWERS = 40_000;

test('a big room killed mid-ramp restores from JSON + sessions hash with exact totals', async () => {
  const crest = rig.crest();
  const { detectors } = rig;
  const room = 'big1';
  const t0 = Date.now();
  const { batches, want } = bigRoomRamp(room, VIEWERS, t0);

  const redis = new Redis(crest.redisUrl);
  const shards = crest.config.shards;
  let detector = detectors.start();
  let kills = 0;
  for (const [b, batch] of batches.entries()) {
    const res = await crest.post(batch);
    assert.equal(res.status, 200);
    if (b === 6 || b === 13) {
      // Kill a detector that has demonstrably checkpointed part of the ramp.
      const before = (await shardCounters(redis, shards)).processed;
      await waitFor('detector progress', 60_000, async () => ((await shardCounters(redis, shards)).processed > before ? true : undefined));
      detector.kill('SIGKILL');
      kills++;
      detector = detectors.start();
    }
  }
  await waitCaughtUp(redis, shards, 90_000);
  assert.equal(kills, 2);
  await assertRampTotals(crest, room, VIEWERS, want);

  // The state the successor wrote: small JSON, the sessions and members apart. (Written at least once more when
  // the room goes idle; read here once every event is covered, so the hash has every open session.)
  const shard = shardOf(room, shards);
  // (Between checkpoints: while a sliced one is under way the hash may already be whole and the sets not yet.)
  await waitFor('the room state checkpointed with every session', 60_000, async () =>
    (await redis.hlen(keys.sessions(shard, room))) === VIEWERS && (await redis.hexists(keys.checkpoint(shard), CHECKPOINT_FIELDS.writing(room))) === 0
      ? true
      : undefined,
  );
  const jsonBytes = await redis.hstrlen(keys.checkpoint(shard), CHECKPOINT_FIELDS.room(room));
  assert.ok(jsonBytes < 64_000, `room state JSON ${jsonBytes} bytes`);
  assert.equal(await redis.scard(keys.uniqueViewers(shard, room)), VIEWERS);
  assert.equal(await redis.scard(keys.payingViewers(shard, room)), want.payers.size);
  redis.disconnect();
});
