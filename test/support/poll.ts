/**
 * Polls until a probe has an answer, for tests whose probes read state that is there or not yet: `undefined`
 * and `false` mean "not yet", a thrown error fails at once (unlike waitFor in ./crest.ts, which retries a
 * throwing probe until its deadline).
 */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
