/**
 * A room's published summary never goes back across a takeover. A successor replays the stream from each
 * room's state checkpoint (up to STATE_FLUSH_MS behind the shard's cursor) to where its predecessor left off;
 * the predecessor's summaries already show every event up to there. A summary written from a room state still
 * replaying showed fewer events than the one before it — and the counters said caught up all the while — until
 * the room's next summary (~2.5 s in the big-room bench). Here the predecessor writes its room states only
 * when they join the active set (a long flush period), so the successor replays nearly the whole stream in
 * small batches for seconds, while this file reads the view hash as often as it can.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { silentLogger } from '../server/logger.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { detectorWorkerOptions } from '../workers/detector-options.ts';
import { DetectorWorker, type DetectorWorkerOptions } from '../workers/detector-worker.ts';
import { compareIds } from '../workers/stream-entry.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { startTestCrest, type TestCrest } from './support/crest.ts';
import { pollUntil } from './support/poll.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api', CREST_SHARDS: '1', CREST_MAX_EVENTS_PER_REQUEST: '2000' });
});
after(async () => {
  await crest.close();
});
exitsWithin();

const ROOMS = ['t1', 't2', 't3', 't4', 't5'];
const EVENTS = 40_000;

test('across a takeover no room summary ever shows fewer events than before it, and caught up shows them all', async () => {
  const sent = new Map(ROOMS.map((r) => [r, 0]));
  const t0 = Date.now();
  for (let b = 0; b < EVENTS / 2_000; b++) {
    const batch = Array.from({ length: 2_000 }, (_, k) => {
      const i = b * 2_000 + k;
      const room = ROOMS[i % ROOMS.length]!;
      sent.set(room, sent.get(room)! + 1);
      const viewer = `u${Math.floor(i / ROOMS.length) % 300}`;
      return i < 300 * ROOMS.length
        ? { id: `e${i}`, room, ts: t0 + i, type: 'viewer.enter', viewer, source: 'public' }
        : { id: `e${i}`, room, ts: t0 + i, type: 'engage.like', viewer };
    });
    assert.equal((await crest.post(batch)).status, 200);
  }

  const redis = new Redis(crest.redisUrl);
  const opts = (extra: Partial<DetectorWorkerOptions>): DetectorWorkerOptions => ({ ...detectorWorkerOptions(crest.config, crest.redisUrl), log: silentLogger, ...extra });
  // The predecessor: room states written when they join the active set and not again (so the successor's
  // replay starts near the stream's beginning); every summary is out once it is caught up.
  const first = new DetectorWorker(opts({ stateFlushMs: 600_000 }));
  await first.start();
  await waitCaughtUp(redis, 1, 60_000);
  await first.stop();
  const shown = async () => {
    const views = await redis.hgetall(keys.view(0));
    return new Map(Object.entries(views).map(([room, json]) => [room, JSON.parse(json).metrics.events as number]));
  };
  const before = await shown();
  for (const room of ROOMS) assert.equal(before.get(room), sent.get(room), `${room} shows every event before the takeover`);
  const handedAt = (await redis.hget(keys.checkpoint(0), CHECKPOINT_FIELDS.cursor))!;

  // The successor, in batches of 20 entries: its replay takes seconds.
  const second = new DetectorWorker(opts({ batchSize: 20 }));
  const backwards: string[] = [];
  let looks = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      looks++;
      for (const [room, n] of await shown()) if (n < before.get(room)!) backwards.push(`${room}: ${n} events shown, ${before.get(room)} before`);
    }
  })();
  try {
    await second.start();
    // Replayed: the cursor moved past where the predecessor left it (the successor's own clock records).
    await pollUntil('the successor replayed past the handover', 60_000, async () =>
      compareIds((await redis.hget(keys.checkpoint(0), CHECKPOINT_FIELDS.cursor))!, handedAt) > 0,
    );
    await waitCaughtUp(redis, 1, 30_000);
    // Every summary the replay made due is out by now (VIEW_EVENTS_MS is 2 s).
    await new Promise((ok) => setTimeout(ok, 2_500));
    const afterwards = await shown();
    for (const room of ROOMS) assert.equal(afterwards.get(room), sent.get(room), `${room} shows every event after the takeover`);
  } finally {
    watching = false;
    await watch;
    await second.stop();
    redis.disconnect();
  }
  assert.ok(looks > 100, `the view hash was read ${looks} times`);
  assert.deepEqual(backwards.slice(0, 5), [], `${backwards.length} looks at a summary that went back`);
});
