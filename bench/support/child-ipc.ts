/**
 * Request/reply over a forked bench child's IPC channel (crest-child.ts, detector-child.ts): the child sends
 * `{ ready: true, ... }` once it is up, then answers every `{ id, ... }` with a message carrying the same id.
 */
import type { ChildProcess } from 'node:child_process';

export function childIpc(child: ChildProcess, name: string) {
  let nextId = 1;
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  const ready = new Promise<Record<string, unknown>>((ok, fail) => {
    child.once('exit', (code, signal) => fail(new Error(`${name} exited before it was ready (${code ?? signal})`)));
    child.on('message', (m: Record<string, unknown>) => {
      if (m.ready) ok(m);
      const w = typeof m.id === 'number' ? waiting.get(m.id) : undefined;
      if (w) {
        waiting.delete(m.id as number);
        w(m);
      }
    });
  });
  // A dead child never answers: fail at once rather than leave the bench waiting for ever.
  const request = <T>(msg: object) =>
    new Promise<T>((ok, fail) => {
      if (child.exitCode !== null || child.signalCode !== null) return fail(new Error(`${name} is gone`));
      const id = nextId++;
      waiting.set(id, (m) => ok(m as T));
      child.send({ id, ...msg });
    });
  /** A message whose answer is the child's exit (stop). */
  const send = (msg: object) => child.send({ id: nextId++, ...msg });
  return { ready, request, send };
}
