/**
 * Loads Crest's Lua scripts and runs them by SHA (EVALSHA, falling back to EVAL after a Redis
 * restart flushed the script cache). Each script's header lists its KEYS and ARGV.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export class LuaScript {
  readonly source: string;
  readonly sha: string;
  constructor(readonly name: string) {
    this.source = readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return await redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }

  /**
   * EVALSHA only, for calls sent one after another without waiting (a big room's checkpoint slices): an EVAL
   * fallback per call, as `run` does, could reorder them — a later call's EVALSHA would run as soon as an earlier
   * fallback loaded the script, before the EVALs of the calls between. So a NOSCRIPT here loads the script for
   * the next attempt and still fails this call: the caller treats it as a failed write (nothing in order after it
   * can be trusted) and reloads from what Redis holds.
   */
  async runBySha(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        // On a cluster a keyless command goes to any node: load it on every master.
        const nodes = (redis as Cluster).isCluster === true ? (redis as Cluster).nodes('master') : [redis as Redis];
        await Promise.all(nodes.map((n) => n.script('LOAD', this.source).catch(() => undefined)));
      }
      throw err;
    }
  }

  /**
   * The script, then `after`'s commands, in one pipeline (one round trip; on a cluster, to the node of the
   * script's keys): the replies in order. Falls back to EVAL as `run` does.
   */
  async runPiped(redis: RedisClient, keys: string[], args: (string | number)[], after: (p: ChainableCommander) => void): Promise<[Error | null, unknown][]> {
    const exec = async (bySha: boolean) => {
      const p = redis.pipeline();
      if (bySha) p.evalsha(this.sha, keys.length, ...keys, ...args);
      else p.eval(this.source, keys.length, ...keys, ...args);
      after(p);
      return (await p.exec())!;
    };
    const replies = await exec(true);
    return replies[0]![0]?.message.startsWith('NOSCRIPT') ? exec(false) : replies;
  }
}

export const scripts = {
  ingest: new LuaScript('ingest'),
  checkpoint: new LuaScript('checkpoint'),
  checkpointSlice: new LuaScript('checkpoint-slice'),
  checkpointUndo: new LuaScript('checkpoint-undo'),
  lease: new LuaScript('lease'),
  ack: new LuaScript('ack'),
  planWrite: new LuaScript('plan-write'),
  planFire: new LuaScript('plan-fire'),
  lanePush: new LuaScript('lane-push'),
  lanePop: new LuaScript('lane-pop'),
  alertDecide: new LuaScript('alert-decide'),
  spendRecord: new LuaScript('spend-record'),
} as const;
