/**
 * Crest's ioredis client for one server or a Sentinel-watched primary: ioredis's `Redis` with two shutdown
 * leaks closed, so that a process which closed its clients exits (no force-exit needed, nothing left ticking):
 *
 * 1. `disconnect()` between two reconnect attempts (status `reconnecting`: no socket open, a retry timer armed)
 *    clears the timer but never ends the client: no socket is left to emit the 'close' that would
 *    (redis/ioredis#1247, #1830). BullMQ's `Worker.close()` waits for that 'end' on its blocking connection, so a
 *    Crest stopped within a retry delay of a failover hung there and left the worker's lock-renewal and
 *    stalled-check timers running.
 * 2. Behind Sentinel with `failoverDetector`, `quit()` ends the client but not the detector's subscriber
 *    connections to the sentinels, which then reconnect every 60 s for ever (redis/ioredis#1362; fixed upstream
 *    in #2198, not in the ioredis we run). BullMQ closes its connections with `quit()`.
 *
 * `duplicate()` keeps the class: BullMQ makes a worker's connections by duplicating the client it is given.
 */
import { Redis, SentinelConnector, type RedisOptions } from 'ioredis';

type ErrorEmitter = Parameters<SentinelConnector['connect']>[0];
type NetStream = Awaited<ReturnType<SentinelConnector['connect']>>;
/** Crest reads replies in ioredis's default (legacy) mapping throughout. */
export type CrestRedisOptions = Omit<RedisOptions, 'replyMapping'>;
type ConnectorConstructor = NonNullable<RedisOptions['Connector']>;

/**
 * A SentinelConnector whose failover detector goes with the stream it was started for: when that stream closes
 * (quit, a failover, a dead primary) the detector's sentinel connections are closed too. A reconnect starts a
 * fresh detector for the new stream, as ioredis does anyway.
 */
export class StreamBoundSentinelConnector extends SentinelConnector {
  /**
   * The stream whose detector a disconnect() has closed already. Closing it a second time is not harmless: each
   * sentinel client, ended by then, still holds its closed stream, and ending that again arms ioredis's 2 s
   * disconnect timer on a stream whose 'close' never comes again (seen: every `disconnect()` of a Sentinel
   * client held the process 2 s, server/redis-client.test.ts).
   */
  private detectorClosedFor: NetStream | undefined;

  override async connect(emit: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(emit);
    stream.once('close', () => {
      // Only while it is still this connector's stream (a newer one has its own detector), and not if
      // disconnect() has closed this stream's detector already.
      if (this.stream !== stream || this.detectorClosedFor === stream) return;
      // disconnect() is the connector's public way to drop its detector. Given a stream it also ends it and arms
      // a 2 s timer (disconnectTimeout) that only that stream's 'close' clears, which has fired already: the
      // timer held every process that closed a Sentinel client for 2 s more (seen as the one thing alive after
      // fault-sentinel's last hook). The stream is closed, so there is nothing for it to end.
      this.stream = undefined as unknown as NetStream;
      this.disconnect();
    });
    return stream;
  }

  override disconnect(): void {
    this.detectorClosedFor = this.stream;
    super.disconnect();
  }
}

export class CrestRedis extends Redis {
  /** A `redis://` URL and options, or options alone (`sentinels` + `name` for a primary found through Sentinel). */
  constructor(target: string | CrestRedisOptions, options: CrestRedisOptions = {}) {
    if (typeof target === 'string') super(target, options);
    else super(target.sentinels ? { ...target, Connector: target.Connector ?? (StreamBoundSentinelConnector as ConnectorConstructor) } : target);
  }

  override disconnect(reconnect = false): void {
    // Between retries there is no socket whose 'close' would end the client. As 'wait' (a client that never
    // connected), ioredis's own disconnect runs its close path at once: status 'end', 'end' emitted, queued
    // commands rejected. BullMQ sets `status` itself for the same reason (RedisConnection.close).
    if (!reconnect && this.status === 'reconnecting') this.status = 'wait';
    super.disconnect(reconnect);
  }

  override duplicate<O extends Partial<RedisOptions> | undefined = undefined>(override?: O): ReturnType<typeof Redis.prototype.duplicate<O>> {
    // The base's return type follows `replyMapping`; Crest never overrides it, so the mapping stays legacy.
    return new CrestRedis({ ...this.options, ...override } as CrestRedisOptions) as ReturnType<typeof Redis.prototype.duplicate<O>>;
  }
}
