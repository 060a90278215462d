/**
 * A private redis-server for one test file: free port, temp folder, stopped after the file's tests.
 * Never a shared instance, so nothing is ever flushed that belongs to someone else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisProcess } from '../../server/redis-process.ts';

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
