/**
 * The dead-letter list in the operator panel, in Debian's headless Chromium against a real Crest: a rise
 * posted over HTTP makes a real `boost.now`, the alert worker posts it to a local receiver that answers
 * 503 until it gives up, and the panel lists the failed delivery with the reason. The receiver is fixed,
 * the operator clicks Replay: the receiver gets it exactly once more, with the same delivery id, and the
 * row leaves the list.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser.ts';
import { buildClient } from './support/client-build.ts';
import { scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'dl-room';
const ATTEMPTS = 2;
let crest: TestCrest;
let browser: Browser;
let receiver: Server;
let receiverUrl = '';
let answer = 503;
const received: { headers: IncomingHttpHeaders; status: number }[] = [];

before(async () => {
  buildClient();
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ headers: req.headers, status: answer });
      res.writeHead(answer).end(answer === 200 ? 'ok' : 'down for maintenance');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  crest = await startTestCrest({ CREST_WEBHOOK_ATTEMPTS: String(ATTEMPTS), CREST_WEBHOOK_BACKOFF_MS: '50', CREST_WEBHOOK_TIMEOUT_MS: '2000' });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await crest?.close();
  await new Promise((r) => receiver?.close(r));
});
exitsWithin();

test('a delivery that gave up shows in the operator panel with its reason, and one click replays it once', async () => {
  const sub = await crest.api('/api/v1/webhooks', {
    method: 'POST',
    token: crest.token('buyer', [ROOM]),
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: receiverUrl, room: ROOM, kinds: ['boost.now'] }),
  });
  assert.equal(sub.status, 201, await sub.clone().text());
  const { id: subscriptionId } = (await sub.json()) as { id: string };

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(`${crest.url}/operator/${ROOM}?token=${crest.token('operator', [ROOM])}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="dead-letters-empty"]').waitFor({ timeout: 10_000 });

  const { events, onsetTs } = scriptedRise(ROOM, Date.now() - 12 * 60_000, { flatS: 360, riseS: 150 });
  const upToRise = events.filter((e) => (e.ts as number) <= onsetTs + 60_000);
  for (let i = 0; i < upToRise.length; i += 500) assert.equal((await crest.post(upToRise.slice(i, i + 500))).status, 200);
  await waitFor('the receiver to be tried until the worker gives up', 30_000, () => received.length >= ATTEMPTS || undefined);

  const row = page.locator('[data-testid="dead-letter"][data-kind="boost.now"]');
  await row.waitFor({ timeout: 20_000 });
  assert.equal(await row.count(), 1);
  const reason = await row.locator('[data-testid="dead-letter-reason"]').innerText();
  assert.match(reason, /503/);
  assert.match(await row.innerText(), new RegExp(`${ATTEMPTS} attempts`));
  const deliveryId = received[0]!.headers['x-crest-delivery'];
  assert.ok(typeof deliveryId === 'string' && deliveryId.startsWith(`${subscriptionId}.`), 'typeof deliveryId === \'string\' && deliveryId.startsWith(`${subscriptionId}.`)');
  assert.equal(received.length, ATTEMPTS, 'no delivery beyond the attempts before the replay');

  answer = 200;
  await row.locator('[data-testid="dead-letter-replay"]').click();
  await waitFor('the replayed delivery', 15_000, () => received.length > ATTEMPTS || undefined);
  await page.locator('[data-testid="dead-letters-empty"]').waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('[data-testid="dead-letter"]').count(), 0);
  // Exactly one more delivery, the same one (receivers dedupe by this id), and it succeeded.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(received.length, ATTEMPTS + 1);
  assert.equal(received.at(-1)!.headers['x-crest-delivery'], deliveryId);
  assert.equal(received.at(-1)!.status, 200);
  const left = (await (await crest.api(`/api/v1/webhooks/dead-letters?room=${ROOM}`, { token: crest.token('operator', [ROOM]) })).json()) as {
    deadLetters: unknown[];
  };
  assert.deepEqual(left.deadLetters, []);
  await page.close();
});
