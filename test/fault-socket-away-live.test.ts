/**
 * The reconnect fault in wall time: a client drops off for 30 real seconds while a highlight builds live
 * (events posted as their time comes), then rejoins with its last cursor. It must end up with exactly the
 * messages, suggestions and windows of a client that never left — none missing, none twice.
 * (test/fault-socket-reconnect.test.ts runs the same check six times in compressed event time.)
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareCursor, type RoomState } from '../client/room-state.ts';
import { keys } from '../server/redis-keys.ts';
import { scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { RoomViewer } from './support/room-viewer.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'away-room';
const AWAY_MS = 30_000;
let crest: TestCrest | null = null;
let redis: Redis | null = null;
after(async () => {
  redis?.disconnect();
  await crest?.close();
});
exitsWithin();

test('a client away for 30 s of wall time while a highlight builds live gets exactly what it missed, nothing twice', async () => {
  crest = await startTestCrest({ CREST_SHARDS: '1' });
  redis = new Redis(crest.redisUrl);
  // The flat past is sent at once; the rise and what follows are sent live, each second as it comes.
  const flatS = 200;
  const t0 = Date.now() - flatS * 1000;
  // A build-up that keeps its pace for 50 s: a crowd that arrives within 25 s and sits is a giveaway's shape, which
  // balanced holds (docs/detector.md, surge rule) and here would never be called.
  const { events, onsetTs } = scriptedRise(ROOM, t0, { flatS, riseS: 50, holdS: 10, decayS: 15 });
  const past = events.filter((e) => (e.ts as number) < onsetTs);
  const live = events.filter((e) => (e.ts as number) >= onsetTs);
  const post = async (batch: Record<string, unknown>[]) => {
    if (batch.length === 0) return;
    const res = await crest!.post(batch);
    assert.equal(res.status, 200, await res.text());
  };
  const caughtUp = () => waitCaughtUp(redis!, 1, 20_000);
  await post(past);
  // The past's outputs must not land between the two joins (the first screen would see them live, the
  // second only in its snapshot); the clock's one tick a second still may, so messages are compared from
  // the second screen's first one on.
  await caughtUp();

  const stayed = new RoomViewer(crest, ROOM);
  const roamer = new RoomViewer(crest, ROOM);
  await stayed.connect();
  await roamer.connect();
  await waitFor('the roamer saw the room', 15_000, () => (roamer.cursors.length > 0 ? true : undefined));

  let sent = 0;
  let leftAt = 0;
  let backAt = 0;
  const liveStart = Date.now();
  while (sent < live.length) {
    const now = Date.now();
    const due = live.slice(sent).filter((e) => (e.ts as number) <= now);
    await post(due);
    sent += due.length;
    // Balanced calls this rise ~44 s after its onset (held 40 s after its surge, then still at its pace): leaving
    // 20 s in puts that call inside the 30 s gap.
    if (!leftAt && now - liveStart >= 20_000) {
      roamer.disconnect();
      leftAt = Date.now();
    }
    if (leftAt && !backAt && Date.now() - leftAt >= AWAY_MS) {
      await roamer.connect();
      backAt = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(leftAt && backAt, 'the roamer left and came back while events flowed');

  await caughtUp();
  const [[end]] = (await redis.xrevrange(keys.out(0), '+', '-', 'COUNT', 1)) as [string, string[]][];
  await waitFor('both screens received the stream', 15_000, () =>
    compareCursor(stayed.last(), end!) >= 0 && compareCursor(roamer.last(), end!) >= 0 ? true : undefined,
  );

  const from = roamer.cursors[0]!;
  const upTo = (cs: string[]) => cs.filter((c) => compareCursor(c, from) >= 0 && compareCursor(c, end!) <= 0);
  const want = upTo(stayed.cursors);
  const got = upTo(roamer.cursors);
  assert.equal(got.length - new Set(got).size, 0, 'no message delivered twice');
  assert.deepEqual([...got].sort(compareCursor), [...want].sort(compareCursor), 'every message missed was replayed');
  assert.ok(roamer.replayed > 0, `the rejoin replayed what was missed (${roamer.replayed})`);
  const opened = stayed.state.windows.map((w) => w.detectedTs);
  assert.ok(opened.some((ts) => ts > leftAt && ts < backAt), `a highlight window opened while the roamer was away (detected at ${opened.map((ts) => ts - leftAt).join(', ')} ms after it left)`);
  const ids = (s: RoomState) => s.suggestions.map((x) => x.id);
  assert.deepEqual(ids(roamer.state), ids(stayed.state), 'the same suggestions, each once');
  assert.deepEqual(
    roamer.state.windows.map((w) => [w.id, w.state, w.updatedTs]),
    stayed.state.windows.map((w) => [w.id, w.state, w.updatedTs]),
    'the same windows, each at its latest state',
  );
  console.log(
    `# away ${Math.round((backAt - leftAt) / 1000)} s of wall time; window called ${opened.map((ts) => ((ts - leftAt) / 1000).toFixed(1)).join(', ')} s after leaving; ` +
      `${roamer.replayed} messages replayed; ${got.length} received in all, 0 twice`,
  );
});
