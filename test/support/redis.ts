/**
 * A private redis-server for one test file: free port, temp folder, stopped after the file's tests.
 * Never a shared instance, so nothing is ever flushed that belongs to someone else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
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
