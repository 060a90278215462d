/**
 * The docs stay true to the tree: every relative link and image in README.md, docs/*.md and bench/eval/README.md
 * points at a file that exists (and a `#anchor` at a heading of it, by GitHub's slug rules), and every
 * `crest <command>` and `npm run <script>` they show exists in bin/crest.ts and package.json. No Redis, no network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(ROOT, 'docs', n));
  return [join(ROOT, 'README.md'), ...docs, join(ROOT, 'bench/eval/README.md')];
}

/** Fenced code blocks apart from the prose around them (links inside code are not links). */
function splitFences(md: string): { prose: string; code: string } {
  const prose: string[] = [];
  const code: string[] = [];
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      prose.push('');
      continue;
    }
    (inFence ? code : prose).push(line);
    (inFence ? prose : code).push('');
  }
  return { prose: prose.join('\n'), code: code.join('\n') };
}

const INLINE_CODE = /(`+)([\s\S]*?[^`])\1(?!`)/g;

/** Link targets in prose: `[text](target)`, `![alt](target)`, `<img src="target">`; inline code left out. */
export function linkTargets(md: string): string[] {
  const prose = splitFences(md).prose.replace(INLINE_CODE, '');
  const out: string[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  for (const m of prose.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)) out.push(m[1]!);
  return out;
}

/** Heading anchors as GitHub makes them: text content, lower case, punctuation dropped, spaces to '-', repeats -1, -2. */
export function headingSlugs(md: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of splitFences(md).prose.split('\n')) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** Broken relative links of one file, each as "file: target (why)". */
export function brokenLinks(file: string, md: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(md)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — not ours to check offline
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const dest = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(ROOT, file)}: ${target}`;
    if (!existsSync(dest)) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(dest).isDirectory() || !dest.endsWith('.md')) {
      broken.push(`${where} (an anchor into something that is not a markdown file)`);
      continue;
    }
    const slugs = headingSlugs(dest === file ? md : readFileSync(dest, 'utf8'));
    if (!slugs.has(anchor.toLowerCase())) broken.push(`${where} (no heading with that anchor in ${relative(ROOT, dest)})`);
  }
  return broken;
}

/** Code shown to readers: fenced blocks and inline code spans. */
function codeText(md: string): string {
  const { prose, code } = splitFences(md);
  const inline = [...prose.matchAll(INLINE_CODE)].map((m) => m[2]!);
  return `${code}\n${inline.join('\n')}`;
}

/** The CLI's commands: the case labels of main()'s switch in bin/crest.ts, and its worker parts. */
function crestCommands(): { commands: Set<string>; parts: Set<string> } {
  const src = readFileSync(join(ROOT, 'bin/crest.ts'), 'utf8');
  const main = /async function main\([\s\S]*?\n\}\n/.exec(src);
  assert.ok(main, 'bin/crest.ts has an async function main(...) whose switch lists the commands');
  const commands = new Set([...main[0].matchAll(/case '([a-z][a-z-]*)':/g)].map((m) => m[1]!));
  const parts = /const WORKER_PARTS = \[([^\]]*)\]/.exec(src);
  assert.ok(parts, 'bin/crest.ts declares WORKER_PARTS');
  return { commands, parts: new Set([...parts[1]!.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!)) };
}

/** `crest X` / `crest worker P` / `npm run S` / `npm start|test` shown in code that do not exist. */
export function unknownCommands(
  md: string,
  cli: { commands: Set<string>; parts: Set<string> },
  scripts: Set<string>,
): string[] {
  const code = codeText(md);
  const bad: string[] = [];
  for (const m of code.matchAll(/(?<![\w/.:-])crest (?:([a-z][a-z-]*)(?: ([a-z][a-z-]*))?)/g)) {
    const [, command, arg] = m;
    if (!cli.commands.has(command!)) bad.push(`crest ${command}`);
    else if (command === 'worker' && arg && !cli.parts.has(arg)) bad.push(`crest worker ${arg}`);
  }
  for (const m of code.matchAll(/\bnpm run ([\w:.-]+)/g)) if (!scripts.has(m[1]!)) bad.push(`npm run ${m[1]}`);
  for (const m of code.matchAll(/\bnpm (start|test)\b/g)) if (!scripts.has(m[1]!)) bad.push(`npm ${m[1]}`);
  return bad;
}

test('the link checker finds a missing file, a missing anchor and a link into a non-markdown file', () => {
  const file = join(ROOT, 'README.md');
  const md = [
    '# Top',
    '## Scale-out: Redis Cluster, `several` gateways',
    '[ok](#scale-out-redis-cluster-several-gateways) [ok](docs/) [ok](package.json)',
    '[gone](docs/no-such-page.md) [bad anchor](#nowhere) <img src="client/screenshots/none.png">',
    '[into json](package.json#x) `[in code](missing.md)`',
    '```',
    '[in a fence](missing-too.md)',
    '```',
  ].join('\n');
  assert.deepEqual(brokenLinks(file, md), [
    'README.md: docs/no-such-page.md (no such file)',
    'README.md: #nowhere (no heading with that anchor in README.md)',
    'README.md: package.json#x (an anchor into something that is not a markdown file)',
    'README.md: client/screenshots/none.png (no such file)',
  ]);
});

test('heading slugs follow GitHub: punctuation dropped, spaces kept as dashes, repeats numbered', () => {
  const slugs = headingSlugs('# How "once" is guaranteed\n## Alert rules (quiet hours, cooldowns)\n## A — B\n## Tests\n## Tests');
  assert.deepEqual([...slugs], ['how-once-is-guaranteed', 'alert-rules-quiet-hours-cooldowns', 'a--b', 'tests', 'tests-1']);
});

test('the command checker finds an unknown crest command, worker part and npm script', () => {
  const cli = { commands: new Set(['start', 'worker']), parts: new Set(['api']) };
  const md = '```sh\ncrest start\ncrest worker api\ncrest worker nope\ncrest frobnicate\nnpm run bench\n```\n`npm test` and crest:{s1}:ev';
  assert.deepEqual(unknownCommands(md, cli, new Set(['bench'])), ['crest worker nope', 'crest frobnicate', 'npm test']);
});

test('every relative link and anchor in README.md, docs/ and bench/eval/README.md resolves', () => {
  const broken = docFiles().flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8')));
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});

test('every crest command and npm script the docs show exists', () => {
  const cli = crestCommands();
  assert.ok(cli.commands.has('start') && cli.commands.has('worker'), `commands parsed from bin/crest.ts: ${[...cli.commands]}`);
  const scripts = new Set(Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts));
  const bad = docFiles().flatMap((file) =>
    unknownCommands(readFileSync(file, 'utf8'), cli, scripts).map((c) => `${relative(ROOT, file)}: ${c}`),
  );
  assert.deepEqual(bad, [], `commands shown that do not exist:\n${bad.join('\n')}`);
});
