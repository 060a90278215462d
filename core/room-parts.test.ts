/**
 * The split room state (small JSON + per-viewer parts written as deltas) against the straightforward reference:
 * the same events through one state that is never checkpointed. Checkpoints and crashes fall at random points;
 * a crash restores from the last checkpoint (its JSON and the store the deltas were applied to) and replays the
 * events after it, as the detector worker does from the stream. A tiny session cap and exact-distinct cap make
 * the runs go through eviction, the switch to the estimate and stream resets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CrestEvent } from './events.ts';
import { advanceTo, applyEvent, createRoomState, roomMetrics, roomWindows, type RoomOutput, type RoomState } from './engine.ts';
import { deltaIsEmpty, deltaSize, restoreRoom, RoomRestore, roomParts, takeDelta, takeDeltaSlice, type RoomDelta, type RoomDeltaSlice } from './room-parts.ts';
import { runtimeOf } from './room-state.ts';
import { legacyRoomJson } from './legacy-room-json.ts';
import { cfg as baseCfg, ROOM, T0 } from '../test/fixtures/engine-room.ts';

const cfg = { ...baseCfg, viewerIdleMs: 20_000 };
const LIMITS = { maxSessions: 12, exactDistinct: 20 };

/**
 * What Redis holds for the room (the hash and the two sets), changed the way checkpoint.lua changes it; and,
 * while a sliced checkpoint is under way (`writing`), what checkpoint-slice.lua keeps beside it: the undo log
 * (each touched session's committed value, '' = none; the members the slices added) and the fresh parts that
 * replace the stored ones when the checkpoint ends with a reset.
 */
interface Parts {
  sessions: Map<string, string>;
  unique: Set<string>;
  payers: Set<string>;
}
interface Store extends Parts {
  writing: boolean;
  undo: Parts;
  fresh: Parts;
}

const emptyParts = (): Parts => ({ sessions: new Map(), unique: new Set(), payers: new Set() });
const emptyStore = (): Store => ({ ...emptyParts(), writing: false, undo: emptyParts(), fresh: emptyParts() });

/** checkpoint.lua: the last part of the delta with the state's JSON (ending a sliced checkpoint, if one is under way). */
function applyDelta(s: Store, d: RoomDelta): void {
  if (d.reset) {
    s.sessions.clear();
    s.unique.clear();
    s.payers.clear();
  }
  if (s.writing) {
    // RENAME of each fresh key that exists (only a reset writes them), then the undo log goes.
    if (d.reset && d.fresh) {
      if (s.fresh.sessions.size > 0) s.sessions = s.fresh.sessions;
      if (s.fresh.unique.size > 0) s.unique = s.fresh.unique;
      if (s.fresh.payers.size > 0) s.payers = s.fresh.payers;
    }
    s.undo = emptyParts();
    s.fresh = emptyParts();
    s.writing = false;
  }
  if (d.uniqueDropped) s.unique.clear();
  if (d.payersDropped) s.payers.clear();
  for (const v of d.closed) s.sessions.delete(v);
  for (let i = 0; i < d.put.length; i += 2) s.sessions.set(d.put[i], d.put[i + 1]);
  for (const v of d.unique) s.unique.add(v);
  for (const v of d.payers) s.payers.add(v);
}

/** checkpoint-slice.lua: a slice lands before the JSON; the undo log keeps what a restore must see meanwhile. */
function applySlice(s: Store, d: RoomDeltaSlice): void {
  s.writing = true;
  if (d.fresh) {
    if (d.first) s.fresh = emptyParts();
    for (const v of d.closed) s.fresh.sessions.delete(v);
    for (let i = 0; i < d.put.length; i += 2) s.fresh.sessions.set(d.put[i], d.put[i + 1]);
    for (const v of d.unique) s.fresh.unique.add(v);
    for (const v of d.payers) s.fresh.payers.add(v);
    return;
  }
  const keep = (v: string) => {
    if (!s.undo.sessions.has(v)) s.undo.sessions.set(v, s.sessions.get(v) ?? '');
  };
  for (const v of d.closed) {
    if (!s.sessions.has(v)) continue;
    keep(v);
    s.sessions.delete(v);
  }
  for (let i = 0; i < d.put.length; i += 2) {
    keep(d.put[i]);
    s.sessions.set(d.put[i], d.put[i + 1]);
  }
  for (const [set, undo, list] of [[s.unique, s.undo.unique, d.unique], [s.payers, s.undo.payers, d.payers]] as const) {
    for (const m of list) {
      if (set.has(m)) continue;
      set.add(m);
      undo.add(m);
    }
  }
}

/** checkpoint-undo.lua, run by a successor before it reads the parts: a checkpoint left half-written is undone. */
function repair(s: Store): void {
  if (!s.writing) return;
  for (const [v, old] of s.undo.sessions) {
    if (old === '') s.sessions.delete(v);
    else s.sessions.set(v, old);
  }
  for (const m of s.undo.unique) s.unique.delete(m);
  for (const m of s.undo.payers) s.payers.delete(m);
  s.undo = emptyParts();
  s.fresh = emptyParts();
  s.writing = false;
}

type Step = { kind: 'event'; e: CrestEvent } | { kind: 'clock'; ts: number };

/** How a restore in steps reads the store: pages of `page` entries (each page sent again when `again`, as a SCAN
 * may return an entry twice) and `step` sessions per finishing step. */
interface Paging {
  page: number;
  step: number;
  again: boolean;
}

/** RoomRestore as the worker drives it: the parts page by page (HSCAN's flat field/value pages), then finish in steps. */
function restoreInSteps(st: RoomState, store: Store, paging: Paging): number {
  const r = new RoomRestore(st, cfg);
  const pages = <T>(list: T[], add: (page: T[]) => void) => {
    for (let i = 0; i < list.length; i += paging.page) {
      const page = list.slice(i, i + paging.page);
      add(page);
      if (paging.again) add(page);
    }
  };
  pages([...store.sessions], (page) => r.addSessions(page.flat()));
  pages([...store.unique], (page) => r.addUnique(page));
  pages([...store.payers], (page) => r.addPayers(page));
  let yields = 0;
  for (const _ of r.finish(paging.step)) yields++;
  return yields;
}

const arbPaging = fc.record({ page: fc.integer({ min: 1, max: 8 }), step: fc.integer({ min: 1, max: 10 }), again: fc.boolean() });

const arbSteps = fc
  .array(
    fc.record({
      dt: fc.integer({ min: 0, max: 800 }),
      kind: fc.oneof(
        { weight: 160, arbitrary: fc.constant('enter') },
        { weight: 40, arbitrary: fc.constantFrom('leave', 'like', 'paid', 'click') },
        { weight: 20, arbitrary: fc.constantFrom('clock', 'online', 'late') },
        { weight: 1, arbitrary: fc.constant('start') },
      ),
      viewer: fc.integer({ min: 0, max: 40 }),
      source: fc.constantFrom('follow', 'public', 'paid', 'other' as const),
      amount: fc.integer({ min: 1, max: 5_000 }),
    }),
    { minLength: 1, maxLength: 200, size: 'max' },
  )
  .map((raw) => {
    let t = T0;
    return raw.map((r, n): Step => {
      t += r.dt;
      const v = `v${r.viewer}`;
      const base = { id: `e${n}`, room: ROOM, ts: r.kind === 'late' ? t - 90_000 : t };
      switch (r.kind) {
        case 'clock':
          return { kind: 'clock', ts: t + 25_000 };
        case 'enter':
        case 'late':
          return { kind: 'event', e: { ...base, type: 'viewer.enter', viewer: v, source: r.source } };
        case 'leave':
          return { kind: 'event', e: { ...base, type: 'viewer.leave', viewer: v } };
        case 'like':
          return { kind: 'event', e: { ...base, type: 'engage.like', viewer: v } };
        case 'click':
          return { kind: 'event', e: { ...base, type: 'product.click', viewer: v, sku: 's1' } };
        case 'paid':
          return { kind: 'event', e: { ...base, type: 'order.paid', order: `o${n}`, viewer: v, amount: r.amount } };
        case 'start':
          return { kind: 'event', e: { ...base, type: 'stream.start' } };
        case 'online':
          return { kind: 'event', e: { ...base, type: 'room.online', count: r.amount } };
      }
      throw new Error(r.kind);
    });
  });

function step(st: RoomState, s: Step, out: RoomOutput[]): void {
  if (s.kind === 'event') applyEvent(st, s.e, cfg, out);
  else advanceTo(st, s.ts, cfg, out);
}

/** Final figures, windows and every output: what the panel, reports and webhooks are built from. */
function figures(st: RoomState, out: RoomOutput[]) {
  return { metrics: roomMetrics(st), windows: roomWindows(st), out: JSON.parse(JSON.stringify(out)) as unknown };
}

function reference(steps: Step[]) {
  const st = createRoomState(ROOM, cfg, LIMITS);
  const out: RoomOutput[] = [];
  for (const s of steps) step(st, s, out);
  return figures(st, out);
}

/**
 * `plan[i]`: after step i, 0 nothing, 1 checkpoint (JSON + the rest of the delta; ends a sliced one), 2 crash
 * (undo a half-written checkpoint, restore from the last one and replay), 3 checkpoint with the JSON as
 * version 1 wrote it (an older worker; only between checkpoints), then restore from it at once, 4 a slice of
 * at most `sliceMax` entries of the delta (starts a sliced checkpoint, or goes on with one: events keep coming
 * between slices, as they do in the worker).
 */
function split(steps: Step[], plan: number[], sliceMax = 3, paging?: Paging) {
  let st = createRoomState(ROOM, cfg, LIMITS);
  let out: RoomOutput[] = [];
  const store = emptyStore();
  let ckpt = { json: JSON.stringify(st), at: -1, outputs: 0, legacy: false };
  const restore = () => {
    repair(store);
    st = JSON.parse(ckpt.json) as RoomState;
    if (paging) restoreInSteps(st, store, paging);
    else restoreRoom(st, { sessions: [...store.sessions], unique: [...store.unique], payers: [...store.payers] }, cfg);
    out = out.slice(0, ckpt.outputs); // outputs after the checkpoint were never committed
  };
  for (let i = 0; i < steps.length; i++) {
    step(st, steps[i], out);
    const p = plan[i % plan.length];
    if (p === 1) {
      applyDelta(store, takeDelta(st));
      ckpt = { json: JSON.stringify(st), at: i, outputs: out.length, legacy: false };
      // The store now holds exactly the per-viewer part (what a restore will read).
      const parts = roomParts(st);
      assert.deepEqual(new Map(parts.sessions as [string, string][]), store.sessions);
      assert.deepEqual(new Set(parts.unique), store.unique);
      assert.deepEqual(new Set(parts.payers), store.payers);
      assert.equal(store.writing, false, 'the checkpoint ended the sliced one');
    } else if (p === 2) {
      restore();
      for (let j = ckpt.at + 1; j <= i; j++) step(st, steps[j], out);
    } else if (p === 3 && !store.writing) {
      // An older worker checkpointed everything inside the JSON; the stored parts are whatever it left (none).
      store.sessions.clear();
      store.unique.clear();
      store.payers.clear();
      ckpt = { json: legacyRoomJson(st), at: i, outputs: out.length, legacy: true };
      restore();
      // Upgraded on read: the first delta writes every part apart.
      const d = takeDelta(st);
      assert.equal(d.reset, true);
      applyDelta(store, d);
      ckpt = { json: JSON.stringify(st), at: i, outputs: out.length, legacy: false };
    } else if (p === 4) {
      const before = deltaSize(st);
      const d = takeDeltaSlice(st, sliceMax);
      const n = d.closed.length + d.put.length / 2 + d.unique.length + d.payers.length;
      assert.equal(n, Math.min(sliceMax, before), 'a slice takes what it may, never more');
      assert.equal(deltaSize(st), before - n);
      applySlice(store, d);
    }
  }
  return figures(st, out);
}

test('split state with deltas, checkpointed and restored at random points, gives the figures of a never-checkpointed run', () => {
  fc.assert(
    fc.property(arbSteps, fc.array(fc.constantFrom(0, 0, 0, 1, 1, 2, 3), { minLength: 1, maxLength: 30 }), (steps, plan) => {
      assert.deepStrictEqual(split(steps, plan), reference(steps));
    }),
    { numRuns: 300 },
  );
});

test('sliced checkpoints with events between slices and crashes between slices give the figures of a never-checkpointed run', () => {
  const seen = { crashMidway: 0, freshMidway: 0 };
  fc.assert(
    fc.property(
      arbSteps,
      fc.array(fc.constantFrom(0, 0, 1, 2, 3, 4, 4, 4, 4), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 4 }),
      (steps, plan, sliceMax) => {
        assert.deepStrictEqual(split(steps, plan, sliceMax), reference(steps));
        // Which cases the run went through: a crash with slices written and not committed, and a reset under way.
        let writing = false;
        for (let i = 0; i < steps.length; i++) {
          const p = plan[i % plan.length];
          if (p === 4) writing = true;
          if (p === 1 || p === 2) {
            if (p === 2 && writing) seen.crashMidway++;
            writing = false;
          }
          if (writing && steps[i].kind === 'event' && (steps[i] as { e: CrestEvent }).e.type === 'stream.start') seen.freshMidway++;
        }
      },
    ),
    { numRuns: 400 },
  );
  assert.ok(seen.crashMidway > 50 && seen.freshMidway > 5, JSON.stringify(seen));
});

test('a restore fed in pages (with repeats) and finished in small steps gives the figures of a never-checkpointed run', () => {
  fc.assert(
    fc.property(arbSteps, fc.array(fc.constantFrom(0, 0, 1, 2, 2, 3, 4), { minLength: 1, maxLength: 30 }), arbPaging, (steps, plan, paging) => {
      assert.deepStrictEqual(split(steps, plan, 3, paging), reference(steps));
    }),
    { numRuns: 300 },
  );
});

test('a restore in steps builds the very state of a one-shot restore (same heap layout), and yields in proportion to its size', () => {
  const big = { ...LIMITS, maxSessions: 5_000, exactDistinct: 5_000 };
  const st = createRoomState(ROOM, cfg, big);
  const out: RoomOutput[] = [];
  for (let i = 0; i < 3_000; i++) {
    const v = `v${(i * 7919) % 2_500}`;
    const e: CrestEvent =
      i % 11 === 0
        ? { id: `e${i}`, room: ROOM, ts: T0 + i * 3, type: 'order.paid', order: `o${i}`, viewer: v, amount: 100 }
        : { id: `e${i}`, room: ROOM, ts: T0 + ((i * 31) % 3_000), type: 'viewer.enter', viewer: v, source: 'public' };
    applyEvent(st, e, cfg, out);
  }
  const store = emptyStore();
  applyDelta(store, takeDelta(st));
  const json = JSON.stringify(st);
  const once = JSON.parse(json) as RoomState;
  restoreRoom(once, { sessions: [...store.sessions], unique: [...store.unique], payers: [...store.payers] }, cfg);
  const stepped = JSON.parse(json) as RoomState;
  const yields = restoreInSteps(stepped, store, { page: 97, step: 100, again: true });
  const layout = (x: RoomState) => {
    const ss = runtimeOf(x).sessions;
    return Array.from({ length: ss.size }, (_, i) => `${ss.viewer(ss.at(i))}:${ss.due(ss.at(i))}:${ss.at(i)}`);
  };
  assert.deepEqual(layout(stepped), layout(once));
  assert.deepEqual(roomParts(stepped), roomParts(once));
  assert.equal(JSON.stringify(stepped), JSON.stringify(once));
  const n = store.sessions.size;
  // Each step is at most 100 sessions' work: the heap array (n), its indexes (n), the sift-downs (n/2).
  assert.ok(yields >= Math.floor((2.5 * n) / 100) - 2, `${yields} yields for ${n} sessions`);
  // And from here the two behave alike.
  const tail = (x: RoomState) => {
    const o: RoomOutput[] = [];
    for (let i = 0; i < 200; i++) applyEvent(x, { id: `t${i}`, room: ROOM, ts: T0 + 10_000 + i * 50, type: 'viewer.leave', viewer: `v${i * 3}` }, cfg, o);
    advanceTo(x, T0 + 40_000, cfg, o);
    return figures(x, o);
  };
  assert.deepStrictEqual(tail(stepped), tail(once));
});

test('the runs reach eviction, the estimate, stream resets and open sessions per source', () => {
  const seen = { evicted: 0, estimating: 0, open: 0 };
  fc.assert(
    fc.property(arbSteps, (steps) => {
      const st = createRoomState(ROOM, cfg, LIMITS);
      const out: RoomOutput[] = [];
      for (const s of steps) step(st, s, out);
      if (st.evictedSessions > 0) seen.evicted++;
      if (st.unique.hll !== null) seen.estimating++;
      if (st.openBySrc.filter((n) => n > 0).length > 1) seen.open++;
    }),
    { numRuns: 100, seed: 7 },
  );
  assert.ok(seen.evicted > 0 && seen.estimating > 0 && seen.open > 0, JSON.stringify(seen));
});

test('a delta holds only what changed: after a checkpoint, an event for one viewer writes one session', () => {
  const st = createRoomState(ROOM, cfg);
  const out: RoomOutput[] = [];
  for (let i = 0; i < 1_000; i++) applyEvent(st, { id: `e${i}`, room: ROOM, ts: T0 + i, type: 'viewer.enter', viewer: `v${i}`, source: 'public' }, cfg, out);
  const first = takeDelta(st);
  assert.equal(first.put.length, 2_000);
  assert.equal(first.unique.length, 1_000);
  // Without the detector: its first samples (after 2 s) add a few hundred bytes of its own, not sessions.
  const size = () => JSON.stringify({ ...st, detector: null }).length;
  const small = size();
  applyEvent(st, { id: 'x', room: ROOM, ts: T0 + 2_000, type: 'engage.like', viewer: 'v7' }, cfg, out);
  const d = takeDelta(st);
  assert.deepEqual({ put: d.put.length, closed: d.closed, unique: d.unique }, { put: 2, closed: [], unique: [] });
  assert.ok(deltaIsEmpty(takeDelta(st)), 'nothing changed since the last take');
  assert.ok(Math.abs(size() - small) < 200, `the JSON does not carry the sessions (${size() - small} bytes more)`);
});

test('a restore whose stored parts disagree with the state refuses, naming the room', () => {
  const st = createRoomState(ROOM, cfg);
  applyEvent(st, { id: 'a', room: ROOM, ts: T0, type: 'viewer.enter', viewer: 'a', source: 'paid' }, cfg, []);
  const back = JSON.parse(JSON.stringify(st)) as RoomState;
  assert.throws(() => restoreRoom(back, { sessions: [], unique: ['a'], payers: [] }, cfg), /room r1: stored parts \(0 sessions/);
  assert.throws(() => roomMetrics(JSON.parse(JSON.stringify(st)) as RoomState), /restoreRoom/);
});
