/**
 * The detector worker on its own worker thread (node:worker_threads), so the API/gateway and detection use
 * two cores inside one `crest start` process: the detector's ~35 µs of CPU per event no longer shares the
 * API's event loop (docs/performance.md). The detector talks only to Redis, so the thread needs only its
 * options; its log records come back to the main thread's logger and its counters are mirrored here.
 *
 * A thread that dies unexpectedly is logged and started again with backoff, never left dead: the API would
 * otherwise keep accepting events nobody detects on. A restart is safe for the same reason a killed
 * detector process is: every commit is fenced by the shard lease, and a new worker id resumes from the last
 * checkpoint once the dead one's leases expire (CREST_LEASE_MS).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../server/logger.ts';
import type { MetricsJson } from '../server/metrics-registry.ts';
import { COMPILED } from '../server/project-paths.ts';
import type { DetectorStats, DetectorThreadOptions, FromDetectorThread, ToDetectorThread } from './detector-thread-protocol.ts';

/** What startCrest's caller reads of a detector, in-thread (DetectorWorker) or on its own thread. */
export interface DetectorHandle {
  readonly stats: DetectorStats;
  ownedShards(): number[];
  stop(): Promise<void>;
}

/**
 * The thread's entry. Compiled (dist/), it is the .js file beside this one. From the sources it needs the
 * TypeScript loader: on Node 20 a worker thread whose entry is a .ts file fails (ERR_UNKNOWN_FILE_EXTENSION)
 * even under `node --import tsx` with execArgv inherited, and bin/crest.mjs registers tsx from code, which a
 * thread does not inherit at all. So there the entry is a small evaluated bootstrap that registers tsx in
 * the thread (by absolute URL: any working directory) and then imports it. Resolved only when a thread
 * starts: the compiled tree runs where tsx is not installed.
 */
function threadEntry(): { entry: string | URL; eval: boolean } {
  if (COMPILED) return { entry: new URL('./detector-thread-main.js', import.meta.url), eval: false };
  const main = new URL('./detector-thread-main.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return { entry: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); })`, eval: true };
}
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A thread that ran this long before it died resets the backoff. */
const HEALTHY_MS = 60_000;
/** How long a stop may take before the thread is terminated (leases then expire by themselves). */
const STOP_TIMEOUT_MS = 10_000;
/** A scrape waits this long for the thread's registry (a long batch holds its loop), then uses the last one. */
const METRICS_WAIT_MS = 1_000;

const ZERO: DetectorStats = { events: 0, batches: 0, invalid: 0, leaseLost: 0, viewsDeferred: 0 };

export class DetectorThread implements DetectorHandle {
  /** Counters summed over every thread this handle started (a restart does not reset them). */
  get stats(): DetectorStats {
    const out = { ...this.before };
    for (const k of Object.keys(out) as (keyof DetectorStats)[]) out[k] += this.current[k];
    return out;
  }
  /** The thread's id and its DetectorWorker's id (the lease holder), as the thread reported them. */
  threadId = 0;
  workerId = '';
  /** Threads started after an unexpected exit. */
  restarts = 0;

  private before: DetectorStats = { ...ZERO };
  private current: DetectorStats = { ...ZERO };
  private owned: number[] = [];
  private worker: Worker | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private backoffMs = RESTART_MIN_MS;
  private gcWaiters: ((heapUsed: number) => void)[] = [];
  private metricsWaiters: ((json: MetricsJson) => void)[] = [];
  /** The thread's registry as last received: counters summed over restarts would need the dead thread's, so
   * after a restart they start again from 0 (Prometheus reads that as a counter reset). */
  private lastMetrics: MetricsJson = [];

  constructor(
    private readonly opts: DetectorThreadOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the thread; rejects (and leaves no thread) if its detector cannot start, as DetectorWorker.start. */
  start(): Promise<void> {
    return new Promise((ok, fail) => {
      const { entry, eval: isEval } = threadEntry();
      const w = new Worker(entry, { eval: isEval, workerData: this.opts });
      this.worker = w;
      const startedAt = Date.now();
      let started = false;
      this.exited = new Promise((done) => w.once('exit', () => done()));
      w.on('message', (m: FromDetectorThread) => {
        if (m.type === 'log') this.log[m.level](m.msg, m.fields);
        else if (m.type === 'stats') {
          this.current = m.stats;
          this.owned = m.owned;
        } else if (m.type === 'gc-done') this.gcWaiters.shift()?.(m.heapUsed);
        else if (m.type === 'metrics') {
          this.lastMetrics = m.json;
          for (const done of this.metricsWaiters.splice(0)) done(m.json);
        }
        else if (m.type === 'started') {
          started = true;
          this.threadId = m.threadId;
          this.workerId = m.workerId;
          ok();
        }
      });
      let error: Error | null = null;
      w.on('error', (err) => {
        error = err;
        if (!started) fail(err);
        else this.log.error('detector thread crashed', { worker: this.workerId, error: err.message });
      });
      w.once('exit', (code) => {
        if (this.worker === w) this.worker = null;
        this.before = this.stats;
        this.current = { ...ZERO };
        this.owned = [];
        for (const done of this.gcWaiters.splice(0)) done(0);
        for (const done of this.metricsWaiters.splice(0)) done(this.lastMetrics);
        if (!started) return fail(error ?? new Error(`detector thread exited with code ${code} before it started`));
        if (this.stopping) return;
        // Died on its own: start another one after a backoff (see the header for why this is safe).
        if (Date.now() - startedAt > HEALTHY_MS) this.backoffMs = RESTART_MIN_MS;
        const wait = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
        this.log.error('detector thread exited; restarting it', { worker: this.workerId, code, error: error?.message, inMs: wait });
        this.restartTimer = setTimeout(() => void this.restart(), wait);
      });
    });
  }

  ownedShards(): number[] {
    return [...this.owned];
  }

  /** Runs a full GC in the thread (the bench's memory part; needs --expose-gc); resolves with its heap used. */
  gc(): Promise<number> {
    const w = this.worker;
    if (!w) return Promise.resolve(0);
    return new Promise((done) => {
      this.gcWaiters.push(done);
      w.postMessage({ type: 'gc' } satisfies ToDetectorThread);
    });
  }

  /** The thread's metrics registry as JSON (server/metrics-registry.ts WorkerMetrics), for /metrics. */
  metricsJson(): Promise<MetricsJson> {
    const w = this.worker;
    if (!w) return Promise.resolve(this.lastMetrics);
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.metricsWaiters = this.metricsWaiters.filter((x) => x !== finish);
        done(this.lastMetrics);
      }, METRICS_WAIT_MS);
      const finish = (json: MetricsJson) => {
        clearTimeout(timer);
        done(json);
      };
      this.metricsWaiters.push(finish);
      w.postMessage({ type: 'metrics' } satisfies ToDetectorThread);
    });
  }

  /** Gives the leases back (in the thread), then waits for the thread to end. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      const w = this.worker;
      if (!w) return;
      w.postMessage({ type: 'stop' } satisfies ToDetectorThread);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.log.warn('detector thread did not stop in time; terminating it', { worker: this.workerId });
        await w.terminate();
      }
    })();
    return this.stopping;
  }

  /** True while a thread is running (false after stop() resolved). */
  get alive(): boolean {
    return this.worker !== null;
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    this.restarts++;
    try {
      await this.start();
      this.log.info('detector thread restarted', { worker: this.workerId, restarts: this.restarts });
    } catch (err) {
      // start() failed before the thread was up: its exit handler did not schedule the next try.
      if (this.stopping) return;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
      this.log.error('detector thread restart failed; trying again', { error: (err as Error).message, inMs: wait });
      this.restartTimer = setTimeout(() => void this.restart(), wait);
    }
  }
}
