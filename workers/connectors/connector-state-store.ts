/**
 * Publishes connector states to Redis (`crest:connectors`: room → ConnectorState JSON) so the API and
 * the operator panel can show them from any process. A status change is written at once; counter-only
 * changes at most every `minIntervalMs`, plus a heartbeat, so `updatedAt` says whether the connector
 * process is still there. A failed write is logged and retried with the next change: a connector never
 * stops because Redis is briefly away.
 */
import type { ConnectorState } from '../../core/protocol.ts';
import type { RedisClient } from '../../server/lua/scripts.ts';
import type { Logger } from '../../server/logger.ts';
import { keys } from '../../server/redis-keys.ts';

export class ConnectorStateStore {
  private last = new Map<string, { status: string; at: number }>();
  private pending = new Map<string, ConnectorState>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly log: Logger,
    private readonly minIntervalMs = 2_000,
  ) {}

  /** Call with every new state; writes now if the status changed, else coalesces. */
  publish(state: ConnectorState): void {
    const prev = this.last.get(state.room);
    this.pending.set(state.room, state);
    if (!prev || prev.status !== state.status || Date.now() - prev.at >= this.minIntervalMs) {
      void this.flush(state.room);
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        for (const room of [...this.pending.keys()]) void this.flush(room);
      }, this.minIntervalMs);
      this.timer.unref?.();
    }
  }

  /** Writes whatever is pending (call before exit). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.pending.keys()].map((room) => this.flush(room)));
  }

  private async flush(room: string): Promise<void> {
    const state = this.pending.get(room);
    if (!state) return;
    this.pending.delete(room);
    this.last.set(room, { status: state.status, at: Date.now() });
    try {
      await this.redis.hset(keys.connectors(), room, JSON.stringify(state));
    } catch (err) {
      this.log.warn('could not write connector state; will retry with the next change', { room, error: (err as Error).message });
      if (!this.pending.has(room)) this.pending.set(room, state);
    }
  }
}
