/**
 * Client bundle size: builds dist/client with client/build.mjs (no source maps) and sums the gzip
 * (level 9) of the JS and CSS a browser downloads — the same sum build.mjs prints. Target ≤ 60 KB.
 *   node --import tsx bench/bundle-size.ts [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { main, type PartResult } from './support/common.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function runBundle(): Promise<PartResult> {
  // build.mjs exits 1 when over budget; the figure below says so (MISSED), so only a crash is an error.
  const b = spawnSync(process.execPath, [join(ROOT, 'client/build.mjs'), '--no-sourcemap'], { encoding: 'utf8' });
  if (b.status !== 0 && !/client JS\+CSS gzip/.test(b.stdout)) throw new Error(`client build failed: ${b.stderr || b.stdout}`);
  const dir = join(ROOT, 'dist/client');
  const files: Record<string, { raw: number; gzip: number }> = {};
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (!/\.(js|css|html)$/.test(name)) continue;
    const raw = readFileSync(join(dir, name));
    const gzip = gzipSync(raw, { level: 9 }).length;
    files[name] = { raw: raw.length, gzip };
    if (/\.(js|css)$/.test(name)) total += gzip;
  }
  return {
    part: 'bundle',
    seconds: 0,
    figures: [
      {
        key: 'client_gzip',
        label: 'client bundle JS+CSS (gzip -9)',
        value: total / 1024,
        unit: 'KB',
        target: { of: 'value', op: '<=', value: 60 },
        note: Object.entries(files).map(([n, f]) => `${n} ${(f.raw / 1024).toFixed(1)} KB → ${(f.gzip / 1024).toFixed(1)} KB`).join(', '),
      },
    ],
    details: { files, totalGzipBytes: total },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) main(runBundle);
