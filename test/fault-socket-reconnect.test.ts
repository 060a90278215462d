/**
 * A socket client that drops off for 30 s of event time (a few seconds of wall time here) and comes back
 * with `room:join { since: <last cursor> }`, again and again through a highlight:
 * - it gets exactly what it missed: the out-stream messages it received, before and after each gap plus
 *   the replays, are the ones a client that never left received — none missing, none twice;
 * - folded through the client's own reducers (client/room-state.ts) nothing is shown twice: suggestion
 *   ids and window ids are unique and equal the never-left client's;
 * - when the gap is longer than the capped out stream keeps (CREST_OUT_STREAM_MAXLEN), the server replays
 *   nothing (a partial replay would show a hole) and the join's snapshot alone resyncs the view.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareCursor, type RoomState } from '../client/room-state.ts';
import { keys } from '../server/redis-keys.ts';
import { scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { waitCaughtUp } from './support/caught-up.ts';
import { RoomViewer } from './support/room-viewer.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'sock-room';
const GAP_MS = 30_000;
const crests: TestCrest[] = [];
const clients: Redis[] = [];
after(async () => {
  for (const r of clients) r.disconnect();
  for (const c of crests) await c.close();
});
exitsWithin();
const redisOf = (crest: TestCrest) => {
  const r = new Redis(crest.redisUrl);
  clients.push(r);
  return r;
};

async function post(crest: TestCrest, events: Record<string, unknown>[]) {
  for (let i = 0; i < events.length; i += 1_000) {
    const res = await crest.post(events.slice(i, i + 1_000));
    assert.equal(res.status, 200, await res.text());
  }
}

/** Waits until the detector processed everything and `viewers` received the out stream up to its end. */
async function settle(crest: TestCrest, redis: Redis, viewers: RoomViewer[]): Promise<string> {
  await waitCaughtUp(redis, 1, 15_000);
  const [[end]] = (await redis.xrevrange(keys.out(0), '+', '-', 'COUNT', 1)) as [string, string[]][];
  await waitFor('viewers received the stream', 10_000, () => (viewers.every((v) => compareCursor(v.last(), end!) >= 0) ? true : undefined));
  return end!;
}

const upTo = (cursors: string[], end: string) => cursors.filter((c) => compareCursor(c, end) <= 0);
const dupes = (xs: string[]) => xs.length - new Set(xs).size;

describe('socket reconnect', () => {
  test('a client away for 30 s of event time, six times through a highlight, gets exactly what it missed, nothing twice', async () => {
    const crest = await startTestCrest({ CREST_SHARDS: '1' });
    crests.push(crest);
    const redis = redisOf(crest);
    const t0 = Date.now() - 3 * 3600_000;
    const { events } = scriptedRise(ROOM, t0, { flatS: 200, riseS: 90, holdS: 40, decayS: 120 });
    const end = t0 + (200 + 90 + 40 + 120) * 1000;

    const stayed = new RoomViewer(crest, ROOM);
    const roamer = new RoomViewer(crest, ROOM);
    await stayed.connect();
    await roamer.connect();
    let replayedTotal = 0;
    let gaps = 0;
    // Connected for 45 s of event time, away for 30 s, over and over.
    for (let from = t0; from <= end; ) {
      const connectedTo = from + 45_000;
      await post(crest, events.filter((e) => (e.ts as number) >= from && (e.ts as number) < connectedTo));
      await settle(crest, redis, [stayed, roamer]);
      roamer.disconnect();
      const awayTo = connectedTo + GAP_MS;
      await post(crest, events.filter((e) => (e.ts as number) >= connectedTo && (e.ts as number) < awayTo));
      await settle(crest, redis, [stayed]);
      replayedTotal += await roamer.connect();
      gaps++;
      from = awayTo;
    }
    const cut = await settle(crest, redis, [stayed, roamer]);

    const want = upTo(stayed.cursors, cut);
    const got = upTo(roamer.cursors, cut);
    assert.equal(dupes(want), 0);
    assert.equal(dupes(got), 0, 'no message delivered twice');
    assert.deepEqual([...got].sort(compareCursor), [...want].sort(compareCursor), 'every message missed was replayed');
    assert.ok(replayedTotal > 0 && gaps >= 6, `${gaps} gaps, ${replayedTotal} replayed`);

    // What the client shows: the same suggestions and windows as the client that never left, each once.
    const ids = (s: RoomState) => s.suggestions.map((x) => x.id);
    assert.ok(stayed.state.suggestions.length > 0 && stayed.state.windows.length > 0, 'the highlight produced suggestions and a window');
    assert.equal(dupes(ids(roamer.state)), 0);
    assert.equal(dupes(roamer.state.windows.map((w) => w.id)), 0);
    assert.deepEqual(ids(roamer.state), ids(stayed.state));
    assert.deepEqual(
      roamer.state.windows.map((w) => [w.id, w.state, w.updatedTs]),
      stayed.state.windows.map((w) => [w.id, w.state, w.updatedTs]),
    );
    console.log(`# ${gaps} gaps of 30 s event time; ${replayedTotal} messages replayed; ${got.length} received in all, 0 twice`);
  });

  test('a gap longer than the capped out stream: nothing replayed, the snapshot alone resyncs', async () => {
    const crest = await startTestCrest({ CREST_SHARDS: '1', CREST_OUT_STREAM_MAXLEN: '1000' });
    crests.push(crest);
    const redis = redisOf(crest);
    const t0 = Date.now() - 5 * 3600_000;
    const { events } = scriptedRise(ROOM, t0, { flatS: 1500, riseS: 90, holdS: 40, decayS: 60 });
    const viewer = new RoomViewer(crest, ROOM);
    await viewer.connect();
    await post(crest, events.filter((e) => (e.ts as number) < t0 + 60_000));
    await settle(crest, redis, [viewer]);
    const since = viewer.state.cursor!;
    viewer.disconnect();

    // ~1,700 s of event time while away: over 1,700 ticks into a stream capped near 1,000.
    await post(crest, events.filter((e) => (e.ts as number) >= t0 + 60_000));
    await settle(crest, redis, []);
    const [[oldest]] = (await redis.xrange(keys.out(0), '-', '+', 'COUNT', 1)) as [string, string[]][];
    assert.ok(compareCursor(oldest!, since) > 0, `the stream was trimmed past the client's cursor (${oldest} > ${since})`);

    const before = viewer.cursors.length;
    const replayed = await viewer.connect();
    assert.equal(replayed, 0, 'no partial replay across a hole');
    const snapshotCursor = viewer.state.cursor!;
    assert.equal(viewer.cursors.slice(before).filter((c) => compareCursor(c, snapshotCursor) <= 0).length, 0, 'nothing old was pushed');

    // The view equals a fresh client's: the snapshot carried the windows, suggestions and the curve.
    const fresh = new RoomViewer(crest, ROOM);
    await fresh.connect();
    const s = viewer.state;
    assert.ok(s.windows.length > 0 && s.suggestions.length > 0, 'the highlight during the gap is shown');
    assert.deepEqual(s.windows.map((w) => [w.id, w.state, w.updatedTs]), fresh.state.windows.map((w) => [w.id, w.state, w.updatedTs]));
    assert.equal(dupes(s.suggestions.map((x) => x.id)), 0);
    for (const sg of fresh.state.suggestions) assert.ok(s.suggestions.some((x) => x.id === sg.id), `suggestion ${sg.id} shown`);
    assert.ok(s.series.some((p) => p.ts > t0 + 1_000_000), 'the curve covers the gap');
    assert.equal(s.metrics?.ts, fresh.state.metrics?.ts);
  });
});
