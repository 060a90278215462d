/**
 * CrestRedis behind Sentinel lets its process go once closed: no timer is left behind by the close. Before the
 * fix, each closed stream of a Sentinel client left ioredis's 2 s disconnect timer armed (nothing could clear
 * it), which kept every such process (fault-sentinel's test file, the detector thread) alive 2 s longer.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis } from './redis-connection.ts';
import { startTestRedis, startTestSentinel, type TestRedis, type TestSentinel } from '../test/support/redis.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

let primary: TestRedis | null = null;
let sentinel: TestSentinel | null = null;
after(async () => {
  sentinel?.cleanup();
  await primary?.cleanup();
});
exitsWithin();

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a Sentinel client, quit or disconnected, leaves no timer running', async () => {
  primary = await startTestRedis();
  sentinel = await startTestSentinel(primary.port);
  const url = `redis-sentinel://127.0.0.1:${sentinel.port}/crest`;
  const before = timers();
  for (const close of ['quit', 'disconnect'] as const) {
    const c = createRedis(url);
    assert.equal(await c.ping(), 'PONG');
    if (close === 'quit') await c.quit();
    else {
      const ended = new Promise((ok) => c.once('end', ok));
      c.disconnect();
      await ended;
    }
    // The close's own work (the socket's end, the failover detector's clients) is done within a few ticks.
    await new Promise((ok) => setTimeout(ok, 300));
    assert.equal(timers(), before, `after ${close}(): timers still armed: ${JSON.stringify(process.getActiveResourcesInfo())}`);
  }
});
