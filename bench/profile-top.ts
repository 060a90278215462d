/**
 * Top self-time functions of a V8 .cpuprofile (as written by `node --cpu-prof`, or by a bench run with
 * CREST_BENCH_PROF=dir, which profiles the Crest child it measures).
 *   node --import tsx bench/profile-top.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { argNumber } from './support/common.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function topSelf(p: Profile, top: number): { name: string; ms: number; pct: number }[] {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    total += us;
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|work\/main)\//, '$1/');
    const name = `${n.callFrame.functionName || '(anonymous)'}  ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(name, (byFn.get(name) ?? 0) + us);
  }
  return [...byFn.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: us / total }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: bench/profile-top.ts FILE.cpuprofile [--top N]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  for (const r of topSelf(p, argNumber('top', 25))) console.log(`${(r.pct * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
}
