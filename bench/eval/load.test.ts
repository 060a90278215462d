import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as loadModule from './load.ts';
import { loadFolder, parseSeriesCsv } from './load.ts';
import { toCounts } from './transform.ts';

test('loads a folder: odd rows reported and skipped, negative ts and floats kept, labels resolved to rows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crest-eval-'));
  try {
    const rows = ['ts,value', '-3000,1.5', '-2000,2.5', 'oops,3', '-1000,', '0,2.25', '1000,-0.5', '2000,NaN', '3000,4e1', ''];
    writeFileSync(join(dir, 'a.csv'), rows.join('\n'));
    writeFileSync(join(dir, 'ctrl.csv'), 'ts,value\r\n0,1\r\n60000,1\r\n');
    writeFileSync(join(dir, 'orphan.csv'), 'ts,value\n0,1\n');
    writeFileSync(
      join(dir, 'labels.json'),
      JSON.stringify({
        a: { windows: [[-2000, 0]], points: [-2000, 1000], points_up: [1000] },
        ctrl: { windows: [], points: [] },
        missing: { windows: [] },
      }),
    );
    const { series, warnings } = loadFolder(dir);
    assert.deepEqual(series.map((s) => s.name), ['a', 'ctrl']);
    const a = series[0]!;
    assert.deepEqual(a.ts, [-3000, -2000, 0, 1000, 3000]);
    assert.deepEqual(a.values, [1.5, 2.5, 2.25, -0.5, 40]);
    assert.ok(a.warnings.some((w) => w.includes('skipped 3 row')), a.warnings.join('|'));
    assert.equal(a.riseSource, 'points_up');
    assert.deepEqual(a.labels.rises, [{ start: 3, end: 4, kind: 'point' }]);
    assert.deepEqual(a.labels.nabWindows, [[1, 2]]);
    assert.equal(a.labels.control, false);
    assert.equal(series[1]!.labels.control, true);
    assert.ok(warnings.some((w) => w.includes('orphan')), "warnings.some((w) => w.includes('orphan'))");
    assert.ok(warnings.some((w) => w.includes('missing')), "warnings.some((w) => w.includes('missing'))");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rows out of ts order are sorted and reported; columns are found by name', () => {
  const p = parseSeriesCsv('value,ts\n5,20\n6,10\n', 'x');
  assert.deepEqual(p.ts, [10, 20]);
  assert.deepEqual(p.values, [6, 5]);
  assert.ok(p.warnings[0]!.includes('out of ts order'), 'p.warnings[0]!.includes(\'out of ts order\')');
});

test('counts: ratio mode keeps every ratio, signed mode maps one warm-up σ to 5 % of the level, both causal', () => {
  const pos = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 20, 15];
  const r = toCounts(pos);
  assert.equal(r.info.mode, 'ratio');
  assert.deepEqual(r.counts.slice(-2), [2000, 1500]);
  const signed = [-1, 1, -1, 1, 0, 0, -1, 1, 0, 0, -100, 5];
  const s = toCounts(signed);
  assert.equal(s.info.mode, 'signed');
  assert.equal(s.counts[10], 0, 'clamped at 0');
  assert.equal(s.info.clamped, 1);
  const longer = toCounts([...signed, 7, 8]);
  assert.deepEqual(longer.counts.slice(0, signed.length), s.counts, 'appending rows never changes earlier counts');
  assert.ok(s.counts.every((c) => Number.isInteger(c) && c >= 0), 's.counts.every((c) => Number.isInteger(c) && c >= 0)');
});

test('labels without windows_up/points_up: rises derived by the README rule and reported', () => {
  const ts = Array.from({ length: 40 }, (_, i) => i * 1000);
  const values = ts.map((_, i) => (i >= 20 && i < 30 ? 10 : i >= 30 ? 1 : 5));
  const { resolveLabels } = loadModule;
  const up = resolveLabels('x', { windows: [[20_000, 29_000], [30_000, 39_000]] }, ts, values);
  assert.equal(up.riseSource, 'derived windows_up');
  assert.deepEqual(up.labels.rises, [{ start: 20, end: 29, kind: 'window' }], 'the second window is a fall');
  const pts = resolveLabels('y', { points: [20_000, 30_000], annotators: {} }, ts, values);
  assert.equal(pts.riseSource, 'derived points_up');
  assert.deepEqual(pts.labels.rises, [{ start: 20, end: 25, kind: 'point' }]);
  assert.ok(up.warnings.some((w) => w.includes('derived')), "up.warnings.some((w) => w.includes('derived'))");
});

test('extra columns (entries by source, interactions) are read by header name; step_ms picks the replay step when the detector can take it', async () => {
  const { rowMsFor } = await import('./items.ts');
  const { engineConfig } = await import('../../config/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'crest-eval-'));
  try {
    writeFileSync(join(dir, 'live.csv'), 'interactions,ts,entries_paid,value,entries_organic\n7,5000,0,100,3\n9,10000,2,104,x\n');
    writeFileSync(join(dir, 'plain.csv'), 'ts,value\n0,1\n300000,2\n');
    writeFileSync(join(dir, 'labels.json'), JSON.stringify({ live: { windows: [], step_ms: 5000 }, plain: { windows: [], step_ms: 300000 } }));
    const { series } = loadFolder(dir);
    const live = series.find((s) => s.name === 'live')!;
    assert.deepEqual(live.extra, { entries_organic: [3, 0], entries_paid: [0, 2], interactions: [7, 9] });
    assert.ok(live.warnings.some((w) => w.includes('read as 0')), live.warnings.join('|'));
    const plain = series.find((s) => s.name === 'plain')!;
    assert.equal(plain.extra, undefined, 'concurrency only');
    const cfg = engineConfig('balanced');
    assert.deepEqual(rowMsFor(live.stepMs, undefined, cfg), { rowMs: 5000, rowMsFrom: 'step_ms' });
    assert.deepEqual(rowMsFor(plain.stepMs, undefined, cfg), { rowMs: cfg.detector.sampleMs, rowMsFrom: 'sample' }, '5 min is a gap to the engine');
    assert.deepEqual(rowMsFor(null, undefined, cfg), { rowMs: cfg.detector.sampleMs, rowMsFrom: 'sample' });
    assert.deepEqual(rowMsFor(live.stepMs, 'sample', cfg), { rowMs: cfg.detector.sampleMs, rowMsFrom: 'sample' });
    assert.deepEqual(rowMsFor(live.stepMs, 10000, cfg), { rowMs: 10000, rowMsFrom: '--row-ms' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
