/**
 * Ad spend as the alert worker records it from ticks (server/webhook-spend.ts + spend-record.lua), against a
 * private redis-server: each rise of the cumulative spend is one point, repeats and older ticks add nothing,
 * and a new stream (its cumulative restarts from zero) counts its first spend in full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSpend, SpendRecorder } from '../server/webhook-spend.ts';
import { useTestRedis } from './support/redis.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = useTestRedis();
// After the helper above: its after() hook must run before this one.
exitsWithin();

test('rises become points; repeats and older ticks add nothing; a new stream counts its first spend in full', async () => {
  const rec = new SpendRecorder(rig.redis);
  const room = 'spend-room';
  const tick = (ts: number, adSpend: number) => ({ room, ts, adSpend });
  assert.equal(await rec.record([tick(1_000, 0), tick(2_000, 500), tick(3_000, 500), tick(4_000, 800)]), 2);
  // A second recorder (another alert worker, or a re-read) seeing the same ticks adds nothing.
  assert.equal(await new SpendRecorder(rig.redis).record([tick(2_000, 500), tick(4_000, 800)]), 0);
  // Next stream: totals restarted at stream.start, so 300 is all new spend, then a rise of 200.
  assert.equal(await rec.record([tick(10_000, 300), tick(11_000, 500)]), 2);
  assert.deepEqual(
    (await readSpend(rig.redis, room)).map((p) => [p.ts, p.amount]),
    [
      [2_000, 500],
      [4_000, 300],
      [10_000, 300],
      [11_000, 200],
    ],
  );
});
