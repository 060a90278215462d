/**
 * Every `assert.ok` in the tests carries a message: under tsx a failing bare `assert.ok(x)` makes Node build its
 * message from the source and takes minutes (tsx#548), so a broken test hangs until the runner's timeout
 * instead of failing with a reason. Catches the one-line form (a multi-line call is read as having a message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLEAN_EXIT_FILES } from './support/clean-exit-files.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BARE = /assert\.ok\(((?:[^,()]|\([^()]*\))*)\);/g;

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) testFiles(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('no bare assert.ok(x) without a message in any test file', () => {
  const found: string[] = [];
  for (const file of testFiles(ROOT)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(BARE)) found.push(`${file.slice(ROOT.length)}:${i + 1}: ${m[0]}`);
    });
  }
  assert.deepEqual(found, [], `give these a message:\n${found.join('\n')}`);
});

test('every file the runner runs without --test-force-exit arms its exit watch', () => {
  for (const f of CLEAN_EXIT_FILES) assert.match(readFileSync(join(ROOT, f), 'utf8'), /^exitsWithin\(/m, `${f} must call exitsWithin() (test/support/exit-watch.ts)`);
});
