/** CPU and memory of another process from /proc (Linux), to show which side of a measurement is saturated. */
import { readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ: clock ticks per second on Linux

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return NaN;
  }
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Measures the share of one core each pid used between start() and stop(). */
export class CpuMeter {
  private readonly t0 = Date.now();
  private readonly c0: number[];
  constructor(private readonly pids: Record<string, number>) {
    this.c0 = Object.values(pids).map(cpuSeconds);
  }
  stop(): Record<string, number> {
    const dt = (Date.now() - this.t0) / 1000;
    const out: Record<string, number> = {};
    Object.entries(this.pids).forEach(([name, pid], i) => (out[name] = Math.round(((cpuSeconds(pid) - this.c0[i]!) / dt) * 100) / 100));
    return out;
  }
}
