#!/usr/bin/env node
// Builds the Lit client into dist/client/: index.html, app.js (router, Lit, English texts) and the chunks
// each route fetches on demand (its view, the socket or the room-list poller, the Chinese texts). CSS is
// inlined as text into the components' shadow roots, so there is no stylesheet. Measures, for every page
// and language, the gzip bytes of the files a first visit downloads (app.js plus what that route imports,
// followed through static imports); the heaviest must fit the 40 KB budget (exit 1 otherwise). Writes the
// figures to dist/client/sizes.json for the bench and the tests, with what each on-demand part of a page
// (LAZY) adds when it is opened. `--watch` rebuilds on change;
// `--no-sourcemap` skips maps.
import { build, context } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'client');
const watch = process.argv.includes('--watch');
const sourcemap = !process.argv.includes('--no-sourcemap');
const BUDGET = 40 * 1024;

/**
 * What each route of client/crest-app.ts imports on demand, beside app.js (keep in step with its VIEWS
 * and load()). test/bundle-browser.test.ts checks these against what Chromium really fetches.
 */
const PAGES = {
  rooms: ['client/crest-room-list.ts', 'client/poll-controller.ts'],
  operator: ['client/crest-operator-panel.ts', 'client/connection-controller.ts', 'client/poll-controller.ts'],
  host: ['client/crest-host-cue.ts', 'client/connection-controller.ts'],
  buyer: ['client/crest-buyer-feed.ts', 'client/connection-controller.ts'],
};
/**
 * Parts a page imports only when the reader opens them (keep in step with their `import()`): not in the
 * first load (the build fails if one is), measured apart as what opening them adds.
 */
const LAZY = {
  operator: { details: ['client/crest-metrics-detail.ts'] },
};
/** The texts a language pulls in. */
const LANGS = { en: ['client/i18n-en.ts'], 'zh-CN': ['client/i18n-zh.ts'] };

/**
 * Squeezes the whitespace out of Lit's css`…` blocks (esbuild keeps template literals verbatim).
 * Only whitespace runs, the space around { } ; , > and after a colon go (never before a colon: `.a :hover`
 * means something else than `.a:hover`), so selectors keep their meaning.
 */
const minifyLitCss = {
  name: 'minify-lit-css',
  setup(b) {
    b.onLoad({ filter: /client[\\/][^\\/]+\.ts$/ }, async (args) => {
      const src = readFileSync(args.path, 'utf8');
      const contents = src.replace(/\bcss`([^`]*)`/g, (_, body) => {
        const min = body
          .replace(/\/\*[^]*?\*\//g, '')
          .replace(/\s+/g, ' ')
          .replace(/\s*([{};,>])\s*/g, '$1')
          .replace(/:\s+/g, ':')
          .replace(/;}/g, '}')
          .trim();
        return `css\`${min}\``;
      });
      return { contents: squeezeHtml(contents), loader: 'ts' };
    });
  },
};

/**
 * Collapses a line break and the indentation after it to one space in the text of Lit's html`…` templates
 * (HTML renders any whitespace run as one space; no template here relies on pre-formatted text). Walks the
 * source so `${…}` expressions, strings and nested templates are copied intact (nested html`` squeezed too).
 */
function squeezeHtml(src) {
  let i = 0;
  let out = '';
  // Copies a template literal body from just after its opening backtick through its closing one.
  const template = (squeeze) => {
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        out += c + src[i + 1];
        i += 2;
      } else if (c === '`') {
        out += c;
        i++;
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        out += '${';
        i += 2;
        code(true);
      } else if (squeeze && c === '\n') {
        while (/\s/.test(src[i])) i++;
        if (!out.endsWith(' ')) out += ' ';
      } else {
        out += c;
        i++;
      }
    }
  };
  // Copies code up to the `}` closing a `${` (inExpr) or to the end of the file.
  const code = (inExpr) => {
    let depth = 0;
    while (i < src.length) {
      const c = src[i];
      if (c === '`') {
        const squeeze = /\bhtml$/.test(src.slice(Math.max(0, i - 4), i));
        out += c;
        i++;
        template(squeeze);
      } else if (c === "'" || c === '"') {
        const end = src.indexOf(c, i + 1);
        let j = end;
        while (j > 0 && src[j - 1] === '\\' && src.slice(i, j).match(/\\+$/)[0].length % 2 === 1) j = src.indexOf(c, j + 1);
        out += src.slice(i, j + 1);
        i = j + 1;
      } else if (c === '/' && src[i + 1] === '/') {
        const end = src.indexOf('\n', i);
        out += src.slice(i, end < 0 ? src.length : end);
        i = end < 0 ? src.length : end;
      } else if (c === '/' && src[i + 1] === '*') {
        const end = src.indexOf('*/', i + 2) + 2;
        out += src.slice(i, end);
        i = end;
      } else {
        if (c === '{') depth++;
        if (c === '}' && depth-- === 0 && inExpr) {
          out += c;
          i++;
          return;
        }
        out += c;
        i++;
      }
    }
  };
  code(false);
  return out;
}

/**
 * engine.io-client's default transports without WebTransport: Crest's server never offers it (it needs
 * HTTP/3 and an explicit opt-in), so the browser would never use it; polling and WebSocket stay, with
 * polling as the fallback behind proxies that block WebSocket.
 */
const withoutWebTransport = {
  name: 'without-webtransport',
  setup(b) {
    b.onLoad({ filter: /engine\.io-client[\\/]build[\\/]esm[\\/]transports[\\/]index\.js$/ }, (args) => ({
      contents: `import { XHR } from "./polling-xhr.node.js";
import { WS } from "./websocket.node.js";
export const transports = { websocket: WS, polling: XHR };`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: { app: join(root, 'client', 'crest-app.ts') },
  outdir: out,
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: sourcemap ? 'linked' : false,
  legalComments: 'none',
  charset: 'utf8',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  metafile: true,
  plugins: [minifyLitCss, withoutWebTransport],
};

/** Per file raw and gzip -9 bytes; per page and language the files of a first visit and their gzip sum. */
function measure(metafile) {
  const files = {};
  for (const name of ['index.html', ...Object.keys(metafile.outputs).map((p) => p.slice(p.lastIndexOf('/') + 1))]) {
    if (!/\.(js|css|html)$/.test(name)) continue;
    const raw = readFileSync(join(out, name));
    files[name] = { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  }
  const outputs = metafile.outputs;
  const byModule = new Map(Object.entries(outputs).filter(([, o]) => o.entryPoint).map(([p, o]) => [o.entryPoint, p]));
  // An output and everything it imports statically: the browser fetches those before running it.
  const closure = (path, into) => {
    if (into.has(path)) return into;
    into.add(path);
    for (const imp of outputs[path].imports) if (imp.kind === 'import-statement') closure(imp.path, into);
    return into;
  };
  const load = (modules, into) => {
    for (const m of modules) {
      const p = byModule.get(m);
      if (!p) throw new Error(`build: ${m} is not a chunk of its own; PAGES in build.mjs is out of date`);
      closure(p, into);
    }
    return into;
  };
  const name = (p) => p.slice(p.lastIndexOf('/') + 1);
  const pages = {};
  let heaviest = { page: '', lang: '', gzip: 0 };
  for (const [page, modules] of Object.entries(PAGES)) {
    pages[page] = {};
    for (const [lang, extra] of Object.entries(LANGS)) {
      const paths = load([...modules, ...extra], closure('dist/client/app.js', new Set()));
      const list = [...paths].map(name).sort();
      const gzip = list.reduce((n, f) => n + files[f].gzip, 0);
      pages[page][lang] = { files: list, gzip };
      if (gzip > heaviest.gzip) heaviest = { page, lang, gzip };
    }
  }
  const lazy = {};
  for (const [page, parts] of Object.entries(LAZY)) {
    lazy[page] = {};
    for (const [part, modules] of Object.entries(parts)) {
      lazy[page][part] = {};
      for (const lang of Object.keys(LANGS)) {
        const first = new Set(pages[page][lang].files);
        if (modules.some((m) => first.has(name(byModule.get(m) ?? '')))) throw new Error(`build: ${part} of ${page} is in its first load; it must be import()ed`);
        const own = [...load(modules, new Set())].map(name);
        const list = own.filter((f) => !first.has(f)).sort();
        lazy[page][part][lang] = { files: list, gzip: list.reduce((n, f) => n + files[f].gzip, 0) };
      }
    }
  }
  const totalGzip = Object.entries(files).reduce((n, [f, s]) => n + (/\.(js|css)$/.test(f) ? s.gzip : 0), 0);
  return { budget: BUDGET, heaviest, totalGzip, pages, lazy, files };
}

function report(metafile) {
  const sizes = measure(metafile);
  writeAtomic(join(out, 'sizes.json'), Buffer.from(JSON.stringify(sizes, null, 2)));
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const rows = Object.entries(sizes.pages).map(
    ([page, l]) => `  ${page.padEnd(9)} ${kb(l.en.gzip).padStart(8)} (zh-CN ${kb(l['zh-CN'].gzip)})  ${l.en.files.join(' ')}`,
  );
  for (const [page, parts] of Object.entries(sizes.lazy)) {
    for (const [part, l] of Object.entries(parts)) rows.push(`  ${page} + ${part} on open: +${kb(l.en.gzip)} (lazy)  ${l.en.files.join(' ')}`);
  }
  console.log(`first load per page, gzip -9, in English (and in Chinese):\n${rows.join('\n')}`);
  console.log(`all ${Object.keys(sizes.files).filter((f) => f.endsWith('.js')).length} client files: ${kb(sizes.totalGzip)} gzip`);
  const { page, lang, gzip } = sizes.heaviest;
  const verdict = gzip <= BUDGET ? 'within' : 'OVER';
  console.log(`heaviest first load: ${page} (${lang}) ${kb(gzip)} (${verdict} the ${BUDGET / 1024} KB budget)`);
  return gzip;
}

/**
 * Writes a built file so that a reader never sees it half written: another process (a parallel test, a
 * running Crest) may be serving this folder while we build. Same bytes: nothing is written at all; else a
 * temporary file renamed over the old one (a rename is atomic on one file system).
 */
function writeAtomic(path, bytes) {
  try {
    if (Buffer.compare(readFileSync(path), bytes) === 0) return;
  } catch {
    // not there yet
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/**
 * Removes what an earlier build left and this one did not write. The folder is never emptied first: it may
 * be being served, and chunk names are content hashes, so an identical rebuild changes nothing. Another
 * build's temporary files (`*.tmp`, renamed into place in a moment) are left alone.
 */
function prune(metafile) {
  const keep = new Set(['index.html', 'sizes.json', ...Object.keys(metafile.outputs).map((p) => p.slice(p.lastIndexOf('/') + 1))]);
  for (const name of readdirSync(out)) if (!keep.has(name) && !name.endsWith('.tmp')) rmSync(join(out, name), { force: true, recursive: true });
}

mkdirSync(out, { recursive: true });
writeAtomic(join(out, 'index.html'), readFileSync(join(root, 'client', 'index.html')));

if (watch) {
  const ctx = await context({ ...options, plugins: [minifyLitCss, withoutWebTransport, { name: 'report', setup: (b) => b.onEnd((r) => r.metafile && (prune(r.metafile), report(r.metafile))) }] });
  await ctx.watch();
  console.log('watching client/ …');
} else {
  // Built in memory, then written file by file with writeAtomic.
  const result = await build({ ...options, write: false });
  for (const f of result.outputFiles) writeAtomic(f.path, f.contents);
  prune(result.metafile);
  if (report(result.metafile) > BUDGET) process.exitCode = 1;
}
