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
      return { contents, loader: 'ts' };
    });
  },
};

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
