/** Builds the Lit client into dist/client (as `crest start` does, source maps on) for a browser test. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function buildClient(): void {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../../client/build.mjs', import.meta.url))], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr || build.stdout);
}
