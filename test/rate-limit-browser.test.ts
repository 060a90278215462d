/**
 * A screen whose token is over its socket rate limit, in Debian's headless Chromium against a real Crest
 * (CREST_RATE_LIMIT_PER_S=1): the join is refused as `rate-limited`, the page says so in words, and it joins
 * by itself once the token's bucket has refilled, with no reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBrowserCrest } from './support/browser-crest.ts';
import { join, waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'rl-browser-room';
const t = withBrowserCrest({ CREST_RATE_LIMIT_PER_S: '1' });
// After the helper above: its after() hook must run before this one.
exitsWithin();

test('a host screen refused as rate-limited says so, then joins by itself once the bucket refills', async () => {
  assert.equal((await t.crest.post([{ id: 'rl-s', room: ROOM, ts: Date.now() - 1_000, type: 'stream.start' }])).status, 200);
  const token = t.crest.token('host', [ROOM], 'shared-screen');
  // Another screen of the same token keeps the bucket empty while the page loads.
  const other = await t.crest.socket(token);
  let draining = true;
  const drain = (async () => {
    while (draining) {
      await join(other, ROOM);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const page = await t.browser.newPage({ locale: 'en-US' });
  try {
    await page.goto(`${t.crest.url}/host/${ROOM}?token=${token}`);
    const state = page.locator('[data-testid="connection-state"]').first();
    await state.and(page.locator('[data-state="error"]')).waitFor({ timeout: 20_000 });
    assert.match((await state.textContent()) ?? '', /too many requests with this token — wait a moment/);
    draining = false;
    await drain;
    const joinedAfter = await waitFor('the page joined by itself', 20_000, async () => ((await state.getAttribute('data-state')) === 'connected' ? true : undefined));
    assert.equal(joinedAfter, true);
  } finally {
    draining = false;
    await drain;
    await page.close();
  }
});
