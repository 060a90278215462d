#!/usr/bin/env node
// Builds the Lit client into dist/client/: index.html + one minified app.js (CSS is inlined as text
// into the components' shadow roots, so there is no separate stylesheet). Prints the gzip size, which
// the bench reports against the 60 KB budget. `--watch` rebuilds on change; `--no-sourcemap` skips maps.
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'client');
const watch = process.argv.includes('--watch');
const sourcemap = !process.argv.includes('--no-sourcemap');
const BUDGET = 60 * 1024;

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

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: [join(root, 'client', 'crest-app.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: sourcemap ? 'linked' : false,
  legalComments: 'none',
  loader: { '.css': 'text' },
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  metafile: true,
  plugins: [minifyLitCss],
};

function report() {
  let total = 0;
  const rows = [];
  for (const name of readdirSync(out)) {
    if (!/\.(js|css|html)$/.test(name)) continue;
    const raw = readFileSync(join(out, name));
    const gz = gzipSync(raw, { level: 9 }).length;
    if (/\.(js|css)$/.test(name)) total += gz;
    rows.push(`  ${name.padEnd(12)} ${(raw.length / 1024).toFixed(1).padStart(7)} KB  ${(gz / 1024).toFixed(1).padStart(6)} KB gzip`);
  }
  console.log(`dist/client:\n${rows.join('\n')}`);
  const verdict = total <= BUDGET ? 'within' : 'OVER';
  console.log(`client JS+CSS gzip: ${(total / 1024).toFixed(1)} KB (${verdict} the ${BUDGET / 1024} KB budget)`);
  return total;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(join(root, 'client', 'index.html'), join(out, 'index.html'));

if (watch) {
  const ctx = await context({ ...options, plugins: [minifyLitCss, { name: 'report', setup: (b) => b.onEnd(() => report()) }] });
  await ctx.watch();
  console.log('watching client/ …');
} else {
  await build(options);
  const total = report();
  if (total > BUDGET) process.exitCode = 1;
}
