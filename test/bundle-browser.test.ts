/**
 * The client's size figures are what a browser really downloads. client/build.mjs predicts, for every
 * page and language, the files of a first visit and their gzip sum (dist/client/sizes.json: the figure
 * the bench and the README report against the 40 KB budget). Here each page is opened in Debian's
 * headless Chromium against a real Crest, in English and in Chinese, and the scripts it fetched must be
 * exactly the predicted ones, with the same gzip total, within budget. (Source maps are fetched only by
 * developer tools, never by the page.)
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { ClientSizes } from '../bench/bundle-size.ts';
import { withBrowserCrest } from './support/browser-crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'sized';
const PATHS: Record<string, string> = { rooms: '/', operator: `/operator/${ROOM}`, host: `/host/${ROOM}`, buyer: `/buyer/${ROOM}` };
let sizes: ClientSizes;

// The helper builds the client first, as the other browser tests and `crest start` build it (a parallel rebuild
// writes the same bytes); the sizes are read after it.
const t = withBrowserCrest();
before(() => {
  sizes = JSON.parse(readFileSync(fileURLToPath(new URL('../dist/client/sizes.json', import.meta.url)), 'utf8')) as ClientSizes;
});
exitsWithin();

test('every page, in English and in Chinese, downloads exactly the scripts the build measured, and the heaviest fits 40 KB gzip', async () => {
  const { crest, browser } = t;
  assert.deepEqual(Object.keys(sizes.pages).sort(), Object.keys(PATHS).sort(), 'the build measures every route');
  const token = crest.token('operator', [ROOM]);
  for (const [page, path] of Object.entries(PATHS)) {
    for (const lang of ['en', 'zh-CN'] as const) {
      const ctx = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN' });
      const tab = await ctx.newPage();
      const fetched = new Map<string, number>();
      const bodies: Promise<void>[] = [];
      tab.on('response', (r) => {
        const name = new URL(r.url()).pathname.slice(1);
        if (!name.endsWith('.js')) return;
        bodies.push(r.body().then((b) => void fetched.set(name, gzipSync(b, { level: 9 }).length)));
      });
      await tab.goto(`${crest.url}${path}?token=${token}`);
      await tab.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
      assert.equal(await tab.evaluate(() => document.documentElement.lang), lang);
      await Promise.all(bodies);
      const predicted = sizes.pages[page]![lang]!;
      assert.deepEqual([...fetched.keys()].sort(), predicted.files, `${page} (${lang}) fetched what the build predicted`);
      const total = [...fetched.values()].reduce((a, b) => a + b, 0);
      assert.equal(total, predicted.gzip, `${page} (${lang}) gzip total`);
      assert.ok(total <= sizes.budget, `${page} (${lang}): ${(total / 1024).toFixed(1)} KB gzip within ${sizes.budget / 1024} KB`);
      await ctx.close();
    }
  }
  const heaviest = Math.max(...Object.values(sizes.pages).flatMap((l) => Object.values(l).map((x) => x.gzip)));
  assert.equal(sizes.heaviest.gzip, heaviest);
});
