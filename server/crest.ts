/**
 * Composes one Crest process from its parts (API + gateway, detector worker, alert worker, demo
 * simulator, platform connectors), each switchable by config, and stops them in the reverse order.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { CrestConfig } from '../config/config.ts';
import type { Role } from '../core/protocol.ts';
import { AlertWorker } from '../workers/alert-worker.ts';
import { DetectorWorker } from '../workers/detector-worker.ts';
import { detectorWorkerOptions } from '../workers/detector-options.ts';
import { DetectorThread, type DetectorHandle } from '../workers/detector-thread.ts';
import { PlanScheduler } from '../workers/plan-scheduler.ts';
import { startDemoSimulator, demoRooms as pickDemoRooms } from '../workers/demo-simulator.ts';
import { startConnectors } from '../workers/connectors/connector-runner.ts';
import { Archiver } from '../workers/archiver.ts';
import { createRequestListener } from './app.ts';
import { allowSocketRequest, socketCors } from './cors.ts';
import type { AppContext } from './app-context.ts';
import { randomSecret, signToken } from './auth/token.ts';
import { Gateway, type CrestServer } from './gateway.ts';
import { IngestService } from './ingest-service.ts';
import { createRedis } from './redis-connection.ts';
import { createLogger, type Logger } from './logger.ts';
import { ApiMetrics, WorkerMetrics, workerProcessMetrics, type MetricsJson } from './metrics-registry.ts';
import { MetricsPublisher } from './metrics-publisher.ts';
import { apiMetricSources } from './metrics-sources.ts';
import { RoomStore } from './room-store.ts';
import { SeriesRoller } from './series-rollup.ts';

/** A Redis command of the API that takes longer than this is answered 503 (ids make a resend safe). */
const API_COMMAND_TIMEOUT_MS = 5_000;

export interface CrestHandle {
  /** Base URL of the API and client ('' when this process runs no API). */
  url: string;
  redisUrl: string;
  tokenSecret: string;
  ingest: IngestService;
  /** The detector: on its own worker thread (DetectorThread) unless CREST_DETECTOR_THREAD=0. */
  detector: DetectorHandle | null;
  demoRooms: string[];
  token(role: Role, rooms: string[] | '*', sub?: string): string;
  stop(): Promise<void>;
}

export async function startCrest(config: CrestConfig, opts: { log?: Logger } = {}): Promise<CrestHandle> {
  const log = opts.log ?? createLogger(config.logLevel, { secrets: [config.tokenSecret, config.tokenSecretPrevious] });
  const redisUrl = config.redisUrl;
  if (!redisUrl) throw new Error('startCrest needs config.redisUrl (crest start spawns a private redis-server when REDIS_URL is unset)');
  const tokenSecret = config.tokenSecret ?? randomSecret();
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: Error) => log.warn('stop step failed', { error: e.message }));
  };

  try {
    // The API connection fails fast while Redis is away (503 + Retry-After) instead of queueing requests:
    // no offline queue, one retry of a command cut off mid-flight, a bounded connect and command time
    // (a hung Redis answers 503 within seconds, not never), and reconnects every ≤ 1 s by itself.
    const redis = createRedis(redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: API_COMMAND_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
      lazyConnect: true,
    });
    redis.on('error', (e) => log.debug('api redis', { error: e.message }));
    await redis.connect();
    stops.push(async () => redis.disconnect());
    const ingest = new IngestService(redis, { shards: config.shards, dedupeHorizonS: config.dedupeHorizonS, maxLag: config.maxLag, replicas: config.replicas });
    const store = new RoomStore(redis, config.shards, config.outStreamMaxLen);
    const tokenSecrets = config.tokenSecretPrevious ? [tokenSecret, config.tokenSecretPrevious] : [tokenSecret];
    const metrics = new ApiMetrics({ ingestCounters: () => ingest.counters });
    const ctx: AppContext = { config, tokenSecret, tokenSecrets, redis, ingest, store, log, metrics };
    // Detector and alert metrics of this process (a detector thread keeps its own: localMetrics asks it).
    const workerMetrics = new WorkerMetrics();
    let detectorThread: DetectorThread | null = null;
    const localMetrics = async (): Promise<MetricsJson[]> => [await workerMetrics.json(), ...(detectorThread ? [await detectorThread.metricsJson()] : [])];

    let detector: DetectorHandle | null = null;
    if (config.roles.has('detector')) {
      const detectorOpts = detectorWorkerOptions(config, redisUrl);
      // Its own thread by default, so detection and the API/gateway use two cores (docs/performance.md).
      const d = config.detectorThread ? (detectorThread = new DetectorThread(detectorOpts, log)) : new DetectorWorker({ ...detectorOpts, log, metrics: workerMetrics });
      await d.start();
      detector = d;
      stops.push(() => d.stop());
    }

    if (config.roles.has('alerts')) {
      const alerts = new AlertWorker({ redisUrl, shards: config.shards, webhook: config.webhook, log, metrics: workerMetrics });
      await alerts.start();
      stops.push(() => alerts.stop());
    }

    if (config.roles.has('plans')) {
      const plans = new PlanScheduler({ redisUrl, shards: config.shards, countdownMin: config.plans.countdownMin, log });
      await plans.start();
      stops.push(() => plans.stop());
    }

    if (config.roles.has('archiver') && config.archive.dir) {
      const { rollupDays, idleCloseMs, holdMs } = config.archive;
      const archiver = new Archiver({ redisUrl, shards: config.shards, dir: config.archive.dir, engine: config.engine, rollupDays, idleCloseMs, holdMs, leaseMs: config.leaseMs, log });
      await archiver.start();
      stops.push(() => archiver.stop());
    }

    let url = '';
    if (config.roles.has('api')) {
      const http = createServer(createRequestListener(ctx));
      // Longer than a load balancer's idle timeout (60 s on the common ones) and than our own clients' gaps:
      // with Node's 5 s default, a client reusing a keep-alive connection just as the server closes it gets
      // ECONNRESET (seen in the latency bench), and a load balancer answers 502.
      http.keepAliveTimeout = 65_000;
      http.headersTimeout = 66_000;
      const io: CrestServer = new Server(http, {
        serveClient: false,
        maxHttpBufferSize: 64 * 1024,
        pingInterval: 10_000,
        pingTimeout: 10_000,
        cors: socketCors(config.corsOrigins),
        allowRequest: allowSocketRequest(config.corsOrigins),
      });
      const sources = apiMetricSources({ redis, shards: config.shards, io, local: localMetrics, log });
      metrics.watch(sources);
      stops.push(() => sources.close());
      const gateway = new Gateway(io, ctx, redisUrl);
      await gateway.start();
      await listen(http, config.port, config.host);
      const addr = http.address() as AddressInfo;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${addr.port}`;
      stops.push(async () => {
        await gateway.stop();
        await new Promise<void>((ok) => io.close(() => ok()));
        http.closeAllConnections?.();
      });
      // 10 s / 1 min chart series for rooms nobody is reading (reads roll up by themselves).
      const roller = new SeriesRoller(redis, config.shards, log);
      roller.start();
      stops.push(() => roller.stop());
    }

    if (!config.roles.has('api') && (config.roles.has('detector') || config.roles.has('alerts'))) {
      // No /metrics of its own: the API processes show this one's (server/metrics-publisher.ts), its process metrics too.
      const proc = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
      const processMetrics = workerProcessMetrics({ proc, role: (['detector', 'alerts'] as const).filter((r) => config.roles.has(r)).join(',') });
      const publisher = new MetricsPublisher(redis, proc, async () => [...(await localMetrics()), await processMetrics()], log);
      publisher.start();
      stops.push(() => publisher.stop());
    }

    const demoRooms: string[] = [];
    if (config.roles.has('demo')) {
      const rooms = pickDemoRooms(config.demoRooms);
      demoRooms.push(...rooms.map((r) => r.room));
      const sim = startDemoSimulator({
        rooms,
        loop: true,
        submit: async (events) => {
          await ingest.ingest(events, { rooms: '*' });
        },
        log: (msg) => log.debug(msg),
      });
      stops.push(() => sim.stop());
    }

    if (config.roles.has('connectors') && config.tiktok.rooms.length > 0) {
      try {
        const connectors = await startConnectors({ rooms: config.tiktok.rooms, config, ingest, redis, log });
        stops.push(() => connectors.stop());
      } catch (err) {
        // A connector problem (e.g. the optional package is not installed) is shown in the panel and the
        // log; it never stops the rest of Crest.
        log.error('TikTok connectors not started', { error: (err as Error).message });
      }
    }

    return {
      url,
      redisUrl,
      tokenSecret,
      ingest,
      detector,
      demoRooms,
      token: (role, rooms, sub) => signToken(tokenSecret, { role, rooms, sub, ttlS: config.tokenTtlS }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function listen(http: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((ok, fail) => {
    http.once('error', fail);
    http.listen(port, host, () => {
      http.off('error', fail);
      ok();
    });
  });
}
