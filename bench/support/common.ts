/**
 * What every bench part shares: argument reading, the figure/verdict model, the printed table and the
 * JSON hand-off to the orchestrator (bench/run.ts). Bench code only: the app never imports bench/.
 */
import { writeFileSync } from 'node:fs';

/** `--name value` from argv, or the default. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
export function argNumber(name: string, dflt: number): number {
  const v = argValue(name);
  return v === undefined ? dflt : Number(v);
}
export const argFlag = (name: string): boolean => process.argv.includes(`--${name}`);
export const QUICK = argFlag('quick');

/**
 * A target on the figure itself (`of: 'value'`) or on its ratio to the ceiling (`of: 'ratio'`).
 * `op` says which side passes: '>=' for throughput, '<=' for latency, memory, size.
 */
export interface Target {
  of: 'value' | 'ratio';
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
  /** The ceiling measured in the same run (e.g. redis-benchmark XADD), when the figure has one. */
  ceiling?: { label: string; value: number; unit: string };
  ratio?: number;
  target?: Target;
  verdict?: string;
  /** Short qualifier printed under the row (load achieved, method, sample size). */
  note?: string;
}

export interface PartResult {
  part: string;
  seconds: number;
  figures: Figure[];
  /** Everything else worth keeping: settings, raw counts, percentiles, environment of the part. */
  details: Record<string, unknown>;
}

/** Fills `ratio` and `verdict`; a miss says MISSED and by how much, never anything softer. */
export function judge(f: Figure): Figure {
  if (f.ceiling && f.ceiling.value > 0) f.ratio = f.value / f.ceiling.value;
  const t = f.target;
  if (!t) return f;
  const got = t.of === 'ratio' ? f.ratio : f.value;
  if (got === undefined || !Number.isFinite(got)) {
    f.verdict = 'MISSED (no measurement)';
    return f;
  }
  const ok = t.op === '>=' ? got >= t.value : got <= t.value;
  const show = (x: number) => (t.of === 'ratio' ? pct(x) : `${fmtNum(x)} ${f.unit}`);
  if (ok) f.verdict = `ok (${show(got)} ${t.op === '>=' ? '≥' : '≤'} ${show(t.value)})`;
  else {
    const by = t.op === '>=' ? (t.value - got) / t.value : (got - t.value) / t.value;
    f.verdict = `MISSED by ${pct(by)} (${show(got)} vs ${t.op === '>=' ? '≥' : '≤'} ${show(t.value)})`;
  }
  return f;
}

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en');
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function formatTable(parts: PartResult[]): string {
  const rows: string[][] = [['figure', 'measured', 'ceiling (same run)', 'ratio', 'verdict']];
  const notes: string[] = [];
  for (const p of parts) {
    for (const f of p.figures) {
      rows.push([
        f.label,
        `${fmtNum(f.value)} ${f.unit}`,
        f.ceiling ? `${fmtNum(f.ceiling.value)} ${f.ceiling.unit} ${f.ceiling.label}` : '—',
        f.ratio !== undefined ? pct(f.ratio) : '—',
        f.verdict ?? '',
      ]);
      if (f.note) notes.push(`  ${f.label}: ${f.note}`);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 1 || c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

/** Standalone: print the part's table. Under the orchestrator (`--json FILE`): also hand the result over. */
export function finish(result: PartResult): void {
  result.figures.forEach(judge);
  console.log(formatTable([result]));
  const out = argValue('json');
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
}

/** Runs a part's main, turning a failure into one line and exit code 1. */
export function main(run: () => Promise<PartResult>): void {
  const t0 = Date.now();
  run()
    .then((r) => {
      r.seconds = (Date.now() - t0) / 1000;
      finish(r);
      process.exit(0);
    })
    .catch((err: Error) => {
      console.error(`bench part failed: ${err.stack ?? err.message}`);
      process.exit(1);
    });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an unsorted sample (sorted copy); NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(sample: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = Float64Array.from(sample).sort();
  const arr = Array.from(s);
  const mean = arr.length ? arr.reduce((a, b) => a + b, 0) / arr.length : NaN;
  return { n: arr.length, p50: percentile(arr, 50), p90: percentile(arr, 90), p99: percentile(arr, 99), max: arr.length ? arr[arr.length - 1]! : NaN, mean };
}

/** Resolves once `check` returns true, polling; rejects with `what` after `ms`. */
export async function until(what: string, ms: number, check: () => boolean | Promise<boolean>, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}
