/**
 * V8 settings `crest start` runs with (bin/crest.mjs), and the bench's Crest processes with them, so the bench
 * measures what a deployment gets.
 *
 * A larger young generation: ingest and detection allocate many short-lived objects per event (parsed JSON,
 * validated events, commit payloads), and with V8's default 16 MB semi-space the scavenger ran ~8% of each
 * thread. At 32 MB the API thread's CPU per event fell ~12% (bench, `--only ingest`, alternating runs: server
 * 0.56–0.60 against 0.69–0.76 CPU-s per 100k events; ingest 28.3–28.4% against 25.3–25.6% of the XADD ceiling),
 * for up to 32 MB more heap per thread. 64 MB gained nothing more.
 */
export const SEMI_SPACE_MB = 32;

/** Process flags (the main thread; V8 applies them to worker threads too). */
export const NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${SEMI_SPACE_MB}`];

/** A worker thread's young generation for the same semi-space: V8 sizes it at 3 semi-spaces. */
export const YOUNG_GENERATION_MB = 3 * SEMI_SPACE_MB;

/** Whether the running process was started with a semi-space size (on the command line or NODE_OPTIONS). */
export const hasSemiSpaceFlag = (execArgv: readonly string[], nodeOptions = ''): boolean =>
  execArgv.some((a) => a.startsWith('--max-semi-space-size')) || nodeOptions.includes('--max-semi-space-size');
