/**
 * A big room across a crash: one room ramped to tens of thousands of open viewer sessions while its detector
 * worker is killed with SIGKILL mid-ramp (twice); a successor restores the room from its small JSON plus the
 * per-viewer hash and sets (docs/big-rooms.md) and ends with every total exact — open sessions, unique and
 * paying viewers, and GMV by the source of the payer's session (which needs the restored sessions). The room's
 * state JSON stays small while its sessions hash holds every open session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DetectorProcesses } from './support/detector-process.ts';
import { startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { shardCounters, waitCaughtUp } from './support/caught-up.ts';
import { CHECKPOINT_FIELDS, keys } from '../server/redis-keys.ts';
import { shardOf } from '../core/sharding.ts';

let crest: TestCrest;
const detectors = new DetectorProcesses(() => crest, 1000);

before(async () => {
  crest = await startTestCrest({ CREST_ROLES: 'api', CREST_LEASE_MS: '1000', CREST_MAX_EVENTS_PER_REQUEST: '5000' });
});
after(async () => {
  detectors.killAll();
  await crest.close();
});

const VIEWERS = 40_000;
const SOURCES = ['follow', 'public', 'paid', 'other'] as const;

test('a big room killed mid-ramp restores from JSON + sessions hash with exact totals', async () => {
  const room = 'big1';
  const t0 = Date.now();
  const want = { entries: 0, orders: 0, gmv: 0, payers: new Set<string>(), gmvBySource: { follow: 0, public: 0, paid: 0, other: 0 } };
  const batches: Record<string, unknown>[][] = [];
  for (let b = 0; b < VIEWERS / 2_000; b++) {
    const batch: Record<string, unknown>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const n = b * 2_000 + i;
      const source = SOURCES[n % 4]!;
      batch.push({ id: `e${n}`, room, ts: t0 + n, type: 'viewer.enter', viewer: `u${n}`, source });
      want.entries++;
      // Every 7th viewer of the batch before this one pays: attributed to its (possibly restored) session.
      if (b > 0 && i % 7 === 0) {
        const payer = n - 2_000;
        const amount = 100 + (payer % 13);
        batch.push({ id: `o${n}`, room, ts: t0 + n, type: 'order.paid', order: `ord${n}`, viewer: `u${payer}`, amount });
        want.orders++;
        want.gmv += amount;
        want.payers.add(`u${payer}`);
        want.gmvBySource[SOURCES[payer % 4]!] += amount;
      }
    }
    batches.push(batch);
  }

  const redis = new Redis(crest.redisUrl);
  const shards = crest.config.shards;
  let detector = detectors.start();
  let kills = 0;
  for (const [b, batch] of batches.entries()) {
    const res = await crest.post(batch);
    assert.equal(res.status, 200);
    if (b === 6 || b === 13) {
      // Kill a detector that has demonstrably checkpointed part of the ramp.
      const before = (await shardCounters(redis, shards)).processed;
      await waitFor('detector progress', 60_000, async () => ((await shardCounters(redis, shards)).processed > before ? true : undefined));
      detector.kill('SIGKILL');
      kills++;
      detector = detectors.start();
    }
  }
  await waitCaughtUp(redis, shards, 90_000);
  const s = await (await crest.api(`/api/v1/rooms/${room}/state`, { token: crest.token('admin', '*') })).json();
  const m = s.metrics;
  const entries = Object.values(m.entriesTotal as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(kills, 2);
  assert.deepEqual(
    { entries, concurrency: m.concurrency, unique: m.uniqueViewers, orders: m.orders, gmv: m.gmv, paying: m.payingViewers },
    { entries: want.entries, concurrency: VIEWERS, unique: VIEWERS, orders: want.orders, gmv: want.gmv, paying: want.payers.size },
  );
  assert.deepEqual(m.detail.gmvBySource, want.gmvBySource);
  assert.equal(m.detail.gmvUnattributed, 0);

  // The state the successor wrote: small JSON, the sessions and members apart. (Written at least once more when
  // the room goes idle; read here once every event is covered, so the hash has every open session.)
  const shard = shardOf(room, shards);
  // (Between checkpoints: while a sliced one is under way the hash may already be whole and the sets not yet.)
  await waitFor('the room state checkpointed with every session', 60_000, async () =>
    (await redis.hlen(keys.sessions(shard, room))) === VIEWERS && (await redis.hexists(keys.checkpoint(shard), CHECKPOINT_FIELDS.writing(room))) === 0
      ? true
      : undefined,
  );
  const jsonBytes = await redis.hstrlen(keys.checkpoint(shard), CHECKPOINT_FIELDS.room(room));
  assert.ok(jsonBytes < 64_000, `room state JSON ${jsonBytes} bytes`);
  assert.equal(await redis.scard(keys.uniqueViewers(shard, room)), VIEWERS);
  assert.equal(await redis.scard(keys.payingViewers(shard, room)), want.payers.size);
  redis.disconnect();
});
