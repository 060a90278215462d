import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineConfig } from '../config/config.ts';
import { advanceTo, applyEvent, createRoomState, type RoomOutput, type RoomState } from './engine.ts';
import { applyPlanRecord, isAtRisk, parsePlanRecord } from './plans.ts';
import type { PlanRecord, Suggestion } from './protocol.ts';

const T0 = 1_700_000_000_000;
const ROOM = 'r1';
const cfg = engineConfig();
const MIN = 60_000;

function rec(kind: PlanRecord['kind'], over: Partial<PlanRecord> = {}): PlanRecord {
  const base: PlanRecord = {
    room: ROOM, planId: 'p1', version: 1, kind, offsetMin: 0, atTs: T0 + 20 * MIN,
    sku: 'sku-9', name: 'Down jacket', welfare: '50 coupons', budget: 300_000, leadMin: 10,
  };
  return { ...base, offsetMin: kind === 'build-up' ? base.leadMin : 0, ...over };
}

const sugs = (out: RoomOutput[]): Suggestion[] => out.flatMap((o) => (o.type === 'suggestion' ? [o.suggestion] : []));

/** A room whose platform count follows `count(sec)`, reported every 5 s from T0 to `untilSec`. */
function feed(st: RoomState, out: RoomOutput[], fromSec: number, untilSec: number, count: (sec: number) => number): void {
  for (let s = fromSec; s <= untilSec; s += 5) {
    applyEvent(st, { id: `o${s}`, room: ROOM, ts: T0 + s * 1000, type: 'room.online', count: Math.round(count(s)) }, cfg, out);
  }
}

describe('plan cues', () => {
  test('a countdown record becomes one host cue.countdown with the moment time and product, whatever the arrival', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    const r = rec('countdown', { offsetMin: 5 });
    assert.equal(applyPlanRecord(st, r, cfg, out), true);
    assert.equal(applyPlanRecord(st, r, cfg, out), false, 'the same record again is a repeat');
    const [cue, ...rest] = sugs(out);
    assert.equal(rest.length, 0);
    assert.equal(cue!.id, `${ROOM}:cue.countdown:p1:1:5`);
    assert.equal(cue!.audience, 'host');
    assert.equal(cue!.createdAt, r.atTs - 5 * MIN);
    assert.equal(cue!.expiresAt, r.atTs);
    assert.equal(cue!.params.atTs, r.atTs);
    assert.equal(cue!.params.product, 'Down jacket');
    assert.equal(cue!.suppressed, null);
  });

  test('launch goes to the host at the planned time; the build-up boost goes to the buyer only when a budget is planned', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    applyPlanRecord(st, rec('launch'), cfg, out);
    applyPlanRecord(st, rec('build-up'), cfg, out);
    applyPlanRecord(st, rec('build-up', { planId: 'p2', budget: null }), cfg, out);
    const got = sugs(out);
    assert.deepEqual(got.map((s) => [s.kind, s.audience]), [['cue.launch', 'host'], ['boost.now', 'buyer']]);
    const boost = got[1]!;
    assert.equal(boost.createdAt, T0 + 10 * MIN);
    assert.equal(boost.forecastPeakTs, T0 + 20 * MIN);
    assert.equal(boost.suggestedBoostMin, 10);
    assert.equal(boost.params.budget, 300_000);
    assert.equal(got[0]!.createdAt, T0 + 20 * MIN);
  });

  test('planned cues are never held back by a detector cue of the same kind (own cooldown key per plan)', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    applyPlanRecord(st, rec('countdown', { offsetMin: 5 }), cfg, out);
    applyPlanRecord(st, rec('countdown', { offsetMin: 1 }), cfg, out);
    assert.deepEqual(sugs(out).map((s) => s.suppressed), [null, null]);
    assert.equal(new Set(sugs(out).map((s) => s.cooldownKey)).size, 1);
  });

  test('malformed plan records are refused at the boundary', () => {
    assert.equal(parsePlanRecord('{'), null);
    assert.equal(parsePlanRecord(JSON.stringify({ ...rec('launch'), kind: 'explode' })), null);
    assert.equal(parsePlanRecord(JSON.stringify({ ...rec('launch'), extra: 1 })), null);
    assert.deepEqual(parsePlanRecord(JSON.stringify(rec('launch'))), rec('launch'));
  });
});

describe('plan.at-risk', () => {
  test('fires once for a flat room within the lead time, for operators, with the trend in its reason', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    feed(st, out, 0, 600, (s) => 200 + ((s * 7919) % 7) - 3);
    applyPlanRecord(st, rec('build-up'), cfg, out);
    feed(st, out, 605, 900, () => 198);
    const risk = sugs(out).filter((s) => s.kind === 'plan.at-risk');
    assert.equal(risk.length, 1, 'once per plan version');
    assert.equal(risk[0]!.audience, 'operator');
    assert.equal(risk[0]!.reasonCode, 'plan-flat');
    assert.equal(risk[0]!.id, `${ROOM}:plan.at-risk:p1:1:lead`);
    assert.ok(risk[0]!.createdAt >= T0 + 10 * MIN && risk[0]!.createdAt < T0 + 20 * MIN, 'risk[0]!.createdAt >= T0 + 10 * MIN && risk[0]!.createdAt < T0 + 20 * MIN');
    assert.match(risk[0]!.reason, /boost earlier or delay the launch/);
  });

  test('does not fire for a rising room', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    feed(st, out, 0, 600, () => 200);
    applyPlanRecord(st, rec('build-up', { leadMin: 5, offsetMin: 5, atTs: T0 + 15 * MIN }), cfg, out);
    // Up by 2 viewers a second through the lead window.
    feed(st, out, 605, 900, (s) => 200 + (s - 600) * 0.5);
    assert.equal(sugs(out).filter((s) => s.kind === 'plan.at-risk').length, 0);
  });

  test('does not fire outside the lead time, nor after the plan was cancelled (edited or deleted)', () => {
    const st = createRoomState(ROOM, cfg);
    const out: RoomOutput[] = [];
    feed(st, out, 0, 300, () => 200);
    // Armed early (record applied before its lead time, e.g. a late clock): nothing until T − leadMin.
    applyPlanRecord(st, rec('build-up', { atTs: T0 + 30 * MIN }), cfg, out);
    feed(st, out, 305, 1150, () => 200);
    assert.equal(sugs(out).filter((s) => s.kind === 'plan.at-risk').length, 0, 'not before T − leadMin');
    applyPlanRecord(st, rec('cancel'), cfg, out);
    feed(st, out, 1155, 1700, () => 200);
    assert.equal(sugs(out).filter((s) => s.kind === 'plan.at-risk').length, 0, 'cancelled');
  });

  test('a room with less than the trend span of history says nothing yet', () => {
    assert.equal(isAtRisk([[T0, 200], [T0 + 30_000, 200]], T0 + 30_000, false), null);
    const full: [number, number][] = Array.from({ length: 7 }, (_, i) => [T0 + i * 30_000, 200]);
    assert.deepEqual(isAtRisk(full, T0 + 180_000, false), { from: 200, to: 200 });
    assert.equal(isAtRisk(full, T0 + 180_000, true), null, 'a rising window open');
  });

  test('the same records and events give the same outputs, also across a checkpoint (JSON round trip)', () => {
    const run = (checkpointAt: number | null) => {
      let st = createRoomState(ROOM, cfg);
      const out: RoomOutput[] = [];
      feed(st, out, 0, 600, () => 300);
      applyPlanRecord(st, rec('countdown', { offsetMin: 10 }), cfg, out);
      applyPlanRecord(st, rec('build-up'), cfg, out);
      if (checkpointAt !== null) st = JSON.parse(JSON.stringify(st)) as RoomState;
      feed(st, out, 605, 1300, () => 290);
      applyPlanRecord(st, rec('launch'), cfg, out);
      advanceTo(st, T0 + 1400_000, cfg, out);
      return sugs(out);
    };
    const a = run(null);
    assert.deepEqual(a, run(600));
    assert.deepEqual(a.map((s) => s.kind), ['cue.countdown', 'boost.now', 'plan.at-risk', 'cue.launch']);
  });
});
