/**
 * Planned moments end to end, with real parts: plans API → BullMQ delayed jobs (plan scheduler) → plan record
 * in the shard stream → detector (pure core) → out stream → socket.io. Countdown offsets are seconds here
 * (CREST_PLAN_COUNTDOWN_MIN=0.05,0.025: T−3 s and T−1.5 s), so a moment a few seconds ahead runs its whole
 * schedule inside one test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/config.ts';
import type { PlannedMoment, Suggestion } from '../core/protocol.ts';
import { silentLogger } from '../server/logger.ts';
import { firePlanRecord, PlanScheduler, allPlanJobs } from '../workers/plan-scheduler.ts';
import { join, startTestCrest, waitFor, type TestCrest } from './support/crest.ts';
import { Redis } from 'ioredis';
import { exitsWithin } from './support/exit-watch.ts';

const OFFSETS = '0.05,0.025';
let crest: TestCrest;
let scheduler: PlanScheduler;
const newScheduler = () => new PlanScheduler({ redisUrl: crest.redisUrl, shards: crest.config.shards, countdownMin: crest.config.plans.countdownMin, log: silentLogger });

before(async () => {
  // The scheduler runs apart from startCrest here so a test can restart it; `all` includes it in production.
  crest = await startTestCrest({ CREST_ROLES: 'api,detector', CREST_PLAN_COUNTDOWN_MIN: OFFSETS });
  scheduler = newScheduler();
  await scheduler.start();
});
after(async () => {
  await scheduler.stop();
  await crest.close();
});
exitsWithin();

const op = (room: string) => crest.token('operator', [room], 'op-lin');

async function createPlan(room: string, body: Record<string, unknown>): Promise<PlannedMoment> {
  const r = await crest.api(`/api/v1/rooms/${room}/plans`, { method: 'POST', token: op(room), body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 201, await r.clone().text());
  return ((await r.json()) as { plan: PlannedMoment }).plan;
}

/** A socket of `role` joined to `room`, collecting suggestions with their arrival (wall) time. */
async function listen(room: string, role: 'host' | 'buyer' | 'operator') {
  const s = await crest.socket(crest.token(role, [room]));
  const got: { s: Suggestion; at: number }[] = [];
  s.on('suggestion:new', (m) => got.push({ s: m.suggestion, at: Date.now() }));
  const j = await join(s, room);
  assert.ok(j.ok, 'j.ok');
  return { socket: s, got, snapshot: j.ok ? j.snapshot : null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('config: the plans part is in CREST_ROLES=all, countdown offsets default to T−10, T−5, T−1 min', () => {
  const c = loadConfig({});
  assert.ok(c.roles.has('plans'), 'c.roles.has(\'plans\')');
  assert.deepEqual(c.plans.countdownMin, [10, 5, 1]);
  assert.deepEqual(crest.config.plans.countdownMin, [0.05, 0.025]);
  assert.throws(() => loadConfig({ CREST_PLAN_COUNTDOWN_MIN: '5,soon' }), /CREST_PLAN_COUNTDOWN_MIN/);
});

test('countdown and launch cues reach the host at their times, the build-up boost reaches the buyer, each exactly once across a scheduler restart', async () => {
  const room = 'plan-live';
  const host = await listen(room, 'host');
  const buyer = await listen(room, 'buyer');
  const operator = await listen(room, 'operator');
  const pushed: (PlannedMoment | null)[] = [];
  operator.socket.on('plan:update', (m) => pushed.push(m.plan));

  const at = Date.now() + 5_000;
  const plan = await createPlan(room, { at, sku: 'sku-1', name: 'Down jacket', welfare: '50 coupons', leadMin: 1, budget: 200_000 });
  assert.equal(plan.version, 1);
  await waitFor('plan pushed to the panel', 5_000, () => (pushed.length ? true : undefined));
  assert.equal(pushed[0]!.id, plan.id);

  // The build-up began a minute ago (leadMin 1): the buyer's boost goes out now.
  const boost = await waitFor('boost.now', 5_000, () => buyer.got.find((g) => g.s.kind === 'boost.now'));
  assert.equal(boost.s.params.product, 'Down jacket');
  assert.equal(boost.s.suggestedBoostMin, 1);

  const first = await waitFor('first countdown', 6_000, () => host.got.find((g) => g.s.kind === 'cue.countdown'));
  assert.equal(first.s.params.atTs, at);
  assert.equal(first.s.params.product, 'Down jacket');
  assert.equal(first.s.id, `${room}:cue.countdown:${plan.id}:1:0.05`);
  assert.ok(Math.abs(first.at - (at - 3_000)) < 1_500, `countdown arrived ${first.at - (at - 3_000)} ms off its time`);

  // Restart the scheduler mid-way: it re-adds every stored plan's jobs (same ids) and fires only what is left.
  await scheduler.stop();
  scheduler = newScheduler();
  await scheduler.start();
  // A job that runs again (say, it died after its XADD, before BullMQ marked it done) writes nothing.
  const redis = new Redis(crest.redisUrl);
  const firstJob = allPlanJobs(plan, crest.config.plans.countdownMin)[0]!;
  assert.equal(await firePlanRecord(redis, crest.config.shards, firstJob.record), 'repeat');
  redis.disconnect();

  const launch = await waitFor('launch', 8_000, () => host.got.find((g) => g.s.kind === 'cue.launch'));
  assert.ok(Math.abs(launch.at - at) < 1_500, `launch arrived ${launch.at - at} ms off its time`);
  assert.equal(launch.s.createdAt, at);
  await sleep(1_500);
  const ids = host.got.map((g) => g.s.id);
  assert.deepEqual(ids.sort(), [`${room}:cue.countdown:${plan.id}:1:0.025`, `${room}:cue.countdown:${plan.id}:1:0.05`, `${room}:cue.launch:${plan.id}:1:0`].sort());
  assert.equal(buyer.got.filter((g) => g.s.kind === 'boost.now').length, 1);
  assert.ok(host.got.every((g) => g.s.audience === 'host'), "host.got.every((g) => g.s.audience === 'host')");
  // The room's suggestion log has each once too (what a re-joining view gets).
  const list = (await (await crest.api(`/api/v1/rooms/${room}/suggestions`, { token: op(room) })).json()) as { suggestions: Suggestion[] };
  const planned = list.suggestions.filter((s) => s.id.includes(plan.id));
  assert.equal(planned.length, new Set(planned.map((s) => s.id)).size);
  assert.equal(planned.length, 4);
});

test('an edited plan fires only at its new time; a deleted plan fires nothing', async () => {
  const room = 'plan-edit';
  const host = await listen(room, 'host');
  const oldAt = Date.now() + 4_000;
  const moved = await createPlan(room, { at: oldAt, sku: 'sku-2', leadMin: 1 });
  const gone = await createPlan(room, { at: oldAt, sku: 'sku-3', leadMin: 1 });
  const newAt = oldAt + 3_000;
  const put = await crest.api(`/api/v1/rooms/${room}/plans/${moved.id}`, {
    method: 'PUT', token: op(room), headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ at: newAt, sku: 'sku-2', name: 'Moved', leadMin: 1, version: 1 }),
  });
  assert.equal(put.status, 200, await put.clone().text());
  assert.equal(((await put.json()) as { plan: PlannedMoment }).plan.version, 2);
  // A stale edit (version 1 again) is refused, not applied over the newer one.
  const stale = await crest.api(`/api/v1/rooms/${room}/plans/${moved.id}`, {
    method: 'PUT', token: op(room), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: newAt, sku: 'x', version: 1 }),
  });
  assert.equal(stale.status, 409);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/plans/${gone.id}`, { method: 'DELETE', token: op(room) })).status, 204);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/plans/${gone.id}`, { method: 'DELETE', token: op(room) })).status, 404);

  const launch = await waitFor('launch at the new time', 10_000, () => host.got.find((g) => g.s.kind === 'cue.launch'));
  assert.equal(launch.s.createdAt, newAt);
  assert.ok(launch.at >= newAt - 300, 'not at the old time');
  await sleep(1_000);
  assert.ok(host.got.every((g) => g.s.id.includes(`:${moved.id}:2:`)), `only version 2 of the edited plan: ${host.got.map((g) => g.s.id).join(', ')}`);
  assert.equal(host.got.filter((g) => g.s.kind === 'cue.countdown').length, 2);
  assert.equal(host.got[0]!.s.params.product, 'Moved');

  const listed = (await (await crest.api(`/api/v1/rooms/${room}/plans`, { token: crest.token('host', [room]) })).json()) as { plans: PlannedMoment[] };
  assert.deepEqual(listed.plans.map((p) => [p.id, p.version, p.at]), [[moved.id, 2, newAt]]);
  // The snapshot a view joins with carries the plans (chart markers, the panel's list).
  const late = await listen(room, 'operator');
  assert.deepEqual(late.snapshot!.plans.map((p) => p.id), [moved.id]);
});

test('import: CSV rows are checked all at once with row, field and reason; a valid file imports, twice adds nothing', async () => {
  const room = 'plan-import';
  const at = Date.now() + 3_600_000;
  const bad = `at,sku,name,leadMin,budget\n${at},sku-1,Jacket,10,5000\n${at},,Scarf,10,\nsoon,sku-3,"Hat, warm",90,-1\n`;
  const r1 = await crest.api(`/api/v1/rooms/${room}/plans/import`, { method: 'POST', token: op(room), body: bad, headers: { 'content-type': 'text/csv' } });
  assert.equal(r1.status, 422);
  const b1 = (await r1.json()) as { errors: { row: number; field: string; reason: string }[] };
  assert.deepEqual(b1.errors.map((e) => [e.row, e.field]), [[2, 'sku'], [3, 'at'], [3, 'leadMin'], [3, 'budget']]);
  assert.ok(b1.errors.every((e) => e.reason.length > 5), 'b1.errors.every((e) => e.reason.length > 5)');
  assert.equal(((await (await crest.api(`/api/v1/rooms/${room}/plans`, { token: op(room) })).json()) as { plans: unknown[] }).plans.length, 0, 'nothing imported');

  const header = await crest.api(`/api/v1/rooms/${room}/plans/import`, { method: 'POST', token: op(room), body: 'when,sku\n1,a\n', headers: { 'content-type': 'text/csv' } });
  assert.equal(header.status, 422);
  assert.deepEqual(((await header.json()) as { errors: unknown[] }).errors, [{ row: 0, field: 'when', reason: 'unknown column; expected at, sku, name, welfare, leadMin, budget' }]);

  const good = `AT,SKU,Name,Welfare,LeadMin,Budget\n${at},sku-1,Jacket,,10,5000\n${new Date(at + 600_000).toISOString()},sku-2,"Hat, warm",free gloves,5,\n`;
  const r2 = await crest.api(`/api/v1/rooms/${room}/plans/import`, { method: 'POST', token: op(room), body: good, headers: { 'content-type': 'text/csv' } });
  assert.equal(r2.status, 201, await r2.clone().text());
  const b2 = (await r2.json()) as { created: PlannedMoment[] };
  assert.deepEqual(b2.created.map((p) => [p.sku, p.name, p.welfare, p.leadMin, p.budget, p.at]), [
    ['sku-1', 'Jacket', null, 10, 5000, at],
    ['sku-2', 'Hat, warm', 'free gloves', 5, null, at + 600_000],
  ]);
  const r3 = await crest.api(`/api/v1/rooms/${room}/plans/import`, {
    method: 'POST', token: op(room), body: JSON.stringify([{ at, sku: 'sku-1' }]), headers: { 'content-type': 'application/json' },
  });
  assert.equal(r3.status, 201);
  assert.deepEqual(await r3.json(), { room, created: [], skipped: 1 });
});

test('access: hosts and buyers read plans but cannot write them; a room outside the token is 403; bodies are checked field by field', async () => {
  const room = 'plan-acl';
  const body = JSON.stringify({ at: Date.now() + 3_600_000, sku: 'sku-1' });
  const post = (token: string, r = room, b = body) => crest.api(`/api/v1/rooms/${r}/plans`, { method: 'POST', token, body: b, headers: { 'content-type': 'application/json' } });
  assert.equal((await post(crest.token('buyer', [room]))).status, 403);
  assert.equal((await post(crest.token('host', [room]))).status, 403);
  assert.equal((await post(op('other-room'))).status, 403);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/plans`, { token: op('other-room') })).status, 403);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/plans`)).status, 401);
  assert.equal((await post(crest.token('admin', '*'))).status, 201);
  assert.equal((await crest.api(`/api/v1/rooms/${room}/plans`, { token: crest.token('buyer', [room]) })).status, 200);

  const bad = async (b: unknown) => (await (await post(op(room), room, JSON.stringify(b))).json()) as { error: { field: string; reason: string } };
  assert.deepEqual((await bad({ sku: 'a' })).error.field, 'at');
  assert.deepEqual((await bad({ at: Date.now() - 3_600_000, sku: 'a' })).error, { code: 'invalid', field: 'at', reason: 'is in the past' });
  assert.deepEqual((await bad({ at: Date.now() + 60_000, sku: 'a', leadMin: 0 })).error.field, 'leadMin');
  assert.deepEqual((await bad({ at: Date.now() + 60_000, sku: 'a', colour: 'red' })).error.field, 'colour');
});
