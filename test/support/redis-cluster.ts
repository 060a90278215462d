/**
 * A private 3-master Redis Cluster on loopback for one test file: three `redis-server --cluster-enabled yes`
 * on free ports (bus ports chosen free too, not port + 10000), joined by `redis-cli --cluster create`,
 * all under one temp folder that is removed with the servers. With `replicasPerMaster`, that many replicas
 * of each master too (DEBUG enabled on every node, so a test can hold a replica still).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, RedisProcess } from '../../server/redis-process.ts';

export interface TestRedisCluster {
  nodes: RedisProcess[];
  /** `redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, what REDIS_URL takes. */
  url: string;
  cleanup(): Promise<void>;
}

export async function startTestRedisCluster(masters = 3, replicasPerMaster = 0): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'crest-cluster-'));
  const nodes: RedisProcess[] = [];
  const cleanup = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const busPort = await freePort();
      const node = new RedisProcess({
        dir: join(dir, `n${i}`),
        args: [
          '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '2000',
          // A replica's first sync at once (Redis waits 5 s by default for more replicas to share it).
          ...(replicasPerMaster > 0 ? ['--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0'] : []),
        ],
      });
      nodes.push(node);
      await node.start();
    }
    await redisCli(['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes']);
    await waitForClusterOk(nodes);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { nodes, url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`, cleanup };
}

function redisCli(args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`redis-cli ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

/** Every node reports cluster_state:ok and knows all masters (gossip has converged). */
async function waitForClusterOk(nodes: RedisProcess[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = true;
    for (const n of nodes) {
      const c = new Redis(n.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await c.connect();
        const info = (await c.call('CLUSTER', 'INFO')) as string;
        if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${nodes.length}\\b`).test(info)) ok = false;
      } finally {
        c.disconnect();
      }
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis cluster not ok within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The port of the master serving `slot`, from a CLUSTER NODES reply (a master marked failed is skipped). */
export function slotMasterPort(clusterNodes: string, slot: number): number | undefined {
  const line = clusterNodes
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .find((l) => l[2]!.includes('master') && !l[2]!.includes('fail') && l.slice(8).some((r) => {
      const [from, to = from] = r.split('-').map(Number);
      return slot >= from! && slot <= to!;
    }));
  return line ? Number(line[1]!.split('@')[0]!.split(':')[1]) : undefined;
}
