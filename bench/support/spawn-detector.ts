/**
 * Starts bench/support/detector-child.ts (one detector worker in its own process) and talks to it over IPC;
 * `kill9()` is the crash the big-room bench recovers from. Spawned with --expose-gc for the RSS figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childIpc } from './child-ipc.ts';

export interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  p999Ms: number;
  samples: number;
}

export interface DetectorChildStats {
  /** DetectorWorker.stats (the longest synchronous steps among them). */
  stats: {
    events: number;
    batches: number;
    leaseLost: number;
    slices: number;
    longestSliceMs: number;
    longestApplyMs: number;
    longestCommitMs: number;
    longestPartsScanMs: number;
    longestRestoreMs: number;
    longestRestoreStepMs: number;
    longestRenewGapMs: number;
    longestRenewRttMs: number;
  };
  owned: number[];
  /** Loop delay since the last `stats(true)` (a phase of the bench), and since the process started. */
  loop: LoopDelay;
  loopSinceStart: LoopDelay;
  rss: number;
}

export interface DetectorChild {
  pid: number;
  /** How long worker.start() took (leases free at that moment were taken and their shards loaded). */
  startMs: number;
  /** `reset`: the loop-delay window starts again after this reading. */
  stats(reset?: boolean): Promise<DetectorChildStats>;
  mem(): Promise<{ rss: number; heapUsed: number; arrayBuffers: number; gc: boolean }>;
  kill9(): Promise<void>;
}

export async function spawnDetector(env: Record<string, string>): Promise<DetectorChild> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./detector-child.ts', import.meta.url)), [], {
    // BENCH_DETECTOR_FLAGS: more node/V8 flags for the child while profiling (e.g. "--trace-gc", "--cpu-prof").
    execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_DETECTOR_FLAGS ?? '').split(' ').filter(Boolean)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, CREST_LOG_LEVEL: 'warn', MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', ...env },
  });
  const ipc = childIpc(child, 'detector child');
  const startMs = Number((await ipc.ready).startMs);
  const request = ipc.request;
  return {
    pid: child.pid!,
    startMs,
    stats: (reset = false) => request<DetectorChildStats>({ cmd: 'stats', reset }),
    mem: () => request({ cmd: 'mem' }),
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
