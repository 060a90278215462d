/**
 * A private redis-server child process: on a free loopback port, AOF everysec, data in its own folder.
 * `crest start` uses it when no REDIS_URL is given, and every test run spawns its own, so nothing
 * ever touches (or flushes) a shared Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join, resolve } from 'node:path';

export class RedisNotInstalledError extends Error {
  override name = 'RedisNotInstalledError';
}

export interface RedisProcessOptions {
  dir: string;
  port?: number;
  appendfsync?: 'everysec' | 'always' | 'no';
  /** Extra redis-server arguments, e.g. ['--maxmemory', '100mb']. */
  args?: string[];
}

/**
 * Notes a redis-server's pid where a supervisor that may SIGKILL this process asks for it (the test runner's
 * CREST_CHILD_PIDS_DIR, test/run.mjs): redis-server rewrites its process title over its environment, so it
 * cannot be found any other way once it has outlived us.
 */
export function noteForSupervisor(pid: number | undefined): void {
  const pidsDir = process.env.CREST_CHILD_PIDS_DIR;
  if (pidsDir && pid) writeFileSync(join(pidsDir, String(pid)), 'redis-server');
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

export class RedisProcess {
  readonly dir: string;
  port = 0;
  private child: ChildProcess | null = null;
  private readonly opts: RedisProcessOptions;

  constructor(opts: RedisProcessOptions) {
    this.opts = opts;
    this.dir = resolve(opts.dir);
  }

  /** The running redis-server's pid (undefined before start and after stop). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (on the same port as before after a stop) and resolves once it answers. */
  async start(): Promise<this> {
    if (!redisServerAvailable()) {
      throw new RedisNotInstalledError(
        'redis-server was not found on PATH: install it (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL to an existing Redis 7.',
      );
    }
    mkdirSync(this.dir, { recursive: true });
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'yes',
      '--appendfsync', this.opts.appendfsync ?? 'everysec',
      '--protected-mode', 'yes',
      '--daemonize', 'no',
      '--loglevel', 'warning',
      // A dedupe bucket set of a busy shard can hold millions of ids: free it in the background when it
      // expires, instead of blocking every client while it is freed.
      '--lazyfree-lazy-expire', 'yes',
      ...(this.opts.args ?? []),
    ];
    // Own process group: a terminal's Ctrl-C reaches only us, and we stop Redis last, after every
    // client has closed. If we die without stopping it, the exit hook still takes it down.
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    noteForSupervisor(child.pid);
    const killOnExit = () => child.kill('SIGTERM');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitForPort(this.port, 10_000, () => (child.exitCode !== null ? `redis-server exited: ${stderr}` : null));
    return this;
  }

  /** SIGTERM (clean shutdown, AOF flushed) or SIGKILL (crash: only what was fsynced survives). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill(signal);
    await exited;
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

/** Waits until a redis-server (or sentinel) on `port` answers PING; `failed` says why to stop waiting (it exited). */
export async function waitForPort(port: number, timeoutMs: number, failed: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.write('PING\r\n');
        s.once('data', (d) => {
          s.destroy();
          res(d.toString().startsWith('+PONG'));
        });
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
