/**
 * Exactly-once across a crash: a detector worker process is killed with SIGKILL mid-stream, another
 * takes its shards after the lease expires, and the final per-room totals equal an independent count
 * of the events sent — nothing lost, nothing counted twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { apiWithDetectorProcesses } from './support/detector-process.ts';
import { waitFor } from './support/crest.ts';
import { shardCounters, waitCaughtUp } from './support/caught-up.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = apiWithDetectorProcesses(1000);
// After the helper above: its after() hook must run before this one.
exitsWithin();
const startDetector = () => rig.detectors.start();

test('kill -9 a detector mid-stream; its successor finishes with exact totals', async () => {
  const crest = rig.crest();
  const rooms = ['k1', 'k2', 'k3', 'k4', 'k5'];
  const t0 = Date.now() - 30 * 60_000;
  const expected = new Map(rooms.map((r) => [r, { entries: 0, orders: 0, gmv: 0 }]));
  const batches: Record<string, unknown>[][] = [];
  let seq = 0;
  for (let b = 0; b < 70; b++) {
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      const room = rooms[(b * 100 + i) % rooms.length]!;
      const ts = t0 + b * 10_000 + i * 100;
      const e = expected.get(room)!;
      const n = seq++;
      if (n % 3 === 0) {
        batch.push({ id: `o${n}`, room, ts, type: 'order.paid', order: `ord${n}`, viewer: `u${n % 50}`, amount: 1000 + (n % 7) });
        e.orders++;
        e.gmv += 1000 + (n % 7);
      } else {
        batch.push({ id: `e${n}`, room, ts, type: 'viewer.enter', viewer: `u${n}`, source: 'public' });
        e.entries++;
      }
    }
    batches.push(batch);
  }

  const redis = new Redis(crest.redisUrl);
  const counters = () => shardCounters(redis, crest.config.shards);
  // Events keep flowing at a steady pace while detectors are killed underneath.
  let sending = true;
  // Resolved each time a batch is acknowledged: the moment events are sure to be waiting for the detector.
  let acked: () => void = () => {};
  let nextAck = new Promise<void>((r) => (acked = r));
  let kills = 0;
  const sender = (async () => {
    for (const [b, batch] of batches.entries()) {
      const res = await crest.post(batch);
      assert.equal(res.status, 200);
      acked();
      nextAck = new Promise<void>((r) => (acked = r));
      // A detector process takes seconds to start on a loaded machine: slow down (never stop) while the
      // kills lag behind, so the flow spans several detector lifetimes however long each start takes.
      await new Promise((r) => setTimeout(r, kills < Math.floor(b / 25) ? 1_000 : 120));
    }
    sending = false;
    acked();
  })();
  let detector = startDetector();
  let killedWithBacklog = 0;
  while (sending) {
    // Kill only a detector that is demonstrably working: its checkpoints have moved since it started.
    const before = (await counters()).processed;
    const progressed = await waitFor('detector progress', 60_000, async () => ((await counters()).processed > before ? true : sending ? undefined : false));
    if (!progressed) break;
    // Alternate between a frozen detector with a batch landed behind it (events surely waiting: a fast detector
    // would otherwise drain it first) and a random point of a running one, mid-batch or between batches.
    if (kills % 2 === 0) {
      detector.kill('SIGSTOP');
      await nextAck;
    }
    else await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 80)));
    const { added, processed } = await counters();
    detector.kill('SIGKILL');
    kills++;
    if (added > processed) killedWithBacklog++;
    detector = startDetector();
  }
  await sender;
  assert.ok(kills >= 2, `killed ${kills} working detectors`);
  assert.ok(killedWithBacklog >= 1, 'at least one kill landed while events were waiting');
  // Resending a batch (a client retry after a timeout) must not double count either.
  const resend = await (await crest.post(batches[5]!)).json();
  assert.equal(resend.duplicate, 100);

  // Wait until every accepted event is covered by a checkpoint, then compare: an overshoot fails too.
  await waitCaughtUp(redis, crest.config.shards);
  redis.disconnect();
  const admin = crest.token('admin', '*');
  for (const room of rooms) {
    const want = expected.get(room)!;
    const s = await (await crest.api(`/api/v1/rooms/${room}/state`, { token: admin })).json();
    const entries = Object.values(s.metrics.entriesTotal as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.deepEqual({ entries, orders: s.metrics.orders, gmv: s.metrics.gmv }, want, room);
    assert.equal(s.metrics.events, want.entries + want.orders, `${room} events`);
  }
});
