/**
 * Crest scaled out on a real 3-master Redis Cluster (loopback): two gateway/API nodes in this process,
 * two detector workers as separate processes. A worker added while the first is alive gets its fair
 * share of the shards; rooms on every shard are driven through both APIs; one worker is killed with
 * SIGKILL mid-stream. Per-room totals must equal an independent count of what was sent, and every
 * socket.io client — on either gateway — must get exactly the suggestions its role sees, once each,
 * plus acks and plan edits made through the other gateway. An archiver process (`crest worker archiver`)
 * reads every shard of the cluster too: each room's archive holds exactly the events sent for it, in order,
 * and its stream records (written in one MULTI per shard slot) say so through the streams API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { loadConfig } from '../config/config.ts';
import { shardOf } from '../core/sharding.ts';
import type { PlannedMoment, Suggestion } from '../core/protocol.ts';
import { startCrest, type CrestHandle } from '../server/crest.ts';
import type { RedisClient } from '../server/lua/scripts.ts';
import { createRedis } from '../server/redis-connection.ts';
import { keys } from '../server/redis-keys.ts';
import { silentLogger } from '../server/logger.ts';
import { join, scriptedRise, TEST_SECRET, waitFor, type TestSocket } from './support/crest.ts';
import { shardCounters, waitCaughtUp } from './support/caught-up.ts';
import { startTestRedisCluster, type TestRedisCluster } from './support/redis-cluster.ts';
import { exitsWithin } from './support/exit-watch.ts';

const CLI = fileURLToPath(new URL('../bin/crest.mjs', import.meta.url));
const SHARDS = 8;
const LEASE_MS = 1000;

let cluster: TestRedisCluster;
let gateways: CrestHandle[] = [];
let redis: RedisClient;
let receiver: Server;
/** Suggestion ids the webhook receiver was sent (buyer subscription of one room). */
const delivered: string[] = [];
const workers: ChildProcess[] = [];
const archiveDir = mkdtempSync(joinPath(tmpdir(), 'crest-cluster-archive-'));
const sockets: TestSocket[] = [];

const env = (extra: Record<string, string>) => ({
  PORT: '0',
  CREST_DEMO: '0',
  CREST_SHARDS: String(SHARDS),
  CREST_TOKEN_SECRET: TEST_SECRET,
  CREST_LEASE_MS: String(LEASE_MS),
  CREST_RATE_LIMIT_PER_S: '0',
  CREST_ARCHIVE_DIR: archiveDir,
  // A room's stream is archived once it has been quiet this long (the rooms here never send stream.end).
  CREST_ARCHIVE_IDLE_MS: '3000',
  REDIS_URL: cluster.url,
  ...extra,
});

function startWorker(kind: 'detector' | 'archiver' = 'detector'): ChildProcess {
  const child = spawn(process.execPath, [CLI, 'worker', kind], {
    env: { ...process.env, ...env({ CREST_LOG_LEVEL: 'error' }) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workers.push(child);
  return child;
}

/** Lease owner per shard, as the pid inside the worker id (`det-<pid>-<hex>`), or null when free. */
async function leaseOwners(): Promise<(number | null)[]> {
  const ids = await Promise.all(Array.from({ length: SHARDS }, (_, s) => redis.get(keys.lease(s))));
  return ids.map((id) => (id ? Number(id.split('-')[1]) : null));
}

const count = (owners: (number | null)[], pid: number | undefined) => owners.filter((o) => o === pid).length;

before(async () => {
  cluster = await startTestRedisCluster();
  redis = createRedis(cluster.url, { maxRetriesPerRequest: 1 });
  // Gateway A also runs the plan scheduler, B the alert worker: both on BullMQ on the cluster.
  gateways = [
    await startCrest(loadConfig(env({ CREST_ROLES: 'api,plans' })), { log: silentLogger }),
    await startCrest(loadConfig(env({ CREST_ROLES: 'api,alerts', CREST_WEBHOOK_BACKOFF_MS: '50' })), { log: silentLogger }),
  ];
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      delivered.push((JSON.parse(body) as { suggestion: Suggestion }).suggestion.id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', () => ok()));
});

after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  for (const s of sockets) s.disconnect();
  for (const g of gateways) await g.stop();
  receiver?.close();
  redis?.disconnect();
  await cluster?.cleanup();
  rmSync(archiveDir, { recursive: true, force: true });
});
exitsWithin();

async function socketOn(g: CrestHandle, token: string): Promise<TestSocket> {
  const s: TestSocket = io(g.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(s);
  await new Promise<void>((ok, fail) => {
    s.once('connect', () => ok());
    s.once('connect_error', fail);
  });
  return s;
}

async function api(g: CrestHandle, path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(g.url + path, { ...init, headers });
}

test('2 gateways + 2 detector workers on a 3-master Redis Cluster: fair shards, kill -9, exact totals, every client served', async (t) => {
  const [gwA, gwB] = gateways as [CrestHandle, CrestHandle];

  // --- adding a worker rebalances ---------------------------------------------------------------
  const first = startWorker();
  // Generous: the worker compiles its modules on start, slow on a loaded machine.
  await waitFor('first worker holds every shard', 60_000, async () => (count(await leaseOwners(), first.pid) === SHARDS ? true : undefined));
  const second = startWorker();
  startWorker('archiver');
  const spawnedAt = Date.now();
  await waitFor('the second worker announced itself', 30_000, async () => ((await redis.zcard(keys.detectors())) === 2 ? true : undefined));
  const announcedAt = Date.now();
  const fair = Math.ceil(SHARDS / 2);
  const balanced = await waitFor('shards split between the two workers', 20_000, async () => {
    const owners = await leaseOwners();
    return count(owners, first.pid) === fair && count(owners, second.pid) === SHARDS - fair ? owners : undefined;
  });
  assert.equal(balanced.filter((o) => o === null).length, 0);
  const rebalanceMs = Date.now() - announcedAt;
  t.diagnostic(`the second worker held its share ${rebalanceMs} ms after it announced itself (${announcedAt - spawnedAt} ms of process start before that)`);
  // The first gives back its surplus at its next renewal (every lease/3), the second takes it at its next refresh.
  assert.ok(rebalanceMs < 2 * LEASE_MS + 1500, `rebalancing took ${rebalanceMs} ms`);

  // --- rooms on every shard, two per shard ------------------------------------------------------
  const rooms: string[] = [];
  const perShard = new Map<number, number>();
  for (let i = 0; rooms.length < SHARDS * 2; i++) {
    const room = `cl-${i}`;
    const s = shardOf(room, SHARDS);
    if ((perShard.get(s) ?? 0) >= 2) continue;
    perShard.set(s, (perShard.get(s) ?? 0) + 1);
    rooms.push(room);
  }
  assert.equal(perShard.size, SHARDS);

  // Every room: an operator socket on one gateway, a buyer socket on the other.
  type Got = { ids: string[]; cursors: string[]; acks: string[]; plans: string[] };
  const views: { room: string; role: 'operator' | 'buyer'; gw: CrestHandle; got: Got; socket: TestSocket }[] = [];
  for (const [i, room] of rooms.entries()) {
    for (const role of ['operator', 'buyer'] as const) {
      const gw = (i + (role === 'buyer' ? 1 : 0)) % 2 === 0 ? gwA : gwB;
      const socket = await socketOn(gw, gw.token(role, [room], `${role}-${room}`));
      const got: Got = { ids: [], cursors: [], acks: [], plans: [] };
      socket.on('suggestion:new', (m) => {
        got.ids.push(m.suggestion.id);
        got.cursors.push(m.cursor);
      });
      socket.on('suggestion:acked', (m) => got.acks.push(m.ack.suggestionId));
      socket.on('plan:update', (m) => got.plans.push(m.planId));
      assert.equal((await join(socket, room)).ok, true);
      views.push({ room, role, gw, got, socket });
    }
  }

  // A buyer's webhook for one room, subscribed through gateway A, delivered by gateway B's alert worker.
  const hooked = rooms[1]!;
  const sub = await api(gwA, '/api/v1/webhooks', gwA.token('buyer', [hooked], 'hook'), {
    method: 'POST',
    body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, room: hooked }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(sub.status, 201, await sub.clone().text());

  // --- drive the rooms through both APIs, and the independent count ----------------------------
  const expected = new Map<string, { entries: number; orders: number; gmv: number; events: number }>();
  const streams = rooms.map((room, i) => {
    const { events } = scriptedRise(room, Date.now() - 20 * 60_000 + i * 7_000);
    const e = { entries: 0, orders: 0, gmv: 0, events: events.length };
    for (const ev of events) {
      if (ev.type === 'viewer.enter') e.entries++;
      if (ev.type === 'order.paid') {
        e.orders++;
        e.gmv += ev.amount as number;
      }
    }
    expected.set(room, e);
    return events;
  });
  // Batches interleave all rooms, each room's events in order; consecutive batches go to alternate gateways.
  const batches: Record<string, unknown>[][] = [];
  for (let at = 0; streams.some((s) => at < s.length); at += 40) batches.push(streams.flatMap((s) => s.slice(at, at + 40)));
  const ingest = [gwA.token('ingest', '*'), gwB.token('ingest', '*')];
  let sent = 0;
  // Resolved each time a batch is acknowledged: the moment events are sure to be waiting for a worker.
  let acked: () => void = () => {};
  let nextAck = new Promise<void>((r) => (acked = r));
  const sender = (async () => {
    for (const [b, batch] of batches.entries()) {
      const g = b % 2 === 0 ? gwA : gwB;
      const res = await api(g, '/api/v1/events', ingest[b % 2]!, { method: 'POST', body: JSON.stringify(batch), headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const body = JSON.parse(text) as { accepted: number };
      assert.equal(body.accepted, batch.length);
      sent++;
      acked();
      nextAck = new Promise<void>((r) => (acked = r));
      await new Promise((r) => setTimeout(r, 30));
    }
  })();

  // --- kill -9 one worker mid-stream, once it has demonstrably processed events ----------------
  const firstShards = (await leaseOwners()).flatMap((o, s) => (o === first.pid ? [s] : []));
  await waitFor('the first worker at work', 30_000, async () => (sent >= batches.length / 3 && (await shardCounters(redis, firstShards)).processed > 0 ? true : undefined));
  // Frozen first, so the detector (fast now) cannot drain what the next batches bring before the kill lands.
  first.kill('SIGSTOP');
  await nextAck;
  await nextAck;
  first.kill('SIGKILL');
  // Read at once: nobody takes its shards before the lease expires, so this is what it left behind.
  const atKill = await shardCounters(redis, firstShards);
  const killedAt = Date.now();
  const takeover = await waitFor('the survivor holds every shard', 20_000, async () => (count(await leaseOwners(), second.pid) === SHARDS ? Date.now() - killedAt : undefined));
  // Lease expiry plus the survivor's presence window, each LEASE_MS, plus a refresh period and polling.
  assert.ok(takeover < 3 * LEASE_MS + 1500, `takeover took ${takeover} ms`);
  t.diagnostic(`rebalanced to ${fair}/${SHARDS - fair}; survivor held every shard ${takeover} ms after the kill; ${atKill.added - atKill.processed} events were waiting`);
  await sender;
  assert.ok(atKill.added > atKill.processed, `${atKill.added - atKill.processed} events of its shards were waiting when it died`);

  // --- exact totals ----------------------------------------------------------------------------
  await waitCaughtUp(redis, SHARDS, 40_000, 'every accepted event processed');
  const admin = gwB.token('admin', '*');
  let suggestionsTotal = 0;
  for (const room of rooms) {
    const want = expected.get(room)!;
    const s = await (await api(gwA, `/api/v1/rooms/${room}/state`, admin)).json();
    const entries = Object.values(s.metrics.entriesTotal as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.deepEqual({ entries, orders: s.metrics.orders, gmv: s.metrics.gmv, events: s.metrics.events }, want, room);
  }

  // --- every client, on either gateway, got its suggestions, once each ------------------------
  for (const v of views) {
    const list = (await (await api(v.gw === gwA ? gwB : gwA, `/api/v1/rooms/${v.room}/suggestions`, gwA.token(v.role, [v.room]))).json()) as { suggestions: Suggestion[] };
    const want = list.suggestions.map((s) => s.id).sort();
    if (v.role === 'buyer') assert.ok(list.suggestions.some((s) => s.kind === 'boost.now'), `${v.room}: boost.now was produced`);
    await waitFor(`${v.role} on ${v.gw === gwA ? 'A' : 'B'} got ${v.room}'s suggestions`, 10_000, () => (v.got.ids.length >= want.length ? true : undefined));
    assert.deepEqual([...v.got.ids].sort(), want, `${v.role} ${v.room}`);
    suggestionsTotal += want.length;
  }
  assert.ok(suggestionsTotal >= rooms.length * 2, `suggestions pushed: ${suggestionsTotal}`);
  const hookedWant = views.find((v) => v.room === hooked && v.role === 'buyer')!.got.ids;
  await waitFor(`webhook deliveries of ${hooked}`, 15_000, () => (new Set(delivered).size >= hookedWant.length ? true : undefined));
  assert.deepEqual([...new Set(delivered)].sort(), [...hookedWant].sort(), 'the webhook got every buyer suggestion of its room');
  t.diagnostic(`${rooms.length} rooms, ${batches.length} batches, ${[...expected.values()].reduce((a, e) => a + e.events, 0)} events; ${views.length} sockets got ${suggestionsTotal} suggestions`);

  // --- broadcasts that start on one node reach the other: an ack and a plan edit -------------
  const room = rooms[0]!;
  const buyerView = views.find((v) => v.room === room && v.role === 'buyer')!;
  const operatorView = views.find((v) => v.room === room && v.role === 'operator')!;
  assert.notEqual(buyerView.gw, operatorView.gw);
  const boost = (await (await api(gwA, `/api/v1/rooms/${room}/suggestions`, gwA.token('buyer', [room]))).json()).suggestions[0] as Suggestion;
  const ack = await api(buyerView.gw, `/api/v1/rooms/${room}/suggestions/${encodeURIComponent(boost.id)}/ack`, buyerView.gw.token('buyer', [room], 'anna'), { method: 'POST' });
  assert.equal(ack.status, 201);
  await waitFor('the ack reaches the operator on the other gateway', 5_000, () => (operatorView.got.acks.includes(boost.id) ? true : undefined));
  const plan = await api(buyerView.gw, `/api/v1/rooms/${room}/plans`, buyerView.gw.token('operator', [room]), {
    method: 'POST',
    // Due in 65 s with a 1 min lead: its build-up boost and T−1 countdown fire within seconds, through
    // BullMQ on the cluster (gateway A's scheduler), plan-fire.lua and the detector.
    body: JSON.stringify({ at: Date.now() + 65_000, sku: 'SKU-1', leadMin: 1, budget: 1000 }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(plan.status, 201, await plan.clone().text());
  const created = ((await plan.json()) as { plan: PlannedMoment }).plan;
  await waitFor('the plan edit reaches the operator on the other gateway', 5_000, () => (operatorView.got.plans.includes(created.id) ? true : undefined));
  await waitFor('the plan cue reaches the buyer', 20_000, () => (buyerView.got.ids.some((id) => id.includes(created.id)) ? true : undefined));
  // A client reconnecting to the other gateway with its last cursor gets what came after it, from the stream.
  const again = await socketOn(buyerView.gw, buyerView.gw.token('operator', [room]));
  const replayedIds: string[] = [];
  again.on('suggestion:new', (m) => replayedIds.push(m.suggestion.id));
  const rejoin = await join(again, room, operatorView.got.cursors[0]);
  assert.equal(rejoin.ok, true);
  assert.deepEqual(replayedIds.slice(0, operatorView.got.ids.length - 1), operatorView.got.ids.slice(1));
  // Nothing was pushed twice to anyone.
  for (const v of views) assert.equal(new Set(v.got.ids).size, v.got.ids.length, `${v.role} ${v.room}: no duplicate pushes`);

  // --- the archiver on the cluster: every room's events archived exactly, its records on the cluster ---
  type Listed = { id: string; status: string; startTs: number; events: number | null };
  for (const [i, room] of rooms.entries()) {
    const token = gwA.token('operator', [room]);
    // A quiet room's stream closes after CREST_ARCHIVE_IDLE_MS; a pause that long while sending would split it in two.
    const listed = await waitFor(`${room}'s streams archived`, 30_000, async () => {
      const { streams: list } = (await (await api(gwA, `/api/v1/rooms/${room}/streams`, token)).json()) as { streams: Listed[] };
      return list.length > 0 && list.every((st) => st.status === 'archived') && list.reduce((a, st) => a + (st.events ?? 0), 0) === expected.get(room)!.events ? list : undefined;
    });
    const archived: string[] = [];
    for (const st of [...listed].sort((a, b) => a.startTs - b.startTs)) {
      const res = await api(gwB, `/api/v1/rooms/${room}/streams/${st.id}/archive`, token);
      assert.equal(res.status, 200, `${room} ${st.id}`);
      for (const line of gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8').trimEnd().split('\n')) {
        const l = JSON.parse(line) as { type?: string; id?: string };
        if (l.type) archived.push(l.id!);
      }
    }
    assert.deepEqual(archived, streams[i]!.map((e) => e.id), `${room}: the archive holds every event sent, once, in order`);
  }
});

test('every key of a shard hashes to one cluster slot; BullMQ keys share their prefix tag', async () => {
  const slot = async (key: string) => Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  const slots = new Set<number>();
  for (let s = 0; s < SHARDS; s++) {
    const all = [
      keys.events(s), keys.out(s), keys.checkpoint(s), keys.lease(s), keys.view(s), keys.planRooms(s),
      keys.dedupe(s, 20_000), keys.suggestions(s, 'room-a'), keys.acks(s, 'room-a'), keys.series(s, 'room-a'),
      keys.plans(s, 'room-a'), keys.planFired(s, 'room-a:cue.launch:p1:1:0'),
      keys.sessions(s, 'room-a'), keys.uniqueViewers(s, 'room-a'), keys.payingViewers(s, 'room-a'),
    ];
    const own = new Set(await Promise.all(all.map(slot)));
    assert.equal(own.size, 1, `shard ${s}: ${all.join(' ')}`);
    slots.add([...own][0]!);
  }
  assert.ok(slots.size >= SHARDS - 1, 'shards spread over slots');
  const bull = new Set(await Promise.all(['{crest-bull}:crest-plans:wait', '{crest-bull}:crest-webhooks:delayed'].map(slot)));
  assert.equal(bull.size, 1);
});
