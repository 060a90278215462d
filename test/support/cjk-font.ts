/**
 * Screenshots show the Chinese UI too, so the machine taking them needs a CJK font: without one Chromium draws
 * every Chinese character as a box and the pictures lie about the product. Only the screenshot path asks;
 * the tests themselves check text, not glyphs, and CI installs no fonts.
 */
import { spawnSync } from 'node:child_process';

/** Throws, saying what to install, unless fontconfig knows a font covering Chinese. */
export function assertCjkFont(): void {
  const r = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`screenshots need fontconfig's fc-list to find a CJK font (${r.error?.message ?? `exit ${r.status}`}): install fontconfig and fonts-noto-cjk (sudo apt-get install fonts-noto-cjk)`);
  }
  if (r.stdout.trim() === '') {
    throw new Error('screenshots need a CJK font for the Chinese UI, and `fc-list :lang=zh` lists none: install fonts-noto-cjk (sudo apt-get install fonts-noto-cjk)');
  }
}
