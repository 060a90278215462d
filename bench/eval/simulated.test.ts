/** The simulated set: `--seed-from` picks a later slice of the same sequence of rooms, not other rooms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenario, simulatedRooms } from './simulated.ts';

test('rooms from seed 5 on are rooms 4… of the run from seed 1: same names, scenarios, seeds and events', async () => {
  const { api, reason } = await loadScenario();
  assert.ok(api, reason);
  const all = simulatedRooms(api, 7, 1_000);
  const later = simulatedRooms(api, 3, 1_000, 5);
  assert.deepEqual(
    later.map((r) => [r.name, r.scenario, r.seed]),
    all.slice(4).map((r) => [r.name, r.scenario, r.seed]),
    'the same rooms by name, scenario and seed',
  );
  later.forEach((r, i) => assert.deepEqual(r.events, all[4 + i]!.events, `${r.name}: the same events`));
  assert.notDeepEqual(later[0]!.events, all[0]!.events, 'a later seed is another room');
});
