/**
 * The connector state in the operator panel, in Debian's headless Chromium against a real Crest: a real
 * TikTok connector (the real package, only its network `connect()` replaced) fails, retries and gives up,
 * writing its state with its own store to Redis; the panel's badge follows it from "retrying" with the
 * platform's reason to "error" with the reason it gave up. A room without a connector shows no badge, and
 * an operator token for another room never sees this one's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import type { ConnectorsResponse } from '../core/protocol.ts';
import { keys } from '../server/redis-keys.ts';
import { launchChromium } from './support/browser.ts';
import { buildClient } from './support/client-build.ts';
import { startTestCrest, type TestCrest } from './support/crest.ts';
import { startOfflineConnector, type OfflineConnector } from './support/offline-connector.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'tt-panel';
const OTHER = 'plain-room';
const FAILURE = 'Failed to retrieve Room ID from all sources.';
let crest: TestCrest;
let redis: Redis;
let browser: Browser;
let connector: OfflineConnector | undefined;

before(async () => {
  buildClient();
  crest = await startTestCrest();
  redis = new Redis(crest.redisUrl);
  browser = await launchChromium();
});
after(async () => {
  await connector?.stop();
  await browser?.close();
  redis?.disconnect();
  await crest?.close();
});
exitsWithin();

async function open(room: string, token: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${crest.url}/operator/${room}?token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(errors, []);
  return page;
}

test('the operator panel shows the room connector retrying with the platform reason, then the error it gave up with', async () => {
  let attempts = 0;
  let releaseSecond!: () => void;
  const secondMayFail = new Promise<void>((r) => (releaseSecond = r));
  // Long enough a backoff that the panel's 3 s poll surely lands inside "retrying".
  connector = await startOfflineConnector(
    crest,
    ROOM,
    '@glow.skin.live',
    async () => {
      attempts += 1;
      if (attempts === 2) await secondMayFail;
      throw new Error(FAILURE);
    },
    { backoffMs: 8_000, backoffMaxMs: 8_000, maxAttempts: 2 },
  );

  const page = await open(ROOM, crest.token('operator', [ROOM]));
  const badge = page.locator('[data-testid="connector-state"]');
  await page.locator('[data-testid="connector-state"][data-status="retrying"]').waitFor({ timeout: 15_000 });
  assert.match(await badge.innerText(), /TikTok @glow\.skin\.live/);
  assert.match(await badge.innerText(), /retrying \(attempt 1\)/);
  assert.equal(await page.locator('[data-testid="connector-reason"]').innerText(), FAILURE);

  releaseSecond();
  await page.locator('[data-testid="connector-state"][data-status="error"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid="connector-reason"]').innerText(), `${FAILURE}; gave up after 2 attempts in a row`);
  assert.equal(attempts, 2);
  // What the badge shows is what the connector wrote, read back through the API.
  const api = (await (await crest.api('/api/v1/connectors', { token: crest.token('operator', [ROOM]) })).json()) as ConnectorsResponse;
  assert.deepEqual(
    api.connectors.map((c) => [c.room, c.status, c.reason]),
    [[ROOM, 'error', `${FAILURE}; gave up after 2 attempts in a row`]],
  );
  await page.close();
});

test('a room without a connector shows no badge, and an operator token for another room never sees this one', async () => {
  // The connector of ROOM is in Redis (written by the previous test, or by this one if run alone).
  if (!(await redis.hexists(keys.connectors(), ROOM))) {
    connector = await startOfflineConnector(crest, ROOM, '@glow.skin.live', async () => {
      throw new Error(FAILURE);
    });
  }
  const token = crest.token('operator', [OTHER]);
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const polled = page.waitForResponse((r) => r.url().endsWith('/api/v1/connectors') && r.status() === 200, { timeout: 20_000 });
  await page.goto(`${crest.url}/operator/${OTHER}?token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  const body = (await (await polled).json()) as ConnectorsResponse;
  assert.deepEqual(body.connectors, [], 'the API gives this token no other room’s connector');
  await page.locator('crest-operator-panel').waitFor();
  assert.equal(await page.locator('[data-testid="connector-state"]').count(), 0);

  // The same token on the connector's room: refused, and still no badge.
  const intruder = await browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const polledToo = intruder.waitForResponse((r) => r.url().endsWith('/api/v1/connectors'), { timeout: 20_000 });
  await intruder.goto(`${crest.url}/operator/${ROOM}?token=${token}`);
  await intruder.locator('[data-testid="connection-state"][data-state="error"]').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(((await (await polledToo).json()) as ConnectorsResponse).connectors, []);
  assert.equal(await intruder.locator('[data-testid="connector-state"]').count(), 0);
  await page.close();
  await intruder.close();
});
