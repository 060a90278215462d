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
import { exitsWithin } from './support/exit-watch.ts';

const room = 'report-1';
let crest: TestCrest;
let op: string;
let windows: HighlightWindow[];
let suggestions: Suggestion[];
let metrics: RoomMetrics;
let events: Record<string, unknown>[];

before(async () => {
  crest = await startTestCrest();
  op = crest.token('operator', [room], 'op-olga');
  const t0 = Date.now() - 15 * 60_000;
  const rise = scriptedRise(room, t0);
  events = rise.events;
  const last = events.at(-1)!.ts as number;
  events.push(...[1, 2, 3].map((i) => ({ id: `${room}-f${i}`, room, ts: last, type: 'engage.follow', viewer: `v${i * 5}`, count: i })));
  // Ad spend all stream long, heavier from a minute before the rise to just after the top; exposure per source;
  // the hot product put on the shelf; a second product sold early, by followers.
  const onsetS = (rise.onsetTs - t0) / 1000;
  const peakS = (rise.peakTs - t0) / 1000;
  for (let s = 0; s * 1000 <= last - t0; s++) {
    const ts = t0 + s * 1000 + 300;
    if (s % 10 === 0) events.push({ id: `${room}-ad${s}`, room, ts, type: 'ad.spend', amount: s >= onsetS - 60 && s < peakS + 30 ? 700 : 200 });
    if (s % 30 === 0) {
      for (const [source, count] of [['public', 50], ['paid', 100], ['follow', 20]] as const) events.push({ id: `${room}-x${s}${source}`, room, ts, type: 'room.exposure', source, count });
    }
    if (s % 60 === 2 && s < onsetS - 60) events.push({ id: `${room}-sc${s}`, room, ts, type: 'order.paid', order: `sc${s}`, viewer: `v${s - 2}`, sku: 'scarf', amount: 2_500 });
  }
  events.push({ id: `${room}-launch`, room, ts: rise.onsetTs + 100, type: 'product.launch', sku: 'hot-1', name: 'Hot one' });
  events.sort((a, b) => (a.ts as number) - (b.ts as number));
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
exitsWithin();

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

  assert.deepEqual(new Set(r.suggestions.map((s) => s.id)), new Set(suggestions.map((s) => s.id)));
  const acked = r.suggestions.filter((s) => s.status === 'acknowledged');
  assert.equal(acked.length, 1);
  assert.equal(acked[0]!.kind, 'boost.now');
  assert.equal(acked[0]!.ackBy, 'buyer-anna');
  assert.equal(r.suggestionCounts.total, suggestions.length);

  assert.equal(r.summary!.gmv, metrics.gmv);
  assert.equal(r.summary!.orders, metrics.orders);
  assert.equal(r.follows.gained, 6);
  assert.equal(r.gmvDecomposition!.entries, Object.values(metrics.entriesTotal).reduce((a, b) => a + b, 0));
  assert.ok(r.timeline.points.length > 0 && r.timeline.points.length <= 1_000, 'r.timeline.points.length > 0 && r.timeline.points.length <= 1_000');
  assert.equal(Math.max(...r.timeline.points.map((p) => p.concurrency)), Math.max(...windows.map((w) => w.peak)));
  assert.equal(r.plans.available, true, 'planned moments come from the plan store');
});

test('the report\'s figures equal an independent count over the same event list', async () => {
  const r = (await (await get('?format=json')).json()) as RoomReport;
  type Ev = { type: string; ts: number; amount?: number; count?: number; sku?: string; viewer?: string; source?: string };
  const evs = events as unknown as Ev[];
  const sum = (pick: (e: Ev) => boolean, value: (e: Ev) => number) => evs.filter(pick).reduce((n, e) => n + value(e), 0);
  const amount = (e: Ev) => e.amount!;
  const between = (type: string, from: number, to: number) => sum((e) => e.type === type && e.ts >= from && e.ts < to, amount);

  assert.equal(r.summary!.gmv, sum((e) => e.type === 'order.paid', amount));
  assert.equal(r.summary!.orders, evs.filter((e) => e.type === 'order.paid').length);
  const spend = sum((e) => e.type === 'ad.spend', amount);
  assert.equal(r.summary!.adSpend, spend);
  assert.equal(r.follows.gained, sum((e) => e.type === 'engage.follow', (e) => e.count ?? 1));

  // Boost timing per window: build-up [onset, peak), after the peak [peak, end); spend inside vs outside.
  let inside = 0;
  for (const w of r.windows) {
    const end = w.endTs ?? Infinity;
    assert.equal(w.gmv, between('order.paid', w.onsetTs, end), `GMV inside ${w.id}`);
    assert.equal(w.boostTiming.buildUpSpend, between('ad.spend', w.onsetTs, w.peakTs ?? Infinity));
    if (w.peakTs !== null) assert.equal(w.boostTiming.afterPeakSpend, between('ad.spend', w.peakTs, end));
    inside += between('ad.spend', w.onsetTs, end);
  }
  const ended = r.windows.find((w) => w.state === 'ended')!;
  assert.ok(ended.boostTiming.buildUpSpend! > 0 && ended.boostTiming.afterPeakSpend! > 0, 'spend on both sides of the peak');
  assert.equal(ended.boostTiming.buildUpShare, ended.boostTiming.buildUpSpend! / (ended.boostTiming.buildUpSpend! + ended.boostTiming.afterPeakSpend!));
  assert.equal(ended.boostTiming.approximate, false);
  assert.equal(r.summary!.adSpendInWindows, inside);
  assert.equal(r.summary!.adSpendOutsideWindows, spend - inside);

  // Top products by sku; the hot product carries its shelf name.
  const bySku = new Map<string, { gmv: number; orders: number }>();
  for (const e of evs) if (e.type === 'order.paid' && e.sku) bySku.set(e.sku, { gmv: (bySku.get(e.sku)?.gmv ?? 0) + e.amount!, orders: (bySku.get(e.sku)?.orders ?? 0) + 1 });
  assert.deepEqual(
    r.topProducts!.map((p) => [p.sku, p.gmv, p.orders, p.gmvError]),
    [...bySku].sort((a, b) => b[1].gmv - a[1].gmv).map(([sku, v]) => [sku, v.gmv, v.orders, 0]),
  );
  assert.equal(r.topProducts!.find((p) => p.sku === 'hot-1')!.name, 'Hot one');

  // Decomposition: exposure and entries per source; GMV by the source the payer entered from (each viewer
  // enters once here and pays within seconds, so the session is open).
  const d = r.gmvDecomposition!;
  assert.deepEqual(d.perRoomFactors, []);
  const enterSource = new Map(evs.filter((e) => e.type === 'viewer.enter').map((e) => [e.viewer!, e.source!]));
  for (const s of d.sources) {
    assert.equal(s.exposure, sum((e) => e.type === 'room.exposure' && e.source === s.source, (e) => e.count!), `${s.source} exposure`);
    assert.equal(s.entries, evs.filter((e) => e.type === 'viewer.enter' && e.source === s.source).length);
    assert.equal(s.gmvAttributed, sum((e) => e.type === 'order.paid' && enterSource.get(e.viewer!) === s.source, amount), `${s.source} GMV`);
    if (s.exposure > 0) assert.equal(s.clickInRate, s.entries / s.exposure);
  }
  assert.equal(d.gmvUnattributed, 0);
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
  assert.ok(section('suggestions').some((l) => l.includes('buyer-anna')), "section('suggestions').some((l) => l.includes('buyer-anna'))");
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
  assert.ok(html.includes(room), 'html.includes(room)');
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
  assert.match(((await past.json()) as { error: { reason: string } }).error.reason, /no stream "2026-01-01": pass stream=current/);
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
    await assert.rejects(reportCommand(['--room', room, '--stream', 'last-week'], env), /no stream "last-week"/);
    await assert.rejects(reportCommand(['--room', room, '--format', 'pdf'], env), /--format must be one of/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
