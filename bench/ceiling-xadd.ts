/**
 * The ingest ceiling: redis-benchmark XADD of a ~200-byte field, 50 clients, pipeline 16, against the
 * same private redis-server (AOF everysec) the ingest figures use. Best of `runs` (a ceiling is a max).
 *   node --import tsx bench/ceiling-xadd.ts [--quick] [--json FILE]
 */
import { spawn } from 'node:child_process';
import type { Redis } from 'ioredis';
import { argFlag, main, QUICK, type Figure, type PartResult } from './support/common.ts';
import { redisServerVersion, startBenchRedis } from './support/redis.ts';

export interface XaddCeiling {
  rps: number;
  runs: number[];
  command: string;
}

const FIELD = 'x'.repeat(200);

export async function measureXaddCeiling(port: number, client: Redis, opts: { requests: number; runs: number }): Promise<XaddCeiling> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', '50', '-P', '16', '-n', String(opts.requests), '--csv', 'XADD', 'bench:ceiling', '*', 'f', FIELD];
  const runs: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const csv = await run('redis-benchmark', args);
    // "test","rps",... then one line per test: "XADD …","225225.22",...
    const line = csv.split('\n').find((l) => l.startsWith('"XADD'));
    const rps = line ? Number(line.split('","')[1]) : NaN;
    if (!Number.isFinite(rps)) throw new Error(`could not read redis-benchmark output: ${csv.slice(0, 200)}`);
    runs.push(rps);
    await client.del('bench:ceiling');
  }
  return { rps: Math.max(...runs), runs, command: `redis-benchmark ${args.slice(4, 10).join(' ')} XADD bench:ceiling '*' f <200 bytes>` };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

export function ceilingFigure(c: XaddCeiling): Figure {
  return { key: 'xadd_ceiling', label: 'XADD ceiling (redis-benchmark, 200 B, c50 P16)', value: c.rps, unit: 'op/s', note: `best of ${c.runs.map((r) => Math.round(r)).join(', ')}` };
}

async function standalone(): Promise<PartResult> {
  const redis = await startBenchRedis();
  try {
    const c = await measureXaddCeiling(redis.port, redis.client, { requests: QUICK ? 200_000 : 500_000, runs: QUICK || argFlag('once') ? 1 : 2 });
    return { part: 'ceiling', seconds: 0, figures: [ceilingFigure(c)], details: { ...c, redis: redisServerVersion() } };
  } finally {
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(standalone);
