/**
 * X-Request-Id from ingest to the webhook delivery it caused, through a real Crest: the API echoes the id
 * (or makes one), logs it with the ingest, the events carry it in their stream entries, the detector's
 * suggestion carries it on, and the alert worker's "webhook delivered" line names it. The log of the whole
 * run (at debug, JSON) holds none of the run's secrets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scriptedRise, startTestCrest, TEST_SECRET, waitFor, type TestCrest } from './support/crest.ts';
import { createLogger } from '../server/logger.ts';
import { createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { shardOf } from '../core/sharding.ts';
import { fieldOf } from '../workers/stream-entry.ts';

const lines: string[] = [];
let crest: TestCrest;
let receiver: Server;
let receiverUrl = '';
const WEBHOOK_SECRET = 'whsec-request-id-test-0123456789';

before(async () => {
  crest = await startTestCrest({}, { log: createLogger('debug', { json: true, write: (l) => lines.push(l), secrets: [TEST_SECRET] }) });
  receiver = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
after(async () => {
  await crest.close();
  await new Promise((ok) => receiver.close(ok));
});

const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

test('a request id travels from the ingest request to the webhook delivery it caused, and into no secret-bearing line', async () => {
  const room = 'rid-room';
  const op = crest.token('operator', [room]);
  const ingestToken = crest.token('ingest', '*');
  const sub = await crest.api('/api/v1/webhooks', {
    method: 'POST',
    token: op,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiverUrl, room, audience: 'buyer', secret: WEBHOOK_SECRET }),
  });
  assert.equal(sub.status, 201, await sub.text());

  const { events } = scriptedRise(room, Date.now() - 15 * 60_000);
  const sent = new Set<string>();
  for (let i = 0, n = 0; i < events.length; i += 100, n++) {
    const id = `rise-${n}`;
    sent.add(id);
    const r = await crest.api('/api/v1/events', { method: 'POST', token: ingestToken, body: JSON.stringify(events.slice(i, i + 100)), headers: { 'content-type': 'application/json', 'x-request-id': id } });
    assert.equal(r.status, 200, await r.text());
    assert.equal(r.headers.get('x-request-id'), id, 'the given id is echoed');
  }

  const stored = createRedis(crest.redisUrl);
  try {
    const [[, fields]] = (await stored.xrange(keys.events(shardOf(room, crest.config.shards)), '-', '+', 'COUNT', 1)) as [string, string[]][];
    assert.equal(fieldOf(fields!, 'q'), 'rise-0', 'the stream entry carries its request id');
  } finally {
    stored.disconnect();
  }

  const delivery = await waitFor('a "webhook delivered" line', 20_000, () => records().find((r) => r.msg === 'webhook delivered' && r.room === room));
  assert.ok(typeof delivery.requestId === 'string' && sent.has(delivery.requestId), `the delivery names a request of this run (${String(delivery.requestId)})`);
  assert.ok(
    records().some((r) => r.msg === 'ingest' && r.requestId === delivery.requestId && Number(r.accepted) > 0),
    'the ingest of that request is logged under the same id',
  );

  // No id, or one that is not a sane token: a fresh one is made and echoed.
  const plain = await crest.post([{ id: 'x1', room, ts: Date.now(), type: 'stream.end' }]);
  const made = plain.headers.get('x-request-id') ?? '';
  assert.match(made, /^[A-Za-z0-9_-]{14,}$/, 'a made id');
  const again = (await crest.post([{ id: 'x2', room, ts: Date.now(), type: 'stream.end' }])).headers.get('x-request-id');
  assert.notEqual(again, made, 'made ids differ');
  const stored2 = createRedis(crest.redisUrl);
  try {
    const recent = (await stored2.xrevrange(keys.events(shardOf(room, crest.config.shards)), '+', '-', 'COUNT', 50)) as [string, string[]][];
    const x2 = recent.find(([, f]) => fieldOf(f, 'e')?.includes('"id":"x2"'));
    assert.ok(x2, 'event x2 is in the stream');
    assert.equal(fieldOf(x2[1], 'q'), undefined, 'a made id stays at the API: not stored with the events');
  } finally {
    stored2.disconnect();
  }
  const odd = await crest.api('/api/v1/events', { method: 'POST', token: ingestToken, body: 'not json', headers: { 'x-request-id': 'has space "quote"' } });
  assert.notEqual(odd.headers.get('x-request-id'), 'has space "quote"', 'an unsafe id is replaced');
  assert.ok(records().some((r) => r.msg === 'request refused' && r.requestId === odd.headers.get('x-request-id') && r.status === 400), 'the refusal is logged with its id');

  const log = lines.join('\n');
  for (const secret of [TEST_SECRET, op, ingestToken, ingestToken.split('.')[2]!, WEBHOOK_SECRET]) {
    assert.ok(!log.includes(secret), `no secret in the log: ${secret.slice(0, 8)}…`);
  }
});
