import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveSet } from '../../core/scenario/live-set.ts';
import { engineConfig } from '../../config/config.ts';
import { loadEngine, type CrestRun } from './crest-replay.ts';
import { publicItems, seriesItems } from './items.ts';
import { liveLoaded, liveTargets, writeLiveFolder } from './live.ts';
import { loadFolder } from './load.ts';
import { aggregate, scoreSeries } from './score.ts';

test('--export-sim round-trips: the folder loads (load.ts) into exactly the series the live section scores, at 5 s and 1 s', () => {
  for (const step of [5000, 1000]) {
    // Seeds 1–4: rooms with and without leading columns (2), a control (3), glitches (1: a dropped row).
    const series = liveSet(4, 1, step);
    const dir = mkdtempSync(join(tmpdir(), 'crest-live-'));
    try {
      writeLiveFolder(dir, series, 1);
      assert.deepEqual(readdirSync(dir).sort(), ['README.md', 'labels.json', ...series.map((s) => `${s.name}.csv`)].sort());
      const { series: loaded, warnings } = loadFolder(dir);
      assert.deepEqual(warnings, []);
      const expected = series.map(liveLoaded);
      assert.deepEqual(loaded, expected);
      assert.ok(loaded.every((s) => s.stepMs === step), 'loaded.every((s) => s.stepMs === step)');
      assert.equal(loaded.find((s) => s.name.endsWith('-online'))!.extra, undefined, 'concurrency-only stays so');
      assert.ok(loaded.find((s) => s.name.includes('control'))!.labels.control, "loaded.find((s) => s.name.includes('control'))!.labels.control");
      const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, { step_ms: number }>;
      assert.ok(Object.values(labels).every((l) => l.step_ms === step), 'Object.values(labels).every((l) => l.step_ms === step)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('an exported folder replays as the live section did: same baseline counts, same crest windows', async () => {
  const { engine, reason } = await loadEngine();
  assert.ok(engine, reason);
  const cfg = engineConfig('balanced');
  // Seed 1 (leading columns, a dropped row) and 2 (concurrency only).
  const series = liveSet(2, 1, 5000);
  const dir = mkdtempSync(join(tmpdir(), 'crest-live-'));
  try {
    writeLiveFolder(dir, series, 1);
    const fromFolder = publicItems(dir, undefined, cfg).items;
    const inMemory = seriesItems(series.map(liveLoaded), undefined, cfg).items;
    assert.deepEqual(fromFolder.map((i) => [i.name, i.rowMs, i.rowMsFrom, i.leading]), inMemory.map((i) => [i.name, 5000, 'step_ms', i.leading]));
    assert.deepEqual(inMemory.map((i) => i.leading), [true, false]);
    let windows = 0;
    for (const [k, it] of inMemory.entries()) {
      assert.deepEqual(fromFolder[k]!.counts, it.counts);
      assert.deepEqual(fromFolder[k]!.labels, it.labels);
      const run: CrestRun = it.crest(engine, cfg).run;
      assert.deepEqual(fromFolder[k]!.crest(engine, cfg).run.windows, run.windows, `${it.name}: the same windows`);
      windows += run.windows.length;
    }
    assert.ok(windows > 0, 'the replays called something, so equal windows say something');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live labels resolve to rises from windows_up, neutral from windows, controls without windows', () => {
  const [a, , c] = liveSet(3, 1, 5000).map(liveLoaded);
  assert.equal(a!.riseSource, 'windows_up');
  assert.equal(a!.labels.rises.length, 1);
  const [start, end] = [a!.labels.rises[0]!.start, a!.labels.rises[0]!.end];
  assert.ok(a!.labels.neutral.some(([s, e]) => s <= start && e > end), 'the decay after the top is neutral');
  assert.equal(c!.labels.control, true);
  assert.deepEqual(c!.labels.rises, []);
});

test('targets: each checked against its threshold; at 1 s rows the latency targets are the same 30 s and 90 s', () => {
  const labels = { n: 100, rises: [{ start: 10, end: 40, kind: 'window' as const }], neutral: [], nabWindows: [[10, 50] as const], nabUpWindows: [[10, 40] as const], control: false };
  const control = { n: 100, rises: [], neutral: [], nabWindows: [], nabUpWindows: [], control: true };
  const good = aggregate([scoreSeries(labels, [14]), scoreSeries(control, [])]);
  const bad = aggregate([scoreSeries(labels, [35], [12]), scoreSeries(control, [50])]);
  assert.deepEqual(liveTargets(good, 5000).map((t) => t.met), [true, true, true, true, true]);
  const b = liveTargets(bad, 5000);
  assert.deepEqual(b.map((t) => t.met), [false, false, false, false, false], JSON.stringify(b));
  assert.deepEqual(liveTargets(bad, 1000).map((t) => t.met).slice(2, 4), [true, true], '25 rows at 1 s are 25 s: within 30 s and 90 s');
  assert.equal(liveTargets(bad, 1000)[2]!.target, '≤ 30');
});
