/**
 * `crest <command>`: start, worker, token, simulate, connect, record, replay, report. Errors a user can fix print one sentence and
 * exit 1; nothing here prints a stack trace for a missing redis-server or a bad setting. `crest <command> --help` prints its usage.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type CrestConfig } from '../config/config.ts';
import { ROLES, type Role } from '../core/protocol.ts';
import { randomSecret, signToken } from '../server/auth/token.ts';
import { createLogger } from '../server/logger.ts';
import { COMPILED, PROJECT_ROOT } from '../server/project-paths.ts';
import { RedisNotInstalledError, RedisProcess } from '../server/redis-process.ts';
import { CommandUsageError } from '../workers/command-usage-error.ts';
import { TikTokPackageMissingError } from '../workers/connectors/tiktok-package.ts';

const ROOT = PROJECT_ROOT;

const WORKER_PARTS = ['api', 'detector', 'alerts', 'plans', 'demo', 'connectors', 'archiver'] as const;

const HELP = `crest — real-time monitor for livestream-commerce rooms

  crest start [--no-demo]             Redis (private unless REDIS_URL), API, gateway, workers, demo rooms
  crest worker <api|detector|alerts|plans|demo|connectors|archiver>
                                      one part alone, against REDIS_URL
  crest token --role R [--rooms a,b] [--ttl seconds] [--sub name]
                                      print an access token (role: ${ROLES.join(', ')}; rooms default *)
  crest simulate [--scenario NAME] [--seed N] [--rooms N] [--minutes M] [--post [--speed N]]
                                      simulated rooms as NDJSON on stdout, or fed live into Crest
  crest connect tiktok --room ROOM --user @handle
                                      feed a TikTok LIVE room in (needs REDIS_URL and the optional
                                      package tiktok-live-connector, AGPL-3.0, installed by you)
  crest record --room ROOM --out FILE.ndjson.gz [--from-start] [--until-end]
                                      write a room's accepted events to gzip NDJSON (needs REDIS_URL)
  crest replay FILE [--speed N] [--room RENAME] [--shift-to-now] [--url URL --token T]
                                      post a recording or archive back at N× speed (0 = flat out), in-process
                                      on REDIS_URL or over HTTP with --url and an ingest token
  crest replay FILE --core [--out REPORT.json]
                                      run it through the detector core here: windows, suggestions, report
  crest report --room R [--stream ID] [--format html|json|csv] [--out FILE] [--tz ZONE] [--plans FILE.json]
                                      the room's report from REDIS_URL (a past stream from its archive)

\`crest <command> --help\` explains one command. Settings come from the environment; see the README's
configuration table.`;

const COMMAND_HELP: Record<string, string> = {
  start: `usage: crest start [--no-demo]

Runs everything in one process: a private redis-server (unless REDIS_URL is set; data in CREST_DATA_DIR),
the API and socket gateway, the detector, alert, plan and archiver workers, and the demo rooms. Prints the
links. Ctrl-C stops all of it. --no-demo (or CREST_DEMO=0) runs without the demo simulator.`,
  worker: `usage: crest worker <${WORKER_PARTS.join('|')}>

Runs one part alone against REDIS_URL (scale out by running more of a part; detectors and archivers share
shards by lease). The archiver writes CREST_ARCHIVE_DIR (default CREST_DATA_DIR/archive); an api worker
reads past-stream reports from the same folder.`,
  token: `usage: crest token --role ROLE [--rooms a,b] [--ttl SECONDS] [--sub NAME]

Prints an access token signed with CREST_TOKEN_SECRET (or the secret generated in CREST_DATA_DIR).
  --role   one of ${ROLES.join(', ')}
  --rooms  comma list of rooms the token may use (default *: every room)
  --ttl    lifetime in seconds (default CREST_TOKEN_TTL_S)
  --sub    who holds it (shown in acknowledgements and logs; default the role)`,
  record: `usage: crest record --room ROOM --out FILE.ndjson.gz [--from-start] [--until-end]

Writes every accepted event of one room to gzip NDJSON as it arrives (needs REDIS_URL). Ctrl-C stops it;
the file is valid whenever it stops. --from-start begins with the oldest event the shard stream still
holds; --until-end stops after the room's stream.end. For whole past streams see CREST_ARCHIVE_DIR.`,
  connect: `usage: crest connect tiktok --room ROOM --user @handle

Feeds a TikTok LIVE room into Crest (needs REDIS_URL and the optional package tiktok-live-connector,
AGPL-3.0, installed by you: npm install tiktok-live-connector). Other platforms post events over HTTP.`,
};

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command && COMMAND_HELP[command] && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(COMMAND_HELP[command]);
    return;
  }
  switch (command) {
    case 'start':
      return start(rest);
    case 'worker':
      return worker(rest);
    case 'token':
      return token(rest);
    case 'simulate':
      await (await import('../workers/simulate-command.ts')).simulateCommand(rest);
      return;
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

/** History is on by default for a whole Crest: archives go to CREST_ARCHIVE_DIR, else CREST_DATA_DIR/archive. */
function archiveSettings(config: CrestConfig): CrestConfig['archive'] {
  return { ...config.archive, dir: resolve(ROOT, config.archive.dir ?? join(config.dataDir, 'archive')) };
}

/**
 * Builds the client when the sources run (a test, a developer's `crest start` under tsx); the compiled
 * tree comes with it already built (npm run build), so production starts without esbuild.
 */
function buildClient(): void {
  if (COMPILED) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'client/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('building the client failed (see above)');
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'no-demo': { type: 'boolean', default: false } } });
  const env = { ...process.env, ...(values['no-demo'] ? { CREST_DEMO: '0' } : {}) };
  let config = loadConfig(env);
  const secret = tokenSecret(config);
  const log = createLogger(config.logLevel, { secrets: [secret, config.tokenSecretPrevious] });
  let redis: RedisProcess | null = null;
  if (!config.redisUrl) {
    redis = new RedisProcess({ dir: resolve(ROOT, config.dataDir, 'redis') });
    await redis.start();
    log.info('started private redis-server', { url: redis.url, dir: redis.dir });
  }
  config = { ...config, redisUrl: config.redisUrl ?? redis!.url, tokenSecret: secret, archive: archiveSettings(config) };
  if (config.roles.has('api')) buildClient();
  let crest;
  try {
    // Loaded on demand: the whole server is not needed to print a token or a usage line.
    const { startCrest } = await import('../server/crest.ts');
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
  if (!part || !(WORKER_PARTS as readonly string[]).includes(part)) throw new UsageError(`usage: crest worker <${WORKER_PARTS.join('|')}>`);
  const env = { ...process.env, CREST_ROLES: part, CREST_DEMO: part === 'demo' ? '1' : process.env.CREST_DEMO };
  const base = loadConfig(env);
  if (!base.redisUrl) throw new UsageError('crest worker needs REDIS_URL pointing at the Redis that `crest start` (or your deployment) uses');
  const config = { ...base, tokenSecret: tokenSecret(base), archive: archiveSettings(base) };
  const log = createLogger(config.logLevel, { secrets: [config.tokenSecret, config.tokenSecretPrevious] });
  if (part === 'api') buildClient();
  const { startCrest } = await import('../server/crest.ts');
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

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = (err as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const command = process.argv[2];
    console.error(`crest: ${(err as Error).message}; see crest ${command} --help`);
    process.exit(1);
  }
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
