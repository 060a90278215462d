import { chromium } from 'playwright-core';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
await page.goto('http://127.0.0.1:5178/operator/demo-1?token=op');
await page.waitForTimeout(1500);
const el = page.locator('crest-concurrency-chart');
await el.screenshot({ path: '/tmp/crest-shots/chart-phone.png' });
console.log(await page.evaluate(() => {
  const c = document.querySelector('crest-app')!.shadowRoot!.querySelector('crest-operator-panel')!.shadowRoot!.querySelector('crest-concurrency-chart')!.shadowRoot!;
  const o = c.querySelector('.u-over') as HTMLElement; const my = c.querySelector('.over') as HTMLElement;
  return { uover: o.getBoundingClientRect().toJSON(), mine: my.getBoundingClientRect().toJSON(), wrap: c.querySelector('.wrap')!.getBoundingClientRect().width, canvas: c.querySelector('canvas')!.getBoundingClientRect().width };
}));
await browser.close();
