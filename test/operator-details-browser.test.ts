/**
 * Two operator-panel views over what the core and the alert rules computed, in Debian's headless Chromium
 * against a real Crest. Details: fetched only when the operator opens them, they show per source the GMV
 * decomposition (exposure × click-in rate × watch-minutes per entry × GMV per watch-minute) with the very
 * figures `GET /api/v1/rooms/:room/state` answers, and follow the room while open. Alert holds: a
 * suggestion whose buyer webhook the room's quiet hours held stays in the log, marked with why, as
 * `GET /api/v1/rooms/:room/suggestions` reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientSizes } from '../bench/bundle-size.ts';
import type { TrafficSource } from '../core/events.ts';
import type { RoomMetrics } from '../core/protocol.ts';
import type { HoldRecord } from '../server/webhook-rules.ts';
import { withBrowserCrest } from './support/browser-crest.ts';
import { scriptedRise, waitFor } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';


const t = withBrowserCrest();
// After the helper above: its after() hook must run before this one.
exitsWithin();

async function post(events: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) assert.equal((await t.crest.post(events.slice(i, i + 500))).status, 200);
}

/** The room's metrics once the detector has applied `events` of them. */
async function stateAfter(room: string, events: number): Promise<RoomMetrics> {
  return waitFor(`${room} to apply ${events} events`, 20_000, async () => {
    const r = await t.crest.api(`/api/v1/rooms/${room}/state`, { token: t.crest.token('operator', [room]) });
    if (r.status !== 200) return undefined;
    const m = ((await r.json()) as { metrics: RoomMetrics | null }).metrics;
    return m && m.events >= events && m.detail ? m : undefined;
  });
}

/**
 * `minutes` of a room with exposure, entries from every source (none exposed for `other`, so its click-in
 * rate is unknown), leaves, paid orders from viewers of each source and ad spend, from `t0` on event time.
 */
function trafficScript(room: string, t0: number, from: number, minutes: number, orderAmount: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = from === 0 ? [{ id: `${room}-start`, room, ts: t0, type: 'stream.start' }] : [];
  const every: Record<TrafficSource, number> = { follow: 7, public: 3, paid: 4, other: 20 };
  const exposure: Partial<Record<TrafficSource, number>> = { follow: 40, public: 600, paid: 150 };
  for (let s = from; s < from + minutes * 60; s++) {
    const ts = t0 + s * 1000;
    events.push({ id: `${room}-on${s}`, room, ts, type: 'room.online', count: 300 + (s % 13) });
    if (s % 10 === 0) {
      for (const [source, count] of Object.entries(exposure)) events.push({ id: `${room}-x${s}${source}`, room, ts, type: 'room.exposure', source, count });
    }
    for (const [source, n] of Object.entries(every)) {
      if (s % n !== 0) continue;
      const viewer = `${source}-${s}`;
      events.push({ id: `${room}-e${s}${source}`, room, ts, type: 'viewer.enter', viewer, source });
      if (s % (n * 5) === 0) events.push({ id: `${room}-o${s}${source}`, room, ts: ts + 200, type: 'order.paid', order: `o${s}${source}`, viewer, sku: `sku-${source}`, amount: orderAmount + n * 100 });
    }
    if (s % 9 === 0 && s > 60) events.push({ id: `${room}-l${s}`, room, ts, type: 'viewer.leave', viewer: `public-${s - 60 - ((s - 60) % 3)}` });
    if (s % 60 === 30) events.push({ id: `${room}-ad${s}`, room, ts, type: 'ad.spend', amount: 5_000 });
  }
  return events;
}

const money = (minor: number) => new Intl.NumberFormat('en', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol' }).format(minor / 100);

test('details open on demand and show per source the GMV decomposition GET /state answers, following the room while open', async () => {
  const ROOM = 'detail-room';
  const t0 = Date.now() - 10 * 60_000;
  const first = trafficScript(ROOM, t0, 0, 6, 4_900);
  await post(first);
  let m = await stateAfter(ROOM, first.length);

  const page = await t.browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
  const scripts: string[] = [];
  page.on('request', (r) => void (r.url().endsWith('.js') && scripts.push(new URL(r.url()).pathname)));
  await page.goto(`${t.crest.url}/operator/${ROOM}?token=${t.crest.token('operator', [ROOM])}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  assert.equal(scripts.filter((p) => p.includes('crest-metrics-detail')).length, 0, 'the details chunk is not part of the first load');
  const firstLoad = scripts.length;

  await page.locator('[data-testid="details-toggle"]').click();
  const rows = page.locator('[data-testid="detail-source"]');
  await rows.first().waitFor({ timeout: 10_000 });
  // Opening fetches exactly the files the build reports as what the details add (dist/client/sizes.json).
  const sizes = JSON.parse(readFileSync(fileURLToPath(new URL('../dist/client/sizes.json', import.meta.url)), 'utf8')) as ClientSizes;
  assert.deepEqual(scripts.slice(firstLoad).map((p) => p.slice(1)).sort(), sizes.lazy.operator!.details!.en!.files);

  /** Every cell's raw value and text, per source, as the page shows them. */
  const shown = () =>
    rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        source: tr.getAttribute('data-source'),
        values: [...tr.querySelectorAll('td[data-v]')].map((td) => td.getAttribute('data-v')),
        texts: [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim()),
      })),
    );
  /** What the table must say for `m`, computed here from the API's answer. */
  const expected = (m: RoomMetrics) => {
    const d = m.detail!;
    return (Object.keys(m.entriesTotal) as TrafficSource[]).map((s) => {
      const wm = d.watchMinutesBySource[s];
      const wmPerEntry = m.entriesTotal[s] > 0 ? wm / m.entriesTotal[s] : null;
      const gmvPerWm = wm > 0 ? d.gmvBySource[s] / wm : null;
      return { source: s, values: [m.exposureTotal[s], d.clickInRate[s], d.rolling.m5.clickInRate[s], wmPerEntry, gmvPerWm, d.gmvBySource[s]].map(String) };
    });
  };
  // The room's summary moves with its clock too (the 5-minute rolling rates slide), and the card shows what
  // its own last poll got: compare the card with what GET /state answers now, until they agree.
  const same = async (minEvents: number) => {
    const now = await stateAfter(ROOM, minEvents);
    const got = await shown();
    return JSON.stringify(got.map(({ source, values }) => ({ source, values }))) === JSON.stringify(expected(now)) ? { got, m: now } : undefined;
  };
  const agreed = await waitFor('the details to show what GET /state answers', 15_000, () => same(first.length));
  const table = agreed.got;
  m = agreed.m;

  const d = m.detail!;
  assert.deepEqual(table.map((r) => r.source), ['follow', 'public', 'paid', 'other']);
  for (const row of table) {
    const s = row.source as TrafficSource;
    assert.ok(d.gmvBySource[s] > 0, `${s} has GMV in this script`);
    assert.equal(row.texts[6], money(d.gmvBySource[s]), `${s} GMV as money`);
    // The four factors multiply back to the source's GMV, wherever exposure is known (to the API's rounding
    // of the click-in rate to 4 places).
    const [exposure, clickIn, , wmPerEntry, gmvPerWm] = expected(m).find((e) => e.source === s)!.values.map(Number);
    if (s === 'other') assert.equal(row.texts[2], '—', 'no exposure from other: click-in unknown, not 0');
    else {
      const product = exposure! * clickIn! * wmPerEntry! * gmvPerWm!;
      assert.ok(Math.abs(product - d.gmvBySource[s]) <= d.gmvBySource[s] * (0.5e-4 / clickIn! + 1e-9), `${s}: ${product} vs ${d.gmvBySource[s]}`);
    }
  }
  assert.equal(await page.locator('[data-testid="detail-spend-in"]').innerText().then((t) => t.split(' → ')[0]), money(d.adSpendInWindows));
  assert.equal(await page.locator('[data-testid="detail-spend-out"]').innerText().then((t) => t.split(' → ')[0]), money(d.adSpendOutsideWindows));
  assert.equal(await page.locator('[data-testid="detail-unattributed"]').innerText(), money(d.gmvUnattributed));
  assert.match(await page.locator('[data-testid="detail-top"]').innerText(), new RegExp(`^${d.topProducts[0]!.sku} `));

  // Two more minutes at a higher basket: the open card polls and catches up with the API.
  const more = trafficScript(ROOM, t0, 6 * 60, 2, 12_900);
  await post(more);
  m = await stateAfter(ROOM, first.length + more.length);
  assert.notEqual(m.detail!.gmvBySource.paid, d.gmvBySource.paid);
  await waitFor('the open details to follow the room', 15_000, () => same(first.length + more.length));

  // Closing removes the card (and its poller with it).
  await page.locator('[data-testid="details-toggle"]').click();
  await page.locator('crest-metrics-detail').waitFor({ state: 'detached', timeout: 5_000 });
  await page.close();
});

test('a suggestion whose buyer webhook quiet hours held stays in the operator log, marked with why', async () => {
  const ROOM = 'held-room';
  const op = t.crest.token('operator', [ROOM]);
  const t0 = Date.now() - 12 * 60_000;
  const { events, onsetTs } = scriptedRise(ROOM, t0, { flatS: 360, riseS: 150 });
  // Quiet hours around the whole script on event time (UTC), so every buyer alert of it is held.
  const hhmm = (ts: number) => new Date(ts).toISOString().slice(11, 16);
  const rules = { buyer: { quietHours: { from: hhmm(t0 - 3_600_000), to: hhmm(t0 + 3_600_000), tz: 'UTC' } } };
  const put = await t.crest.api(`/api/v1/rooms/${ROOM}/alert-rules`, {
    method: 'PUT',
    token: op,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(rules),
  });
  assert.equal(put.status, 200, await put.clone().text());

  const page = await t.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  await page.goto(`${t.crest.url}/operator/${ROOM}?token=${op}`);
  await page.locator('[data-testid="connection-state"][data-state="connected"]').first().waitFor({ timeout: 20_000 });
  await post(events.filter((e) => (e.ts as number) <= onsetTs + 60_000));

  const log = await waitFor('a held buyer suggestion in the API', 30_000, async () => {
    const r = await t.crest.api(`/api/v1/rooms/${ROOM}/suggestions`, { token: op });
    const body = (await r.json()) as { suggestions: { id: string; audience: string }[]; alertHolds?: HoldRecord[] };
    return body.alertHolds?.some((h) => h.holds.buyer) ? body : undefined;
  });
  const held = log.alertHolds!.find((h) => h.holds.buyer)!;
  assert.equal(held.holds.buyer!.code, 'quiet-hours');

  const row = page.locator(`[data-testid="suggestion-row"][data-suggestion-id="${held.suggestionId}"]`);
  const mark = row.locator('[data-testid="held-reason"]');
  await mark.waitFor({ timeout: 20_000 });
  assert.equal(await mark.innerText(), 'webhook to Buyer held: quiet hours');
  assert.equal(await mark.getAttribute('data-code'), 'quiet-hours');
  assert.equal(await mark.getAttribute('title'), held.holds.buyer!.reason);
  // Only the held suggestions carry a mark, one per held audience (holds may still be coming: compare until equal).
  const marks = () =>
    page.locator('[data-testid="held-reason"]').evaluateAll((els) => els.map((el) => `${el.closest('li')!.getAttribute('data-suggestion-id')} ${el.getAttribute('data-code')}`).sort());
  const apiMarks = async () => {
    const body = (await (await t.crest.api(`/api/v1/rooms/${ROOM}/suggestions`, { token: op })).json()) as { alertHolds: HoldRecord[] };
    return body.alertHolds.flatMap((h) => Object.values(h.holds).map((x) => `${h.suggestionId} ${x!.code}`)).sort();
  };
  const both = await waitFor('the log to mark exactly the held suggestions', 20_000, async () => {
    const [shown, api] = [await marks(), await apiMarks()];
    return JSON.stringify(shown) === JSON.stringify(api) ? api : undefined;
  });
  assert.ok(both.length >= 1, 'both.length >= 1');
  assert.ok((await page.locator('[data-testid="suggestion-row"]').count()) > 0, '(await page.locator(\'[data-testid="suggestion-row"]\').count()) > 0');
  await page.close();
});
