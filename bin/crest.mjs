#!/usr/bin/env node
// Entry point of the `crest` command. Runs the compiled tree (dist/bin/crest.js, plain node, no TypeScript
// loader) when dist/ is a build of the sources as they are (bin/build.mjs: `npm run build`; `npm start`
// builds first when needed). Otherwise, where the dev dependencies are installed (a checkout being worked
// on, the tests), it registers tsx and runs the sources as they are; where they are not, it says to build.
//
// `crest start` runs with MALLOC_ARENA_MAX=2 unless it is set already.
// glibc gives threads their own malloc arenas (up to 8 per core) and keeps freed memory in each; with the
// detector on its own thread that held ~100 MB more RSS at 10,000 rooms than the rooms need (bench/memory.ts,
// 19.3 vs 24.4 KB per active room, medians of 4 runs each). glibc reads the variable only at process start,
// hence a child process with it set. Elsewhere (macOS, musl) it is ignored. `crest worker` is not wrapped: a
// supervisor (or a test) that kill -9s a worker must kill the process that holds the leases, so set the
// variable in the worker's environment (systemd unit, container spec) instead; see the README.
import { spawn } from 'node:child_process';
import { buildState } from './build.mjs';

if (process.argv[2] === 'start' && process.env.MALLOC_ARENA_MAX === undefined && process.platform === 'linux') {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
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
  const built = buildState();
  if (built.fresh) {
    // Stack traces name the .ts lines (tsconfig.build.json emits source maps).
    process.setSourceMapsEnabled(true);
    await import('../dist/bin/crest.js');
  } else {
    let tsx;
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      console.error(`crest: ${built.reason}; run \`npm run build\` first`);
      process.exit(1);
    }
    tsx.register();
    await import('./crest.ts');
  }
}
