/**
 * The recorded fixtures (test/fixtures/replay, made by make-fixtures.ts with the real recorder) replayed
 * through a whole Crest: ingest → shard stream → detector → windows and suggestions. The highlight room
 * must give a rising window and a boost.now near its true onset; the flat room nothing; every room the
 * same totals as the events in its file; a second replay of the same file stores nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CrestEvent } from '../core/events.ts';
import type { HighlightWindow, RoomMetrics, Suggestion } from '../core/protocol.ts';
import { readRecording, replayEvents } from '../workers/file-replay.ts';
import { startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const fixture = (name: string) => new URL(`./fixtures/replay/${name}`, import.meta.url).pathname;

let crest: TestCrest;
before(async () => {
  crest = await startTestCrest();
});
after(async () => {
  await crest.close();
});
exitsWithin();

interface Outcome {
  events: CrestEvent[];
  metrics: RoomMetrics;
  windows: HighlightWindow[];
  suggestions: Suggestion[];
}

/** Replays a fixture flat out (speed 0) and waits until the detector has processed its stream.end. */
async function replay(name: string, opts: { room?: string; shiftToNow?: boolean } = {}): Promise<Outcome> {
  const events = (await readRecording(fixture(name))) as CrestEvent[];
  const room = opts.room ?? events[0]!.room;
  const sum = await replayEvents({ events, speed: 0, room: opts.room, shiftToNow: opts.shiftToNow, submit: (b) => crest.ingest.ingest(b, { rooms: [room] }) });
  assert.equal(sum.sent, events.length);
  assert.equal(sum.rejected, 0, JSON.stringify(sum.errors));
  assert.equal(sum.accepted, events.length, 'every recorded event is accepted again (they were accepted once)');
  const token = crest.token('operator', [room]);
  const get = async (path: string) => (await crest.api(`/api/v1/rooms/${room}${path}`, { token })).json();
  const metrics = await waitFor(`${name} processed to its stream.end`, 30_000, async () => {
    const r = await crest.api(`/api/v1/rooms/${room}/state`, { token });
    if (r.status !== 200) return undefined;
    const m = ((await r.json()) as { metrics: RoomMetrics | null }).metrics;
    return m && !m.live && m.events === events.length ? m : undefined;
  });
  return { events, metrics, windows: (await get('/windows')).windows, suggestions: (await get('/suggestions')).suggestions };
}

const count = (events: CrestEvent[], type: string, pick: (e: CrestEvent) => boolean = () => true) => events.filter((e) => e.type === type && pick(e)).length;

/** The totals a replay must reproduce, computed from the file itself. */
function assertTotals(o: Outcome): void {
  const { events, metrics } = o;
  for (const source of ['follow', 'public', 'paid', 'other'] as const) {
    assert.equal(metrics.entriesTotal[source], count(events, 'viewer.enter', (e) => e.type === 'viewer.enter' && e.source === source), `entries from ${source}`);
  }
  assert.equal(metrics.orders, count(events, 'order.paid'));
  assert.equal(metrics.gmv, events.reduce((s, e) => s + (e.type === 'order.paid' ? e.amount : 0), 0));
  assert.equal(metrics.comments, count(events, 'engage.comment'));
  assert.equal(metrics.likes, events.reduce((s, e) => s + (e.type === 'engage.like' ? (e.count ?? 1) : 0), 0));
  assert.equal(metrics.lateEvents, 0);
}

test('the highlight recording replays to a rising window near its onset and a boost.now for the buyer', async () => {
  const o = await replay('highlight.ndjson.gz');
  assertTotals(o);
  const start = o.events[0]!.ts;
  assert.equal(o.windows.length, 1, JSON.stringify(o.windows));
  const w = o.windows[0]!;
  assert.equal(w.state, 'ended');
  // The simulator put the build-up's onset ~60–90 s in (seed 101); detection comes during the rise. It is late here
  // (~93 s): the rise starts +11 % in 30 s with quiet leading signals (a giveaway crowd's shape, held 40 s), then a
  // 5 s platform step of +23 % holds it as a jump for 40 s more. Measured trade-off: docs/detector.md, surge rule.
  assert.ok(w.onsetTs - start >= 45_000 && w.onsetTs - start <= 120_000, `onset at +${(w.onsetTs - start) / 1000}s`);
  assert.ok(w.detectedTs >= w.onsetTs && w.detectedTs - w.onsetTs <= 100_000, `onset latency ${(w.detectedTs - w.onsetTs) / 1000}s`);
  assert.ok(w.liftPct > 50, `lift ${w.liftPct}%`);
  const boost = o.suggestions.find((s) => s.kind === 'boost.now');
  assert.ok(boost, `suggestions: ${o.suggestions.map((s) => s.kind).join(', ')}`);
  assert.equal(boost.createdAt, w.detectedTs, 'boost.now comes with the rising detection');
  assert.ok(o.suggestions.some((s) => s.kind === 'cue.tease'), "o.suggestions.some((s) => s.kind === 'cue.tease')");
  assert.ok(o.suggestions.some((s) => s.kind === 'boost.stop'), 'and a boost.stop once the peak has passed');
});

test('the flat recording replays to no window and no suggestion', async () => {
  const o = await replay('flat.ndjson.gz');
  assertTotals(o);
  assert.deepEqual(o.windows, []);
  assert.deepEqual(o.suggestions, []);
});

test('the giveaway-spike recording replays to the same totals as its events', async () => {
  assertTotals(await replay('giveaway-spike.ndjson.gz'));
});

test('the TikTok connector recording replays to the platform figures it carried', async () => {
  const o = await replay('tiktok-session.ndjson.gz');
  assertTotals(o);
  assert.equal(o.metrics.peakConcurrency, 455, 'room.online from roomUser');
  assert.deepEqual(o.metrics.entriesTotal, { follow: 1, public: 1, paid: 1, other: 1 });
  assert.equal(o.metrics.gifts, 6, 'a five-rose streak counted once, plus one gift');
  assert.equal(o.metrics.follows, 1);
  assert.equal(o.metrics.shares, 1);
  assert.deepEqual(o.windows, []);
});

test('replaying into a renamed room moved to now works once; the same replay again stores nothing', async () => {
  const before = Date.now();
  const o = await replay('flat.ndjson.gz', { room: 'rec-flat-again', shiftToNow: true });
  assertTotals(o);
  assert.ok(o.events.length > 0, 'o.events.length > 0');
  assert.ok(o.metrics.ts >= before, 'event times were moved to now');
  const events = await readRecording(fixture('flat.ndjson.gz'));
  const again = await replayEvents({ events, speed: 0, room: 'rec-flat-again', shiftToNow: true, submit: (b) => crest.ingest.ingest(b, { rooms: '*' }) });
  assert.equal(again.accepted, 0);
  assert.equal(again.duplicate, events.length, 'ids are the idempotency keys, whatever the times');
});
