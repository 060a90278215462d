/**
 * The post-stream HTML report, opened the way an operator opens the downloaded file: in Debian's headless
 * Chromium, offline (every network request refused). Its chart must be drawn — a concurrency line spanning
 * the plot and the highlight window shaded — from the report's own bytes alone. With CREST_SCREENSHOTS=<dir>
 * it also saves the README's report screenshot (`npm run screenshots`).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join as joinPath } from 'node:path';
import type { HighlightWindow } from '../core/protocol.ts';
import { withBrowserCrest } from './support/browser-crest.ts';
import { assertCjkFont } from './support/cjk-font.ts';
import { scriptedRise, waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'report-room';
const SHOTS = process.env.CREST_SCREENSHOTS;

before(() => {
  if (SHOTS) assertCjkFont();
});
const t = withBrowserCrest();
exitsWithin();

test('the HTML report renders offline in Chromium with its chart: the concurrency line and the shaded window', async () => {
  const { crest, browser } = t;
  const { events } = scriptedRise(ROOM, Date.now() - 15 * 60_000);
  for (let i = 0; i < events.length; i += 500) assert.equal((await crest.post(events.slice(i, i + 500))).status, 200);
  const token = crest.token('operator', [ROOM]);
  const windows = await waitFor('a highlight window with a peak', 30_000, async () => {
    const r = await crest.api(`/api/v1/rooms/${ROOM}/windows`, { token });
    const ws = ((await r.json()) as { windows: HighlightWindow[] }).windows;
    return ws.some((w) => w.peakTs !== null) ? ws : undefined;
  });
  const res = await crest.api(`/api/v1/rooms/${ROOM}/report?format=html&tz=Asia/Shanghai`, { token });
  assert.equal(res.status, 200);
  const html = await res.text();

  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'zh-CN' });
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await page.setContent(html, { waitUntil: 'load' });

  const svg = page.locator('svg[role="img"]').first();
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 400 && box.height > 150, `chart drawn at a readable size: ${JSON.stringify(box)}`);
  // The line spans most of the plot: its own box, as laid out by the browser, not just present in the markup.
  const line = await svg.locator('polyline').first().boundingBox();
  assert.ok(line && line.width > box!.width * 0.6, `concurrency line spans the plot: ${JSON.stringify(line)}`);
  const shaded = await svg.locator('rect > title').allTextContents();
  for (const w of windows) assert.ok(shaded.some((t) => t.includes(`+${w.liftPct.toFixed(1)}%`)), `window ${w.id} shaded on the chart`);
  assert.ok((await page.locator('table').count()) >= 1, 'tables rendered');
  assert.deepEqual(requests, [], 'the report fetched nothing');

  if (SHOTS) await page.screenshot({ path: joinPath(SHOTS, 'report.png'), fullPage: false });
  await page.close();
});
