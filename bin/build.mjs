#!/usr/bin/env node
// `npm run build`: compiles core/, config/, server/, workers/ and bin/ to JavaScript in dist/ (imports
// rewritten from .ts to .js; tsconfig.build.json), copies the Lua scripts beside their loader, builds the
// client (client/build.mjs → dist/client/), and last writes dist/build.json with a hash of every input, so
// bin/crest.mjs can tell a fresh build from a stale one. `--if-stale` does nothing when dist/ is fresh
// (npm start runs it first, so a fresh clone's `npm ci && npm start` builds once, then starts at once).
//
// Files are written as client/build.mjs writes them: same bytes, nothing written; else a temporary file
// renamed over the old one. A Crest (or a test) may be running from dist/ while it is rebuilt.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** Folders compiled to dist/<folder>; the client is bundled apart. */
const SERVER_SIDE = ['core', 'config', 'server', 'workers', 'bin'];
/** Everything a build reads: a change to any of these makes dist/ stale. */
const INPUT_DIRS = [...SERVER_SIDE, 'client'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const STAMP = join(DIST, 'build.json');

/** Source files under dir (tests, dev tools and screenshots are not part of a build). */
function inputs(dir, into = []) {
  let names;
  try {
    names = readdirSync(dir).sort();
  } catch {
    return into;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'screenshots' || n === 'dev' || n.startsWith('.')) continue;
    if (statSync(p).isDirectory()) inputs(p, into);
    else if (/\.(ts|mjs|lua|html|css)$/.test(n) && !n.endsWith('.test.ts')) into.push(p);
  }
  return into;
}

/** sha256 over the path and bytes of every build input (~1 MB: a few ms, cheap enough for every `crest`). */
export function sourceHash() {
  const h = createHash('sha256');
  const files = [...INPUT_DIRS.flatMap((d) => inputs(join(ROOT, d))), ...INPUT_FILES.map((f) => join(ROOT, f))];
  for (const f of files) {
    h.update(relative(ROOT, f)).update('\0');
    try {
      h.update(readFileSync(f));
    } catch {
      h.update('(missing)');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * Whether dist/ holds a build of the sources as they are: `{ fresh, reason }`. A tree without the sources
 * (an image that copied dist/ alone) is taken as fresh: there is nothing to be stale against.
 */
export function buildState() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return { fresh: false, reason: 'dist/ has no build (npm run build makes one)' };
  }
  try {
    statSync(join(ROOT, 'bin', 'crest.ts'));
  } catch {
    return { fresh: true, reason: 'no sources beside dist/' };
  }
  return stamp.sources === sourceHash()
    ? { fresh: true, reason: 'dist/ matches the sources' }
    : { fresh: false, reason: 'dist/ is older than the sources (npm run build updates it)' };
}

function writeAtomic(path, bytes) {
  try {
    if (Buffer.compare(readFileSync(path), bytes) === 0) return;
  } catch {
    // not there yet
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/** Removes from dist/<folder> what this build did not write (a deleted or renamed source's old output). */
function prune(dir, keep) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) prune(p, keep);
    else if (!keep.has(p) && !n.endsWith('.tmp')) rmSync(p, { force: true });
  }
}

/** Compiles the server side with the TypeScript API (writes through writeAtomic); the written paths. */
async function compileServer() {
  const ts = (await import('typescript')).default;
  const configPath = join(ROOT, 'tsconfig.build.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail(ts, [d]) });
  if (parsed.errors.length) fail(ts, parsed.errors);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
  const written = new Set();
  const result = program.emit(undefined, (file, text) => {
    writeAtomic(file, Buffer.from(text));
    written.add(file);
  });
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length || result.emitSkipped) fail(ts, errors);
  return written;
}

function fail(ts, diagnostics) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
  console.error(ts.formatDiagnostics(diagnostics, host));
  throw new Error('compiling the server failed (see above)');
}

/** The Lua scripts, beside dist/server/lua/scripts.js that reads them. */
function copyLua(written) {
  const from = join(ROOT, 'server', 'lua');
  for (const n of readdirSync(from)) {
    if (!n.endsWith('.lua')) continue;
    const to = join(DIST, 'server', 'lua', n);
    writeAtomic(to, readFileSync(join(from, n)));
    written.add(to);
  }
}

function buildClient() {
  const r = spawnSync(process.execPath, [join(ROOT, 'client', 'build.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('building the client failed (see above)');
}

/** The whole build; resolves with how long it took. */
export async function build() {
  const started = Date.now();
  // Hashed first: a source edited while the build runs leaves dist/ stale, never stamped as fresh.
  const sources = sourceHash();
  const written = await compileServer();
  copyLua(written);
  for (const d of SERVER_SIDE) prune(join(DIST, d), written);
  buildClient();
  writeAtomic(STAMP, Buffer.from(JSON.stringify({ sources, node: process.version }, null, 2) + '\n'));
  return Date.now() - started;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const state = buildState();
    if (process.argv.includes('--if-stale') && state.fresh) process.exit(0);
    const ms = await build();
    console.log(`built dist/ in ${(ms / 1000).toFixed(1)} s (server side compiled, client bundled); crest start runs it`);
  } catch (err) {
    console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
