/**
 * The room list ranks rooms by what needs attention now (client/room-ranking.ts), in Debian's headless
 * Chromium against a real Crest fed over HTTP: a small room whose viewers are rising comes before two
 * bigger calm rooms, the bigger calm room before the smaller, and a room whose stream ended comes last
 * however many viewers it had. When the smaller calm room overtakes the bigger one, the list reorders
 * by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { withBrowserCrest } from './support/browser-crest.ts';
import { scriptedRise } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOMS = ['r-rising', 'r-big', 'r-small', 'r-off'];

const t = withBrowserCrest();
// After the helper above: its after() hook must run before this one.
exitsWithin();

/** A flat room: stream.start, then `room.online` = viewers every second for `seconds`, ending at `end`. */
function flat(room: string, viewers: number, end: number, seconds = 60, tag = 'a') {
  const t0 = end - seconds * 1000;
  const events: Record<string, unknown>[] = [{ id: `${room}-start`, room, ts: t0, type: 'stream.start' }];
  for (let s = 0; s <= seconds; s++) events.push({ id: `${room}-${tag}${s}`, room, ts: t0 + s * 1000, type: 'room.online', count: viewers });
  return events;
}

async function order(page: Page): Promise<{ room: string; attention: string }[]> {
  return page.locator('[data-testid="room-row"]').evaluateAll((rows) =>
    rows.map((r) => ({ room: r.getAttribute('data-room')!, attention: r.getAttribute('data-attention')! })),
  );
}

async function waitForOrder(page: Page, want: string[], ms: number): Promise<{ room: string; attention: string }[]> {
  const until = Date.now() + ms;
  let got = await order(page);
  while (JSON.stringify(got.map((r) => r.room)) !== JSON.stringify(want) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    got = await order(page);
  }
  assert.deepEqual(got.map((r) => r.room), want);
  return got;
}

test('the room list puts a rising room first, calm rooms by viewers, an ended stream last, and reorders live', async () => {
  const now = Date.now();
  const { events: rise, onsetTs } = scriptedRise('r-rising', now - 12 * 60_000, { base: 150, peak: 400, flatS: 360, riseS: 150 });
  const upToRise = rise.filter((e) => (e.ts as number) <= onsetTs + 60_000);
  const off = [...flat('r-off', 9000, now - 30_000), { id: 'r-off-end', room: 'r-off', ts: now - 29_000, type: 'stream.end' }];
  const batches = [...flat('r-big', 3000, now), ...flat('r-small', 800, now), ...off];
  for (const all of [upToRise, batches]) {
    for (let i = 0; i < all.length; i += 500) assert.equal((await t.crest.post(all.slice(i, i + 500))).status, 200);
  }

  const page = await t.browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  await page.goto(`${t.crest.url}/?token=${t.crest.token('operator', ROOMS)}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="room-row"][data-room="r-rising"][data-attention="rising"]').waitFor({ timeout: 30_000 });
  const first = await waitForOrder(page, ['r-rising', 'r-big', 'r-small', 'r-off'], 10_000);
  assert.deepEqual(first.map((r) => r.attention), ['rising', 'live', 'live', 'off-air']);
  // The urgent row carries the marker bar; calm ones do not.
  assert.equal(await page.locator('[data-testid="room-row"].attention').count(), 1);

  // The smaller calm room grows past the bigger one: the next poll reorders the list.
  const grow = flat('r-small', 4500, Date.now(), 15, 'b').slice(1);
  assert.equal((await t.crest.post(grow)).status, 200);
  await waitForOrder(page, ['r-rising', 'r-small', 'r-big', 'r-off'], 15_000);
  await page.close();
});
