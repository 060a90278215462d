#!/usr/bin/env node
// Entry point of the `crest` command: registers tsx so the TypeScript sources run as they are.
//
// `crest start` runs in a child process started with the V8 flags of config/node-flags.ts (a larger young
// generation: less garbage-collection CPU per event) and MALLOC_ARENA_MAX=2, unless both are set already.
// glibc gives threads their own malloc arenas (up to 8 per core) and keeps freed memory in each; with the
// detector on its own thread that held ~100 MB more RSS at 10,000 rooms than the rooms need (bench/memory.ts,
// 19.3 vs 24.4 KB per active room, medians of 4 runs each). glibc reads the variable and V8 its heap flags only
// at process start, hence the child. MALLOC_ARENA_MAX is ignored elsewhere (macOS, musl). `crest worker` is not
// wrapped: a supervisor (or a test) that kill -9s a worker must kill the process that holds the leases, so set
// both in the worker's environment (systemd unit, container spec) instead; see the README.
import { spawn } from 'node:child_process';

const { register } = await import('tsx/esm/api');
register();
const { NODE_FLAGS, hasSemiSpaceFlag } = await import('../config/node-flags.ts');

const needsArena = process.platform === 'linux' && process.env.MALLOC_ARENA_MAX === undefined;
const needsFlags = !hasSemiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS);
if (process.argv[2] === 'start' && (needsArena || needsFlags)) {
  const child = spawn(process.execPath, [...(needsFlags ? NODE_FLAGS : []), ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: needsArena ? { ...process.env, MALLOC_ARENA_MAX: '2' } : process.env,
  });
  // A terminal's Ctrl-C reaches the child too (same process group); a signal sent to this process alone
  // (systemd, docker stop, kill) is passed on. Either way the child decides when everything has stopped.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    // Die the way the child died, so a supervisor sees the same end.
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  await import('./crest.ts');
}
