import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent, type CrestEvent } from '../../core/events.ts';
import {
  mapTikTokMessage,
  parsePrice,
  parseSourceRules,
  SourceTable,
  streamStartEvent,
  UnexpectedPayloadError,
  type MapContext,
  type MapOutcome,
} from './tiktok-mapping.ts';
import { exitsWithin } from '../../test/support/exit-watch.ts';

exitsWithin();

const T0 = 1_767_225_600_000;
const ctx: MapContext = { room: 'tt-room', now: T0 + 99_999, sources: new SourceTable() };
const common = (msgId: string, dt = 0, extra: Record<string, unknown> = {}) => ({ msgId, createTime: String(T0 + dt), roomId: '7455', ...extra });
const alice = { id: '6811000000000000001', displayId: 'alice.shop', nickname: 'Alice' };

function events(out: MapOutcome): CrestEvent[] {
  assert.equal(out.kind, 'events', `expected events, got ${JSON.stringify(out)}`);
  const list = (out as Extract<MapOutcome, { kind: 'events' }>).events;
  for (const e of list) assert.deepEqual(parseEvent(e), { ok: true, event: e }, 'every mapped event passes contract v1');
  return list;
}

test('a member join becomes viewer.enter with the id, time and source from the message', () => {
  const out = mapTikTokMessage('member', { common: common('7455001', 1000), user: alice, action: 1, clientEnterSource: 'homepage_hot-live_cell' }, ctx);
  assert.deepEqual(events(out), [{ id: 'tt:7455001', room: 'tt-room', ts: T0 + 1000, type: 'viewer.enter', viewer: 'tt:6811000000000000001', source: 'public' }]);
  assert.deepEqual((out as { source?: unknown }).source, { source: 'public', known: true, value: 'homepage_hot-live_cell' });
});

test('a subscription notice (member action 3) is skipped, not an entry', () => {
  assert.equal(mapTikTokMessage('member', { common: common('1'), user: alice, action: 3 }, ctx).kind, 'skip');
});

test('roomUser total becomes room.online; a total that is not a count is unexpected', () => {
  assert.deepEqual(events(mapTikTokMessage('roomUser', { common: common('2', 5), total: '412', totalUser: '1503' }, ctx)), [
    { id: 'tt:2', room: 'tt-room', ts: T0 + 5, type: 'room.online', count: 412 },
  ]);
  assert.throws(() => mapTikTokMessage('roomUser', { common: common('3'), total: 'lots' }, ctx), UnexpectedPayloadError);
  assert.throws(() => mapTikTokMessage('roomUser', { common: common('3') }, ctx), UnexpectedPayloadError);
  assert.throws(() => mapTikTokMessage('member', null, ctx), UnexpectedPayloadError);
  assert.throws(() => mapTikTokMessage('chat', 'hello', ctx), UnexpectedPayloadError);
});

test('likes, chat, follow and share become engage.* with the viewer', () => {
  const [like] = events(mapTikTokMessage('like', { common: common('4'), user: alice, count: 15, total: '2051' }, ctx));
  assert.deepEqual(like, { id: 'tt:4', room: 'tt-room', ts: T0, type: 'engage.like', viewer: 'tt:6811000000000000001', count: 15 });
  assert.equal(events(mapTikTokMessage('chat', { common: common('5'), user: alice, content: 'hi' }, ctx))[0]!.type, 'engage.comment');
  assert.equal(events(mapTikTokMessage('follow', { common: common('6'), user: alice }, ctx))[0]!.type, 'engage.follow');
  assert.equal(events(mapTikTokMessage('share', { common: common('7'), user: alice }, ctx))[0]!.type, 'engage.share');
  assert.equal(mapTikTokMessage('social', { common: common('8', 0, { displayText: { key: 'pm_other' } }), user: alice }, ctx).kind, 'skip');
});

test('a gift streak counts once, at its end, with the final repeat count; a non-streak gift counts at once', () => {
  const rose = { id: '5655', type: 1, name: 'Rose' };
  const steps = [1, 3, 5].map((n, i) => mapTikTokMessage('gift', { common: common(`g${i}`), user: alice, gift: rose, repeatCount: n, repeatEnd: 0 }, ctx));
  assert.ok(steps.every((s) => s.kind === 'skip'), "steps.every((s) => s.kind === 'skip')");
  const end = events(mapTikTokMessage('gift', { common: common('g3'), user: alice, gift: rose, repeatCount: 5, repeatEnd: 1 }, ctx));
  assert.deepEqual(end, [{ id: 'tt:g3', room: 'tt-room', ts: T0, type: 'engage.gift', viewer: 'tt:6811000000000000001', count: 5 }]);
  const once = events(mapTikTokMessage('gift', { common: common('g4'), user: alice, gift: { id: '7934', type: 2 }, repeatCount: 1, repeatEnd: 0 }, ctx));
  assert.equal(once[0]!.type === 'engage.gift' && once[0]!.count, 1);
  // Without gift details we cannot tell a streak step from a lone gift: wait for the end, never double-count.
  assert.equal(mapTikTokMessage('gift', { common: common('g5'), user: alice, repeatCount: 2, repeatEnd: 0 }, ctx).kind, 'skip');
});

test('a pinned product becomes product.launch with sku, name and price in minor units', () => {
  const out = mapTikTokMessage('oecLiveShopping', { common: common('9'), popProduct: { productId: '1729384756102938', title: 'Vitamin C Serum 30ml', price: '$12.99' } }, ctx);
  assert.deepEqual(events(out), [{ id: 'tt:9', room: 'tt-room', ts: T0, type: 'product.launch', sku: '1729384756102938', name: 'Vitamin C Serum 30ml', price: 1299 }]);
  const snap = events(mapTikTokMessage('oecLiveShopping', { common: common('10'), popProduct: { productId: '0', price: 'see shop' }, productSnapShot: { productId: '42', title: 'Mug' } }, ctx));
  assert.deepEqual(snap, [{ id: 'tt:10', room: 'tt-room', ts: T0, type: 'product.launch', sku: '42', name: 'Mug' }]);
  assert.equal(mapTikTokMessage('oecLiveShopping', { common: common('11'), popProduct: { productId: '0' } }, ctx).kind, 'skip');
});

test('stream end (control action 3 or 4) becomes stream.end, one id per live session', () => {
  const end = events(mapTikTokMessage('controlMessage', { common: common('12', 60_000), action: 3 }, { ...ctx, platformRoomId: '7455000000000000777' }));
  assert.deepEqual(end, [{ id: 'tt:end:7455000000000000777', room: 'tt-room', ts: T0 + 60_000, type: 'stream.end' }]);
  assert.equal(mapTikTokMessage('controlMessage', { common: common('13'), action: 1 }, ctx).kind, 'skip');
  assert.deepEqual(streamStartEvent('tt-room', '7455', T0), { id: 'tt:start:7455', room: 'tt-room', ts: T0, type: 'stream.start' });
});

test('ids come from the platform message id, so the same message maps to the same event; without one, from its content', () => {
  const msg = { common: common('7455009'), user: alice, count: 2 };
  assert.deepEqual(mapTikTokMessage('like', msg, ctx), mapTikTokMessage('like', structuredClone(msg), { ...ctx, now: ctx.now + 5_000 }));
  const noId = { common: { msgId: '0', createTime: '0' }, user: alice, count: 2 };
  const a = events(mapTikTokMessage('like', noId, ctx))[0]!;
  const b = events(mapTikTokMessage('like', structuredClone(noId), ctx))[0]!;
  const c = events(mapTikTokMessage('like', { ...noId, count: 3 }, ctx))[0]!;
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
  assert.match(a.id, /^tt:h[0-9a-f]{24}$/);
  assert.equal(a.ts, ctx.now, 'no create time: the wall clock');
  // Create time in seconds (old messages) is read as seconds.
  assert.equal(events(mapTikTokMessage('chat', { common: { msgId: '1', createTime: String(T0 / 1000) }, user: alice }, ctx))[0]!.ts, T0);
  // A viewer without any id still gets one (per message), so the entry is counted.
  assert.equal((events(mapTikTokMessage('member', { common: common('x1'), action: 1 }, ctx))[0] as { viewer: string }).viewer, 'tt:anon:x1');
});

test('the source table: paid before follow before public, whole words only, the live reason as fallback, unknowns to other', () => {
  const t = new SourceTable();
  assert.equal(t.classify('homepage_follow-live_cell', '').source, 'follow');
  assert.equal(t.classify('homepage_hot-live_cell', '').source, 'public');
  assert.equal(t.classify('live_merge-live_cover', '').source, 'public');
  assert.equal(t.classify('homepage_hot-live_cell', 'promotion_card').source, 'public', 'the enter source wins when it matches');
  assert.equal(t.classify('', 'live_ad').source, 'paid');
  assert.equal(t.classify('feed_ad', '').source, 'paid', 'paid is tried first');
  assert.equal(t.classify('others_homepage', '').source, 'other');
  assert.deepEqual(t.classify('others_homepage', ''), { source: 'other', known: true, value: 'others_homepage' });
  assert.deepEqual(t.classify('headline_slot', ''), { source: 'other', known: false, value: 'headline_slot' }, '"ad" does not match inside "headline"');
  assert.deepEqual(t.classify('', undefined), { source: 'other', known: false, value: '' });
  const custom = SourceTable.withExtraRules(parseSourceRules('headline_slot=paid, homepage_hot=follow'));
  assert.equal(custom.classify('headline_slot', '').source, 'paid');
  assert.equal(custom.classify('homepage_hot-live_cell', '').source, 'follow', 'extra rules come before the built-in table');
});

test('source rules parse from pattern=source lists and reject what is not', () => {
  assert.deepEqual(parseSourceRules(' live_ad=paid ,Homepage_Hot=public,'), [
    { pattern: 'live_ad', source: 'paid' },
    { pattern: 'homepage_hot', source: 'public' },
  ]);
  assert.throws(() => parseSourceRules('live_ad=organic'), /source must be one of follow, public, paid, other/);
  assert.throws(() => parseSourceRules('justaword'), /expected pattern=source/);
  assert.throws(() => parseSourceRules('a(b=paid'), /expected pattern=source/);
});

test('displayed prices become minor units; anything unclear is left out', () => {
  assert.equal(parsePrice('$12.99'), 1299);
  assert.equal(parsePrice('1,299.00'), 129900);
  assert.equal(parsePrice('12'), 1200);
  assert.equal(parsePrice('€9,5'), 950);
  assert.equal(parsePrice('Rp 15.000'), undefined);
  assert.equal(parsePrice('from $3 to $5'), undefined);
  assert.equal(parsePrice(undefined), undefined);
});
