/**
 * Fault: a webhook receiver that is down for a while (first answering 503, then refusing connections)
 * while suggestions keep coming for several rooms. Real redis-server, real BullMQ, the real AlertWorker and
 * router, a real local HTTP receiver that goes away and comes back on the same port.
 *
 * Proves: every delivery arrives exactly once (one 2xx per X-Crest-Delivery), in out-stream order per
 * subscription (= per room), one in flight per subscription while different rooms go in parallel; with a
 * tiny retry budget the exhausted deliveries are dead-lettered in order with their reason, and a replay
 * delivers each once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Redis } from 'ioredis';
import { loadConfig } from '../config/config.ts';
import type { Suggestion } from '../core/protocol.ts';
import { createLogger, silentLogger } from '../server/logger.ts';
import { keys } from '../server/redis-keys.ts';
import { webhooksRouter } from '../server/routes/webhooks.ts';
import { webhookKeys } from '../server/webhook-keys.ts';
import { verifySignature } from '../server/webhook-signature.ts';
import { AlertWorker, type DeadLetter } from '../workers/alert-worker.ts';
import { pollUntil } from './support/poll.ts';
import { startTestRedis } from './support/redis.ts';
import { apiClient, emitUpdate, listenOn, startRoutersApi, stopWebhookRig, testSuggestion, testToken } from './support/webhook-harness.ts';
import { exitsWithin } from './support/exit-watch.ts';

const log = process.env.CREST_TEST_LOG ? createLogger('debug') : silentLogger;
/** Outage phase: a generous budget (10 attempts from 40 ms ≈ 40 s) so nothing is dead-lettered. */
const patient = loadConfig({ CREST_SHARDS: '4', CREST_WEBHOOK_ATTEMPTS: '10', CREST_WEBHOOK_BACKOFF_MS: '40', CREST_WEBHOOK_TIMEOUT_MS: '1000' });
/** Exhaustion phase: 2 attempts 30 ms apart. */
const tiny = loadConfig({ CREST_SHARDS: '4', CREST_WEBHOOK_ATTEMPTS: '2', CREST_WEBHOOK_BACKOFF_MS: '30', CREST_WEBHOOK_TIMEOUT_MS: '1000' });

let redisProc: Awaited<ReturnType<typeof startTestRedis>>;
let redis: Redis;
let api: Server;
let apiUrl = '';
let receiver: Server;
let receiverPort = 0;
let receiverUrl = '';
let worker: AlertWorker;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}
const received: Received[] = [];
let mode: 'ok' | '503' = 'ok';
let delayMs = 0;
let inFlight = 0;
let maxInFlight = 0;
const inFlightByPath = new Map<string, number>();
let maxInFlightOnePath = 0;

const { call, subscribe } = apiClient(() => apiUrl);
const token = (role: 'operator' | 'buyer', rooms: string[]) => testToken(role, rooms);
const suggestion = (room: string) => testSuggestion(room);
const emit = (s: Suggestion) => emitUpdate(redis, patient.shards, { type: 'suggestion', room: s.room, suggestion: s });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (path: string) => received.filter((r) => r.path === path && r.status === 200);
const createdAtOf = (r: Received) => (JSON.parse(r.body) as { suggestion: Suggestion }).suggestion.createdAt;

function makeReceiver(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const here = (inFlightByPath.get(path) ?? 0) + 1;
      inFlightByPath.set(path, here);
      maxInFlightOnePath = Math.max(maxInFlightOnePath, here);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const status = mode === 'ok' ? 200 : 503;
      setTimeout(() => {
        inFlight--;
        inFlightByPath.set(path, (inFlightByPath.get(path) ?? 1) - 1);
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
        res.writeHead(status).end(status === 200 ? 'ok' : 'busy');
      }, delayMs);
    });
  });
}

async function receiverDown(): Promise<void> {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
}
async function receiverUp(): Promise<void> {
  receiver = makeReceiver();
  await listenOn(receiver, receiverPort);
}

const startWorker = (webhook: typeof patient.webhook) =>
  new AlertWorker({ redisUrl: redisProc.url, shards: patient.shards, webhook, log, blockMs: 100, claimIdleMs: 500 });

before(async () => {
  redisProc = await startTestRedis();
  redis = new Redis(redisProc.url);
  // The router enqueues replays with its config: the tiny budget of the exhaustion phase.
  ({ server: api, url: apiUrl } = await startRoutersApi({ config: tiny, redis, log, routers: [webhooksRouter] }));
  receiver = makeReceiver();
  receiverPort = await listenOn(receiver);
  receiverUrl = `http://127.0.0.1:${receiverPort}`;
  worker = startWorker(patient.webhook);
  await worker.start();
});

after(() => stopWebhookRig({ worker, redis, api, receiver, redisProc }));
exitsWithin();

test('receiver down (503, then refusing connections) while 4 rooms keep producing: all arrive once, in order per room, after it returns', { timeout: 60_000 }, async () => {
  const rooms = ['out-a', 'out-b', 'out-c', 'out-d'];
  const subs: { path: string; secret: string; room: string }[] = [];
  for (const room of rooms) {
    const buyer = await subscribe(token('buyer', [room]), { url: `${receiverUrl}/${room}/buyer`, room });
    const op = await subscribe(token('operator', [room]), { url: `${receiverUrl}/${room}/op`, room, audience: 'operator', kinds: ['boost.now'] });
    subs.push({ path: `/${room}/buyer`, secret: buyer.secret, room }, { path: `/${room}/op`, secret: op.secret, room });
  }
  const sent = new Map<string, Suggestion[]>(rooms.map((r) => [r, []]));
  const emitRound = async () => {
    for (const room of rooms) {
      const s = suggestion(room);
      sent.get(room)!.push(s);
      await emit(s);
    }
  };

  // Healthy, slow receiver: the 8 subscriptions' deliveries overlap (lanes are per subscription, not global).
  delayMs = 400;
  await emitRound();
  await pollUntil('first round', 10_000, () => subs.every((s) => ok(s.path).length === 1));
  const parallel = maxInFlight;
  delayMs = 0;

  // Down: first answering 503, then refusing connections; suggestions keep coming meanwhile.
  mode = '503';
  await emitRound();
  await emitRound();
  await sleep(600);
  await receiverDown();
  await emitRound();
  await emitRound();
  await sleep(800);
  const during = received.filter((r) => r.status === 200).length;
  mode = 'ok';
  await receiverUp();

  const perSub = 5;
  await pollUntil('every delivery after the receiver returns', 30_000, () => subs.every((s) => ok(s.path).length >= perSub));
  await sleep(500);
  assert.equal(during, subs.length, 'nothing but the first round was accepted while the receiver was down');
  for (const s of subs) {
    const got = ok(s.path);
    const ids = got.map((r) => String(r.headers['x-crest-delivery']));
    assert.equal(new Set(ids).size, ids.length, `${s.path}: one 2xx per delivery id`);
    assert.deepEqual(got.map(createdAtOf), sent.get(s.room)!.map((x) => x.createdAt), `${s.path}: in out-stream order`);
    for (const r of got) assert.equal(verifySignature(s.secret, r.headers['x-crest-signature'], r.body).ok, true);
  }
  assert.equal(maxInFlightOnePath, 1, 'never two deliveries of one subscription in flight at once');
  assert.ok(parallel >= 2, `different subscriptions deliver in parallel (max ${parallel} in flight)`);
  assert.equal(received.filter((r) => r.status === 503).length > 0, true, 'the receiver did refuse some attempts');
  assert.equal((await redis.lrange(keys.webhookDeadLetters(), 0, -1)).length, 0, 'no dead letters with a budget longer than the outage');
  assert.equal(await redis.scard(webhookKeys.lanes()), 0, 'every lane drained');
  console.log(`# outage: ${received.length} requests, ${received.filter((r) => r.status === 503).length} answered 503, max ${parallel} in flight across subscriptions`);
});

test('with a tiny retry budget the exhausted deliveries are dead-lettered in order, with why; replay delivers each once', { timeout: 60_000 }, async () => {
  await worker.stop();
  worker = startWorker(tiny.webhook);
  await worker.start();

  const rooms = ['dl-a', 'dl-b'];
  const subs = new Map<string, { id: string; secret: string }>();
  for (const room of rooms) subs.set(room, await subscribe(token('buyer', [room]), { url: `${receiverUrl}/${room}`, room }));
  mode = '503';
  const sent = new Map<string, Suggestion[]>(rooms.map((r) => [r, []]));
  for (let i = 0; i < 3; i++) {
    for (const room of rooms) {
      const s = suggestion(room);
      sent.get(room)!.push(s);
      await emit(s);
    }
  }
  const dead = async () => (await redis.lrange(keys.webhookDeadLetters(), 0, -1)).map((j) => JSON.parse(j) as DeadLetter);
  await pollUntil('6 dead letters', 20_000, async () => (await dead()).length >= 6);
  await sleep(300);

  const op = token('operator', rooms);
  const listed = await call('GET', '/webhooks/dead-letters', op);
  assert.equal(listed.status, 200);
  const letters = listed.json.deadLetters as DeadLetter[];
  assert.equal(letters.length, 6);
  for (const room of rooms) {
    const mine = letters.filter((d) => d.room === room).reverse(); // the list is newest first
    assert.deepEqual(mine.map((d) => d.suggestionId), sent.get(room)!.map((s) => s.id), `${room}: dead-lettered in order`);
    for (const d of mine) {
      assert.equal(d.attempts, 2);
      assert.match(d.reason, /^gave up after 2 attempts: HTTP 503/);
      assert.equal(received.filter((r) => r.path === `/${room}` && r.headers['x-crest-delivery'] === d.deliveryId).length, 2, 'two attempts each');
    }
  }

  // The receiver is back; an operator replays every dead letter, oldest first.
  mode = 'ok';
  for (const d of [...letters].reverse()) {
    const r = await call('POST', `/webhooks/dead-letters/${d.id}/replay`, op);
    assert.equal(r.status, 202, JSON.stringify(r.json));
  }
  await pollUntil('every replay delivered', 10_000, () => rooms.every((room) => ok(`/${room}`).length >= 3));
  for (const d of letters) assert.equal((await call('POST', `/webhooks/dead-letters/${d.id}/replay`, op)).status, 404, 'a dead letter replays once');
  await sleep(500);
  for (const room of rooms) {
    const got = ok(`/${room}`);
    assert.equal(got.length, 3, `${room}: each replay delivered once`);
    assert.deepEqual(got.map(createdAtOf), sent.get(room)!.map((s) => s.createdAt), `${room}: replays arrive in replay order`);
    for (const r of got) assert.equal(verifySignature(subs.get(room)!.secret, r.headers['x-crest-signature'], r.body).ok, true);
  }
  assert.equal((await dead()).length, 0);
});
