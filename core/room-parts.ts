/**
 * The per-viewer part of a room state, checkpointed apart from its JSON (docs/big-rooms.md): open sessions as a
 * map viewer → encoded session, and the exact members of the unique and paying viewer counts as two sets.
 * A checkpoint writes the state's JSON and `takeDelta` — only what changed since the previous checkpoint — in
 * one atomic step; a restore reads the JSON and the stored parts back (`restoreRoom`). Pure: the stores are
 * the caller's (Redis in workers/detector-worker.ts, plain Maps in tests).
 */
import type { EngineConfig } from './engine-config.ts';
import { SessionStore } from './session-store.ts';
import { attachBuilt, emptyDirty, openSessions, runtimeOf, type RoomState } from './room-state.ts';
import { hasMembers } from './distinct-counter.ts';

/** What changed in the per-viewer part since the last checkpoint, as store operations in this order. */
export interface RoomDelta {
  /** Drop every stored session and member first (a stream began, or an older checkpoint was upgraded). */
  reset: boolean;
  /** Drop the stored members of the unique / paying counts (the count switched to its estimate). */
  uniqueDropped: boolean;
  payersDropped: boolean;
  /** With `reset`: slices of this delta are in the fresh keys, which then replace the stored parts (else the
   * fresh keys, if any, hold slices of a delta that a later reset voided: dropped). */
  fresh: boolean;
  /** Closed sessions: viewers. */
  closed: string[];
  /** Opened or changed sessions: viewer, encoded session (SessionStore.encode), viewer, … */
  put: string[];
  /** New members of the unique / paying counts. */
  unique: string[];
  payers: string[];
}

/** Everything stored for a room: open sessions (viewer → encoded) and the members of both counts. */
export interface RoomParts {
  sessions: Iterable<[string, string]>;
  unique: Iterable<string>;
  payers: Iterable<string>;
}

/** Which stored parts a restore needs (a room with no open sessions, or estimating, has nothing to read). */
export function partsNeeded(st: RoomState): { sessions: boolean; unique: boolean; payers: boolean } {
  if (st.version !== 2) return { sessions: false, unique: false, payers: false }; // an older state holds them in its JSON
  return { sessions: openSessions(st) > 0, unique: hasMembers(st.unique), payers: hasMembers(st.payers) };
}

/** Drains what changed since the last call (or the restore): write it with the state's JSON, atomically. */
export function takeDelta(st: RoomState): RoomDelta {
  const rt = runtimeOf(st);
  const d = rt.dirty;
  // A session as stored: "src,enter,seen" (SessionStore.encode; the heap key is derived on restore).
  const ss = rt.sessions;
  const closed = ss.takeClosed();
  const put: string[] = [];
  while (ss.dirtyCount > 0) {
    const s = ss.popDirty();
    put.push(ss.viewer(s), ss.encode(s));
  }
  rt.dirty = emptyDirty(false);
  return { reset: d.reset, uniqueDropped: d.uniqueDropped, payersDropped: d.payersDropped, fresh: d.reset && d.freshSliced, closed, put, unique: d.unique, payers: d.payers };
}

/**
 * Part of a delta, for a room whose delta is too big to write in one synchronous step (docs/big-rooms.md,
 * "Sliced checkpoints"). `fresh`: a reset is pending (it drops everything stored when the JSON is written),
 * so these entries go to the fresh keys that replace the stored ones then, not on top of the stored ones.
 */
export interface RoomDeltaSlice {
  fresh: boolean;
  /** The first slice since that reset: whatever the fresh keys hold (slices before a second reset) goes first. */
  first: boolean;
  closed: string[];
  put: string[];
  unique: string[];
  payers: string[];
}

/** Entries waiting in the delta (sessions opened, changed or closed; new members): what slices drain. */
export function deltaSize(st: RoomState): number {
  const rt = runtimeOf(st);
  return rt.sessions.changes + rt.dirty.unique.length + rt.dirty.payers.length;
}

/**
 * Drains up to `max` entries of the delta, each as it stands now; the flags (reset, drops) stay for the
 * takeDelta that ends the checkpoint with the state's JSON. An entry that changes again after its slice is
 * in the delta again, so the slices and the last take together leave the store exactly as the state is then.
 */
export function takeDeltaSlice(st: RoomState, max: number): RoomDeltaSlice {
  const rt = runtimeOf(st);
  const d = rt.dirty;
  const ss = rt.sessions;
  const slice: RoomDeltaSlice = { fresh: d.reset, first: d.reset && !d.freshSliced, closed: [], put: [], unique: [], payers: [] };
  if (d.reset) d.freshSliced = true;
  let room = max;
  // Closes first: a change still waiting is newer than any close waiting (it is the slot's current owner), so a
  // viewer closed and opened again since the last slice ends up open (checkpoint-slice.lua deletes, then sets).
  if (ss.closed.length > 0) {
    slice.closed = ss.closed.splice(Math.max(0, ss.closed.length - room));
    room -= slice.closed.length;
  }
  for (; room > 0 && ss.dirtyCount > 0; room--) {
    const s = ss.popDirty();
    slice.put.push(ss.viewer(s), ss.encode(s));
  }
  // From the end: O(taken), and the order of members does not matter to a set.
  if (room > 0 && d.unique.length > 0) {
    slice.unique = d.unique.splice(Math.max(0, d.unique.length - room));
    room -= slice.unique.length;
  }
  if (room > 0 && d.payers.length > 0) slice.payers = d.payers.splice(Math.max(0, d.payers.length - room));
  return slice;
}

/** Whether a delta changes nothing stored. */
export function deltaIsEmpty(d: RoomDelta): boolean {
  return !d.reset && !d.uniqueDropped && !d.payersDropped && d.closed.length + d.put.length + d.unique.length + d.payers.length === 0;
}

/** The whole per-viewer part as it stands (what the stores hold after every delta so far). */
export function roomParts(st: RoomState): RoomParts {
  const rt = runtimeOf(st);
  const ss = rt.sessions;
  const sessions: [string, string][] = [];
  for (let i = 0; i < ss.size; i++) sessions.push([ss.viewer(ss.at(i)), ss.encode(ss.at(i))]);
  return { sessions, unique: [...rt.unique], payers: [...rt.payers] };
}

/**
 * Restores a state read back from its JSON with its stored parts (duplicates in them, as a SCAN may return,
 * are harmless). A state of an older checkpoint keeps its parts in its JSON: `parts` is then ignored and the
 * next delta writes everything. Throws when the parts do not match the state's counts — a checkpoint that
 * was not written atomically — rather than go on with figures that are silently wrong. In one synchronous
 * block: a big room's restore goes through RoomRestore in steps instead (the same code, so the same state).
 */
export function restoreRoom(st: RoomState, parts: RoomParts, cfg: EngineConfig): void {
  const r = new RoomRestore(st, cfg);
  for (const [v, enc] of parts.sessions) r.addSession(v, enc);
  r.addUnique(parts.unique);
  r.addPayers(parts.payers);
  for (const _ of r.finish(Infinity));
}

/**
 * A restore in bounded steps, for a room too big to restore in one synchronous block (1M open sessions held
 * the worker's thread 2.5 s: docs/big-rooms.md, "Restoring a big room"). The stored parts go in page by page
 * as they are read (`add…`: the work of a page is proportional to the page), then `finish` checks them
 * against the state and builds the heap, at most `step` sessions per step; the caller may do anything between
 * the steps except touch this room's state. Until `finish` has run to its end the state has no runtime.
 */
export class RoomRestore {
  private readonly sessions = new SessionStore();
  private readonly unique = new Set<string>();
  private readonly payers = new Set<string>();

  constructor(
    private readonly st: RoomState,
    private readonly cfg: EngineConfig,
  ) {}

  addSession(v: string, enc: string): void {
    // "src,enter,seen" (SessionStore.encode); indexOf rather than split: a third of the cost of a 1M-session restore.
    const a = enc.indexOf(',');
    const b = enc.indexOf(',', a + 1);
    const src = Number(enc.slice(0, a));
    const enter = Number(enc.slice(a + 1, b));
    const seen = Number(enc.slice(b + 1));
    // due = seen + idle: the exact key; any lower bound would do (session-store.ts), this one saves re-heaping.
    this.sessions.load(v, src, enter, seen, seen + this.cfg.viewerIdleMs);
  }

  /** A page of sessions as HSCAN returns it: viewer, encoded session, viewer, … */
  addSessions(flat: readonly string[]): void {
    for (let k = 0; k + 1 < flat.length; k += 2) this.addSession(flat[k]!, flat[k + 1]!);
  }

  addUnique(members: Iterable<string>): void {
    for (const m of members) this.unique.add(m);
  }

  addPayers(members: Iterable<string>): void {
    for (const m of members) this.payers.add(m);
  }

  /** Checks the parts (throws, naming the room, when they do not match), then builds the heap and attaches it, yielding every `step` sessions. */
  *finish(step: number): Generator<void, void, void> {
    const st = this.st;
    if (st.version !== 2) {
      runtimeOf(st);
      return;
    }
    const { sessions, unique, payers } = this;
    const want = { sessions: openSessions(st), unique: hasMembers(st.unique) ? st.unique.n : 0, payers: hasMembers(st.payers) ? st.payers.n : 0 };
    if (sessions.count !== want.sessions || unique.size !== want.unique || payers.size !== want.payers) {
      throw new Error(
        `room ${st.room}: stored parts (${sessions.count} sessions, ${unique.size} unique, ${payers.size} payers) do not match its state ` +
          `(${want.sessions}, ${want.unique}, ${want.payers})`,
      );
    }
    // The heap starts in the order the sessions were first read, as a one-shot restore's does: the same heap,
    // whatever the steps.
    yield* sessions.buildHeap(step);
    attachBuilt(st, sessions, unique, payers);
  }
}

/** A copy of a state through the checkpoint format (its JSON and all its parts), as a restore would see it. */
export function cloneRoom(st: RoomState, cfg: EngineConfig): RoomState {
  const parts = roomParts(st);
  const copy = JSON.parse(JSON.stringify(st)) as RoomState;
  restoreRoom(copy, parts, cfg);
  return copy;
}
