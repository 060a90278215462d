/**
 * Fair shares of the shards among detector workers. Leases alone keep one owner per shard, but the first
 * worker renews every shard for ever, so a worker added later would idle. Each worker therefore announces
 * itself (detector-presence.lua) and holds at most ceil(shards / live workers): at renewal it gives back
 * its surplus, and it does not take a free shard once at its share. A shard given back is picked up by
 * a worker below its share at its next refresh. Handover is safe for the same reason a crash is: the
 * checkpoint is fenced by the lease, so the giver's batch in flight writes nothing once the lease is gone,
 * and the taker resumes from the last commit.
 */
import { LuaScript, type RedisClient } from '../server/lua/scripts.ts';
import { keys } from '../server/redis-keys.ts';

const presence = new LuaScript('detector-presence');

export class ShardBalancer {
  /** A worker silent this long is not counted. */
  private readonly windowMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly workerId: string,
    private readonly shards: number,
    leaseMs: number,
  ) {
    // Workers beat every lease/3. A worker that missed two beats is no longer counted, which is before its
    // leases lapse: by the time its shards are free, the survivors' shares already make room for them.
    this.windowMs = Math.ceil((leaseMs * 2) / 3);
  }

  /** Announces this worker and returns how many shards it may hold now. */
  async fairShare(): Promise<number> {
    const live = Number(await presence.run(this.redis, [keys.detectors()], [this.workerId, this.windowMs, 'beat']));
    return Math.ceil(this.shards / Math.max(1, live));
  }

  async leave(): Promise<void> {
    await presence.run(this.redis, [keys.detectors()], [this.workerId, this.windowMs, 'leave']);
  }
}
