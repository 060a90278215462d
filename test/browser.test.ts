/**
 * The Lit client in Debian's headless Chromium against a real Crest: a rise posted over HTTP shows up
 * as a shaded window on the operator panel, a tease cue on the host view and a boost alert in the buyer
 * feed. With CREST_SCREENSHOTS=<dir> it also saves the README's screenshots (`npm run screenshots`), each view
 * in English and in Simplified Chinese (`<view>.zh-CN.png`; needs a CJK font).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Suggestion } from '../core/protocol.ts';
import { launchChromium } from './support/browser.ts';
import { assertCjkFont } from './support/cjk-font.ts';
import { buildClient } from './support/client-build.ts';
import { scriptedRise, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { startOfflineConnector, type OfflineConnector } from './support/offline-connector.ts';
import { exitsWithin } from './support/exit-watch.ts';

const SHOTS = process.env.CREST_SCREENSHOTS;
const ROOM = 'showcase';
let crest: TestCrest;
let browser: Browser;
let connector: OfflineConnector | undefined;

before(async () => {
  if (SHOTS) assertCjkFont();
  buildClient();
  crest = await startTestCrest();
  browser = await launchChromium();
});
after(async () => {
  await connector?.stop();
  await browser?.close();
  await crest?.close();
});
exitsWithin();

async function open(path: string, token: string, viewport = { width: 1280, height: 720 }, locale = 'en-US'): Promise<Page> {
  // A fresh page has no saved language, so the client starts in the browser's (navigator.language = locale).
  const page = await browser.newPage({ viewport, locale });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${crest.url}${path}${path.includes('?') ? '&' : '?'}token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(errors, []);
  return page;
}

async function suggestionsOf(kind: string): Promise<Suggestion | undefined> {
  const r = await crest.api(`/api/v1/rooms/${ROOM}/suggestions`, { token: crest.token('operator', [ROOM]) });
  if (r.status !== 200) return undefined;
  return ((await r.json()).suggestions as Suggestion[]).find((s) => s.kind === kind);
}

test('a rise shows as a shaded window on the operator panel, a tease cue for the host and a boost alert for the buyer', async () => {
  // The room's TikTok connector, connected (the real package; only its network connect() is replaced, and
  // it reports no live id, so it adds no stream.start at wall-clock time ahead of the scripted events).
  connector = await startOfflineConnector(crest, ROOM, '@showcase.live', async () => ({}));
  const operator = await open(`/operator/${ROOM}`, crest.token('operator', [ROOM]));
  const host = await open(`/host/${ROOM}`, crest.token('host', [ROOM]));
  const buyer = await open(`/buyer/${ROOM}`, crest.token('buyer', [ROOM]));
  // The same three views in Chinese, open from the start so they live through the same moment.
  const zh = SHOTS
    ? {
        operator: await open(`/operator/${ROOM}`, crest.token('operator', [ROOM]), undefined, 'zh-CN'),
        host: await open(`/host/${ROOM}`, crest.token('host', [ROOM]), undefined, 'zh-CN'),
        buyer: await open(`/buyer/${ROOM}`, crest.token('buyer', [ROOM]), undefined, 'zh-CN'),
      }
    : undefined;
  // The host view is idle before anything happens.
  await host.locator('[data-testid="host-cue"][data-kind="idle"]').waitFor({ timeout: 5_000 });

  // Post the baseline and the first minute of the rise only, so the tease is the live cue.
  const { events, onsetTs } = scriptedRise(ROOM, Date.now() - 12 * 60_000, { flatS: 360, riseS: 150, holdS: 60, decayS: 120 });
  const upToRise = events.filter((e) => (e.ts as number) <= onsetTs + 60_000);
  for (let i = 0; i < upToRise.length; i += 500) assert.equal((await crest.post(upToRise.slice(i, i + 500))).status, 200);
  await waitFor('cue.tease committed', 15_000, () => suggestionsOf('cue.tease'));

  await host.locator('[data-testid="host-cue"][data-kind="cue.tease"]').waitFor({ timeout: 20_000 });
  const cueText = await host.locator('[data-testid="host-cue"]').innerText();
  assert.match(cueText, /tease/i);
  const cueSize = await host.locator('[data-testid="host-cue"]').evaluate((el) => {
    const texts = [el, ...el.querySelectorAll('*')].map((n) => parseFloat(getComputedStyle(n).fontSize));
    return Math.max(...texts);
  });
  assert.ok(cueSize >= 60, `cue font ${cueSize}px is readable from 2 m`);

  await buyer.locator('[data-testid="buyer-alert"][data-kind="boost.now"]').first().waitFor({ timeout: 20_000 });
  assert.match(await buyer.locator('[data-testid="buyer-alert"][data-kind="boost.now"]').first().innerText(), /\d+\s*%/);

  const band = operator.locator('[data-testid="window-band"]').first();
  await band.waitFor({ timeout: 20_000 });
  const box = await band.boundingBox();
  assert.ok(box && box.width > 2 && box.height > 20, `band is visible: ${JSON.stringify(box)}`);
  await operator.locator('[data-testid="suggestion-row"][data-kind="boost.now"]').first().waitFor({ timeout: 20_000 });
  await operator.locator('[data-testid="suggestion-row"][data-kind="cue.tease"]').first().waitFor({ timeout: 20_000 });
  await operator.locator('[data-testid="connector-state"][data-status="connected"]').waitFor({ timeout: 10_000 });
  assert.match(await operator.locator('[data-testid="connector-state"]').innerText(), /TikTok @showcase\.live\s*connected/);
  const concurrency = Number(await operator.locator('[data-testid="kpi-concurrency"]').getAttribute('data-value'));
  assert.ok(concurrency > 200, `concurrency tile shows the rise (${concurrency})`);

  // Acknowledge from the buyer feed; the operator's log shows who did it.
  await buyer.locator('[data-testid="ack-button"]').first().click();
  await operator.locator('[data-testid="suggestion-row"][data-kind="boost.now"][data-acked]').first().waitFor({ timeout: 20_000 });

  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    // Let the rest of the moment play out for the operator's chart, then take the pictures.
    const rest = events.filter((e) => (e.ts as number) > onsetTs + 60_000);
    for (let i = 0; i < rest.length; i += 500) await crest.post(rest.slice(i, i + 500));
    await operator.locator('[data-testid="window-band"][data-state="ended"]').first().waitFor({ timeout: 15_000 });
    await operator.waitForTimeout(1_000);
    await operator.screenshot({ path: joinPath(SHOTS, 'operator.png') });
    await host.screenshot({ path: joinPath(SHOTS, 'host.png') });
    await buyer.screenshot({ path: joinPath(SHOTS, 'buyer.png') });
    await zh!.operator.locator('[data-testid="window-band"][data-state="ended"]').first().waitFor({ timeout: 15_000 });
    for (const [view, page] of Object.entries(zh!)) {
      assert.equal(await page.locator('[data-testid="lang-toggle"]').first().getAttribute('data-lang'), 'zh-CN', `${view} view is in Chinese`);
      await page.screenshot({ path: joinPath(SHOTS, `${view}.zh-CN.png`) });
    }
  }
});

test('the views switch to Simplified Chinese and fit a phone screen', async () => {
  const page = await open(`/buyer/${ROOM}`, crest.token('buyer', [ROOM]), { width: 390, height: 844 });
  await page.locator('[data-testid="lang-toggle"]').first().click();
  await page.locator('[data-testid="lang-toggle"][data-lang="zh-CN"]').first().waitFor({ timeout: 5_000 });
  // Locators pierce the components' shadow roots; body.innerText would not.
  const text = await page.locator('[data-testid="connection-state"]').first().innerText();
  assert.match(text, /[\u4e00-\u9fff]/, `Chinese text shown: ${text}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scroll at phone width (${overflow}px)`);
});

test('a host token for another room sees an error, not the room', async () => {
  const page = await browser.newPage();
  await page.goto(`${crest.url}/host/${ROOM}?token=${crest.token('host', ['elsewhere'])}`);
  await page.locator('[data-testid="connection-state"][data-state="error"]').first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid="host-cue"][data-kind="cue.tease"]').count(), 0);
});
