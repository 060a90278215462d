/**
 * Client bundle size: builds dist/client with client/build.mjs (no source maps) and reads the figures
 * it wrote (dist/client/sizes.json): for each page and language, the gzip (level 9) of every file a first
 * visit downloads — app.js and the chunks that route imports. The target applies to the heaviest page;
 * the sum over all files (what a visitor of every page would fetch) is reported beside it, and so is what each
 * on-demand part of a page (the operator's details) adds when opened. Target ≤ 40 KB.
 *   node --import tsx bench/bundle-size.ts [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type PartResult } from './support/common.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The shape client/build.mjs writes to dist/client/sizes.json. */
export interface ClientSizes {
  budget: number;
  heaviest: { page: string; lang: string; gzip: number };
  totalGzip: number;
  pages: Record<string, Record<string, { files: string[]; gzip: number }>>;
  /** Per page and on-demand part, per language: the files opening it adds to the first load, and their gzip. */
  lazy: Record<string, Record<string, Record<string, { files: string[]; gzip: number }>>>;
  files: Record<string, { raw: number; gzip: number }>;
}

export async function runBundle(): Promise<PartResult> {
  // build.mjs exits 1 when over budget; the figure below says so (MISSED), so only a crash is an error.
  const b = spawnSync(process.execPath, [join(ROOT, 'client/build.mjs'), '--no-sourcemap'], { encoding: 'utf8' });
  if (b.status !== 0 && !/heaviest first load/.test(b.stdout)) throw new Error(`client build failed: ${b.stderr || b.stdout}`);
  const sizes = JSON.parse(readFileSync(join(ROOT, 'dist/client/sizes.json'), 'utf8')) as ClientSizes;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const { page, lang, gzip } = sizes.heaviest;
  return {
    part: 'bundle',
    seconds: 0,
    figures: [
      {
        key: 'client_gzip',
        label: `client first load, heaviest page (${page}, ${lang}), gzip -9`,
        value: gzip / 1024,
        unit: 'KB',
        target: { of: 'value', op: '<=', value: sizes.budget / 1024 },
        note: Object.entries(sizes.pages)
          .map(([p, l]) => `${p} ${kb(l.en!.gzip)} / zh-CN ${kb(l['zh-CN']!.gzip)}`)
          .join(', '),
      },
      ...Object.entries(sizes.lazy).flatMap(([p, parts]) =>
        Object.entries(parts).map(([part, l]) => ({
          key: `client_gzip_lazy_${p}_${part}`,
          label: `${p} page, ${part} opened on demand: added gzip -9`,
          value: l.en!.gzip / 1024,
          unit: 'KB',
          note: `zh-CN ${kb(l['zh-CN']!.gzip)}; not in the first load`,
        })),
      ),
      {
        key: 'client_gzip_all',
        label: `all client files (${Object.keys(sizes.files).filter((f) => f.endsWith('.js')).length} JS), gzip -9`,
        value: sizes.totalGzip / 1024,
        unit: 'KB',
      },
    ],
    details: sizes as unknown as Record<string, unknown>,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main(runBundle);
