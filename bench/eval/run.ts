/**
 * `npm run eval -- [--data DIR] [--row-ms MS|sample] [--profile NAME|all] [--simulated N] [--seed-from S] [--live N] [--live-step 1000|5000] [--live-seed-from S] [--export-sim DIR] [--alarms FILE] [--json FILE] [--only TEXT] [--alarm-on first-call|rising] [--no-sweep]`
 *
 * Replays every labelled series through the live core (core/engine.ts) as a room, runs the baselines on
 * the same counts, scores all of them with score.ts, prints one table per set, sweeps every detector's
 * alarm knob (latency at matched false-alarm rates), writes JSON and one SVG plot per set beside it.
 * Standalone: app code never imports bench/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { engineConfig } from '../../config/config.ts';
import { DETECTOR_PROFILE_NAMES, type DetectorProfileName } from '../../config/detector-profiles.ts';
import type { EngineConfig } from '../../core/engine-config.ts';
import { BASELINES, runBaseline } from './baselines/index.ts';
import { BOCPD_DEFAULTS } from './baselines/bocpd.ts';
import { crestAlarmRows, loadEngine, rowMsProblem, type AlarmOn, type ForecastError } from './crest-replay.ts';
import { publicItems, seriesItems, simulatedItems, type Item } from './items.ts';
import { formatTargets, LIVE_DEFAULT_FIRST_SEED, LIVE_DEFAULT_ROOMS, liveLoaded, liveSetTitle, liveTargets, writeLiveFolder, type TargetCheck } from './live.ts';
import { liveSet, LIVE_STEPS_MS } from '../../core/scenario/live-set.ts';
import { POINT_MARGIN_ROWS } from './load.ts';
import { aggregate, median, scoreSeries, type AggregateScore, type SeriesScore } from './score.ts';
import { SIM_DURATION_MS } from './simulated.ts';
import { LEVEL, SIGNED_SIGMA_FRACTION, WARMUP_ROWS } from './transform.ts';
import type { Alarm } from './types.ts';
import { formatSetTable } from './table.ts';
import { baselineSweep, bocpdAlarms, formatRates, pickAtRates, RATES, type SweepPoint } from './matched-rate.ts';
import { CrestRuns, crestSettings, settingLabel } from './crest-sweep.ts';
import { latencyPlotSvg } from './plot.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(repoRoot, '../shared/data/public') },
    'row-ms': { type: 'string' },
    profile: { type: 'string', default: 'all' },
    simulated: { type: 'string', default: '24' },
    'seed-from': { type: 'string', default: '1' },
    live: { type: 'string', default: String(LIVE_DEFAULT_ROOMS) },
    'live-step': { type: 'string', default: '5000' },
    'live-seed-from': { type: 'string', default: String(LIVE_DEFAULT_FIRST_SEED) },
    'export-sim': { type: 'string' },
    alarms: { type: 'string' },
    json: { type: 'string' },
    only: { type: 'string' },
    'alarm-on': { type: 'string', default: 'first-call' },
    'no-sweep': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log(`npm run eval -- [--data DIR] [--row-ms MS] [--profile ${DETECTOR_PROFILE_NAMES.join('|')}|all] [--simulated N] [--seed-from S] [--alarms FILE] [--json FILE] [--only TEXT]
  --data DIR       folder of ts,value CSVs + labels.json (default ../shared/data/public)
  --row-ms MS      event time per row when a series is replayed through crest, for every series (a multiple of
                   sampleMs, at most gapResetSamples × sampleMs); 'sample' = one row per detector sample.
                   Default: the series' labels.json step_ms when the detector can take it, else one sample
  --profile P      crest profile(s) to score (default all)
  --simulated N    also score N generated rooms (default 24; 0 = skip)
  --seed-from S    first generator seed (default 1: seeds 1–24; 25 on are rooms the profiles were not set on)
  --live N         also score N livestream-shaped rooms (core/scenario/live-set.ts; default ${LIVE_DEFAULT_ROOMS}; 0 = skip)
  --live-step MS   their row step: 5000 (default) or 1000 — the same rooms, sampled at another step
  --live-seed-from S  first live seed (default ${LIVE_DEFAULT_FIRST_SEED}: seeds ${LIVE_DEFAULT_FIRST_SEED}–${LIVE_DEFAULT_FIRST_SEED + LIVE_DEFAULT_ROOMS - 1})
  --export-sim DIR write the live set there in the public folder format (CSVs + labels.json with step_ms);
                   --data DIR --live 0 --simulated 0 then scores it as the live section did
  --alarms FILE    write every detector's raw alarms as JSON
  --json FILE      results JSON (default bench/results/eval-<date>.json)
  --only TEXT      only series whose name contains TEXT
  --alarm-on A     first-call (default: first building or rising of a window; retracted = false alarm) or
                   rising (confirmed calls only, the pre-early-stage scoring)
  --no-sweep       skip the knob sweeps, the matched-rate table and the plot`);
  process.exit(0);
}
const alarmOn = args['alarm-on'] as AlarmOn;
if (alarmOn !== 'first-call' && alarmOn !== 'rising') {
  console.error('--alarm-on: expected first-call (building or rising; retracted = false alarm) or rising (confirmed only)');
  process.exit(2);
}

const profiles: DetectorProfileName[] =
  args.profile === 'all' ? [...DETECTOR_PROFILE_NAMES] : (args.profile!.split(',') as DetectorProfileName[]);
for (const p of profiles) {
  if (!DETECTOR_PROFILE_NAMES.includes(p)) {
    console.error(`--profile: unknown profile "${p}"; expected ${DETECTOR_PROFILE_NAMES.join(', ')} or all`);
    process.exit(2);
  }
}
const simulatedCount = Number(args.simulated);
const seedFrom = Number(args['seed-from']);
if (!Number.isInteger(seedFrom) || seedFrom < 1) {
  console.error('--seed-from: expected a whole number ≥ 1');
  process.exit(2);
}
const liveCount = Number(args.live);
const liveStep = Number(args['live-step']);
const liveSeedFrom = Number(args['live-seed-from']);
if (!Number.isInteger(liveCount) || liveCount < 0) {
  console.error('--live: expected a whole number of rooms (0 to skip)');
  process.exit(2);
}
if (!(LIVE_STEPS_MS as readonly number[]).includes(liveStep)) {
  console.error(`--live-step: expected ${LIVE_STEPS_MS.join(' or ')}`);
  process.exit(2);
}
if (!Number.isInteger(liveSeedFrom) || liveSeedFrom < 1) {
  console.error('--live-seed-from: expected a whole number ≥ 1');
  process.exit(2);
}
if (args['export-sim'] !== undefined && liveCount === 0) {
  console.error('--export-sim: needs live rooms (--live N with N ≥ 1)');
  process.exit(2);
}
if (!Number.isInteger(simulatedCount) || simulatedCount < 0) {
  console.error('--simulated: expected a whole number of rooms (0 to skip)');
  process.exit(2);
}

/** One scored series of one set, every detector side by side. */
export interface ItemResult {
  name: string;
  n: number;
  rises: number;
  control: boolean;
  note: string;
  scores: Record<string, SeriesScore>;
  alarms: Record<string, Alarm[]>;
  forecasts: Record<string, ForecastError[]>;
}

export interface SetResult {
  name: string;
  detectors: string[];
  items: ItemResult[];
  aggregate: Record<string, AggregateScore>;
  forecast: Record<string, { n: number; heightAbsPctMedian: number | null; timeAbsRowsMedian: number | null; timeRowsMedian: number | null }>;
  warnings: string[];
  /** Which row step the crest replay used, counted per step. */
  steps: string;
  seconds: number;
}

const { engine, reason: engineMissing } = await loadEngine();
const crestNames = engine ? profiles.map((p) => `crest-${p}`) : [];
const detectorNames = [...crestNames, ...BASELINES.map((b) => b.name)];
const cfgs = new Map<string, EngineConfig>(profiles.map((p) => [`crest-${p}`, engineConfig(p)]));
const crestRuns = engine ? new CrestRuns(engine, (p) => cfgs.get(`crest-${p}`)!) : null;
const sampleMs = engineConfig('balanced').detector.sampleMs;
const rowMsArg: number | 'sample' | undefined =
  args['row-ms'] === undefined ? undefined : args['row-ms'] === 'sample' ? 'sample' : Number(args['row-ms']);
if (typeof rowMsArg === 'number') {
  for (const [name, cfg] of cfgs) {
    const problem = rowMsProblem(rowMsArg, cfg);
    if (problem) {
      console.error(`--row-ms: ${args['row-ms']} ${problem} (${name})`);
      process.exit(2);
    }
  }
}

/** "12 × 1000 ms (step_ms), 8 × 1000 ms (sample)": which row step each series of a set was replayed at. */
function stepSummary(items: readonly Item[]): string {
  const byStep = new Map<string, number>();
  for (const it of items) {
    const k = `${it.rowMs} ms (${it.rowMsFrom}${it.leading ? ', + entries/interactions' : ''})`;
    byStep.set(k, (byStep.get(k) ?? 0) + 1);
  }
  return [...byStep].map(([k, n]) => `${n} × ${k}`).join(', ');
}

function scoreSet(setName: string, items: Item[], warnings: string[]): SetResult {
  const t0 = performance.now();
  const results: ItemResult[] = [];
  for (const it of items) {
    const r: ItemResult = { name: it.name, n: it.n, rises: it.labels.rises.length, control: it.labels.control, note: it.note, scores: {}, alarms: {}, forecasts: {} };
    const record = (det: string, rows: number[], retracted: number[] = []) => {
      r.alarms[det] = [
        ...rows.map((row) => ({ row, ts: it.tsOfRow(row), state: 'rising' as const })),
        ...retracted.map((row) => ({ row, ts: it.tsOfRow(row), state: 'retracted' as const })),
      ].sort((a, b) => a.row - b.row);
      r.scores[det] = scoreSeries(it.labels, rows, retracted);
    };
    if (engine) {
      for (const det of crestNames) {
        const { run, forecasts } = crestRuns!.get(it, det.slice('crest-'.length) as DetectorProfileName);
        const { rows, retractedRows } = crestAlarmRows(run, alarmOn);
        record(det, rows, retractedRows);
        r.forecasts[det] = forecasts;
        if (run.notApplied) r.note += ` ${det}: ${run.notApplied} events not applied;`;
      }
    }
    for (const b of BASELINES) {
      // BOCPD's posterior is computed once per item and shared with its threshold sweep (same alarms as createBocpd).
      const rows =
        b.name === 'bocpd' ? bocpdAlarms(it, BOCPD_DEFAULTS.threshold) : runBaseline(b, it.counts.slice(it.baselineFrom)).map((x) => x + it.baselineFrom);
      record(b.name, rows);
    }
    results.push(r);
  }
  const agg: Record<string, AggregateScore> = {};
  const forecast: SetResult['forecast'] = {};
  for (const det of detectorNames) {
    agg[det] = aggregate(results.map((r) => r.scores[det]!));
    if (det.startsWith('crest-')) {
      const errs = results.flatMap((r) => r.forecasts[det] ?? []);
      forecast[det] = {
        n: errs.length,
        heightAbsPctMedian: median(errs.map((e) => e.heightAbsPct)),
        timeAbsRowsMedian: median(errs.map((e) => Math.abs(e.timeRows))),
        timeRowsMedian: median(errs.map((e) => e.timeRows)),
      };
    }
  }
  return { name: setName, detectors: detectorNames, items: results, aggregate: agg, forecast, warnings, steps: stepSummary(items), seconds: (performance.now() - t0) / 1000 };
}

const started = performance.now();
const sets: SetResult[] = [];
/** The items of each scored set, for the matched-rate sweep. */
const setItems: Item[][] = [];
/** File-name slug of each scored set (its plot). */
const setSlugs: string[] = [];
if (!engine) console.log(`NOTE: crest detector not scored — ${engineMissing}. Baselines only.\n`);

const pub = publicItems(resolve(args.data!), rowMsArg, engineConfig('balanced'), args.only);
const dataDir = resolve(args.data!);
const isPublic = dataDir === resolve(repoRoot, '../shared/data/public');
/** Name of the folder set in file names: `public` for the default folder, else the folder's own name. */
const folderSlug = isPublic ? 'public' : basename(dataDir).replace(/[^A-Za-z0-9_.-]/g, '_') || 'folder';
sets.push(scoreSet(`${isPublic ? 'public' : 'folder'}: ${dataDir}`, pub.items, pub.warnings));
setItems.push(pub.items);
setSlugs.push(folderSlug);
let simNote = '';
if (simulatedCount > 0) {
  const sim = await simulatedItems(simulatedCount, sampleMs, args.only, seedFrom);
  if ('skipped' in sim) simNote = `simulated set skipped: ${sim.skipped}`;
  else {
    sets.push(scoreSet(`simulated: ${simulatedCount} rooms × ${SIM_DURATION_MS / 60_000} min (core/scenario, seeds ${seedFrom}–${seedFrom + simulatedCount - 1})`, sim.items, sim.warnings));
    setItems.push(sim.items);
    setSlugs.push('simulated');
  }
}
/** The live set's index in `sets` and its targets per Crest profile. */
let liveAt = -1;
const liveChecks: Record<string, TargetCheck[]> = {};
if (liveCount > 0) {
  const series = liveSet(liveCount, liveSeedFrom, liveStep);
  if (args['export-sim']) {
    const dir = resolve(args['export-sim']);
    writeLiveFolder(dir, series, liveSeedFrom);
    console.log(`live set (${series.length} rooms, ${liveStep} ms rows) → ${dir}\n`);
  }
  const live = seriesItems(series.map(liveLoaded), rowMsArg, engineConfig('balanced'), args.only);
  liveAt = sets.length;
  sets.push(scoreSet(liveSetTitle(series, liveSeedFrom, liveStep), live.items, live.warnings));
  setItems.push(live.items);
  setSlugs.push('live');
  for (const det of crestNames) liveChecks[det] = liveTargets(sets[liveAt]!.aggregate[det]!, liveStep);
}

for (const [i, s] of sets.entries()) {
  if (s.warnings.length) {
    console.log(`warnings (${s.name}):`);
    for (const w of s.warnings) console.log(`  - ${w}`);
    console.log('');
  }
  console.log(formatSetTable(s));
  console.log(`crest replay row step: ${s.steps}`);
  if (i === liveAt && liveChecks['crest-balanced']) console.log(formatTargets('crest-balanced', liveChecks['crest-balanced'], liveStep));
  console.log('');
}
if (simNote) console.log(simNote);
console.log('Baselines (one default setting each, never tuned per series):');
for (const b of BASELINES) console.log(`  ${b.name.padEnd(13)} ${b.settings}`);
console.log(
  `Replay: row i → room.online at T0 + i·rowMs (rowMs: --row-ms, else the series' step_ms when the detector can take it — a multiple of ${sampleMs} ms, ≤ gapResetSamples × sampleMs — else one ${sampleMs} ms sample; the step per set is printed under its table; simulated rooms: one row = one ${sampleMs} ms sample). Counts: causal affine map frozen after ${WARMUP_ROWS} rows — ` +
    `ratio mode count = x·${LEVEL}/median (no negatives in warm-up), signed mode 1σ = ${SIGNED_SIGMA_FRACTION * 100}% of ${LEVEL}. ` +
    `Point rises hit from the point to +${POINT_MARGIN_ROWS} rows. Baselines see the same counts.`,
);

/** Per set: every detector's sweep (Crest's profiles over crest-sweep.ts's settings, each baseline's knob). */
const sweeps: { set: string; slug: string; points: SweepPoint[]; picks: Record<string, (SweepPoint | null)[]>; seconds: number }[] = [];
if (!args['no-sweep']) {
  sets.forEach((s, i) => {
    const t0 = performance.now();
    const items = setItems[i]!;
    const points: SweepPoint[] = [];
    if (crestRuns) {
      for (const p of profiles) {
        for (const st of crestSettings()) {
          const scores = items.map((it) => {
            const { rows, retractedRows } = crestAlarmRows(crestRuns.get(it, p, st).run, alarmOn);
            return scoreSeries(it.labels, rows, retractedRows);
          });
          points.push({ family: `crest-${p}`, setting: settingLabel(st), isDefault: st.earlyScale === 1 && st.confirmScale === 1, aggregate: aggregate(scores) });
        }
      }
    }
    points.push(...baselineSweep(items));
    const picks = pickAtRates(points);
    const seconds = (performance.now() - t0) / 1000;
    console.log('');
    console.log(formatRates(`${s.name} (swept in ${seconds.toFixed(1)} s)`, points, picks));
    sweeps.push({ set: s.name, slug: setSlugs[i]!, points, picks: Object.fromEntries(picks), seconds });
  });
  console.log('');
}

const totalSeconds = (performance.now() - started) / 1000;
console.log(`done in ${totalSeconds.toFixed(1)} s`);

const date = new Date().toISOString().slice(0, 10);
const jsonPath = resolve(args.json ?? resolve(repoRoot, `bench/results/eval-${date}.json`));
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(
  jsonPath,
  JSON.stringify(
    {
      meta: {
        date: new Date().toISOString(),
        data: resolve(args.data!),
        profiles,
        engine: engine ? 'core/engine.ts' : engineMissing,
        sampleMs,
        rowMs: args['row-ms'] ?? 'step_ms or one sample per series',
        transform: { level: LEVEL, warmupRows: WARMUP_ROWS, signedSigmaFraction: SIGNED_SIGMA_FRACTION, perSeries: pub.transforms },
        baselines: BASELINES.map((b) => ({ name: b.name, settings: b.settings })),
        seconds: totalSeconds,
      },
      sets: sets.map((s) => ({
        name: s.name,
        aggregate: s.aggregate,
        forecast: s.forecast,
        series: s.items.map((i) => ({ name: i.name, n: i.n, rises: i.rises, control: i.control, note: i.note, scores: i.scores })),
        warnings: s.warnings,
        steps: s.steps,
      })),
      alarmOn,
      live: liveAt < 0 ? null : { rooms: liveCount, firstSeed: liveSeedFrom, stepMs: liveStep, targets: liveChecks },
      rates: RATES.map((r) => r.label),
      sweeps,
    },
    null,
    1,
  ),
);
console.log(`results → ${jsonPath}`);
for (const sw of sweeps) {
  const svgPath = jsonPath.replace(/\.json$/i, '') + `-${sw.slug}.svg`;
  writeFileSync(svgPath, latencyPlotSvg(`${sw.set}: median latency vs false alarms, every swept setting`, sw.points));
  console.log(`plot → ${svgPath}`);
}

if (args.alarms) {
  const out: Record<string, Record<string, Alarm[]>> = {};
  for (const det of detectorNames) {
    out[det] = {};
    for (const s of sets) for (const i of s.items) out[det]![i.name] = i.alarms[det] ?? [];
  }
  const p = resolve(args.alarms);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(out));
  console.log(`alarms → ${p}`);
}
