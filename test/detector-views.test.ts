/**
 * Deferred room summaries never show through "caught up": while events wait, the detector leaves the
 * summaries of event changes (the view hash the API reads) for later, but whenever `@processed` equals
 * `@added` the views must already count every event. The drain below makes every batch full (small batch
 * size, backlog written first), so summaries are deferred all along: their events wait in `@owed` and reach
 * `@processed` only with the commit that writes the summary. Counters and views are read in one MULTI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { silentLogger } from '../server/logger.ts';
import { keys } from '../server/redis-keys.ts';
import { DetectorWorker } from '../workers/detector-worker.ts';
import { startTestCrest, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api', CREST_SHARDS: '1' });
});
after(async () => {
  await crest.close();
});
exitsWithin();

test('whenever the counters say caught up, every room summary counts every event, though summaries were deferred', async () => {
  const rooms = ['v1', 'v2', 'v3', 'v4', 'v5'];
  const sent = new Map(rooms.map((r) => [r, 0]));
  const t0 = Date.now() - 30 * 60_000;
  let n = 0;
  const post = async (count: number) => {
    const batch = Array.from({ length: count }, () => {
      const i = n++;
      const room = rooms[(i * 7) % rooms.length]!;
      sent.set(room, sent.get(room)! + 1);
      return { id: `v${i}`, room, ts: t0 + i * 50, type: 'viewer.enter', viewer: `u${i}`, source: 'public' };
    });
    assert.equal((await crest.post(batch)).status, 200);
  };
  for (let b = 0; b < 20; b++) await post(100);

  const redis = new Redis(crest.redisUrl);
  let maxOwed = 0;
  const look = async () => {
    const replies = (await redis.multi().hmget(keys.checkpoint(0), '@added', '@processed', '@owed').hgetall(keys.view(0)).exec())!;
    const [added, processed, owed] = (replies[0]![1] as (string | null)[]).map(Number);
    assert.ok(processed! + owed! <= added!, `never more applied than added (${processed} processed + ${owed} owed, ${added} added)`);
    maxOwed = Math.max(maxOwed, owed!);
    const views = replies[1]![1] as Record<string, string>;
    const events = new Map(Object.entries(views).map(([room, json]) => [room, JSON.parse(json).metrics.events as number]));
    return { added: added!, processed: processed!, events };
  };
  const check = async (what: string) => {
    const l = await look();
    if (l.added !== l.processed) return false;
    for (const room of rooms) assert.equal(l.events.get(room) ?? 0, sent.get(room), `${what}: ${room} summary while caught up (${l.processed} processed)`);
    return true;
  };

  const config = crest.config;
  const d = new DetectorWorker({
    redisUrl: crest.redisUrl,
    shards: 1,
    leaseMs: config.leaseMs,
    engine: config.engine,
    outStreamMaxLen: config.outStreamMaxLen,
    eventRetentionMs: config.eventRetentionMs,
    log: silentLogger,
    batchSize: 50,
  });
  await d.start();
  try {
    // Look as often as we can while it drains: the first moment the counters meet must show full views.
    // Bounded by time, not by looks: a fast Redis answers 4,000 looks sooner than a deferred summary comes due.
    const lookUntilCaughtUp = async (what: string) => {
      const deadline = Date.now() + 20_000;
      let caught = false;
      while (!caught && Date.now() < deadline) caught = await check(what);
      return caught;
    };
    let caught = await lookUntilCaughtUp('after the backlog');
    assert.ok(caught, 'the detector caught up');
    // Then a live trickle: each burst drains, and the views keep up every time the counters meet.
    for (let k = 0; k < 5; k++) {
      await post(150);
      caught = await lookUntilCaughtUp(`after burst ${k}`);
      assert.ok(caught, `caught up after burst ${k}`);
    }
    assert.ok(d.stats.viewsDeferred > 0, 'summaries were deferred while events waited');
    assert.ok(maxOwed > 0, 'events waited in @owed for their deferred summaries');
    const [processed, owed] = (await redis.hmget(keys.checkpoint(0), '@processed', '@owed')).map(Number);
    assert.equal(owed, 0, 'nothing owed once caught up');
    assert.equal(processed, n, 'every event counted as processed exactly once');
  } finally {
    await d.stop();
    redis.disconnect();
  }
});
