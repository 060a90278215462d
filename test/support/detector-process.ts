/**
 * Workers as separate processes (`crest worker detector`, `crest worker alerts`), so a test can kill -9 one the
 * way a crash would, or see what a process without an API publishes, while the API runs in the test's own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestCrest, TEST_SECRET, type TestCrest } from './crest.ts';

const CLI = fileURLToPath(new URL('../../bin/crest.mjs', import.meta.url));

/** `crest worker <part>` against `crest`'s Redis, logging errors only. */
export function spawnWorker(part: 'detector' | 'alerts', crest: TestCrest, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, 'worker', part], {
    env: {
      ...process.env,
      REDIS_URL: crest.redisUrl,
      CREST_SHARDS: String(crest.config.shards),
      CREST_TOKEN_SECRET: TEST_SECRET,
      CREST_LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export class DetectorProcesses {
  private readonly children: ChildProcess[] = [];
  constructor(
    private readonly crest: () => TestCrest,
    private readonly leaseMs: number,
  ) {}

  /** `env`: extra settings for this worker (CREST_DELTA_SLICE, say). */
  start(env: Record<string, string> = {}): ChildProcess {
    const child = spawnWorker('detector', this.crest(), { CREST_LEASE_MS: String(this.leaseMs), ...env });
    this.children.push(child);
    return child;
  }

  killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}

/**
 * For a test file that kills detectors: this process runs only the API (a Crest started before the file's tests,
 * leases of `leaseMs`, plus `env`), detectors are processes started on demand, and all of them are stopped after.
 */
export function apiWithDetectorProcesses(leaseMs: number, env: Record<string, string> = {}): { crest(): TestCrest; detectors: DetectorProcesses } {
  let crest: TestCrest | null = null;
  const running = () => crest ?? assert.fail('the Crest is started in before()');
  const detectors = new DetectorProcesses(running, leaseMs);
  before(async () => {
    crest = await startTestCrest({ CREST_ROLES: 'api', CREST_LEASE_MS: String(leaseMs), ...env });
  });
  after(async () => {
    detectors.killAll();
    await crest?.close();
  });
  return { crest: running, detectors };
}
