/**
 * For every test file that may start something (test/run.mjs never passes `--test-force-exit`): once its last
 * `after` hook is done, the process must exit by itself. If it is still alive `ms` later, something still
 * holds the event loop (a timer, a socket a client was meant to close): this prints what, and exits 1, which
 * fails the file. With CREST_TRACE_HANDLES=1 it also prints where each of them was created; import this module
 * first in the file then, so that it sees every resource from the start.
 */
import { createHook } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import { after } from 'node:test';

/** Resources that keep the loop alive while referenced; the rest (promises, ticks) do not. */
const HOLDING = new Set(['Timeout', 'Immediate', 'TCPWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PROCESSWRAP', 'UDPWRAP', 'SIGNALWRAP', 'FSEVENTWRAP']);
interface Born { type: string; resource: { hasRef?: () => boolean }; stack: string }
const born = new Map<number, Born>();
// Only when asked: a stack per timer and socket is slow, and tests run without it.
if (process.env.CREST_TRACE_HANDLES === '1') {
  createHook({
    init(id, type, _trigger, resource) {
      if (!HOLDING.has(type)) return;
      const e: { stack?: string } = {};
      Error.captureStackTrace(e);
      born.set(id, { type, resource: resource as Born['resource'], stack: (e.stack ?? '').split('\n').slice(3, 15).join('\n') });
    },
    destroy(id) {
      born.delete(id);
    },
  }).enable();
}

/** Call after the file's own `after` hooks are registered: this one runs last. */
export function exitsWithin(ms = 5_000): void {
  after(() => {
    const watch = setTimeout(() => {
      const lines = [`✖ still running ${ms} ms after the last after hook; what holds the event loop: ${JSON.stringify(process.getActiveResourcesInfo())}`];
      for (const [id, b] of born) if (b.resource.hasRef?.() !== false) lines.push(`--- ${b.type} #${id}, created\n${b.stack}`);
      if (!born.size) lines.push('(run it with CREST_TRACE_HANDLES=1 for where each was created: docs/testing.md)');
      writeSync(2, `${lines.join('\n')}\n`);
      process.exit(1);
    }, ms);
    // The watch itself must not keep the process alive.
    watch.unref();
  });
}
