// Smoke test of `npm run bench`: the orchestrator runs one cheap part (core) in quick mode, as a child
// process, and the JSON it writes carries the environment and the figures with their verdicts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('bench --quick --only core prints the table and writes JSON with the core figures', { timeout: 20_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'crest-bench-smoke-'));
  try {
    const out = join(dir, 'bench.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'core', '--out', out, '--part-args', '--events 200000'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 19_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /detector core, room\.online/);
    const rec = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(rec.quick, true);
    for (const k of ['nproc', 'node', 'redis', 'gitSha']) assert.ok(rec.env[k], `env.${k}`);
    const figs = new Map(rec.results[0].figures.map((f: { key: string }) => [f.key, f]));
    for (const key of ['core_online', 'core_mix', 'core_mix_parse']) {
      const f = figs.get(key) as { value: number } | undefined;
      assert.ok(f && f.value > 0, `figure ${key}`);
    }
    assert.match((figs.get('core_online') as { verdict: string }).verdict, /^(ok|MISSED by)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
