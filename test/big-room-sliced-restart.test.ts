/**
 * A big room whose checkpoints go out in slices (CREST_DELTA_SLICE, docs/big-rooms.md): its detector worker is
 * killed with SIGKILL while a sliced checkpoint is under way — slices in Redis, on top of the stored sessions,
 * and the room's JSON with the stream id it covers not yet — twice. Each successor undoes the slices
 * (checkpoint-undo.lua), restores the room from its last checkpoint and replays the stream after it; the totals
 * end exact (open sessions, unique and paying viewers, GMV by the payer's session source, which needs the
 * restored sessions), and no undo log or mark is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { assertRampTotals, bigRoomRamp } from './support/big-room-ramp.ts';
import { apiWithDetectorProcesses } from './support/detector-process.ts';
import { waitFor } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { shardOf } from '../core/sharding.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = apiWithDetectorProcesses(1000, { CREST_MAX_EVENTS_PER_REQUEST: '5000' });
// After the helper above: its after() hook must run before this one.
exitsWithin();

const VIEWERS = 24_000;
/** Small slices: a 24k-entry delta takes ~240 slices, 16 per batch, so a checkpoint stays under way for seconds. */
const SLICE = { CREST_DELTA_SLICE: '100' };

test('a big room killed between the slices of its checkpoint restores with exact totals', async () => {
  const crest = rig.crest();
  const { detectors } = rig;
  const room = 'big2';
  const t0 = Date.now();
  const { batches, want } = bigRoomRamp(room, VIEWERS, t0);

  const redis = new Redis(crest.redisUrl);
  const shard = shardOf(room, crest.config.shards);
  const ckpt = keys.checkpoint(shard);
  const mark = CHECKPOINT_FIELDS.writing(room);
  let detector = detectors.start(SLICE);
  // The ramp goes in while the kills happen: the successors replay it from the room's last checkpoint.
  const posting = (async () => {
    for (const batch of batches) assert.equal((await crest.post(batch)).status, 200);
  })();

  const killedMidway: { undoEntries: number }[] = [];
  let tries = 0;
  while (killedMidway.length < 2) {
    assert.ok(++tries <= 20, `a sliced checkpoint under way seen and killed twice within 20 tries (${killedMidway.length} so far)`);
    await waitFor('a sliced checkpoint under way', 60_000, async () => ((await redis.hexists(ckpt, mark)) === 1 ? true : undefined));
    detector.kill('SIGKILL');
    await new Promise((r) => detector.once('exit', r));
    // Killed between slices: the mark and the undo log are still there (else the last part landed first: again).
    const [marked, undoEntries] = await Promise.all([redis.hexists(ckpt, mark), redis.hlen(keys.sessionsUndo(shard, room))]);
    if (marked === 1 && undoEntries > 0) killedMidway.push({ undoEntries });
    detector = detectors.start(SLICE);
    // The next kill must hit the successor's own sliced checkpoint: first it undoes this one.
    await waitFor('the successor undid the half-written checkpoint', 30_000, async () =>
      (await redis.hexists(ckpt, mark)) === 0 || (await redis.hlen(keys.sessionsUndo(shard, room))) !== undoEntries ? true : undefined,
    );
  }
  await posting;
  await waitCaughtUp(redis, crest.config.shards, 90_000);

  await assertRampTotals(crest, room, VIEWERS, want);

  // The last worker's checkpoints end: every session and member stored, nothing of a sliced checkpoint left.
  await waitFor('the room checkpointed with every session, no sliced checkpoint under way', 60_000, async () =>
    (await redis.hlen(keys.sessions(shard, room))) === VIEWERS && (await redis.hexists(ckpt, mark)) === 0 ? true : undefined,
  );
  assert.equal(await redis.scard(keys.uniqueViewers(shard, room)), VIEWERS);
  assert.equal(await redis.scard(keys.payingViewers(shard, room)), want.payers.size);
  const left = await redis.exists(keys.sessionsUndo(shard, room), keys.uniqueUndo(shard, room), keys.payersUndo(shard, room));
  assert.equal(left, 0, 'no undo log left');
  assert.ok(killedMidway.every((k) => k.undoEntries > 0), JSON.stringify(killedMidway));
  redis.disconnect();
});
