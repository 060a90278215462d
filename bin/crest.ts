/**
 * `crest <command>`: start, worker, token, simulate, connect, record, replay, report. Errors a user can fix print one sentence and
 * exit 1; nothing here prints a stack trace for a missing redis-server or a bad setting.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type CrestConfig } from '../config/config.ts';
import { ROLES, type Role } from '../core/protocol.ts';
import { randomSecret, signToken } from '../server/auth/token.ts';
import { startCrest } from '../server/crest.ts';
import { createLogger } from '../server/logger.ts';
import { RedisNotInstalledError, RedisProcess } from '../server/redis-process.ts';
import { CommandUsageError } from '../workers/command-usage-error.ts';
import { TikTokPackageMissingError } from '../workers/connectors/tiktok-package.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

const HELP = `crest — real-time monitor for livestream-commerce rooms

  crest start [--no-demo]             Redis (private unless REDIS_URL), API, gateway, workers, demo rooms
  crest worker <api|detector|alerts|demo|connectors>
                                      one part alone, against REDIS_URL
  crest token --role R [--rooms a,b] [--ttl seconds] [--sub name]
                                      print an access token (role: ${ROLES.join(', ')}; rooms default *)
  crest simulate --scenario NAME [--seed N] [--room R] [--minutes M]
                                      print a simulated room as NDJSON events (labels on stderr)
  crest connect tiktok --room ROOM --user @handle
                                      feed a TikTok LIVE room in (needs REDIS_URL and the optional
                                      package tiktok-live-connector, AGPL-3.0, installed by you)
  crest record --room ROOM --out FILE.ndjson.gz [--from-start] [--until-end]
                                      write a room's accepted events to gzip NDJSON (needs REDIS_URL)
  crest replay FILE [--speed N] [--room RENAME] [--shift-to-now] [--url URL --token T]
                                      post a recording back at N× speed (0 = flat out), in-process on
                                      REDIS_URL or over HTTP with --url and an ingest token
  crest report --room R [--format html|json|csv] [--out FILE] [--tz ZONE] [--plans FILE.json]
                                      the room's post-stream report from REDIS_URL (stdout without --out)

Settings come from the environment; see the README's configuration table.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'worker':
      return worker(rest);
    case 'token':
      return token(rest);
    case 'simulate':
      return simulate(rest);
    case 'connect':
      await (await import('../workers/connect-command.ts')).connectCommand(rest);
      return;
    case 'record':
      await (await import('../workers/record-command.ts')).recordCommand(rest);
      return;
    case 'report':
      await (await import('../workers/report-command.ts')).reportCommand(rest);
      return;
    case 'replay': {
      const sum = await (await import('../workers/replay-command.ts')).replayCommand(rest);
      if (sum.rejected > 0) process.exitCode = 1;
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
  }
}

/** The token secret: CREST_TOKEN_SECRET, else one generated once and kept in the data folder. */
function tokenSecret(config: CrestConfig): string {
  if (config.tokenSecret) return config.tokenSecret;
  const dir = resolve(ROOT, config.dataDir);
  const file = join(dir, 'token-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const secret = randomSecret();
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

function buildClient(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'client/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('building the client failed (see above)');
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'no-demo': { type: 'boolean', default: false } } });
  const env = { ...process.env, ...(values['no-demo'] ? { CREST_DEMO: '0' } : {}) };
  let config = loadConfig(env);
  const log = createLogger(config.logLevel);
  let redis: RedisProcess | null = null;
  if (!config.redisUrl) {
    redis = new RedisProcess({ dir: resolve(ROOT, config.dataDir, 'redis') });
    await redis.start();
    log.info('started private redis-server', { url: redis.url, dir: redis.dir });
  }
  config = { ...config, redisUrl: config.redisUrl ?? redis!.url, tokenSecret: tokenSecret(config) };
  if (config.roles.has('api')) buildClient();
  let crest;
  try {
    crest = await startCrest(config, { log });
  } catch (err) {
    await redis?.stop();
    throw err;
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    // A part that cannot close cleanly (say, Redis already gone) must not keep the process alive.
    const force = setTimeout(() => {
      log.warn('parts did not stop within 10 s; exiting anyway');
      void redis?.stop().finally(() => process.exit(1));
    }, 10_000);
    force.unref();
    await crest.stop();
    await redis?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (crest.url) {
    const rooms = crest.demoRooms.length ? crest.demoRooms : ['my-room'];
    const first = rooms[0]!;
    const op = crest.token('operator', '*', 'operator');
    const lines = [
      '',
      `Crest is running at ${crest.url}`,
      `  Redis: ${redis ? `private redis-server at ${redis.url} (data in ${redis.dir})` : 'REDIS_URL'}`,
      '',
      `  Room list:      ${crest.url}/?token=${op}`,
      `  Operator panel: ${crest.url}/operator/${first}?token=${op}`,
      `  Host cue view:  ${crest.url}/host/${first}?token=${crest.token('host', rooms, 'host')}`,
      `  Buyer alerts:   ${crest.url}/buyer/${first}?token=${crest.token('buyer', rooms, 'buyer')}`,
      `  Ingest token:   ${crest.token('ingest', '*', 'ingest')}`,
      '',
      crest.demoRooms.length ? `Demo rooms: ${crest.demoRooms.join(', ')} (a highlight builds within about two minutes). Ctrl-C stops everything.` : 'Demo simulator off. Ctrl-C stops everything.',
      '',
    ];
    console.log(lines.join('\n'));
  }
}

async function worker(args: string[]): Promise<void> {
  const part = args[0];
  if (!part || !['api', 'detector', 'alerts', 'demo', 'connectors'].includes(part)) throw new UsageError('usage: crest worker <api|detector|alerts|demo|connectors>');
  const env = { ...process.env, CREST_ROLES: part, CREST_DEMO: part === 'demo' ? '1' : process.env.CREST_DEMO };
  const base = loadConfig(env);
  if (!base.redisUrl) throw new UsageError('crest worker needs REDIS_URL pointing at the Redis that `crest start` (or your deployment) uses');
  const config = { ...base, tokenSecret: tokenSecret(base) };
  const log = createLogger(config.logLevel);
  if (part === 'api') buildClient();
  const crest = await startCrest(config, { log });
  log.info(`crest ${part} running`, crest.url ? { url: crest.url } : {});
  const shutdown = async () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    await crest.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { role: { type: 'string' }, rooms: { type: 'string', default: '*' }, ttl: { type: 'string' }, sub: { type: 'string' } },
  });
  const role = values.role as Role | undefined;
  if (!role || !ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const config = loadConfig();
  const rooms = values.rooms === '*' ? '*' : values.rooms!.split(',').map((r) => r.trim()).filter(Boolean);
  const ttlS = values.ttl ? Number(values.ttl) : config.tokenTtlS;
  if (!Number.isInteger(ttlS) || ttlS < 1) throw new UsageError('--ttl must be a positive whole number of seconds');
  console.log(signToken(tokenSecret(config), { role, rooms, sub: values.sub ?? role, ttlS }));
}

async function simulate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { scenario: { type: 'string', default: 'highlight' }, seed: { type: 'string', default: '1' }, room: { type: 'string' }, minutes: { type: 'string', default: '20' } },
  });
  const { generateRoom, SCENARIOS } = await import('../core/scenario/generate-room.ts');
  const scenario = values.scenario as (typeof SCENARIOS)[number];
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const seed = Number(values.seed);
  const minutes = Number(values.minutes);
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new UsageError('--minutes must be between 0 and 1440');
  const room = generateRoom({ room: values.room ?? `sim-${scenario}-${seed}`, scenario, seed, startTs: Date.UTC(2026, 0, 1), durationMs: minutes * 60_000 });
  const out = room.events.map((e) => JSON.stringify(e)).join('\n');
  process.stdout.write(out + '\n');
  process.stderr.write(JSON.stringify({ room: room.room, scenario, seed, events: room.events.length, labels: room.labels }) + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (
    err instanceof RedisNotInstalledError ||
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof CommandUsageError ||
    err instanceof TikTokPackageMissingError
  ) {
    console.error(`crest: ${err.message}`);
  } else {
    console.error(`crest: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.CREST_DEBUG) console.error(err);
  }
  process.exit(1);
});
