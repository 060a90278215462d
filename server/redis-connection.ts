/**
 * The one place Crest opens Redis connections, so every part (API, gateway, detector, alert and plan
 * workers, BullMQ, CLI commands) runs unchanged on a single Redis, behind Sentinel, or on a Redis Cluster.
 *
 * A target is a string: `redis://…` / `rediss://…` for one server,
 * `redis-cluster://[user:password@]host:port,host:port,…` for a cluster (seed nodes; ioredis discovers the
 * rest), or `redis-sentinel://[user:password@]host:port,host:port,…/<master name>` for a primary watched by
 * Sentinel (ioredis asks the sentinels where the primary is, and again after a failover). Keeping it one
 * string lets it travel wherever a Redis URL did (options, child-process env).
 *
 * On a cluster, a command may only name keys of one slot. Crest's keys carry their shard as a hash tag
 * (server/redis-keys.ts), so every script and transaction stays in one slot; what is left are reads that
 * span shards on purpose, which `readStreams` / `readGroupStreams` split per shard on a cluster.
 */
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import type { RedisClient } from './lua/scripts.ts';
import { CrestRedis } from './redis-client.ts';

const CLUSTER_SCHEME = 'redis-cluster:';
const SENTINEL_SCHEME = 'redis-sentinel:';

export interface ClusterTarget {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
}

/** Parses a `redis-cluster://` target; null for any other string. Throws on a malformed cluster target. */
export function parseClusterTarget(target: string): ClusterTarget | null {
  if (!target.startsWith(`${CLUSTER_SCHEME}//`)) return null;
  return parseNodeList(target.slice(CLUSTER_SCHEME.length + 2).replace(/\/$/, ''));
}

export interface SentinelTarget extends ClusterTarget {
  /** The master name the sentinels monitor. */
  name: string;
}

/** Parses a `redis-sentinel://…/<name>` target; null for any other string. Throws on a malformed one. */
export function parseSentinelTarget(target: string): SentinelTarget | null {
  if (!target.startsWith(`${SENTINEL_SCHEME}//`)) return null;
  const rest = target.slice(SENTINEL_SCHEME.length + 2);
  const slash = rest.lastIndexOf('/');
  const name = slash >= 0 ? decodeURIComponent(rest.slice(slash + 1)) : '';
  if (!name) throw new Error('no master name after the last "/"');
  return { ...parseNodeList(rest.slice(0, slash)), name };
}

/** `[user:password@]host:port,host:port,…` */
function parseNodeList(list: string): ClusterTarget {
  let rest = list;
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const cred = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = cred.indexOf(':');
    username = decodeURIComponent(colon >= 0 ? cred.slice(0, colon) : cred) || undefined;
    password = colon >= 0 ? decodeURIComponent(cred.slice(colon + 1)) : undefined;
  }
  const nodes = rest.split(',').map((hp) => {
    const m = /^(\[[^\]]+\]|[^:,\s]+):(\d{1,5})$/.exec(hp.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new Error(`"${hp}" is not host:port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
  return { nodes, username, password };
}

/** A sentence saying what is wrong with a Redis target, or null when it is usable. */
export function redisTargetProblem(target: string): string | null {
  try {
    if (parseClusterTarget(target)) return null;
  } catch (err) {
    return `${(err as Error).message}; expected redis-cluster://host:port,host:port`;
  }
  try {
    if (parseSentinelTarget(target)) return null;
  } catch (err) {
    return `${(err as Error).message}; expected redis-sentinel://host:port,host:port/<master name>`;
  }
  try {
    const u = new URL(target);
    if (u.protocol === 'redis:' || u.protocol === 'rediss:') return null;
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  return 'must be redis://host:port, rediss://…, redis-cluster://host:port,host:port for a Redis Cluster, or redis-sentinel://host:port,host:port/<master name> for Sentinel';
}

export interface CreateRedisOptions extends Omit<RedisOptions, 'retryStrategy'> {
  retryStrategy?: (times: number) => number | void | null;
}

/**
 * A client for the target with the given per-connection options. On a cluster the options go to every
 * node connection, except those ioredis keeps at the cluster level (offline queue, lazy connect, retry).
 * A client asked not to resend (autoResendUnfulfilledCommands: false) also gets no failover retry: the
 * cluster would otherwise resend a command whose connection closed, which may have landed already.
 */
export function createRedis(target: string, opts: CreateRedisOptions = {}): RedisClient {
  const sentinel = parseSentinelTarget(target);
  if (sentinel) return new CrestRedis(sentinelOptions(sentinel, opts as RedisOptions));
  const cluster = parseClusterTarget(target);
  if (!cluster) return new CrestRedis(target, opts as RedisOptions);
  const { enableOfflineQueue, lazyConnect, retryStrategy, ...node } = opts;
  const clusterOpts: ClusterOptions = {
    lazyConnect,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy ?? ((times) => Math.min(100 * times, 2_000)),
    retryDelayOnFailover: opts.autoResendUnfulfilledCommands === false ? 0 : 200,
    // Reads must see what the writer just committed (a snapshot cursor, a checkpoint): masters only.
    scaleReads: 'master',
    redisOptions: { ...node, username: cluster.username, password: cluster.password },
  };
  return new Cluster(cluster.nodes, clusterOpts);
}

/** ioredis options for a primary found through Sentinel; `failoverDetector` reconnects at +switch-master. */
function sentinelOptions(t: SentinelTarget, opts: RedisOptions): RedisOptions {
  return { ...opts, sentinels: t.nodes, name: t.name, username: t.username, password: t.password, failoverDetector: true };
}

/**
 * A BullMQ `connection` for the target: one client Crest makes and closes (`close`, after the queues and workers
 * are closed), which BullMQ shares and does not close. A Worker duplicates it for its own connections and
 * closes those; being CrestRedis clients, they close cleanly (server/redis-client.ts), which clients BullMQ made
 * from options would not after a failover. On a cluster it is one Cluster client. Queues on a cluster also need
 * a hash-tagged prefix (`{crest-bull}`), which Crest's queues have.
 */
export function bullConnection(target: string): { connection: ConnectionOptions; close(): void } {
  const client = createRedis(target, { maxRetriesPerRequest: null });
  client.on('error', () => {}); // BullMQ reports through its own 'error' events
  return { connection: client as ConnectionOptions, close: () => client.disconnect() };
}

export const isCluster = (client: RedisClient): client is Cluster => (client as Cluster).isCluster === true;

/** XREAD reply: per stream with entries, its entries. */
export type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][];

/** How often a cluster reader polls when nothing came (a blocking read would hold a node connection). */
const CLUSTER_POLL_MS = 20;

/**
 * Reads several streams after the given ids, like `XREAD COUNT n BLOCK ms STREAMS …`. On one Redis that
 * is one blocking call. On a cluster the streams live in different slots, so each is read on its own
 * without blocking (a blocking read would stall every other command on that node's connection), all
 * at once, and an empty round waits CLUSTER_POLL_MS before returning null: at most that much latency.
 */
export async function readStreams(client: RedisClient, streams: string[], ids: string[], opts: { count: number; blockMs: number }): Promise<StreamReply | null> {
  if (!isCluster(client)) {
    return (await client.xread('COUNT', opts.count, 'BLOCK', opts.blockMs, 'STREAMS', ...streams, ...ids)) as StreamReply | null;
  }
  const replies = await Promise.all(streams.map((s, i) => client.xread('COUNT', opts.count, 'STREAMS', s, ids[i]!) as Promise<StreamReply | null>));
  return collect(replies, opts.blockMs);
}

/** `XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS … >…`, split per stream on a cluster as `readStreams` is. */
export async function readGroupStreams(
  client: RedisClient,
  group: string,
  consumer: string,
  streams: string[],
  opts: { count: number; blockMs: number },
): Promise<[stream: string, entries: [id: string, fields: string[] | null][]][] | null> {
  type Reply = [string, [string, string[] | null][]][];
  if (!isCluster(client)) {
    return (await client.xreadgroup('GROUP', group, consumer, 'COUNT', opts.count, 'BLOCK', opts.blockMs, 'STREAMS', ...streams, ...streams.map(() => '>'))) as Reply | null;
  }
  const replies = await Promise.all(streams.map((s) => client.xreadgroup('GROUP', group, consumer, 'COUNT', opts.count, 'STREAMS', s, '>') as Promise<Reply | null>));
  return collect(replies, opts.blockMs);
}

async function collect<T extends [string, unknown[]]>(replies: (T[] | null)[], blockMs: number): Promise<T[] | null> {
  const out: T[] = [];
  for (const r of replies) for (const s of r ?? []) if (s[1].length > 0) out.push(s);
  if (out.length > 0) return out;
  await new Promise((r) => setTimeout(r, Math.min(blockMs, CLUSTER_POLL_MS)));
  return null;
}
