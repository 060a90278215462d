/**
 * What the webhook tests share: a token signer, the API mounted with only the routers under test, a JSON
 * caller, a subscription helper, suggestions shaped like the detector's and written where it writes them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import type { Redis } from 'ioredis';
import type { CrestConfig } from '../../config/config.ts';
import type { RoomUpdate, Suggestion } from '../../core/protocol.ts';
import { shardOf } from '../../core/sharding.ts';
import type { AppContext } from '../../server/app-context.ts';
import { errorHandler } from '../../server/app.ts';
import { signToken } from '../../server/auth/token.ts';
import type { Logger } from '../../server/logger.ts';
import { ApiMetrics } from '../../server/metrics-registry.ts';
import { keys } from '../../server/redis-keys.ts';
import type { RoomStore } from '../../server/room-store.ts';

export const TEST_SECRET = 'test-token-secret-0123456789';

export const testToken = (role: 'operator' | 'buyer' | 'host' | 'admin', rooms: string[] | '*', sub?: string) =>
  signToken(TEST_SECRET, { role, rooms, sub, ttlS: 600 });

/** Listens on 127.0.0.1 (port 0: a free one); resolves with the port, rejects if it is taken. */
export function listenOn(server: Server, port = 0): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done((server.address() as AddressInfo).port));
  });
}

/** The API with only `routers` mounted (the store only for routers that read room state). */
export async function startRoutersApi(opts: {
  config: CrestConfig;
  redis: Redis;
  log: Logger;
  store?: RoomStore;
  routers: ((ctx: AppContext) => Router)[];
}): Promise<{ server: Server; url: string; ctx: AppContext }> {
  const ctx: AppContext = {
    config: opts.config,
    tokenSecret: TEST_SECRET,
    tokenSecrets: [TEST_SECRET],
    redis: opts.redis,
    log: opts.log,
    metrics: new ApiMetrics(),
    ingest: null as never,
    store: opts.store ?? (null as never),
  };
  const app = express();
  for (const r of opts.routers) app.use('/api/v1', r(ctx));
  app.use(errorHandler(ctx));
  const server = createServer(app);
  return { server, url: `http://127.0.0.1:${await listenOn(server)}`, ctx };
}

export function apiClient(url: () => string) {
  async function call(method: string, path: string, tok: string | null, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
    const res = await fetch(`${url()}/api/v1${path}`, {
      method,
      headers: { ...(tok ? { Authorization: `Bearer ${tok}` } : {}), 'Content-Type': 'application/json' },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  async function subscribe(tok: string, body: Record<string, unknown>): Promise<{ id: string; secret: string; kinds: string[]; audience: string }> {
    const r = await call('POST', '/webhooks', tok, body);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json;
  }
  return { call, subscribe };
}

let seq = 0;
/** A buyer `boost.now` with a fresh time (one second after the last one made), overridable. */
export function testSuggestion(room: string, over: Partial<Suggestion> = {}): Suggestion {
  const kind = over.kind ?? 'boost.now';
  const ts = 1_700_000_000_000 + ++seq * 1000;
  return {
    // Colons on purpose: real suggestion ids have them, and BullMQ job ids may not.
    id: `${room}:${kind}:${ts}`,
    room,
    audience: 'buyer',
    kind,
    reasonCode: 'rising',
    params: { liftPct: 42, seq },
    reason: 'viewers rising 42 % above baseline',
    confidence: 0.8,
    createdAt: ts,
    expiresAt: ts + 300_000,
    cooldownKey: `${room}:${kind}`,
    windowId: `${room}:${ts - 20_000}`,
    forecastPeakTs: ts + 120_000,
    suggestedBoostMin: 10,
    suppressed: null,
    ...over,
  };
}

/** What the detector does: one out-stream entry per update, on the room's shard. */
export async function emitUpdate(redis: Redis, shards: number, update: RoomUpdate): Promise<void> {
  await redis.xadd(keys.out(shardOf(update.room, shards)), '*', 'r', update.room, 'u', JSON.stringify(update));
}

/** Teardown in dependency order: the worker first (it holds Redis), then the clients, the servers, Redis. */
export async function stopWebhookRig(rig: { worker?: { stop(): Promise<void> }; redis?: Redis; api?: Server; receiver?: Server; redisProc?: { cleanup(): Promise<void> } }): Promise<void> {
  await rig.worker?.stop();
  await rig.redis?.quit();
  await new Promise((r) => (rig.api ? rig.api.close(r) : r(undefined)));
  rig.receiver?.closeAllConnections();
  await new Promise((r) => (rig.receiver ? rig.receiver.close(r) : r(undefined)));
  await rig.redisProc?.cleanup();
}
