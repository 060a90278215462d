/**
 * A private redis-server for one bench part: free loopback port, temp folder, AOF everysec — the same
 * setup as `crest start` and the tests (server/redis-process.ts). Never the shared one on 6379.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisProcess } from '../../server/redis-process.ts';
import { sleep } from './common.ts';

export interface BenchRedis {
  proc: RedisProcess;
  url: string;
  port: number;
  client: Redis;
  /** Empties the server and compacts its AOF so one measurement's leftovers do not tax the next. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'crest-bench-redis-'));
  const proc = new RedisProcess({ dir, appendfsync: 'everysec' });
  await proc.start();
  const client = new Redis(proc.url, { maxRetriesPerRequest: null });
  return {
    proc,
    url: proc.url,
    port: proc.port,
    client,
    async reset() {
      await client.flushall();
      // Redis may have started a rewrite of its own (auto-aof-rewrite) after the last load: wait for it
      // first, or BGREWRITEAOF fails with "already in progress" and takes the whole part down.
      await waitAofRewrite(client);
      await client.bgrewriteaof().catch((err: Error) => {
        if (!/already in progress/.test(err.message)) throw err;
      });
      await waitAofRewrite(client);
    },
    async stop() {
      client.disconnect();
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitAofRewrite(client: Redis): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const info = await client.info('persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await sleep(50);
  }
}

export function redisServerVersion(): string {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

/** Sum over a key list of a numeric reply (XLEN, HGET …) in one pipeline. */
export async function sumPipeline(client: Redis, build: (p: ReturnType<Redis['pipeline']>) => void): Promise<number> {
  const p = client.pipeline();
  build(p);
  const replies = (await p.exec()) ?? [];
  let total = 0;
  for (const [err, v] of replies) {
    if (err) throw err;
    total += Number(v ?? 0);
  }
  return total;
}
