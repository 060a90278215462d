/**
 * The whole path, with real parts: a scripted rise posted over HTTP → Redis stream → detector worker
 * (pure core) → out stream → socket.io gateway → a buyer socket gets `boost.now` and a host socket
 * gets `cue.tease`; the operator sees the window go rising → peak → ended.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HighlightWindow, Suggestion } from '../core/protocol.ts';
import { join, scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

let crest: TestCrest;
before(async () => {
  crest = await startTestCrest();
});
after(async () => {
  await crest.close();
});
exitsWithin();

test('a scripted rise reaches the buyer as boost.now and the host as cue.tease, live over socket.io', async () => {
  const room = 'live-1';
  const buyer = await crest.socket(crest.token('buyer', [room]));
  const host = await crest.socket(crest.token('host', [room]));
  const operator = await crest.socket(crest.token('operator', [room]));
  const got = { buyer: [] as Suggestion[], host: [] as Suggestion[], operator: [] as Suggestion[], windows: [] as HighlightWindow[] };
  buyer.on('suggestion:new', (m) => got.buyer.push(m.suggestion));
  host.on('suggestion:new', (m) => got.host.push(m.suggestion));
  operator.on('suggestion:new', (m) => got.operator.push(m.suggestion));
  operator.on('window:update', (m) => got.windows.push(m.window));
  for (const s of [buyer, host, operator]) assert.equal((await join(s, room)).ok, true);

  const { events, onsetTs } = scriptedRise(room, Date.now() - 15 * 60_000);
  for (let i = 0; i < events.length; i += 500) {
    const r = await crest.post(events.slice(i, i + 500));
    assert.equal(r.status, 200, await r.text());
  }

  const boost = await waitFor('boost.now for the buyer', 15_000, () => got.buyer.find((s) => s.kind === 'boost.now'));
  const tease = await waitFor('cue.tease for the host', 15_000, () => got.host.find((s) => s.kind === 'cue.tease'));
  assert.equal(boost.room, room);
  assert.equal(boost.audience, 'buyer');
  assert.ok(boost.confidence > 0 && boost.confidence <= 1, 'boost.confidence > 0 && boost.confidence <= 1');
  assert.ok(boost.reason.length > 10, 'boost.reason.length > 10');
  assert.equal(tease.audience, 'host');
  // Each audience gets only its own suggestions; the operator gets both.
  assert.ok(got.buyer.every((s) => s.audience === 'buyer' && s.suppressed === null), "got.buyer.every((s) => s.audience === 'buyer' && s.suppressed === null)");
  assert.ok(got.host.every((s) => s.audience === 'host' && s.suppressed === null), "got.host.every((s) => s.audience === 'host' && s.suppressed === null)");
  // Separate sockets: the operator's copy may land a moment after the buyer's and host's.
  await waitFor('the operator has both', 15_000, () => (got.operator.some((s) => s.id === boost.id) && got.operator.some((s) => s.id === tease.id) ? true : undefined));

  await waitFor('window ended', 15_000, () => got.windows.find((w) => w.state === 'ended'));
  const states = got.windows.map((w) => w.state);
  const firstIdx = (s: string) => states.indexOf(s as HighlightWindow['state']);
  assert.ok(firstIdx('rising') >= 0 && firstIdx('rising') < firstIdx('peak') && firstIdx('peak') < firstIdx('ended'), `order: ${states.join(',')}`);
  const rising = got.windows.find((w) => w.state === 'rising')!;
  // Detected after the true onset, and within the rise (90 s long).
  assert.ok(rising.detectedTs >= onsetTs && rising.detectedTs - onsetTs < 90_000, `onset latency ${(rising.detectedTs - onsetTs) / 1000}s`);

  // The REST view agrees with what was pushed.
  const op = crest.token('operator', [room]);
  const windows = await (await crest.api(`/api/v1/rooms/${room}/windows`, { token: op })).json();
  assert.ok(windows.windows.some((w: HighlightWindow) => w.state === 'ended'), "windows.windows.some((w: HighlightWindow) => w.state === 'ended')");
  const sugg = await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: crest.token('buyer', [room]) })).json();
  assert.ok(sugg.suggestions.some((s: Suggestion) => s.id === boost.id), 'sugg.suggestions.some((s: Suggestion) => s.id === boost.id)');
  assert.ok(sugg.suggestions.every((s: Suggestion) => s.audience === 'buyer'), "sugg.suggestions.every((s: Suggestion) => s.audience === 'buyer')");
});

test('acknowledging a suggestion is recorded once and pushed to every view of the room', async () => {
  const room = 'live-1';
  const buyerToken = crest.token('buyer', [room], 'buyer-anna');
  const operator = await crest.socket(crest.token('operator', [room]));
  const acked: string[] = [];
  operator.on('suggestion:acked', (m) => acked.push(`${m.ack.suggestionId}|${m.ack.by}`));
  await join(operator, room);
  const list = await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: buyerToken })).json();
  const target = list.suggestions.find((s: Suggestion) => s.kind === 'boost.now') as Suggestion;
  const r1 = await crest.api(`/api/v1/rooms/${room}/suggestions/${encodeURIComponent(target.id)}/ack`, { method: 'POST', token: buyerToken });
  assert.equal(r1.status, 201);
  const r2 = await crest.api(`/api/v1/rooms/${room}/suggestions/${encodeURIComponent(target.id)}/ack`, { method: 'POST', token: buyerToken });
  assert.equal(r2.status, 200);
  await waitFor('ack pushed', 5_000, () => (acked.length ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(acked, [`${target.id}|buyer-anna`]);
  // A buyer cannot acknowledge a host cue (not visible to it): 404, not a silent success.
  const cue = (await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: op(room) })).json()).suggestions.find(
    (s: Suggestion) => s.audience === 'host',
  ) as Suggestion;
  const r3 = await crest.api(`/api/v1/rooms/${room}/suggestions/${encodeURIComponent(cue.id)}/ack`, { method: 'POST', token: buyerToken });
  assert.equal(r3.status, 404);
});

test('a socket that reconnects with its last cursor gets what it missed, nothing twice', async () => {
  const room = 'live-2';
  const token = crest.token('operator', [room]);
  const first = await crest.socket(token);
  const j = await join(first, room);
  assert.ok(j.ok, 'j.ok');
  const seen = new Set<string>();
  let cursor = j.ok ? j.snapshot.cursor : '0-0';
  first.on('room:tick', (m) => {
    cursor = m.cursor;
  });
  const { events } = scriptedRise(room, Date.now() - 15 * 60_000, { flatS: 30, riseS: 0, holdS: 0, decayS: 0 });
  await crest.post(events);
  await waitFor('first ticks', 10_000, () => (cursor !== (j.ok ? j.snapshot.cursor : '') ? true : undefined));
  first.disconnect();
  const missedFrom = cursor;
  // While it is away, a rise happens.
  const rise = scriptedRise(room, Date.now() - 9 * 60_000, { flatS: 360, riseS: 90 });
  await crest.post(rise.events.map((e) => ({ ...e, id: `b-${e.id}` })));
  await new Promise((r) => setTimeout(r, 2_000));
  const second = await crest.socket(token);
  const replayed: string[] = [];
  second.on('suggestion:new', (m) => {
    replayed.push(m.suggestion.id);
    seen.add(m.suggestion.id);
  });
  const j2 = await join(second, room, missedFrom);
  assert.ok(j2.ok, 'j2.ok');
  assert.ok(j2.replayed > 0, 'something was replayed');
  assert.ok(replayed.length > 0, 'missed suggestions were delivered');
  assert.equal(new Set(replayed).size, replayed.length, 'no suggestion delivered twice');
  assert.ok(j2.ok && j2.snapshot.suggestions.length >= seen.size, 'j2.ok && j2.snapshot.suggestions.length >= seen.size');
});

const op = (room: string) => crest.token('operator', [room]);
