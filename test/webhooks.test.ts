/**
 * Webhooks end to end, without the rest of Crest: subscriptions through the real router, suggestions
 * XADDed to the shard out streams the way the detector writes them, the real AlertWorker (BullMQ) posting
 * to a local receiver, and the dead-letter list. Private redis-server; backoff 50 ms, 3 attempts.
 */
import { after, before, test } from 'node:test';
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/config.ts';
import type { RoomUpdate, Suggestion } from '../core/protocol.ts';
import { shardOf } from '../core/sharding.ts';
import { createLogger, silentLogger } from '../server/logger.ts';
import { keys } from '../server/redis-keys.ts';
import { webhooksRouter } from '../server/routes/webhooks.ts';
import { roomsRouter } from '../server/routes/rooms.ts';
import { RoomStore } from '../server/room-store.ts';
import { signPayload, signatureHeader, verifySignature } from '../server/webhook-signature.ts';
import { readSpend } from '../server/webhook-spend.ts';
import { ALERT_GROUP, AlertWorker, deliveryIdFor, type DeadLetter } from '../workers/alert-worker.ts';
import { pollUntil } from './support/poll.ts';
import { startTestRedis } from './support/redis.ts';
import { apiClient, emitUpdate, listenOn, startRoutersApi, stopWebhookRig, testSuggestion, testToken } from './support/webhook-harness.ts';
import { exitsWithin } from './support/exit-watch.ts';

const log = process.env.CREST_TEST_LOG ? createLogger('debug') : silentLogger;
const config = loadConfig({
  CREST_SHARDS: '4',
  CREST_WEBHOOK_ATTEMPTS: '3',
  CREST_WEBHOOK_BACKOFF_MS: '50',
  CREST_WEBHOOK_TIMEOUT_MS: '1000',
});

let redisProc: Awaited<ReturnType<typeof startTestRedis>>;
let redis: Redis;
let api: Server;
let apiUrl = '';
let receiver: Server;
let receiverUrl = '';
let worker: AlertWorker;

interface Received {
  path: string;
  /** With the query string (DingTalk signs in it). */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
const received: Received[] = [];
/** Per path: the statuses to answer, in order; the last one repeats. Default 200. */
const script = new Map<string, number[]>();
/** Per path: the 2xx bodies to answer, in order; the last one repeats. Default "ok". */
const bodies = new Map<string, string[]>();
const hits = (path: string) => received.filter((r) => r.path === path);

const token = testToken;
const { call, subscribe } = apiClient(() => apiUrl);
const suggestion = testSuggestion;
const emit = (update: RoomUpdate) => emitUpdate(redis, config.shards, update);
const emitSuggestion = (s: Suggestion) => emit({ type: 'suggestion', room: s.room, suggestion: s });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deadLetters(): Promise<DeadLetter[]> {
  return (await redis.lrange(keys.webhookDeadLetters(), 0, -1)).map((s) => JSON.parse(s) as DeadLetter);
}

const startWorker = (opts: { claimIdleMs?: number } = {}) =>
  new AlertWorker({ redisUrl: redisProc.url, shards: config.shards, webhook: config.webhook, log, blockMs: 100, ...opts });

before(async () => {
  redisProc = await startTestRedis();
  redis = new Redis(redisProc.url);

  // The rooms router (for the operator log) reads the store.
  ({ server: api, url: apiUrl } = await startRoutersApi({ config, redis, log, store: new RoomStore(redis, config.shards, 1_000), routers: [roomsRouter, webhooksRouter] }));

  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const path = url.split('?')[0]!;
      received.push({ path, url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const plan = script.get(path) ?? [200];
      const status = plan.length > 1 ? plan.shift()! : plan[0]!;
      const answers = bodies.get(path) ?? ['ok'];
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? answer : 'nope');
    });
  });
  receiverUrl = `http://127.0.0.1:${await listenOn(receiver)}`;

  // History: a suggestion written before the alert worker's first start is never delivered.
  await subscribe(token('buyer', ['history']), { url: `${receiverUrl}/history`, room: 'history' });
  await emitSuggestion(suggestion('history'));

  worker = startWorker();
  await worker.start();
});

after(() => stopWebhookRig({ worker, redis, api, receiver, redisProc }));
exitsWithin();

test('a buyer subscription gets one correctly signed POST per suggestion, even when the entry is read twice', { timeout: 10_000 }, async () => {
  const sub = await subscribe(token('buyer', ['room-a']), { url: `${receiverUrl}/a`, room: 'room-a' });
  assert.match(sub.id, /^wh_/);
  assert.ok(sub.secret.length >= 16, 'a generated secret is returned');
  assert.deepEqual(sub.kinds, ['boost.now', 'boost.stop']);
  assert.equal(sub.audience, 'buyer');

  const s = suggestion('room-a');
  await emitSuggestion(s);
  await emitSuggestion(s); // the same suggestion again, as a replayed stream range would carry it
  const [hit] = await pollUntil('delivery to /a', 5_000, () => (hits('/a').length > 0 ? hits('/a') : undefined));
  await sleep(400);
  assert.equal(hits('/a').length, 1, 'delivered exactly once');

  const v = verifySignature(sub.secret, hit!.headers['x-crest-signature'], hit!.body);
  assert.deepEqual(v.ok, true, JSON.stringify(v));
  assert.match(String(hit!.headers['x-crest-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(verifySignature('some-other-secret-xxxxxxxx', hit!.headers['x-crest-signature'], hit!.body).ok, false);
  const body = JSON.parse(hit!.body);
  assert.equal(hit!.headers['x-crest-delivery'], deliveryIdFor(sub.id, s.id));
  assert.equal(body.id, hit!.headers['x-crest-delivery']);
  assert.equal(hit!.headers['x-crest-event'], 'boost.now');
  assert.match(String(hit!.headers['content-type']), /application\/json/);
  assert.equal(body.type, 'suggestion');
  assert.deepEqual(body.suggestion, s);
});

test('a receiver failing twice gets the delivery on the third try, with one delivery id and growing gaps', { timeout: 10_000 }, async () => {
  script.set('/flaky', [500, 503, 200]);
  const sub = await subscribe(token('buyer', ['room-f']), { url: `${receiverUrl}/flaky`, room: 'room-f' });
  await emitSuggestion(suggestion('room-f'));
  await pollUntil('three tries', 5_000, () => hits('/flaky').length >= 3 || undefined);
  await sleep(300);
  const tries = hits('/flaky');
  assert.equal(tries.length, 3);
  assert.equal(new Set(tries.map((t) => t.headers['x-crest-delivery'])).size, 1, 'same delivery id on every try');
  for (const t of tries) assert.equal(verifySignature(sub.secret, t.headers['x-crest-signature'], t.body).ok, true);
  // Exponential backoff from 50 ms with at most 20 % jitter: ≥ 40 ms, then ≥ 80 ms.
  assert.ok(tries[1]!.at - tries[0]!.at >= 35, `first gap ${tries[1]!.at - tries[0]!.at} ms`);
  assert.ok(tries[2]!.at - tries[1]!.at >= 75, `second gap ${tries[2]!.at - tries[1]!.at} ms`);
  assert.equal((await deadLetters()).filter((d) => d.subscriptionId === sub.id).length, 0);
});

test('a receiver that always fails ends in the dead letters after `attempts`; an operator lists and replays it', { timeout: 10_000 }, async () => {
  script.set('/down', [500]);
  const sub = await subscribe(token('buyer', ['room-d']), { url: `${receiverUrl}/down`, room: 'room-d' });
  const s = suggestion('room-d');
  await emitSuggestion(s);
  const dl = await pollUntil('dead letter', 5_000, async () => (await deadLetters()).find((d) => d.subscriptionId === sub.id));
  assert.equal(hits('/down').length, config.webhook.attempts);
  assert.equal(dl.attempts, config.webhook.attempts);
  assert.equal(dl.room, 'room-d');
  assert.equal(dl.suggestionId, s.id);
  assert.equal(dl.deliveryId, deliveryIdFor(sub.id, s.id));
  assert.match(dl.error, /HTTP 500/);

  const op = token('operator', ['room-d']);
  assert.equal((await call('GET', '/webhooks/dead-letters?room=room-d', token('buyer', ['room-d']))).status, 403, 'buyers cannot see dead letters');
  assert.equal((await call('GET', '/webhooks/dead-letters?room=room-x', op)).status, 403, 'nor operators of other rooms');
  const listed = await call('GET', '/webhooks/dead-letters?room=room-d', op);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.json.deadLetters.map((d: DeadLetter) => d.id), [dl.id]);
  assert.equal((await call('GET', '/webhooks/dead-letters', token('operator', ['room-other']))).json.deadLetters.length, 0);

  // The receiver is fixed; the operator replays: same delivery id, and the record leaves the list.
  script.set('/down', [200]);
  const before = hits('/down').length;
  const replay = await call('POST', `/webhooks/dead-letters/${dl.id}/replay`, op);
  assert.equal(replay.status, 202, JSON.stringify(replay.json));
  await pollUntil('replayed delivery', 5_000, () => hits('/down').length > before || undefined);
  const last = hits('/down').at(-1)!;
  assert.equal(last.headers['x-crest-delivery'], dl.deliveryId);
  assert.equal(verifySignature(sub.secret, last.headers['x-crest-signature'], last.body).ok, true);
  assert.equal((await deadLetters()).some((d) => d.id === dl.id), false);
  assert.equal((await call('POST', `/webhooks/dead-letters/${dl.id}/replay`, op)).status, 404, 'a dead letter replays once');
});

test('a 410 from the receiver is final: dead-lettered after one attempt', { timeout: 10_000 }, async () => {
  script.set('/gone', [410]);
  const sub = await subscribe(token('buyer', ['room-g']), { url: `${receiverUrl}/gone`, room: 'room-g' });
  await emitSuggestion(suggestion('room-g'));
  const dl = await pollUntil('dead letter', 5_000, async () => (await deadLetters()).find((d) => d.subscriptionId === sub.id));
  assert.equal(dl.attempts, 1);
  assert.match(dl.error, /HTTP 410/);
  await sleep(200);
  assert.equal(hits('/gone').length, 1);
});

test('suppressed suggestions, other rooms, other audiences and unsubscribed kinds are not delivered', { timeout: 10_000 }, async () => {
  await subscribe(token('buyer', ['room-b', 'room-c']), { url: `${receiverUrl}/b-buyer`, room: 'room-b', kinds: ['boost.now'] });
  await subscribe(token('operator', ['room-b']), { url: `${receiverUrl}/b-op`, room: 'room-b', audience: 'operator', kinds: ['cue.tease', 'boost.now'] });

  await emitSuggestion(suggestion('room-b', { suppressed: 'cooldown' }));
  await emitSuggestion(suggestion('room-b', { kind: 'boost.stop', reasonCode: 'peak-passed' }));
  await emitSuggestion(suggestion('room-c'));
  await emitSuggestion(suggestion('room-b', { audience: 'host', kind: 'cue.tease', suppressed: 'quiet rule' }));
  const cue = suggestion('room-b', { audience: 'host', kind: 'cue.tease' });
  await emitSuggestion(cue);
  await emit({ type: 'ack', room: 'room-b', ack: { suggestionId: 'x', room: 'room-b', by: 'op', role: 'operator', at: 1 } });
  await redis.xadd(keys.out(shardOf('room-b', config.shards)), '*', 'r', 'room-b', 'u', '{not json');
  const sentinel = suggestion('room-b');
  await emitSuggestion(sentinel);

  await pollUntil('sentinel to both', 5_000, () => (hits('/b-buyer').length >= 1 && hits('/b-op').length >= 2) || undefined);
  await sleep(400);
  const ids = (path: string) => hits(path).map((h) => JSON.parse(h.body).suggestion.id).sort();
  assert.deepEqual(ids('/b-buyer'), [sentinel.id], 'the buyer gets only its own unsuppressed kind in its room');
  assert.deepEqual(ids('/b-op'), [cue.id, sentinel.id].sort(), 'an operator subscription gets every audience, never suppressed ones');
  assert.equal(hits('/b-op').find((h) => JSON.parse(h.body).suggestion.id === cue.id)!.headers['x-crest-event'], 'cue.tease');
});

test('history from before the first start is never delivered', { timeout: 10_000 }, async () => {
  await emitSuggestion(suggestion('history'));
  await pollUntil('the new one', 5_000, () => hits('/history').length >= 1 || undefined);
  await sleep(200);
  assert.equal(hits('/history').length, 1);
});

test('bad subscription bodies get 400 naming the field', { timeout: 10_000 }, async () => {
  const op = token('operator', '*');
  const ok = { url: `${receiverUrl}/x`, room: 'room-a' };
  const cases: [unknown, string][] = [
    [{ room: 'room-a' }, 'url'],
    [{ ...ok, url: 'ftp://127.0.0.1/x' }, 'url'],
    [{ ...ok, url: 'not a url' }, 'url'],
    [{ ...ok, url: 'http://user:pw@127.0.0.1/x' }, 'url'],
    [{ ...ok, url: 'http://169.254.169.254/latest' }, 'url'],
    [{ ...ok, url: 42 }, 'url'],
    [{ url: ok.url }, 'room'],
    [{ ...ok, room: 'bad room!' }, 'room'],
    [{ ...ok, audience: 'viewer' }, 'audience'],
    [{ ...ok, kinds: ['boost.now', 'nope'] }, 'kinds.1'],
    [{ ...ok, kinds: [] }, 'kinds'],
    [{ ...ok, kinds: ['cue.tease'] }, 'kinds.0'],
    [{ ...ok, secret: 'short' }, 'secret'],
    [{ ...ok, extra: true }, 'extra'],
    [[ok], 'body'],
  ];
  for (const [body, field] of cases) {
    const r = await call('POST', '/webhooks', op, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.code, 'invalid');
    assert.equal(r.json.error.field, field, `${JSON.stringify(body)} → ${JSON.stringify(r.json)}`);
    assert.ok(r.json.error.reason.length > 0, 'r.json.error.reason.length > 0');
  }
  for (const raw of ['{"url":', 'nope', '"a string"']) {
    const r = await call('POST', '/webhooks', op, undefined, raw);
    assert.equal(r.status, 400, `${raw} → ${r.status} ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error.field, 'body');
  }
  const big = await call('POST', '/webhooks', op, { ...ok, secret: 'x'.repeat(70_000) });
  assert.equal(big.status, 413);
  assert.equal(big.json.error.field, 'body');
  // A secret of our own is kept as given.
  const own = await subscribe(op, { ...ok, secret: 'my-own-secret-0123456789' });
  assert.equal(own.secret, 'my-own-secret-0123456789');
});

test('access: another room is 403, buyers only subscribe to the buyer audience, hosts and anonymous callers are refused', { timeout: 10_000 }, async () => {
  const body = { url: `${receiverUrl}/x`, room: 'room-a' };
  const other = await call('POST', '/webhooks', token('buyer', ['room-z']), body);
  assert.equal(other.status, 403);
  assert.equal(other.json.error.field, 'room');
  const aud = await call('POST', '/webhooks', token('buyer', ['room-a']), { ...body, audience: 'host' });
  assert.equal(aud.status, 403);
  assert.equal(aud.json.error.field, 'audience');
  assert.equal((await call('POST', '/webhooks', token('host', ['room-a']), body)).status, 403);
  assert.equal((await call('POST', '/webhooks', null, body)).status, 401);
  assert.equal((await call('GET', '/webhooks?room=room-z', token('buyer', ['room-a']))).status, 403);
  assert.equal((await call('POST', '/webhooks', token('admin', '*'), { ...body, audience: 'operator' })).status, 201, 'admin passes');
});

test('listing hides secrets and other buyers\' subscriptions; deleting one stops its deliveries', { timeout: 10_000 }, async () => {
  const mine = token('buyer', ['room-l'], 'buyer-1');
  const theirs = token('buyer', ['room-l'], 'buyer-2');
  const sub = await subscribe(mine, { url: `${receiverUrl}/l`, room: 'room-l' });
  await subscribe(theirs, { url: `${receiverUrl}/l2`, room: 'room-l' });

  const list = await call('GET', '/webhooks?room=room-l', mine);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.webhooks.map((w: { id: string }) => w.id), [sub.id]);
  assert.equal(JSON.stringify(list.json).includes(sub.secret), false);
  assert.equal('secret' in list.json.webhooks[0], false);
  assert.equal((await call('GET', '/webhooks?room=room-l', token('operator', ['room-l']))).json.webhooks.length, 2);
  assert.equal((await call('GET', '/webhooks', token('operator', ['room-a']))).json.webhooks.some((w: { room: string }) => w.room === 'room-l'), false);

  assert.equal((await call('DELETE', `/webhooks/${sub.id}`, theirs)).status, 404, 'another buyer cannot delete it');
  assert.equal((await call('DELETE', `/webhooks/${sub.id}`, mine)).status, 204);
  assert.equal((await call('DELETE', `/webhooks/${sub.id}`, mine)).status, 404);
  await emitSuggestion(suggestion('room-l'));
  await pollUntil('the remaining subscription', 5_000, () => hits('/l2').length >= 1 || undefined);
  await sleep(200);
  assert.equal(hits('/l').length, 0);
});

test('signature verification rejects a tampered body, a stale or future timestamp, and malformed headers', () => {
  const secret = 'whsec_0123456789abcdef';
  const body = '{"id":"d1","type":"suggestion"}';
  const now = 1_700_000_000;
  const header = signatureHeader(secret, now, body);
  assert.equal(header, `t=${now},v1=${signPayload(secret, now, body).slice('sha256='.length)}`);
  assert.match(signPayload(secret, now, body), /^sha256=[0-9a-f]{64}$/);
  assert.deepEqual(verifySignature(secret, header, body, { nowSec: now + 10 }), { ok: true, timestampSec: now });
  assert.deepEqual(verifySignature(secret, header, Buffer.from(body), { nowSec: now }), { ok: true, timestampSec: now });
  assert.deepEqual(verifySignature(secret, header, body.replace('d1', 'd2'), { nowSec: now }), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature(secret, header, body, { nowSec: now + 301 }), { ok: false, reason: 'stale' });
  assert.deepEqual(verifySignature(secret, header, body, { nowSec: now - 301 }), { ok: false, reason: 'stale' });
  assert.deepEqual(verifySignature(secret, header, body, { nowSec: now + 301, toleranceSec: 600 }).ok, true);
  // Re-signing the same body with a new timestamp needs the secret: swapping t alone breaks the match.
  assert.deepEqual(verifySignature(secret, header.replace(`t=${now}`, `t=${now + 1000}`), body, { nowSec: now + 1000 }), { ok: false, reason: 'mismatch' });
  for (const bad of [undefined, '', 'v1=abc', `t=${now}`, `t=x,v1=${'0'.repeat(64)}`, ['a', 'b']]) {
    assert.deepEqual(verifySignature(secret, bad, body, { nowSec: now }), { ok: false, reason: 'malformed' }, String(bad));
  }
  // Several v1 entries (secret rotation): one match is enough.
  const rotated = `t=${now},v1=${'0'.repeat(64)},v1=${signPayload(secret, now, body).slice(7)}`;
  assert.equal(verifySignature(secret, rotated, body, { nowSec: now }).ok, true);
});

test('presets: slack, feishu (signed) and dingtalk (signed) bodies reach the receiver in their platform shapes', { timeout: 10_000 }, async () => {
  const op = token('operator', ['room-p']);
  bodies.set('/feishu', ['{"code":0,"msg":"success","data":{}}']);
  bodies.set('/ding', ['{"errcode":130101,"errmsg":"send too fast"}', '{"errcode":0,"errmsg":"ok"}']);
  const slack = await subscribe(op, { url: `${receiverUrl}/slack`, room: 'room-p', preset: 'slack' });
  const feishu = await subscribe(op, { url: `${receiverUrl}/feishu`, room: 'room-p', preset: 'feishu', botSecret: 'feishu-bot-secret' });
  await subscribe(op, { url: `${receiverUrl}/ding?access_token=t0k`, room: 'room-p', preset: 'dingtalk', botSecret: 'SECding-bot-secret' });
  assert.equal((slack as unknown as { preset: string }).preset, 'slack');
  const listed = await call('GET', '/webhooks?room=room-p', op);
  assert.deepEqual(listed.json.webhooks.map((w: { preset: string; botSigning: boolean }) => [w.preset, w.botSigning]), [['slack', false], ['feishu', true], ['dingtalk', true]]);
  assert.equal(JSON.stringify(listed.json).includes('bot-secret'), false, 'bot secrets are never listed');

  const s = suggestion('room-p');
  await emitSuggestion(s);
  await pollUntil('all three', 5_000, () => (hits('/slack').length >= 1 && hits('/feishu').length >= 1 && hits('/ding').length >= 2) || undefined);
  await sleep(300);

  const sl = JSON.parse(hits('/slack')[0]!.body);
  assert.equal(typeof sl.text, 'string');
  assert.equal(sl.blocks[0].type, 'header');
  assert.equal(verifySignature(slack.secret, hits('/slack')[0]!.headers['x-crest-signature'], hits('/slack')[0]!.body).ok, true);

  const fs = JSON.parse(hits('/feishu')[0]!.body);
  assert.equal(fs.msg_type, 'interactive');
  assert.equal(fs.card.header.title.content, 'Boost now · room-p');
  // Verified the way Feishu does: HMAC-SHA256 keyed by "timestamp\nsecret" over nothing, base64.
  assert.equal(fs.sign, createHmac('sha256', `${fs.timestamp}\nfeishu-bot-secret`).update(Buffer.alloc(0)).digest('base64'));
  assert.ok(Math.abs(Number(fs.timestamp) - Date.now() / 1000) < 60, 'timestamp in seconds, fresh');
  assert.equal(verifySignature(feishu.secret, hits('/feishu')[0]!.headers['x-crest-signature'], hits('/feishu')[0]!.body).ok, true);

  // DingTalk said "send too fast" once: retried, same delivery, freshly signed URL.
  const dings = hits('/ding');
  assert.equal(dings.length, 2);
  for (const d of dings) {
    const u = new URL(d.url, receiverUrl);
    assert.equal(u.searchParams.get('access_token'), 't0k');
    const t = u.searchParams.get('timestamp')!;
    assert.ok(Math.abs(Number(t) - Date.now()) < 60_000, 'timestamp in ms, fresh');
    assert.equal(u.searchParams.get('sign'), createHmac('sha256', 'SECding-bot-secret').update(`${t}\nSECding-bot-secret`).digest('base64'));
    const body = JSON.parse(d.body);
    assert.equal(body.msgtype, 'markdown');
    assert.equal(body.markdown.title, 'Boost now · room-p');
  }
  assert.equal(dings[0]!.headers['x-crest-delivery'], dings[1]!.headers['x-crest-delivery']);
});

test('a feishu bot answering 200 with a signature error code is dead-lettered at once, with the code as the reason', { timeout: 10_000 }, async () => {
  bodies.set('/feishu-bad', ['{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}']);
  const sub = await subscribe(token('operator', ['room-q']), { url: `${receiverUrl}/feishu-bad`, room: 'room-q', preset: 'feishu', botSecret: 'wrong' });
  await emitSuggestion(suggestion('room-q'));
  const dl = await pollUntil('dead letter', 5_000, async () => (await deadLetters()).find((d) => d.subscriptionId === sub.id));
  assert.equal(dl.attempts, 1);
  assert.match(dl.reason, /^the receiver refused it for good \(not retried\): feishu code 19021: sign match fail/);
  assert.equal(hits('/feishu-bad').length, 1);
});

test('preset and botSecret are validated', { timeout: 10_000 }, async () => {
  const op = token('operator', ['room-a']);
  const bad = await call('POST', '/webhooks', op, { url: `${receiverUrl}/x`, room: 'room-a', preset: 'teams' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'preset');
  assert.match(bad.json.error.reason, /generic, slack, feishu, dingtalk/);
  const stray = await call('POST', '/webhooks', op, { url: `${receiverUrl}/x`, room: 'room-a', preset: 'slack', botSecret: 'abc' });
  assert.equal(stray.status, 400);
  assert.equal(stray.json.error.field, 'botSecret');
});

test('alert rules: a muted kind and a rate limit hold buyer deliveries, operators still get them, and the holds are logged with why', { timeout: 10_000 }, async () => {
  const op = token('operator', ['room-h']);
  const put = await call('PUT', '/rooms/room-h/alert-rules', op, { buyer: { mutedKinds: ['boost.stop'], maxAlerts: { count: 1, perMinutes: 60 } } });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  assert.deepEqual((await call('GET', '/rooms/room-h/alert-rules', op)).json.rules, put.json.rules);
  await subscribe(token('buyer', ['room-h']), { url: `${receiverUrl}/h-buyer`, room: 'room-h' });
  await subscribe(op, { url: `${receiverUrl}/h-op`, room: 'room-h', audience: 'operator', kinds: ['boost.now', 'boost.stop'] });

  const s1 = suggestion('room-h');
  const s2 = suggestion('room-h');
  const s3 = suggestion('room-h', { kind: 'boost.stop', reasonCode: 'peak-passed' });
  for (const s of [s1, s2, s3, s2]) await emitSuggestion(s); // s2 twice: a re-read decides nothing new
  await pollUntil('operator gets all three', 5_000, () => hits('/h-op').length >= 3 || undefined);
  await sleep(300);
  const ids = (path: string) => hits(path).map((h) => JSON.parse(h.body).suggestion.id);
  assert.deepEqual(ids('/h-buyer'), [s1.id], 'the buyer gets the first boost only');
  assert.deepEqual(ids('/h-op'), [s1.id, s2.id, s3.id], 'operators have no rule here: everything, in order');

  const holds = await call('GET', '/rooms/room-h/alert-holds', op);
  assert.equal(holds.status, 200);
  assert.deepEqual(
    holds.json.holds.map((h: { suggestionId: string; holds: Record<string, { code: string }> }) => [h.suggestionId, Object.keys(h.holds), h.holds.buyer?.code]),
    [[s3.id, ['buyer'], 'muted'], [s2.id, ['buyer'], 'rate-limit']],
  );
  assert.equal(holds.json.holds[1].holds.buyer.reason, '1 alert already went to the buyer audience within 60 min (limit 1)');

  // The operator's suggestion log carries the same holds beside the suggestions (what the detector committed,
  // written here the way its checkpoint does); buyers never see them.
  const shard = shardOf('room-h', config.shards);
  await redis.hset(keys.view(shard), 'room-h', JSON.stringify({ room: 'room-h', windows: [] }));
  await redis.lpush(keys.suggestions(shard, 'room-h'), ...[s1, s2, s3].map((s) => JSON.stringify(s)));
  const opLog = await call('GET', '/rooms/room-h/suggestions', op);
  assert.equal(opLog.status, 200, JSON.stringify(opLog.json));
  assert.equal(opLog.json.suggestions.length, 3, 'held suggestions stay in the log');
  assert.deepEqual(opLog.json.alertHolds, holds.json.holds);
  const buyerLog = await call('GET', '/rooms/room-h/suggestions', token('buyer', ['room-h']));
  assert.equal(buyerLog.status, 200);
  assert.equal('alertHolds' in buyerLog.json, false);

  // Removing the rules lets the next one through.
  assert.equal((await call('PUT', '/rooms/room-h/alert-rules', op, {})).status, 200);
  const s4 = suggestion('room-h');
  await emitSuggestion(s4);
  await pollUntil('buyer gets the next one', 5_000, () => hits('/h-buyer').length >= 2 || undefined);
  assert.equal(ids('/h-buyer')[1], s4.id);
});

test('alert rules API: operators only, bodies validated with the field named', { timeout: 10_000 }, async () => {
  const op = token('operator', ['room-h']);
  assert.equal((await call('GET', '/rooms/room-h/alert-rules', token('buyer', ['room-h']))).status, 403);
  assert.equal((await call('PUT', '/rooms/room-x/alert-rules', op, {})).status, 403);
  assert.equal((await call('GET', '/rooms/room-h/alert-holds', token('host', ['room-h']))).status, 403);
  const cases: [unknown, string][] = [
    [{ buyer: { quietHours: { from: '22:00', to: '08:00', tz: 'Nowhere/City' } } }, 'buyer.quietHours.tz'],
    [{ buyer: { quietHours: { from: '9am', to: '08:00' } } }, 'buyer.quietHours.from'],
    [{ host: { mutedKinds: ['boost.later'] } }, 'host.mutedKinds.0'],
    [{ operator: { maxAlerts: { count: 0, perMinutes: 10 } } }, 'operator.maxAlerts.count'],
    [{ buyer: { cooldownMinutes: 1.5 } }, 'buyer.cooldownMinutes'],
    [{ viewer: {} }, 'viewer'],
    [[], 'body'],
  ];
  for (const [body, field] of cases) {
    const r = await call('PUT', '/rooms/room-h/alert-rules', op, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
    assert.equal(r.json.error.field, field, `${JSON.stringify(body)} → ${JSON.stringify(r.json)}`);
  }
});

test('boost outcomes: spend seen on the ticks after a boost.now says whether the buyer followed it', { timeout: 10_000 }, async () => {
  const T = 1_800_000_000_000;
  const MIN = 60_000;
  const tick = (ts: number, adSpend: number) => emit({ type: 'tick', room: 'room-o', tick: { room: 'room-o', ts, metrics: { adSpend } as never } });
  const b1 = suggestion('room-o', { id: 'room-o:boost.now:1', createdAt: T + 30_000 });
  const b2 = suggestion('room-o', { id: 'room-o:boost.now:2', createdAt: T + 15 * MIN });
  await tick(T, 0);
  await tick(T + MIN, 0);
  await tick(T + 2 * MIN, 500);
  await tick(T + 2 * MIN, 500); // the same tick read again
  await tick(T + 3 * MIN, 800);
  await tick(T + 14 * MIN, 900);
  await tick(T + 30 * MIN, 900);
  await pollUntil('three spend points', 5_000, async () => (await readSpend(redis, 'room-o')).length === 3 || undefined);
  assert.deepEqual(await readSpend(redis, 'room-o'), [
    { type: 'ad.spend', ts: T + 2 * MIN, amount: 500 },
    { type: 'ad.spend', ts: T + 3 * MIN, amount: 300 },
    { type: 'ad.spend', ts: T + 14 * MIN, amount: 100 },
  ]);

  // What the detector's checkpoint holds for the room: its view (event clock), suggestions and an ack.
  const shard = shardOf('room-o', config.shards);
  await redis.hset(keys.view(shard), 'room-o', JSON.stringify({ room: 'room-o', metrics: { ts: T + 30 * MIN }, windows: [] }));
  await redis.lpush(keys.suggestions(shard, 'room-o'), JSON.stringify(b1), JSON.stringify(b2));
  await redis.hset(keys.acks(shard, 'room-o'), b1.id, JSON.stringify({ suggestionId: b1.id, room: 'room-o', by: 'buyer-7', role: 'buyer', at: T + 40_000 }));

  const r = await call('GET', '/rooms/room-o/boost-outcomes', token('buyer', ['room-o']));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.withinMin, 10);
  assert.deepEqual(
    r.json.outcomes.map((o: Record<string, unknown>) => [o.suggestionId, o.verdict, o.spendAfter, o.spendEventsAfter, o.spendBefore, o.firstSpendAfterMs, o.ackBy]),
    [
      [b1.id, 'followed', 800, 2, 0, 90_000, 'buyer-7'],
      [b2.id, 'not-followed', 0, 0, 100, null, null],
    ],
  );
  const short = await call('GET', '/rooms/room-o/boost-outcomes?withinMin=1', token('operator', ['room-o']));
  assert.equal(short.json.outcomes[0].verdict, 'not-followed', 'nothing within 1 min of the first boost');
  const bad = await call('GET', '/rooms/room-o/boost-outcomes?withinMin=0', token('operator', ['room-o']));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, 'withinMin');
  assert.equal((await call('GET', '/rooms/room-o/boost-outcomes', token('buyer', ['room-x']))).status, 403);
});

// Last: replaces the shared worker.
test('entries a crashed worker read but never acknowledged are delivered by its successor', { timeout: 10_000 }, async () => {
  await subscribe(token('buyer', ['room-r']), { url: `${receiverUrl}/r`, room: 'room-r' });
  await worker.stop();
  const s = suggestion('room-r');
  await emitSuggestion(s);
  // The predecessor reads the entry, then dies before enqueueing and XACK.
  const stream = keys.out(shardOf('room-r', config.shards));
  const got = (await redis.xreadgroup('GROUP', ALERT_GROUP, 'crashed-consumer', 'COUNT', 10, 'STREAMS', stream, '>')) as [string, unknown[]][] | null;
  assert.equal(got?.[0]?.[1].length, 1);
  await sleep(250);
  assert.equal(hits('/r').length, 0);

  worker = startWorker({ claimIdleMs: 200 });
  await worker.start();
  await pollUntil('delivery by the successor', 5_000, () => hits('/r').length >= 1 || undefined);
  await sleep(300);
  assert.equal(hits('/r').length, 1);
  assert.equal(JSON.parse(hits('/r')[0]!.body).suggestion.id, s.id);
  const pending = (await redis.xpending(stream, ALERT_GROUP)) as [number, ...unknown[]];
  assert.equal(pending[0], 0, 'nothing left pending');
});
