/**
 * `npm run bench`: every bench part in turn, each in its own process, then one table and one JSON file.
 *   npm run bench                        all parts (~5 min on 2 cores) → bench/results/<date>-<shortsha>.json
 *   npm run bench -- --quick             every part scaled down (~30-60 s), a smoke run → bench/results/tmp/
 *   npm run bench -- --only ingest,core  some parts (also → bench/results/tmp/)
 *   npm run bench -- --profile           also --cpu-prof the Crest processes under test and print their top costs
 *   npm run bench -- --out FILE          write the JSON there instead
 *   npm run bench -- --part-args "--events 200000"   extra arguments for every part (see each part's header)
 *   npm run bench -- --only ingest --layouts api --repeats 1   any other option is passed on to every part too
 * Parts: bundle, core, ceiling, ingest (measures its own XADD ceiling first), latency, fanout, memory;
 * detector-cpu (the worker's CPU per event, load-tolerant), big-room (1M sessions through Redis and the detector
 * worker, ~5 min) and big-room-core (the same ramp, core only) run only when asked for with --only.
 * Every figure with a ceiling is measured in the same run as that ceiling, against the same private
 * redis-server; misses print MISSED and by how much.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argFlag, argValue, formatTable, type PartResult } from './support/common.ts';
import { redisServerVersion } from './support/redis.ts';
import { topSelf } from './profile-top.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARTS: Record<string, string> = {
  bundle: 'bench/bundle-size.ts',
  core: 'bench/core-throughput.ts',
  ceiling: 'bench/ceiling-xadd.ts',
  ingest: 'bench/ingest-http.ts',
  latency: 'bench/latency.ts',
  fanout: 'bench/fanout.ts',
  memory: 'bench/memory.ts',
  'detector-cpu': 'bench/detector-cpu.ts',
  'big-room': 'bench/big-room.ts',
  'big-room-core': 'bench/big-room-core.ts',
};
/** The default run: `ceiling` is inside `ingest`, which measures it against its own server. */
const DEFAULT = ['bundle', 'core', 'ingest', 'latency', 'fanout', 'memory'];

const quick = argFlag('quick');
const only = argValue('only')?.split(',').map((s) => s.trim()).filter(Boolean);
for (const p of only ?? []) if (!PARTS[p]) throw new Error(`unknown part "${p}"; expected ${Object.keys(PARTS).join(', ')}`);
const chosen = only ?? DEFAULT;
/** This runner's own options (with whether each takes a value); anything else on the command line goes to the parts. */
const OWN: Record<string, boolean> = { '--quick': false, '--profile': false, '--only': true, '--out': true, '--part-args': true };
const passedOn: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a in OWN) i += OWN[a] ? 1 : 0;
  else passedOn.push(a);
}
const partArgs = [...(argValue('part-args') ?? '').split(' ').filter(Boolean), ...passedOn];
const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
const sha = git(['rev-parse', 'HEAD']);
const date = new Date().toISOString().slice(0, 10);
const tmpDir = join(ROOT, 'bench/results/tmp');
mkdirSync(tmpDir, { recursive: true });
const profDir = argFlag('profile') ? join(tmpDir, `profiles-${Date.now()}`) : undefined;

const started = Date.now();
const results: PartResult[] = [];
const failures: string[] = [];
for (const part of chosen) {
  const jsonFile = join(tmpDir, `part-${part}-${process.pid}.json`);
  rmSync(jsonFile, { force: true });
  console.error(`── ${part} …`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, PARTS[part]!), '--json', jsonFile, ...(quick ? ['--quick'] : []), ...partArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...(profDir ? { CREST_BENCH_PROF: profDir } : {}) },
    timeout: 10 * 60_000,
  });
  if (r.status === 0 && existsSync(jsonFile)) {
    const res = JSON.parse(readFileSync(jsonFile, 'utf8')) as PartResult;
    rmSync(jsonFile, { force: true });
    results.push(res);
    console.error(`   done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } else {
    failures.push(part);
    results.push({ part, seconds: (Date.now() - t0) / 1000, figures: [], details: { error: `exit ${r.status ?? r.signal}` } });
    console.error(`   FAILED (exit ${r.status ?? r.signal})`);
  }
}

const env = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  redis: redisServerVersion(),
  gitSha: sha,
  gitDirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
  loadavg1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
};
const record = { date: new Date(started).toISOString(), quick, parts: chosen, seconds: (Date.now() - started) / 1000, env, results };
const out = argValue('out') ?? (quick || only ? join(tmpDir, `${date}-${sha.slice(0, 7)}${quick ? '-quick' : ''}.json`) : join(ROOT, `bench/results/${date}-${sha.slice(0, 7)}.json`));
writeFileSync(out, JSON.stringify(record, null, 2) + '\n');

console.log(
  `Crest bench ${quick ? '(quick) ' : ''}— ${env.nproc} cores (${env.cpu}), Node ${env.node}, Redis ${env.redis}, git ${sha.slice(0, 7)}${env.gitDirty ? '+dirty' : ''}, ` +
    `${record.seconds.toFixed(0)} s, load avg at end ${env.loadavg1}`,
);
console.log(formatTable(results));
if (failures.length) console.log(`\nFAILED parts: ${failures.join(', ')}`);
console.log(`\nJSON: ${out}`);

if (profDir && existsSync(profDir)) {
  for (const name of readdirSync(profDir)) {
    // The main thread's profile is the biggest one in the folder (the other is tsx's loader thread).
    const files = readdirSync(join(profDir, name)).map((f) => join(profDir, name, f));
    const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (!main) continue;
    console.log(`\nprofile ${name}: ${main}`);
    for (const t of topSelf(JSON.parse(readFileSync(main, 'utf8')), 15)) console.log(`${(t.pct * 100).toFixed(1).padStart(5)}%  ${t.name}`);
  }
}
process.exit(failures.length ? 1 : 0);
