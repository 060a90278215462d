/**
 * The live set in the harness (issue 13): rooms from core/scenario/live-set.ts, loaded exactly as a folder
 * in the public format would be (labels through load.ts's resolveLabels, items through items.ts's
 * seriesItems), so `--export-sim DIR` then `--data DIR` scores what the live section scored. Also the
 * issue's simulator targets, checked against one profile's figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { liveCsv, LIVE_DURATION_S, LIVE_VIEWERS_MAX, LIVE_VIEWERS_MIN, type LiveSeries } from '../../core/scenario/live-set.ts';
import { resolveLabels } from './load.ts';
import type { AggregateScore } from './score.ts';
import type { LoadedSeries } from './types.ts';

/** The default live set: seeds 1–48 (fixed; `--live N` takes seeds 1…N, `--live-seed-from S` another slice). */
export const LIVE_DEFAULT_ROOMS = 48;
export const LIVE_DEFAULT_FIRST_SEED = 1;

/** A live series as the folder loader would have read it from its export. */
export function liveLoaded(s: LiveSeries): LoadedSeries {
  const r = resolveLabels(s.name, s.labels, s.ts, s.value);
  return {
    name: s.name,
    ts: s.ts,
    values: s.value,
    ...(s.extra ? { extra: s.extra } : {}),
    stepMs: s.stepMs,
    labels: r.labels,
    riseSource: r.riseSource,
    warnings: r.warnings,
  };
}

/** One line describing the set, for its table's title. */
export function liveSetTitle(series: readonly LiveSeries[], firstSeed: number, stepMs: number): string {
  const controls = series.filter((s) => s.control).length;
  const online = series.filter((s) => s.concurrencyOnly).length;
  const rises = series.reduce((a, s) => a + s.labels.windows_up.length, 0);
  return (
    `live: ${series.length} rooms × ${LIVE_DURATION_S / 60} min, ${stepMs / 1000} s rows (core/scenario/live-set.ts, seeds ${firstSeed}–${firstSeed + series.length - 1}; ` +
    `${rises} build-ups, ${controls} no-event controls, ${online} concurrency-only; ${LIVE_VIEWERS_MIN}–${LIVE_VIEWERS_MAX.toLocaleString('en')} viewers log-uniform)`
  );
}

/** Writes the set as a folder in the public format: one CSV per room and labels.json (with step_ms), plus a README. */
export function writeLiveFolder(dir: string, series: readonly LiveSeries[], firstSeed: number): void {
  mkdirSync(dir, { recursive: true });
  const labels: Record<string, unknown> = {};
  for (const s of series) {
    writeFileSync(join(dir, `${s.name}.csv`), liveCsv(s));
    labels[s.name] = s.labels;
  }
  writeFileSync(join(dir, 'labels.json'), JSON.stringify(labels, null, 1) + '\n');
  writeFileSync(
    join(dir, 'README.md'),
    [
      `# Crest live set, seeds ${firstSeed}–${firstSeed + series.length - 1}, ${series[0]?.stepMs ?? 0} ms rows`,
      '',
      'Written by `npm run eval -- --export-sim DIR` from core/scenario/live-set.ts (its module comment defines the labels).',
      'CSV: `ts,value` (the platform online count) and, except in concurrency-only rooms, `entries_organic,entries_paid,interactions`',
      '(messages in (previous row ts, this row ts]). labels.json: `windows_up` = build-up start → top of concurrency (the rises scored),',
      '`windows` = build-up start → back near the level before (NAB; neutral past the top), `step_ms`; `episodes` (giveaways, teasers,',
      'paid bursts: not windows, an alarm there is a false alarm) and `glitches` are for reports. Rooms with no window are the controls.',
      'Replay: `npm run eval -- --data DIR --simulated 0 --live 0`.',
      '',
    ].join('\n'),
  );
}

/** One of issue 13's simulator targets, checked. */
export interface TargetCheck {
  label: string;
  value: number | null;
  target: string;
  met: boolean;
}

/**
 * Issue 13's simulator targets (defined for 5 s rows): rise F1 ≥ 0.95, 0 alarms on the no-event controls, median onset
 * ≤ 6 rows (30 s) after the build-up starts, p90 ≤ 18 rows (90 s), `building` retracted on ≤ 5 % of the rises hit.
 * At another row step the latency targets are the same times (30 s, 90 s) in that step's rows.
 */
export function liveTargets(a: AggregateScore, stepMs: number): TargetCheck[] {
  const med = 30_000 / stepMs;
  const p90 = 90_000 / stepMs;
  const le = (v: number | null, t: number) => v !== null && v <= t;
  return [
    { label: 'rise F1 (pooled)', value: a.f1, target: '≥ 0.95', met: a.f1 !== null && a.f1 >= 0.95 },
    { label: 'alarms on no-event controls', value: a.controlFa, target: '= 0', met: a.controlFa === 0 },
    { label: 'onset latency median (rows)', value: a.latencyMedian, target: `≤ ${med}`, met: le(a.latencyMedian, med) },
    { label: 'onset latency p90 (rows)', value: a.latencyP90, target: `≤ ${p90}`, met: le(a.latencyP90, p90) },
    { label: 'building retracted on hit rises %', value: a.retractedOnHitPct, target: '≤ 5', met: le(a.retractedOnHitPct, 5) },
  ];
}

export function formatTargets(detector: string, checks: readonly TargetCheck[], stepMs: number): string {
  const fmt = (v: number | null) => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(3));
  const lines = [`issue 13 simulator targets, ${detector} on this set (${stepMs / 1000} s rows${stepMs === 5000 ? '' : '; latency targets are 30 s and 90 s in these rows'}):`];
  for (const c of checks) lines.push(`  ${c.label.padEnd(36)} ${fmt(c.value).padStart(8)}   target ${c.target.padEnd(7)} ${c.met ? 'met' : 'NOT met'}`);
  lines.push(`  → ${checks.filter((c) => c.met).length} of ${checks.length} met`);
  return lines.join('\n');
}
