/**
 * Every `assert.ok` in the tests carries a message: under tsx a failing bare `assert.ok(x)` makes Node build its
 * message from the source and takes minutes (tsx#548), so a broken test hangs until the runner's timeout
 * instead of failing with a reason. The call is read bracket by bracket (strings skipped), over lines, so nesting
 * and multi-line calls are judged as they are: a message is a second argument at the call's own depth.
 *
 * And every test file that may start something (any outside the pure folders) arms its exit watch, since the
 * runner never force-exits: a leaked timer or client then fails its file in seconds, named, instead of at the limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The `assert.ok(` calls in `src` with no second argument: each one's line number and first line. */
export function bareAssertOks(src: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  const CALL = 'assert.ok(';
  for (let at = src.indexOf(CALL); at >= 0; at = src.indexOf(CALL, at + 1)) {
    let depth = 1;
    // Where the call's own (depth 1) commas are, and where it closes.
    const commas: number[] = [];
    let i = at + CALL.length;
    for (; i < src.length && depth > 0; i++) {
      const c = src[i]!;
      if (c === "'" || c === '"' || c === '`') {
        // Skip the literal, a template's ${…} with it: a message there is still one argument.
        for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      } else if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === ',' && depth === 1) commas.push(i);
    }
    // A trailing comma (the multi-line form) separates nothing.
    const last = commas.at(-1);
    if (last !== undefined && src.slice(last + 1, i - 1).trim() === '') commas.pop();
    if (commas.length === 0) {
      const eol = src.indexOf('\n', at);
      found.push({ line: src.slice(0, at).split('\n').length, text: src.slice(at, eol < 0 ? undefined : eol).trim() });
    }
  }
  return found;
}

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
    if (file === fileURLToPath(import.meta.url)) continue; // its own examples are bare on purpose
    for (const b of bareAssertOks(readFileSync(file, 'utf8'))) found.push(`${file.slice(ROOT.length)}:${b.line}: ${b.text}`);
  }
  assert.deepEqual(found, [], `give these a message:\n${found.join('\n')}`);
});

test('the bare-call reader: nesting, strings and lines as they are', () => {
  const bare = (src: string) => bareAssertOks(src).map((b) => b.line);
  assert.deepEqual(bare('assert.ok(x);'), [1], 'plain');
  assert.deepEqual(bare('assert.ok(f(g(a, b), c));'), [1], 'commas inside nested calls are not a message');
  assert.deepEqual(bare('assert.ok([1, 2].includes(x));'), [1], 'nor inside brackets');
  assert.deepEqual(bare("assert.ok(s === 'a,b');"), [1], 'nor inside strings');
  assert.deepEqual(bare('assert.ok(x,\n  `msg ${f(a, b)}`);'), [], 'a multi-line call with a message');
  assert.deepEqual(bare('ok;\nassert.ok(\n  f(a, b),\n);'), [2], 'a multi-line call with only a trailing comma');
  assert.deepEqual(bare("assert.ok(f(g(x)), 'why');"), [], 'nested, with a message');
});

/** Where tests are pure by the house style (no I/O, no timers: core/ and what only computes); the rest may start things. */
const PURE = ['core/', 'client/', 'bench/eval/'];

test('every test file outside the pure folders arms its exit watch (the runner never force-exits)', () => {
  const unarmed = testFiles(ROOT)
    .map((f) => relative(ROOT, f))
    .filter((f) => !PURE.some((dir) => f.startsWith(dir)))
    .filter((f) => !/^exitsWithin\(/m.test(readFileSync(join(ROOT, f), 'utf8')));
  assert.deepEqual(unarmed, [], 'each must call exitsWithin() (test/support/exit-watch.ts) after its own after() hooks');
});
