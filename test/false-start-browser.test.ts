/**
 * The early stage's false start, in Debian's headless Chromium against a real Crest: a crowd's leading signals
 * make a `building` call (the host is cued to tease), then the crowd leaves before it confirms: the host screen
 * says it was a false start, and the window is `retracted` with its reason in the API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HighlightWindow } from '../core/protocol.ts';
import { falseStartEvents } from './fixtures/false-start.ts';
import { withBrowserCrest } from './support/browser-crest.ts';
import { waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ROOM = 'false-start';
const t = withBrowserCrest();
// After the helper above: its after() hook must run before this one.
exitsWithin();

test('a retracted building call shows as a false start on the host screen', async () => {
  const { crest, browser } = t;
  const { events, riseTs } = falseStartEvents(ROOM, Date.now() - 11 * 60_000);
  const post = async (evs: typeof events) => {
    for (let i = 0; i < evs.length; i += 500) assert.equal((await crest.post(evs.slice(i, i + 500))).status, 200);
  };
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${crest.url}/host/${ROOM}?token=${crest.token('host', [ROOM])}`);
  const cue = page.locator('[data-testid="host-cue"]');

  // Up to 50 s into the crowd's arrival: the early call is live, the host is told to tease.
  await post(events.filter((e) => e.ts <= riseTs + 50_000));
  await cue.and(page.locator('[data-kind="cue.tease"]')).waitFor({ timeout: 30_000 });
  assert.match(await cue.innerText(), /tease the hot item/i);

  // The rest: the crowd drains before confirming; the host screen says so.
  await post(events.filter((e) => e.ts > riseTs + 50_000));
  await cue.and(page.locator('[data-kind="cue.retract"]')).waitFor({ timeout: 30_000 });
  assert.match(await cue.innerText(), /False start — viewers fell back/);

  const token = crest.token('operator', [ROOM]);
  const windows = await waitFor('the retracted window', 15_000, async () => {
    const r = await crest.api(`/api/v1/rooms/${ROOM}/windows`, { token });
    const ws = (await r.json()).windows as HighlightWindow[];
    return ws.find((w) => w.state === 'retracted') ? ws : undefined;
  });
  assert.equal(windows.length, 1, 'one window: the call and its retraction');
  assert.equal(windows[0].retractReason, 'fell-back');
  assert.equal(windows[0].confirmedTs, null);
  assert.deepEqual(errors, []);
  await page.close();
});
