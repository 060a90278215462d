/**
 * The two sets the harness scores, as items ready to replay: a public-format folder (one `ts,value` CSV per
 * series + labels.json) and N generated rooms. Shared by run.ts (the table) and matched-rate.ts.
 */
import type { EngineConfig } from '../../core/engine-config.ts';
import { forecastErrors, replayCounts, replayRowTimes, REPLAY_T0, roomIdFor, rowAt, rowMsProblem, runEngine, type CrestRun, type EngineApi, type ForecastError } from './crest-replay.ts';
import { loadFolder } from './load.ts';
import { loadScenario, simulatedRooms, simulatedSteps, SIM_START_TS } from './simulated.ts';
import { toCounts, type TransformInfo } from './transform.ts';
import type { LoadedSeries, ScoringLabels } from './types.ts';

/** One series or room: labels, the counts the baselines see, and how to replay it through the engine. */
export interface Item {
  name: string;
  n: number;
  labels: ScoringLabels;
  note: string;
  /** Baseline input. */
  counts: number[];
  baselineFrom: number;
  tsOfRow: (row: number) => number;
  /** Event time per row in the crest replay, and where it came from (the series' step_ms, --row-ms, or one sample). */
  rowMs: number;
  rowMsFrom: 'step_ms' | '--row-ms' | 'sample';
  /** The crest replay also gets entry and interaction events (the folder has those columns; simulated rooms always). */
  leading: boolean;
  crest: (engine: EngineApi, cfg: EngineConfig) => { run: CrestRun; forecasts: ForecastError[] };
}

/**
 * Event time per row in the crest replay (the baselines work per row and never see it): `rowMsArg` when given
 * (a number for every series, or 'sample' for one row = one detector sample), else the series' own step_ms when
 * the detector can take it (rowMsProblem null), else one sample.
 */
export function rowMsFor(stepMs: number | null, rowMsArg: number | 'sample' | undefined, cfg: EngineConfig): Pick<Item, 'rowMs' | 'rowMsFrom'> {
  const sampleMs = cfg.detector.sampleMs;
  if (rowMsArg === 'sample') return { rowMs: sampleMs, rowMsFrom: 'sample' };
  if (rowMsArg !== undefined) return { rowMs: rowMsArg, rowMsFrom: '--row-ms' };
  if (stepMs !== null && rowMsProblem(stepMs, cfg) === null) return { rowMs: stepMs, rowMsFrom: 'step_ms' };
  return { rowMs: sampleMs, rowMsFrom: 'sample' };
}

export function publicItems(
  dir: string,
  rowMsArg: number | 'sample' | undefined,
  cfg: EngineConfig,
  only?: string,
): { items: Item[]; warnings: string[]; transforms: Record<string, TransformInfo> } {
  const { series, warnings } = loadFolder(dir);
  const r = seriesItems(series, rowMsArg, cfg, only);
  return { ...r, warnings: [...warnings, ...r.warnings] };
}

/** Loaded series (a folder's, or the live set's in memory: the same path, so an export scores as it was scored) as items. */
export function seriesItems(
  series: readonly LoadedSeries[],
  rowMsArg: number | 'sample' | undefined,
  cfg: EngineConfig,
  only?: string,
): { items: Item[]; warnings: string[]; transforms: Record<string, TransformInfo> } {
  const warnings: string[] = [];
  const transforms: Record<string, TransformInfo> = {};
  const items: Item[] = [];
  for (const s of series) {
    if (only && !s.name.includes(only)) continue;
    warnings.push(...s.warnings);
    const { counts, info } = toCounts(s.values);
    transforms[s.name] = info;
    const room = roomIdFor(s.name);
    const { rowMs, rowMsFrom } = rowMsFor(s.stepMs, rowMsArg, cfg);
    // At the series' own step a row it lacks (a dropped report) is a gap in time, as it was live.
    const times = replayRowTimes(rowMsFrom === 'step_ms' ? s.ts : undefined, s.values.length, rowMs);
    const rowOf = (ts: number) => rowAt(times, ts);
    items.push({
      name: s.name,
      n: s.values.length,
      labels: s.labels,
      note: `${info.mode}${info.clamped ? ` clamped ${info.clamped}` : ''}; rises from ${s.riseSource}`,
      counts,
      baselineFrom: 0,
      tsOfRow: (row) => s.ts[row]!,
      rowMs,
      rowMsFrom,
      leading: s.extra !== undefined,
      crest: (eng, cfg) => {
        const run = replayCounts(eng, cfg, room, counts, rowMs, s.extra, times);
        return { run, forecasts: forecastErrors(run.alarms, counts, rowOf) };
      },
    });
  }
  return { items, warnings, transforms };
}

export async function simulatedItems(
  n: number,
  sampleMs: number,
  only?: string,
  firstSeed = 1,
): Promise<{ items: Item[]; warnings: string[] } | { skipped: string }> {
  const { api, reason } = await loadScenario();
  if (!api) return { skipped: reason };
  const rooms = simulatedRooms(api, n, sampleMs, firstSeed);
  const items: Item[] = rooms
    .filter((r) => !only || r.name.includes(only))
    .map((r) => ({
      name: r.name,
      n: r.n,
      labels: r.labels,
      note: `${r.scenario} seed ${r.seed}`,
      counts: r.counts,
      baselineFrom: r.firstRow,
      tsOfRow: (row) => SIM_START_TS + row * sampleMs,
      rowMs: sampleMs,
      rowMsFrom: 'sample' as const,
      leading: true,
      crest: (eng, cfg) => {
        const run = runEngine(eng, cfg, r.name, simulatedSteps(r, sampleMs), r.n, r.rowOf);
        // Forecast judged against the true concurrency that followed (the generator's truth).
        return { run, forecasts: forecastErrors(run.alarms, r.truth, r.rowOf) };
      },
    }));
  return { items, warnings: [] };
}
