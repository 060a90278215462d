/**
 * The post-stream report against a real Crest: a scripted rise goes in over HTTP, the detector finds the
 * window, and the report (API in JSON, CSV and HTML; and `crest report`) carries the same windows,
 * suggestions and acknowledgements as the room's own read API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { HighlightWindow, RoomMetrics, Suggestion } from '../core/protocol.ts';
import type { RoomReport } from '../core/report.ts';
import { reportCommand } from '../workers/report-command.ts';
import { scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';

const room = 'report-1';
let crest: TestCrest;
let op: string;
let windows: HighlightWindow[];
let suggestions: Suggestion[];
let metrics: RoomMetrics;

before(async () => {
  crest = await startTestCrest();
  op = crest.token('operator', [room], 'op-olga');
  const t0 = Date.now() - 15 * 60_000;
  const { events } = scriptedRise(room, t0);
  const last = events.at(-1)!.ts as number;
  events.push(...[1, 2, 3].map((i) => ({ id: `${room}-f${i}`, room, ts: last, type: 'engage.follow', viewer: `v${i * 5}` })));
  for (let i = 0; i < events.length; i += 500) {
    const r = await crest.post(events.slice(i, i + 500));
    assert.equal(r.status, 200, await r.text());
  }
  // Every event applied (so figures no longer move), and the window over.
  metrics = await waitFor('all events applied', 20_000, async () => {
    const r = await crest.api(`/api/v1/rooms/${room}/state`, { token: op });
    if (r.status !== 200) return undefined;
    const m = ((await r.json()) as { metrics: RoomMetrics }).metrics;
    return m.events >= events.length ? m : undefined;
  });
  windows = await waitFor('window ended', 20_000, async () => {
    const w = ((await (await crest.api(`/api/v1/rooms/${room}/windows`, { token: op })).json()) as { windows: HighlightWindow[] }).windows;
    return w.some((x) => x.state === 'ended') ? w : undefined;
  });
  const buyer = crest.token('buyer', [room], 'buyer-anna');
  const list = (await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: buyer })).json()) as { suggestions: Suggestion[] };
  const boost = list.suggestions.find((s) => s.kind === 'boost.now')!;
  assert.ok(boost, 'a boost.now to acknowledge');
  const ack = await crest.api(`/api/v1/rooms/${room}/suggestions/${encodeURIComponent(boost.id)}/ack`, { method: 'POST', token: buyer });
  assert.equal(ack.status, 201);
  suggestions = ((await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: op })).json()) as { suggestions: Suggestion[] }).suggestions;
});
after(async () => {
  await crest.close();
});

const get = (query: string, token = op) => crest.api(`/api/v1/rooms/${room}/report${query}`, { token });

test('the JSON report carries the room\'s windows, suggestions, acknowledgements and totals', async () => {
  const res = await get('?format=json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /application\/json/);
  assert.equal(res.headers.get('content-disposition'), null);
  const r = (await res.json()) as RoomReport;
  assert.equal(r.room, room);
  assert.equal(r.stream, 'current');
  assert.deepEqual(
    r.windows.map((w) => [w.id, w.state, w.liftPct, w.peak, w.baseline, w.gmv, w.orders, w.onsetLatencyMs]),
    [...windows].sort((a, b) => a.onsetTs - b.onsetTs).map((w) => [w.id, w.state, w.liftPct, w.peak, w.baseline, w.gmv, w.orders, w.detectedTs - w.onsetTs]),
  );
  const ended = r.windows.find((w) => w.state === 'ended')!;
  assert.ok(ended.orders > 0 && ended.gmv === ended.orders * 9_900, 'orders of the burst at the top, 99.00 each');
  assert.equal(ended.boostTiming.buildUpShare, null, 'no spend series yet: unknown, not zero');
  assert.ok(ended.boostTiming.note);

  assert.deepEqual(new Set(r.suggestions.map((s) => s.id)), new Set(suggestions.map((s) => s.id)));
  const acked = r.suggestions.filter((s) => s.status === 'acknowledged');
  assert.equal(acked.length, 1);
  assert.equal(acked[0]!.kind, 'boost.now');
  assert.equal(acked[0]!.ackBy, 'buyer-anna');
  assert.equal(r.suggestionCounts.total, suggestions.length);

  assert.equal(r.summary!.gmv, metrics.gmv);
  assert.equal(r.summary!.orders, metrics.orders);
  assert.equal(r.follows.gained, 3);
  assert.equal(r.gmvDecomposition!.entries, Object.values(metrics.entriesTotal).reduce((a, b) => a + b, 0));
  assert.ok(r.timeline.points.length > 0 && r.timeline.points.length <= 1_000);
  assert.equal(Math.max(...r.timeline.points.map((p) => p.concurrency)), Math.max(...windows.map((w) => w.peak)));
  assert.equal(r.plans.available, true, 'planned moments come from the plan store');
});

test('the CSV report is an attachment whose windows and suggestions sections match the room', async () => {
  const res = await get('?format=csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/csv/);
  assert.match(res.headers.get('content-disposition')!, new RegExp(`^attachment; filename="crest-report-${room}-\\d{8}-\\d{4}\\.csv"$`));
  const lines = (await res.text()).replace(/^\uFEFF/, '').split('\r\n');
  const section = (name: string) => lines.filter((l) => l.startsWith(`${name},`));
  const header = lines.find((l, i) => l.startsWith('section,') && lines[i + 1]?.startsWith('windows,'))!.split(',');
  const rows = section('windows').map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  assert.equal(rows.length, windows.length);
  for (const w of windows) {
    const row = rows.find((x) => x.id === w.id)!;
    assert.equal(Number(row.gmv_minor), w.gmv);
    assert.equal(Number(row.orders), w.orders);
    assert.equal(Number(row.peak), w.peak);
  }
  assert.equal(section('suggestions').length, suggestions.length);
  assert.ok(section('suggestions').some((l) => l.includes('buyer-anna')));
});

test('the HTML report is a self-contained attachment with an SVG chart and no external URL', async () => {
  const res = await get('?format=html&tz=Asia/Shanghai');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/html/);
  assert.match(res.headers.get('content-disposition')!, /^attachment; filename="crest-report-report-1-\d{8}-\d{4}\.html"$/);
  assert.match(res.headers.get('content-security-policy')!, /default-src 'none'/);
  const html = await res.text();
  assert.match(html, /<svg[\s>]/);
  assert.doesNotMatch(html, /\s(src|href)\s*=\s*["']?https?:/i);
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script/i);
  assert.ok(html.includes(room));
  for (const w of windows) assert.ok(html.includes(`${w.liftPct.toFixed(1)}%`), `lift of ${w.id} shown`);
});

test('access: another room\'s token, a host token or no token are refused; unknown room, unknown stream 404; bad format 400', async () => {
  assert.equal((await get('?format=json', crest.token('operator', ['other-room']))).status, 403);
  assert.equal((await get('?format=html', crest.token('host', [room]))).status, 403);
  assert.equal((await get('?format=json', crest.token('buyer', [room]))).status, 403);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/report`)).status, 401);
  assert.equal((await get('?format=json', crest.token('admin', '*'))).status, 200);
  const unknownRoom = await crest.api('/api/v1/rooms/nobody-here/report', { token: crest.token('operator', '*') });
  assert.equal(unknownRoom.status, 404);
  const past = await get('?stream=2026-01-01');
  assert.equal(past.status, 404);
  assert.match(((await past.json()) as { error: { reason: string } }).error.reason, /only the current, live-retained stream/);
  assert.equal((await get('?stream=current&format=json')).status, 200);
  const bad = await get('?format=pdf');
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'format');
  assert.equal((await get('?tz=Mars/Olympus')).status, 400);
});

test('crest report writes the same figures from REDIS_URL, to stdout or atomically to --out', async () => {
  const env = { REDIS_URL: crest.redis.url, CREST_SHARDS: String(crest.config.shards) };
  let out = '';
  await reportCommand(['--room', room, '--format', 'json'], env, (t) => (out += t));
  const r = JSON.parse(out) as RoomReport;
  assert.deepEqual(r.windows.map((w) => [w.id, w.gmv, w.orders, w.peak]), [...windows].sort((a, b) => a.onsetTs - b.onsetTs).map((w) => [w.id, w.gmv, w.orders, w.peak]));
  assert.equal(r.suggestions.length, suggestions.length);

  const dir = await mkdtemp(joinPath(tmpdir(), 'crest-report-'));
  try {
    const file = joinPath(dir, 'r.html');
    const res = await reportCommand(['--room', room, '--out', file], env);
    assert.equal(res.format, 'html');
    assert.match(await readFile(file, 'utf8'), /<svg[\s>]/);
    await assert.rejects(reportCommand(['--room', 'nobody-here'], env), /no events seen yet/);
    await assert.rejects(reportCommand(['--room', room, '--stream', 'last-week'], env), /only the current/);
    await assert.rejects(reportCommand(['--room', room, '--format', 'pdf'], env), /--format must be one of/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
