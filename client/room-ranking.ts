/**
 * The room list's order: what needs attention now comes first. Each room falls in one tier, the first
 * that applies; within a tier the room with more viewers now (more at stake) comes first, then by name.
 *   0 `plan-at-risk`  its latest suggestion is a live `plan.at-risk`: a planned moment is near and viewers
 *                     are flat or falling — boost earlier or delay the launch, minutes matter
 *   1 `rising`        a highlight is building: the moment to boost and tease
 *   2 `peak`          a highlight is at its peak: launch now
 *   3 `suggested`     its latest suggestion is still live (not expired, not held back): someone should act on it
 *   4 `live`          on air and calm
 *   5 `off-air`       no stream running (never started, or ended)
 * "Live" suggestion: not suppressed and not expired at the room's own event time (`metrics.ts`).
 */
import type { RoomSummary } from '../core/protocol.ts';

export const ATTENTION = ['plan-at-risk', 'rising', 'peak', 'suggested', 'live', 'off-air'] as const;
export type Attention = (typeof ATTENTION)[number];

export function attentionOf(r: RoomSummary): Attention {
  const m = r.metrics;
  const sg = r.lastSuggestion;
  const sgLive = !!sg && !sg.suppressed && !!m && sg.expiresAt > m.ts;
  if (sgLive && sg.kind === 'plan.at-risk') return 'plan-at-risk';
  // An early building call needs the same eyes as a confirmed rise: the boost decision is being made now.
  if (r.activeWindow?.state === 'rising' || r.activeWindow?.state === 'building') return 'rising';
  if (r.activeWindow?.state === 'peak') return 'peak';
  if (sgLive) return 'suggested';
  return m?.live ? 'live' : 'off-air';
}

/** The rooms in the order above (a new array; the input is left as it is). */
export function rankRooms(rooms: readonly RoomSummary[]): RoomSummary[] {
  const tier = new Map(rooms.map((r) => [r, ATTENTION.indexOf(attentionOf(r))]));
  return [...rooms].sort(
    (a, b) =>
      tier.get(a)! - tier.get(b)! ||
      (b.metrics?.concurrency ?? -1) - (a.metrics?.concurrency ?? -1) ||
      a.room.localeCompare(b.room),
  );
}
