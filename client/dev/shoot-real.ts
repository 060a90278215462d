/**
 * DEV ONLY: screenshots of the views against a running Crest (`npm start`), links taken from its
 * start-up output.   node --import tsx client/dev/shoot-real.ts <start-log> [outDir]
 */
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const log = readFileSync(process.argv[2], 'utf8');
const out = process.argv[3] ?? '/tmp/crest-shots/real';
const link = (label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(log)![1];
const views = { rooms: link('Room list'), operator: link('Operator panel'), host: link('Host cue view'), buyer: link('Buyer alerts') };
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
for (const [size, viewport] of Object.entries({ desk: { width: 1280, height: 720 }, phone: { width: 390, height: 844 } })) {
  for (const lang of ['en', 'zh-CN']) {
    const page = await browser.newPage({ viewport, locale: lang });
    page.on('pageerror', (e) => console.log('pageerror', e.message));
    for (const [name, url] of Object.entries(views)) {
      await page.goto(url);
      await page.waitForTimeout(2000);
      await page.screenshot({ path: `${out}/${name}-${size}-${lang}.png`, fullPage: name === 'operator' });
      const state = await page.locator('[data-testid=connection-state]').first().getAttribute('data-state');
      const rows = await page.locator('[data-testid=suggestion-row]').count();
      const bands = await page.locator('[data-testid=window-band]').count();
      const cue = await page.locator('[data-testid=host-cue]').getAttribute('data-kind', { timeout: 100 }).catch(() => null);
      console.log(name, size, lang, { state, rows, bands, cue });
    }
    await page.close();
  }
}
await browser.close();
