import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CrestEvent } from '../core/events.ts';
import { generateRoom } from '../core/scenario/generate-room.ts';
import { DEFAULT_DEMO_DURATION_MS, DEMO_ROOMS, demoRooms, startDemoSimulator } from '../workers/demo-simulator.ts';
import type { DemoCycle, DemoRoom, DemoSimulatorOptions } from '../workers/demo-simulator.ts';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** A wall clock that reads exactly t0 on its first call and then follows real time (so timers and clock agree). */
function clockFrom(t0: number): () => number {
  let p0: number | null = null;
  return () => {
    p0 ??= performance.now();
    return t0 + Math.floor(performance.now() - p0);
  };
}

function byRoom(batches: CrestEvent[][]): Map<string, CrestEvent[]> {
  const out = new Map<string, CrestEvent[]>();
  for (const e of batches.flat()) {
    const list = out.get(e.room) ?? [];
    list.push(e);
    out.set(e.room, list);
  }
  return out;
}

/** One room on a clock that starts at T0, one-minute cycles, 10 ms ticks; the test sets the speed and the submit. */
function startOneRoom(room: DemoRoom, opts: Pick<DemoSimulatorOptions, 'speed' | 'submit' | 'onCycle'>) {
  return startDemoSimulator({ rooms: [room], now: clockFrom(T0), durationMs: MIN, tickMs: 10, ...opts });
}

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('plays exactly the generated events, each room in order, none twice (speed 60, no loop)', async () => {
  const rooms: DemoRoom[] = [
    { room: 'sim-a', scenario: 'highlight', seed: 11 },
    { room: 'sim-b', scenario: 'giveaway-spike', seed: 12, baseViewers: 80 },
  ];
  const batches: CrestEvent[][] = [];
  const cycles: DemoCycle[] = [];
  const submitTimes: number[] = [];
  const now = clockFrom(T0);
  const before = timeouts();
  const sim = startDemoSimulator({
    rooms,
    now,
    speed: 60,
    loop: false,
    durationMs: MIN,
    tickMs: 20,
    submit: async (events) => {
      batches.push(events);
      submitTimes.push(T0 + (now() - T0) * 60);
    },
    onCycle: (c) => cycles.push(c),
  });
  await sim.done;
  await sim.stop();
  assert.equal(timeouts(), before, 'no timer left behind');

  assert.deepEqual(cycles.map((c) => [c.room, c.cycle, c.seed, c.startTs]), [
    ['sim-a', 1, 11, T0],
    ['sim-b', 1, 12, T0],
  ]);
  const got = byRoom(batches);
  for (const r of rooms) {
    const expected = generateRoom({ room: r.room, scenario: r.scenario, seed: r.seed, startTs: T0, durationMs: MIN, baseViewers: r.baseViewers }).events;
    assert.deepEqual(got.get(r.room), expected, `${r.room}: submitted events differ from the generated ones`);
  }
  // Live: nothing was submitted before its time (event time = playback time at speed 60).
  let i = 0;
  for (const batch of batches) {
    for (const e of batch) assert.ok(e.ts <= submitTimes[i] + 5, `${e.id} submitted ahead of time`);
    i++;
  }
  assert.ok(batches.length > 10, `small batches (${batches.length})`);
});

test('a failed submit is retried with the same batch; nothing is dropped or sent twice', async () => {
  const rooms: DemoRoom[] = [{ room: 'sim-retry', scenario: 'mixed', seed: 5, baseViewers: 60 }];
  const attempts: CrestEvent[][] = [];
  const accepted: CrestEvent[][] = [];
  const logs: string[] = [];
  let calls = 0;
  const sim = startDemoSimulator({
    rooms,
    now: clockFrom(T0),
    speed: 120,
    loop: false,
    durationMs: 2 * MIN,
    tickMs: 10,
    retryMs: 5,
    maxBatch: 300,
    log: (m) => logs.push(m),
    submit: async (events) => {
      calls++;
      attempts.push(events);
      if (calls <= 2 || calls % 4 === 0) throw new Error('ingest unavailable');
      accepted.push(events);
    },
  });
  await sim.done;
  await sim.stop();
  // Each failed attempt is followed by the very same batch.
  for (let k = 0; k < attempts.length; k++) {
    const failed = k < 2 || (k + 1) % 4 === 0;
    if (failed) assert.deepEqual(attempts[k + 1], attempts[k], `attempt ${k + 2} is not a retry of attempt ${k + 1}`);
  }
  const expected = generateRoom({ room: 'sim-retry', scenario: 'mixed', seed: 5, startTs: T0, durationMs: 2 * MIN, baseViewers: 60 }).events;
  assert.deepEqual(accepted.flat(), expected);
  assert.ok(logs.some((m) => /submit of \d+ events failed \(attempt 2\): ingest unavailable; retrying the same batch/.test(m)), logs.join('\n'));
});

test('loop: the next cycle starts where the last ended, with seed + 1 and fresh ids; stop() leaves nothing running', async () => {
  const cycles: DemoCycle[] = [];
  const batches: CrestEvent[][] = [];
  const before = timeouts();
  const sim = startOneRoom({ room: 'sim-loop', scenario: 'flat', seed: 40, baseViewers: 30 }, {
    speed: 400,
    submit: async (events) => void batches.push(events),
    onCycle: (c) => cycles.push(c),
  });
  while (cycles.length < 3) await new Promise((r) => setTimeout(r, 20));
  await sim.stop();
  const submitted = batches.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(batches.length, submitted, 'submitted after stop()');
  assert.equal(timeouts(), before, 'no timer left behind');

  assert.deepEqual(cycles.slice(0, 2).map((c) => [c.cycle, c.seed, c.startTs]), [
    [1, 40, T0],
    [2, 41, T0 + MIN],
  ]);
  const events = batches.flat();
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'ids repeat across cycles');
  const first = generateRoom({ room: 'sim-loop', scenario: 'flat', seed: 40, startTs: T0, durationMs: MIN, baseViewers: 30 }).events;
  const second = generateRoom({ room: 'sim-loop', scenario: 'flat', seed: 41, startTs: T0 + MIN, durationMs: MIN, baseViewers: 30 }).events;
  assert.deepEqual(events.slice(0, first.length + second.length), [...first, ...second]);
});

test('stop() during a slow submit waits for it and submits nothing more', async () => {
  let inFlight = 0;
  let calls = 0;
  let release!: () => void;
  const sim = startOneRoom({ room: 'sim-slow', scenario: 'flat', seed: 1, baseViewers: 20 }, {
    speed: 100,
    submit: () => {
      calls++;
      inFlight++;
      return new Promise<void>((ok) => (release = () => ok(void inFlight--)));
    },
  });
  while (calls === 0) await new Promise((r) => setTimeout(r, 5));
  const stopped = sim.stop();
  let settled = false;
  void stopped.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, false, 'stop() resolved while a submit was in flight');
  release();
  await stopped;
  assert.equal(inFlight, 0);
  assert.equal(calls, 1);
});

test('demo rooms: a highlight builds within two minutes, the snacks room has a giveaway, the quiet room has no highlight', () => {
  assert.ok(DEMO_ROOMS.length >= 3, 'DEMO_ROOMS.length >= 3');
  const gen = (r: DemoRoom) =>
    generateRoom({ room: r.room, scenario: r.scenario, seed: r.seed, startTs: T0, durationMs: r.durationMs ?? DEFAULT_DEMO_DURATION_MS, baseViewers: r.baseViewers });
  const [beauty, snacks, quiet] = DEMO_ROOMS.map(gen);
  assert.equal(beauty.labels.length, 1);
  const onset = beauty.labels[0].onsetTs - T0;
  assert.ok(onset >= 60_000 && onset <= 90_000, `onset ${onset}`);
  assert.ok(beauty.labels[0].peakTs - T0 < 5 * MIN, 'beauty.labels[0].peakTs - T0 < 5 * MIN');
  assert.ok(snacks.labels.length >= 1 && snacks.episodes.some((e) => e.kind === 'giveaway'), "snacks.labels.length >= 1 && snacks.episodes.some((e) => e.kind === 'giveaway')");
  assert.equal(quiet.labels.length, 0);
  const many = demoRooms(20);
  assert.equal(new Set(many.map((r) => r.room)).size, 20);
  assert.deepEqual(many.slice(0, 3), [...DEMO_ROOMS]);
});

test('invalid or repeated room ids are refused up front', () => {
  const submit = async () => {};
  assert.throws(() => startDemoSimulator({ rooms: [{ room: 'no spaces', scenario: 'flat', seed: 1 }], submit }), /room id/);
  assert.throws(() => startDemoSimulator({ rooms: [{ room: 'a', scenario: 'flat', seed: 1 }, { room: 'a', scenario: 'flat', seed: 2 }], submit }), /twice/);
});
