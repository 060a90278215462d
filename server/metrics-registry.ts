/**
 * Crest's Prometheus metrics, on prom-client. Two kinds of registry, so that parts running apart can be added up:
 *  - ApiMetrics: one per API process: Node's default process metrics, the HTTP/socket counters, the ingest
 *    request histogram, event→socket lag (the gateway lives here), and gauges read from Redis at scrape time
 *    (backlog, live rooms, BullMQ queue depths).
 *  - WorkerMetrics: one per process or thread that runs a detector or an alert worker (detector lag per shard,
 *    webhook deliveries). /metrics sums every such registry it can see with prom-client's own
 *    AggregatorRegistry.aggregate (the worker thread's by message, other processes' through Redis:
 *    server/metrics-publisher.ts), and appends the result to the API's own text. The two sets share no
 *    metric name, so the concatenation has one `# TYPE` per name. A worker process publishes its own default
 *    process metrics beside it, renamed and labelled per process (workerProcessMetrics).
 * Per-instance registries, not prom-client's global one: a test process starts several Crests.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** What registry.getMetricsAsJSON() gives: the form a registry travels in (thread message, Redis). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Seconds. From an idle pipeline (a few ms) to a backlog draining (tens of seconds). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds. An ingest request of a few events takes ~1 ms; a 5,000-event batch tens of ms. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds. A receiver on the LAN answers in ms; the delivery timeout (CREST_WEBHOOK_TIMEOUT_MS) caps the top. */
const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type WebhookResult = 'delivered' | 'failed' | 'dead-lettered';

/** One registry and the metrics made on it (every metric of a set names the same registry). */
class MetricSet {
  readonly registry = new Registry();

  protected histogram<L extends string>(name: string, help: string, buckets: number[], ...labelNames: L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  protected counter<L extends string>(name: string, help: string, ...labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}

export class WorkerMetrics extends MetricSet {
  readonly detectorLag = this.histogram(
    'crest_detector_lag_seconds',
    "From an event's append to its shard stream to the detector commit that applied it, per shard",
    LAG_BUCKETS,
    'shard',
  );
  readonly detectorBatches = this.counter('crest_detector_batches_total', 'Detector batches committed, per shard', 'shard');
  readonly webhookDelivery = this.histogram(
    'crest_webhook_delivery_seconds',
    'One webhook delivery attempt (the POST), by result: delivered, failed (will retry), dead-lettered (no attempts left)',
    WEBHOOK_BUCKETS,
    'result',
  );

  json(): Promise<MetricsJson> {
    return this.registry.getMetricsAsJSON();
  }
}

/** The name prefix of a worker process's own default metrics on the API's /metrics (workerProcessMetrics). */
export const WORKER_PROCESS_PREFIX = 'crest_worker_';

/**
 * The default process metrics (CPU, RSS, heap, event-loop lag, GC) of a process that has no /metrics of its own
 * (`crest worker detector|alerts`), as it publishes them beside its WorkerMetrics. On the API's /metrics they
 * must not meet the API's own `process_*` under the same name (one `# TYPE` per name), hence the prefix; and
 * the worker registries are summed there, which would add up the RSS of every worker, hence a `proc` label per
 * process (its publisher id) that keeps each one its own series, and `role`. With one series per process, any
 * aggregator gives the process's own value: 'first' for all, so the start time (prom-client: 'omit') is kept.
 */
export function workerProcessMetrics(labels: { proc: string; role: string }): () => Promise<MetricsJson> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: WORKER_PROCESS_PREFIX, labels });
  return async () => (await registry.getMetricsAsJSON()).map((m) => ({ ...m, aggregator: 'first' as const }));
}

/** Where the API's scrape-time gauges read from; set by startCrest once the parts exist. */
export interface ApiMetricSources {
  sockets(): number;
  /** Per shard: events added and not yet applied, and the rooms the detector's clock advances. */
  shardStates(): Promise<{ shard: number; backlog: number; activeRooms: number }[]>;
  /** Per BullMQ queue: its job counts by state. */
  queueCounts(): Promise<{ queue: string; counts: Record<string, number> }[]>;
  /** Registries of the parts that may run elsewhere (this process's own, the detector thread's, other processes'). */
  workerJson(): Promise<MetricsJson[]>;
  /** A scrape-time read failed (Redis away): the gauge is left empty rather than stale. */
  onError(what: string, err: Error): void;
}

export class ApiMetrics extends MetricSet {
  readonly ingestRequest = this.histogram('crest_ingest_request_duration_seconds', 'POST /api/v1/events, from the request to the answer, by HTTP status', REQUEST_BUCKETS, 'status');
  readonly eventToSocket = this.histogram(
    'crest_event_to_socket_seconds',
    'From the append of the stream entry (event or clock record) that produced an update to the gateway emitting it to sockets, by update type',
    LAG_BUCKETS,
    'type',
  );
  readonly httpErrors = this.counter('crest_http_errors_total', 'API answers with an error status, by status', 'status');
  // The counters /metrics showed before prom-client, under the same names.
  readonly socketsConnected = this.counter('crest_sockets_connected_total', 'Socket connections accepted');
  readonly socketRateLimited = this.counter('crest_socket_rate_limited_total', 'Socket joins and acks refused for the token rate limit');
  readonly socketsExpired = this.counter('crest_sockets_expired_total', 'Sockets dropped at their token expiry');
  readonly socketReplayGaps = this.counter('crest_socket_replay_gaps_total', 'Reconnects whose missed updates were trimmed: the snapshot stood in');

  private sources: ApiMetricSources | null = null;

  constructor(opts: { ingestCounters?: () => { accepted: number; duplicate: number; rejected: number } } = {}) {
    super();
    collectDefaultMetrics({ register: this.registry });
    const ingest = opts.ingestCounters;
    for (const k of ['accepted', 'duplicate', 'rejected'] as const) {
      // Mirrors IngestService's own counts (the bench and tests read those), under the pre-prom-client names.
      new Counter({
        name: `crest_ingest_events_${k}_total`,
        help: `Events ${k} by ingest (HTTP, connectors, demo)`,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(ingest?.()[k] ?? 0);
        },
      });
    }
    const src = () => this.sources;
    new Gauge({
      name: 'crest_sockets',
      help: 'Sockets connected to this gateway now',
      registers: [this.registry],
      collect() {
        this.set(src()?.sockets() ?? 0);
      },
    });
    // One Redis read serves both shard gauges: the registry collects its metrics concurrently, so both
    // collects share the read of the scrape in flight.
    let states: Promise<Awaited<ReturnType<ApiMetricSources['shardStates']>> | null> | null = null;
    const readStates = () => {
      states ??= (async () => {
        const s = src();
        if (!s) return null;
        try {
          return await s.shardStates();
        } catch (err) {
          s.onError('shard states', err as Error);
          return null;
        } finally {
          setImmediate(() => (states = null));
        }
      })();
      return states;
    };
    new Gauge({
      name: 'crest_detector_backlog_events',
      help: 'Events appended to a shard stream and not yet applied by a detector (ingest answers 429 over CREST_MAX_LAG)',
      labelNames: ['shard'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const st of (await readStates()) ?? []) this.set({ shard: String(st.shard) }, st.backlog);
      },
    });
    new Gauge({
      name: 'crest_live_rooms',
      help: "Rooms the detectors' clocks advance now (an event within the last 30 minutes), summed over shards",
      registers: [this.registry],
      async collect() {
        this.reset();
        const st = await readStates();
        if (st) this.set(st.reduce((n, x) => n + x.activeRooms, 0));
      },
    });
    new Gauge({
      name: 'crest_queue_jobs',
      help: 'BullMQ jobs by queue and state (webhook deliveries, plan cues)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = src();
        if (!s) return;
        try {
          for (const q of await s.queueCounts()) for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.queue, state }, n);
        } catch (err) {
          s.onError('queue counts', err as Error);
        }
      },
    });
  }

  watch(sources: ApiMetricSources): void {
    this.sources = sources;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole /metrics text: this registry, then every worker registry summed (see the header). */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    const workers = (await this.sources?.workerJson()) ?? [];
    if (workers.length === 0) return own;
    return own + (await AggregatorRegistry.aggregate(workers).metrics());
  }
}
