import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlannedMoment } from '../core/protocol.ts';
import { parseCsv } from '../server/plan-store.ts';
import { allPlanJobs, duePlanJobs } from './plan-scheduler.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

const T = 1_800_000_000_000;
const MIN = 60_000;
const plan = (over: Partial<PlannedMoment> = {}): PlannedMoment => ({
  id: 'pabc', room: 'r.1', version: 3, at: T, sku: 's', name: null, welfare: null, leadMin: 10, budget: 100,
  updatedAt: 0, updatedBy: 'op', ...over,
});

describe('plan jobs', () => {
  test('ids are deterministic per room, plan, version, kind and offset, and hold no ":"', () => {
    const ids = allPlanJobs(plan(), [10, 5, 1]).map((j) => j.id);
    assert.deepEqual(ids, ['r.1.pabc.3.countdown.10', 'r.1.pabc.3.countdown.5', 'r.1.pabc.3.countdown.1', 'r.1.pabc.3.build-up.10', 'r.1.pabc.3.launch.0']);
    assert.ok(ids.every((id) => !id.includes(':')), "ids.every((id) => !id.includes(':'))");
    assert.notDeepEqual(ids, allPlanJobs(plan({ version: 4 }), [10, 5, 1]).map((j) => j.id), 'an edit moves every job');
  });

  test('well ahead: every job at its own time', () => {
    const jobs = duePlanJobs(plan(), [10, 5, 1], T - 60 * MIN);
    assert.deepEqual(jobs.map((j) => [j.record.kind, (T - j.fireAt) / MIN]), [['countdown', 10], ['countdown', 5], ['countdown', 1], ['build-up', 10], ['launch', 0]]);
  });

  test('saved 3 min before: the nearest past countdown and the build-up fire now, the rest at their time', () => {
    const jobs = duePlanJobs(plan(), [10, 5, 1], T - 3 * MIN);
    assert.deepEqual(jobs.map((j) => `${j.record.kind}.${j.record.offsetMin}`), ['countdown.5', 'countdown.1', 'build-up.10', 'launch.0']);
  });

  test('long past: nothing', () => {
    assert.deepEqual(duePlanJobs(plan(), [10, 5, 1], T + 5 * MIN), []);
  });
});

describe('CSV', () => {
  test('reads a header, quoted cells with commas, quotes and line breaks, CRLF and a BOM', () => {
    const { header, rows } = parseCsv('\uFEFFat,sku,name,welfare\r\n1,a,"Jacket, red","say ""hi""\nnow"\r\n\r\n2,b,,\n');
    assert.deepEqual(header, ['at', 'sku', 'name', 'welfare']);
    assert.deepEqual(rows, [{ at: '1', sku: 'a', name: 'Jacket, red', welfare: 'say "hi"\nnow' }, { at: '2', sku: 'b' }]);
  });
});
