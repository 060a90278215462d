/**
 * A private redis-server for one test file: free port, temp folder, stopped after the file's tests.
 * Never a shared instance, so nothing is ever flushed that belongs to someone else.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { freePort, noteForSupervisor, RedisProcess, waitForPort } from '../../server/redis-process.ts';

export type TestRedis = RedisProcess & { cleanup(): Promise<void> };

/** `args`: extra redis-server arguments (a replica's `--replicaof`, say). */
export async function startTestRedis(opts: { appendfsync?: 'everysec' | 'always'; args?: string[] } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'crest-redis-'));
  const proc = new RedisProcess({ dir, appendfsync: opts.appendfsync, args: opts.args });
  await proc.start();
  return Object.assign(proc, {
    async cleanup() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A private redis-server and one client for the whole test file: started before its tests, stopped after. */
export function useTestRedis(): { readonly redis: Redis; readonly server: TestRedis } {
  const rig = {} as { redis: Redis; server: TestRedis };
  before(async () => {
    rig.server = await startTestRedis();
    rig.redis = new Redis(rig.server.url);
  });
  after(async () => {
    rig.redis?.disconnect();
    await rig.server?.cleanup();
  });
  return rig;
}

export interface TestSentinel {
  port: number;
  pid: number;
  /** SIGKILL (a sentinel keeps nothing worth a clean stop) and its folder removed. */
  cleanup(): void;
}

/** One Redis Sentinel watching the primary on `primaryPort` as `crest`, quorum 1, failing over within seconds. */
export async function startTestSentinel(primaryPort: number): Promise<TestSentinel> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'crest-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor crest 127.0.0.1 ${primaryPort} 1`,
      'sentinel down-after-milliseconds crest 1000',
      'sentinel failover-timeout crest 5000',
      'sentinel parallel-syncs crest 1',
    ].join('\n') + '\n',
  );
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  // Else a test file killed mid-run leaves it running: its title overwrites the environment the runner looks in.
  noteForSupervisor(child.pid);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await waitForPort(port, 10_000, () => (child.exitCode !== null ? `the sentinel exited (${child.exitCode})` : null));
  return {
    port,
    pid: child.pid!,
    cleanup() {
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
