/**
 * The operator chart's resolutions, in Debian's headless Chromium against a real Crest: live 1 s points
 * from the socket by default; 10 s and 1 min points from `GET /api/v1/rooms/:room/series?res=` when the
 * operator picks them, the chart drawing exactly the points the API answers; back to live on 1 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { SeriesBucketPoint } from '../core/protocol.ts';
import { withBrowserCrest } from './support/browser-crest.ts';
import { waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'series-room';

const t = withBrowserCrest();
// After the helper above: its after() hook must run before this one.
exitsWithin();

const chart = (page: Page) => page.locator('[data-testid="chart"]');
const points = async (page: Page) => Number(await chart(page).getAttribute('data-points'));

async function apiPoints(res: '10s' | '1m'): Promise<SeriesBucketPoint[]> {
  const r = await t.crest.api(`/api/v1/rooms/${ROOM}/series?res=${res}`, { token: t.crest.token('operator', [ROOM]) });
  assert.equal(r.status, 200);
  return ((await r.json()) as { points: SeriesBucketPoint[] }).points;
}

/** Waits until the chart draws as many points as the API answers (both move as the room's clock ticks). */
async function drawsWhatTheApiAnswers(page: Page, res: '10s' | '1m'): Promise<number> {
  return waitFor(`chart at ${res} = API`, 20_000, async () => {
    if ((await chart(page).getAttribute('data-res')) !== res) return undefined;
    const [drawn, api] = [await points(page), (await apiPoints(res)).length];
    return drawn > 0 && drawn === api ? drawn : undefined;
  });
}

test('the operator picks 10 s or 1 min and the chart draws the API’s points; 1 s returns to the live series', async () => {
  // 12 minutes of a flat room, ending now: 721 one-second points, 13 one-minute buckets.
  const t0 = Date.now() - 12 * 60_000;
  const events: Record<string, unknown>[] = [{ id: 's0', room: ROOM, ts: t0, type: 'stream.start' }];
  for (let s = 0; s <= 720; s++) events.push({ id: `o${s}`, room: ROOM, ts: t0 + s * 1000, type: 'room.online', count: 1200 });
  for (let i = 0; i < events.length; i += 500) assert.equal((await t.crest.post(events.slice(i, i + 500))).status, 200);

  const page = await t.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(`${t.crest.url}/operator/${ROOM}?token=${t.crest.token('operator', [ROOM])}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  const live = await waitFor('the live 1 s series', 20_000, async () => ((await points(page)) >= 700 ? points(page) : undefined));
  assert.equal(await chart(page).getAttribute('data-res'), '1s');

  await page.locator('[data-testid="chart-res"][data-res="1m"]').click();
  const minutes = await drawsWhatTheApiAnswers(page, '1m');
  assert.ok(minutes >= 12 && minutes <= 15, `${minutes} one-minute points for 12 minutes`);
  const m = await apiPoints('1m');
  assert.ok(m.filter((p) => !p.partial).every((p) => p.concurrency === 1200 && p.concurrencyPeak === 1200), 'm.filter((p) => !p.partial).every((p) => p.concurrency === 1200 && p.concurrencyPeak === 1200)');
  assert.equal(await page.locator('[data-testid="chart-res"][data-res="1m"]').getAttribute('aria-pressed'), 'true');

  await page.locator('[data-testid="chart-res"][data-res="10s"]').click();
  const tens = await drawsWhatTheApiAnswers(page, '10s');
  assert.ok(tens >= 72 && tens <= 76, `${tens} ten-second points for 12 minutes`);

  await page.locator('[data-testid="chart-res"][data-res="1s"]').click();
  await waitFor('back to live', 10_000, async () => ((await chart(page).getAttribute('data-res')) === '1s' && (await points(page)) >= live ? true : undefined));
  await page.close();
});

test('the chart paints the live curve, and under the pointer reads out the nearest point’s time and viewers', async () => {
  // Three minutes ending now: 500 viewers, then 2,000 from 90 s on.
  const room = 'hover-room';
  const t0 = Date.now() - 180_000;
  const events: Record<string, unknown>[] = [{ id: 's0', room, ts: t0, type: 'stream.start' }];
  for (let s = 0; s <= 180; s++) events.push({ id: `o${s}`, room, ts: t0 + s * 1000, type: 'room.online', count: s < 90 ? 500 : 2000 });
  assert.equal((await t.crest.post(events)).status, 200);

  const page = await t.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(`${t.crest.url}/operator/${room}?token=${t.crest.token('operator', [room])}`);
  await waitFor('the live series', 20_000, async () => ((await points(page)) >= 170 ? true : undefined));
  // The curve is painted: its blue runs across the plot (a blank canvas would pass every DOM check).
  const blue = await page.evaluate(() => {
    const c = document.querySelector('crest-app')!.shadowRoot!.querySelector('crest-operator-panel')!.shadowRoot!.querySelector('crest-concurrency-chart')!.shadowRoot!.querySelector('canvas')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i]! < 90 && d[i + 1]! > 80 && d[i + 1]! < 130 && d[i + 2]! > 200) n++;
    return { n, width: c.width };
  });
  assert.ok(blue.n > blue.width, `the curve's pixels (${blue.n}) span the ${blue.width} px canvas`);

  const readout = page.locator('[data-testid="chart-readout"]');
  assert.equal(await readout.count(), 0, 'no readout before the pointer is over the plot');
  const box = (await chart(page).boundingBox())!;
  // The plot box starts 48 px in from the left and ends 12 px before the right edge (PAD in the chart).
  const at = (share: number) => page.mouse.move(box.x + 48 + share * (box.width - 60), box.y + 100);
  await at(0.25);
  await readout.waitFor({ timeout: 5_000 });
  assert.match(await readout.innerText(), /Concurrency:\s*500\b/);
  const ts = Number(await readout.getAttribute('data-ts'));
  const r = await t.crest.api(`/api/v1/rooms/${room}/series?res=1s`, { token: t.crest.token('operator', [room]) });
  const series = ((await r.json()) as { points: { ts: number; concurrency: number }[] }).points;
  assert.equal(series.find((p) => p.ts === ts)?.concurrency, 500, `the readout is a point of the series, ${ts - t0} ms in`);
  await at(0.75);
  await waitFor('the readout follows the pointer', 5_000, async () => (/Concurrency:\s*2,000\b/.test(await readout.innerText()) ? true : undefined));
  await page.mouse.move(box.x + box.width / 2, box.y + box.height + 40);
  await readout.waitFor({ state: 'detached', timeout: 5_000 });
  await page.close();

  // On a phone a tap reads out the point, and the readout stays once the finger has lifted.
  const phone = await t.browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, locale: 'en-US' });
  const tab = await phone.newPage();
  await tab.goto(`${t.crest.url}/operator/${room}?token=${t.crest.token('operator', [room])}`);
  await waitFor('the live series on the phone', 20_000, async () => ((await points(tab)) >= 170 ? true : undefined));
  const small = (await chart(tab).boundingBox())!;
  await tab.touchscreen.tap(small.x + 48 + 0.25 * (small.width - 60), small.y + 100);
  const tapped = tab.locator('[data-testid="chart-readout"]');
  await tapped.waitFor({ timeout: 5_000 });
  await tab.waitForTimeout(300);
  assert.match(await tapped.innerText(), /Concurrency:\s*500\b/);
  await phone.close();
});
