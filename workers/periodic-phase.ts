/**
 * When a periodic write (a room's state or summary in the detector, a shard's clock record) comes due again.
 *
 * Due once the writer's own boundary in the period (at `phase` of it, in [0, 1)) has passed since its last
 * write. Writers written together — rooms that joined together, every summary of a caught-up shard — still
 * come due one by one, each at its own boundary. With "`periodMs` since the last write" they stayed in step
 * for ever: 1,000 room states of ~20 KB were flushed in one cycle every 5 s, 20 MB that held Redis (and
 * ingest behind it) for ~0.5 s, which was the latency bench's whole p99.
 */
export function dueAgain(last: number, now: number, periodMs: number, phase: number): boolean {
  if (periodMs <= 0) return true;
  return Math.floor(now / periodMs + phase) > Math.floor(last / periodMs + phase);
}
