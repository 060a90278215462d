/**
 * Starts bench/support/crest-child.ts as a separate process with a given Crest configuration and talks to
 * it over IPC. `CREST_BENCH_PROF=dir` adds --cpu-prof so a bench run also profiles the server it measures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../../server/auth/token.ts';
import type { Role } from '../../core/protocol.ts';
import { childIpc } from './child-ipc.ts';

export const BENCH_SECRET = 'bench-secret-0123456789abcdef';

export interface CrestChild {
  child: ChildProcess;
  pid: number;
  url: string;
  token(role: Role, rooms?: string[] | '*'): string;
  request<T = Record<string, unknown>>(cmd: 'mem' | 'stats'): Promise<T>;
  stop(): Promise<void>;
}

export async function spawnCrest(opts: { redisUrl: string; roles: string; env?: Record<string, string>; profileName?: string }): Promise<CrestChild> {
  const profDir = process.env.CREST_BENCH_PROF;
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (profDir && opts.profileName) // One folder per profiled run: the main thread and tsx's loader thread each write a profile there.
    execArgv.push('--cpu-prof', '--cpu-prof-dir', join(profDir, opts.profileName));
  const child = fork(fileURLToPath(new URL('./crest-child.ts', import.meta.url)), [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      REDIS_URL: opts.redisUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      CREST_ROLES: opts.roles,
      CREST_DEMO: '0',
      CREST_TOKEN_SECRET: BENCH_SECRET,
      CREST_LOG_LEVEL: 'warn',
      // What `crest start` runs with (bin/crest.mjs), so the bench measures the memory a deployment gets.
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      ...opts.env,
    },
  });
  const ipc = childIpc(child, 'Crest child');
  const url = String((await ipc.ready).url ?? '');
  const request = <T>(cmd: string) => ipc.request<T>({ cmd });
  return {
    child,
    pid: child.pid!,
    url,
    token: (role, rooms = '*') => signToken(BENCH_SECRET, { role, rooms, ttlS: 3600 }),
    request,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      ipc.send({ cmd: 'stop' });
      await exited;
      clearTimeout(timer);
    },
  };
}
