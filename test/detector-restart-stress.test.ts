/**
 * Exactly-once across many crashes, including crashes during a successor's replay: detector processes are
 * killed with SIGKILL at random moments (some a few ms after they start, while they are still re-deriving
 * room states from the oldest state cursor), again and again while events flow. Afterwards:
 *  - per-room totals (entries, orders, GMV, events) equal an independent count of what was sent, and the
 *    core's recent-id guard never fired (a replay never re-applied an event a room's state already held);
 *  - the out stream holds no tick twice (room + tick time) and no suggestion twice (suggestion id), and the
 *    scripted rises did produce suggestions — outputs re-derived during a replay are never re-published.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { apiWithDetectorProcesses } from './support/detector-process.ts';
import type { RoomUpdate } from '../core/protocol.ts';
import { keys } from '../server/redis-keys.ts';
import { scriptedRise, waitFor } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { exitsWithin } from './support/exit-watch.ts';

const rig = apiWithDetectorProcesses(600);
// After the helper above: its after() hook must run before this one.
exitsWithin();
const startDetector = () => rig.detectors.start();

test('kill -9 detectors at random points, during replays too: exact totals, no output published twice', async () => {
  const crest = rig.crest();
  const rooms = Array.from({ length: 16 }, (_, i) => `r${i}`);
  const t0 = Date.now() - 20 * 60_000;
  const expected = new Map(rooms.map((r) => [r, { entries: 0, orders: 0, gmv: 0, events: 0 }]));
  // Each room plays a scripted rise (so suggestions are due) interleaved with the others, in event-time order.
  const all: Record<string, unknown>[] = [];
  for (const room of rooms) {
    const { events } = scriptedRise(room, t0, { flatS: 200, riseS: 50, holdS: 30, decayS: 40 });
    for (const e of events) {
      const x = expected.get(room)!;
      x.events++;
      if (e.type === 'viewer.enter') x.entries++;
      if (e.type === 'order.paid') {
        x.orders++;
        x.gmv += e.amount as number;
      }
      all.push(e);
    }
  }
  all.sort((a, b) => (a.ts as number) - (b.ts as number));
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < all.length; i += 50) batches.push(all.slice(i, i + 50));

  let sending = true;
  let killsWhileSending = 0;
  const sender = (async () => {
    for (const [b, batch] of batches.entries()) {
      const res = await crest.post(batch);
      assert.equal(res.status, 200);
      // A detector process takes seconds to start on a loaded machine: slow down (never stop) while the
      // kills lag behind, so the flow spans several detector lifetimes however long each start takes.
      await new Promise((r) => setTimeout(r, killsWhileSending < Math.floor((3 * b) / batches.length) ? 1_000 : 60));
    }
    sending = false;
  })();
  const redis = new Redis(crest.redisUrl);
  const holdsALease = async (pid: number) => {
    for (let s = 0; s < crest.config.shards; s++) if ((await redis.get(keys.lease(s)))?.startsWith(`det-${pid}-`)) return true;
    return undefined;
  };
  let detector = startDetector();
  let kills = 0;
  // At least five kills, even on a slow machine where the sender finishes first: killing a detector
  // while it re-derives an already complete stream is as much a test as killing it mid-flow.
  while (sending || kills < 5) {
    // Once it holds a shard: anywhere from at once (mid-replay of its predecessor's range) to well into steady work.
    const pid = detector.pid!;
    await waitFor('the new detector to take a shard', 60_000, () => holdsALease(pid));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 700)));
    if (sending) killsWhileSending++;
    detector.kill('SIGKILL');
    kills++;
    detector = startDetector();
  }
  await sender;
  assert.ok(killsWhileSending >= 2, `only ${killsWhileSending} kills landed while events were flowing`);

  await waitCaughtUp(redis, crest.config.shards);
  const ticks = new Set<string>();
  const suggestions = new Set<string>();
  for (let s = 0; s < crest.config.shards; s++) {
    for (const [id, fields] of (await redis.xrange(keys.out(s), '-', '+')) as [string, string[]][]) {
      const u = JSON.parse(fields[3]!) as RoomUpdate;
      if (u.type === 'tick') {
        const k = `${u.room}|${u.tick.ts}`;
        assert.ok(!ticks.has(k), `tick ${k} published twice (out-stream entry ${id})`);
        ticks.add(k);
      } else if (u.type === 'suggestion') {
        assert.ok(!suggestions.has(u.suggestion.id), `suggestion ${u.suggestion.id} published twice (out-stream entry ${id})`);
        suggestions.add(u.suggestion.id);
      }
    }
  }
  redis.disconnect();
  assert.ok(suggestions.size > 0, 'the scripted rises produced suggestions');
  const admin = crest.token('admin', '*');
  for (const room of rooms) {
    const want = expected.get(room)!;
    const s = await (await crest.api(`/api/v1/rooms/${room}/state`, { token: admin })).json();
    const entries = Object.values(s.metrics.entriesTotal as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.deepEqual({ entries, orders: s.metrics.orders, gmv: s.metrics.gmv, events: s.metrics.events }, want, room);
    // Every id was sent once and ingest dedupes: the core's own recent-id guard must never have fired, or a
    // replay re-applied an event the room's state already held (and only that guard hid it).
    assert.equal(s.metrics.duplicateEvents, 0, `${room} duplicateEvents`);
  }
});
