/**
 * A room state as version 1 wrote it into its checkpoint: open sessions and the exact viewer-set members
 * inside the JSON. Older checkpoints hold this; the tests and the big-room bench build it to prove that
 * such a state still restores (upgraded on read: room-state.ts) with every figure as it was.
 */
import { runtimeOf, type RoomState } from './room-state.ts';
import type { DistinctCounter } from './distinct-counter.ts';
import type { SessionStore } from './session-store.ts';

/** The session at heap position `i` as version 1 held it. */
function legacySession(ss: SessionStore, i: number) {
  const s = ss.at(i);
  return { v: ss.viewer(s), src: ss.src(s), enter: ss.enter(s), seen: ss.seen(s), due: ss.due(s), i };
}

/** The version-1 JSON of `st` (parse it to get what an older checkpoint would restore). */
export function legacyRoomJson(st: RoomState): string {
  const rt = runtimeOf(st);
  const counter = (dc: DistinctCounter, members: Set<string>) => ({ cap: dc.cap, exact: dc.hll === null ? [...members] : null, hll: dc.hll });
  return JSON.stringify({
    ...st,
    version: 1,
    sessions: Array.from({ length: rt.sessions.size }, (_, i) => legacySession(rt.sessions, i)),
    unique: counter(st.unique, rt.unique),
    payers: counter(st.payers, rt.payers),
  });
}
