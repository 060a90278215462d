/**
 * Plans in the Lit client, in headless Chromium against a real Crest: the operator adds a planned moment with
 * the panel's form (it lists, and shows as a marker on the chart), an import with a bad row shows that row's
 * error, and the host view counts down to the moment with the product's name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { withBrowserCrest } from './support/browser-crest.ts';
import { scriptedRise } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'plan-view';

const t = withBrowserCrest({ CREST_PLAN_COUNTDOWN_MIN: '0.1' });
// After the helper above: its after() hook must run before this one.
exitsWithin();

async function open(path: string, token: string): Promise<Page> {
  const page = await t.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(`${t.crest.url}${path}?token=${token}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  return page;
}

test('the operator adds a moment with the form and sees it listed and marked on the chart; a bad import row is named; the host counts down', async () => {
  // A minute of curve up to now, so the chart has a time axis to put markers on.
  const { events } = scriptedRise(ROOM, Date.now() - 60_000, { flatS: 60, riseS: 0, holdS: 0, decayS: 0 });
  assert.equal((await t.crest.post(events)).status, 200);
  const operator = await open(`/operator/${ROOM}`, t.crest.token('operator', [ROOM]));
  const host = await open(`/host/${ROOM}`, t.crest.token('host', [ROOM]));

  const editor = operator.locator('crest-plan-editor');
  const at = new Date(Date.now() + 10 * 60_000);
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await editor.locator('input[name="at"]').fill(local);
  await editor.locator('input[name="sku"]').fill('sku-7');
  await editor.locator('input[name="name"]').fill('Wool scarf');
  await editor.locator('input[name="budget"]').fill('300');
  await editor.locator('form button').click();
  await editor.locator('[data-testid="plan-row"]').filter({ hasText: 'Wool scarf' }).waitFor({ timeout: 5_000 });
  await operator.locator('[data-testid="plan-marker"]').first().waitFor({ timeout: 5_000 });
  const stored = (await (await t.crest.api(`/api/v1/rooms/${ROOM}/plans`, { token: t.crest.token('host', [ROOM]) })).json()).plans;
  assert.deepEqual(stored.map((p: { sku: string; budget: number; leadMin: number }) => [p.sku, p.budget, p.leadMin]), [['sku-7', 30_000, 10]]);

  await editor.locator('textarea').fill(`at,sku\n${Date.now() + 3_600_000},\n`);
  await editor.getByRole('button', { name: 'Import' }).click();
  const err = editor.locator('[data-testid="plan-error"]');
  await err.first().waitFor({ timeout: 5_000 });
  assert.match(await err.first().innerText(), /#1 sku/);

  // A moment 4 s ahead: its countdown (T − 6 s, already due) shows on the host view with the product.
  const soon = await t.crest.api(`/api/v1/rooms/${ROOM}/plans`, {
    method: 'POST', token: t.crest.token('operator', [ROOM]), headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ at: Date.now() + 4_000, sku: 'sku-8', name: 'Tea set', leadMin: 1 }),
  });
  assert.equal(soon.status, 201);
  const cue = host.locator('[data-testid="host-cue"][data-kind="cue.countdown"]');
  await cue.waitFor({ timeout: 8_000 });
  assert.match(await cue.innerText(), /Tea set/);
  // 4 s ahead; the view's clock is event time carried forward from the last tick, which can trail a loaded machine by a few seconds.
  assert.match(await host.locator('[data-testid="host-countdown"]').innerText(), /^0:0\d$/);
  await host.locator('[data-testid="host-cue"][data-kind="cue.launch"]').waitFor({ timeout: 10_000 });
});
