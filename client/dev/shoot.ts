/**
 * DEV ONLY: screenshots of every view against the fake server, at desktop and phone size, in both
 * languages, plus a reconnect check (kick all sockets, count suggestion rows before and after).
 *   node --import tsx client/dev/shoot.ts [baseUrl] [outDir] [waitMs]
 */
import { chromium, type Page } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:5178';
const out = process.argv[3] ?? '/tmp/crest-shots';
const wait = Number(process.argv[4] ?? 1500);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const sizes = { desk: { width: 1280, height: 720 }, phone: { width: 390, height: 844 } };
const views: [string, string][] = [
  ['rooms', '/?token=op'],
  ['operator', '/operator/demo-1?token=op'],
  ['host', '/host/demo-1?token=host'],
  ['host-obs', '/host/demo-1?token=host&transparent=1'],
  ['buyer', '/buyer/demo-1?token=buyer'],
  ['bad-token', '/operator/demo-1?token=nope'],
];
const errors: string[] = [];
for (const lang of ['en', 'zh-CN']) {
  for (const [sizeName, viewport] of Object.entries(sizes)) {
    const ctx = await browser.newContext({ viewport, locale: lang, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`${lang} ${sizeName}: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${lang} ${sizeName} console: ${m.text()}`));
    for (const [name, path] of views) {
      await page.goto(base + path);
      await page.waitForTimeout(wait);
      const file = `${out}/${name}-${sizeName}-${lang}.png`;
      await page.screenshot({ path: file, fullPage: name === 'operator' || name === 'rooms' });
      console.log(file, await summary(page));
    }
    await ctx.close();
  }
}

async function summary(page: Page): Promise<string> {
  const count = async (sel: string) => page.locator(sel).count();
  return JSON.stringify({
    url: page.url().replace(base, ''),
    state: await page.locator('[data-testid=connection-state]').first().getAttribute('data-state').catch(() => null),
    bands: await count('[data-testid=window-band]'),
    rows: await count('[data-testid=suggestion-row]'),
    cue: await page.locator('[data-testid=host-cue]').getAttribute('data-kind', { timeout: 200 }).catch(() => null),
    alerts: await count('[data-testid=buyer-alert]'),
    kpi: await page.locator('[data-testid=kpi-concurrency]').getAttribute('data-value', { timeout: 200 }).catch(() => null),
    hscroll: await page.evaluate(() => document.documentElement.scrollWidth > innerWidth),
  });
}

// Reconnect: rows must not double after the server replays since the last cursor.
{
  const ctx = await browser.newContext({ viewport: sizes.desk });
  const page = await ctx.newPage();
  await page.goto(`${base}/operator/demo-1?token=op`);
  await page.waitForTimeout(wait);
  const ids = () => page.locator('[data-testid=suggestion-row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-suggestion-id')));
  const before = await ids();
  await fetch(`${base}/dev/kick`, { method: 'POST' });
  await page.waitForTimeout(300);
  const during = await page.locator('[data-testid=connection-state]').getAttribute('data-state');
  await page.waitForTimeout(6000);
  const after = await ids();
  const dupes = after.length - new Set(after).size;
  console.log('reconnect', { before: before.length, during, after: after.length, dupes, state: await page.locator('[data-testid=connection-state]').getAttribute('data-state') });
  // Reload keeps working with the token from sessionStorage.
  await page.reload();
  await page.waitForTimeout(wait);
  console.log('reload', page.url().replace(base, ''), await page.locator('[data-testid=connection-state]').getAttribute('data-state'));
  await ctx.close();
}
console.log(errors.length ? errors.join('\n') : 'no page errors');
await browser.close();
