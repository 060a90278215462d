/**
 * Closing a BullMQ worker or queue without hanging: `close()` can wait for ever when one of its connections
 * is reconnecting to a primary that is gone (taskforcesh/bullmq#4656; seen here after a Sentinel failover).
 * After `graceMs` its connections are cut instead; a job still running then is retried by BullMQ's stalled
 * check, as after a crash, so nothing is lost.
 */
import type { Queue, Worker } from 'bullmq';
import type { Logger } from '../server/logger.ts';

export async function closeBull(what: Worker | Queue | null, name: string, log: Logger, graceMs = 3_000): Promise<void> {
  if (!what) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((ok) => (timer = setTimeout(() => ok('late'), graceMs)));
  const r = await Promise.race([what.close().then(() => 'closed' as const), late]).finally(() => clearTimeout(timer));
  if (r === 'closed') return;
  log.warn('bullmq close took too long; cutting its connections', { name, graceMs });
  await Promise.race([what.disconnect(), new Promise((ok) => setTimeout(ok, 1_000).unref())]).catch(() => undefined);
}
