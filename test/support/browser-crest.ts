/**
 * The setup most browser tests share: the client built, a test Crest and Debian's Chromium started before
 * the file's tests, both closed after. Registers the file's before/after hooks; read `crest` and `browser`
 * from the returned object inside tests (they are set once `before` has run).
 */
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { buildClient } from './client-build.ts';
import { startTestCrest, type TestCrest } from './crest.ts';

export interface BrowserCrest {
  crest: TestCrest;
  browser: Browser;
}

export function withBrowserCrest(env: Record<string, string> = {}): BrowserCrest {
  const t = {} as BrowserCrest;
  before(async () => {
    buildClient();
    t.crest = await startTestCrest(env);
    t.browser = await launchChromium();
  });
  after(async () => {
    await t.browser?.close();
    await t.crest?.close();
  });
  return t;
}
