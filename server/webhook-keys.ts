/**
 * Redis keys of webhook delivery lanes and alert rules. They share one hash tag so that a lane script
 * (dedupe key + lane list + lane index) touches one Redis Cluster slot. Subscriptions and dead letters keep
 * their older keys in server/redis-keys.ts.
 */
const TAG = '{crest-wh}';

export const webhookKeys = {
  /** Ordered pending deliveries of one subscription (list of LaneItem JSON; the head is in flight). */
  lane: (subscriptionId: string) => `crest:${TAG}:lane:${subscriptionId}`,
  /** Subscription ids whose lane is not empty: the sweep re-kicks each after a crash. */
  lanes: () => `crest:${TAG}:lanes`,
  /** Dedupe key of one lane item (its job id), kept `LANE_DEDUPE_TTL_S`: re-reading an entry pushes nothing twice. */
  seen: (jobId: string) => `crest:${TAG}:seen:${jobId}`,
  /** Alert rules per room: room → AlertRules JSON. */
  rules: () => `crest:${TAG}:rules`,
  /** Rate/cooldown state of a room's rules (QuietState JSON). */
  quietState: (room: string) => `crest:${TAG}:qs:${room}`,
  /** Held (suppressed at delivery) suggestions of a room: suggestion id → HoldRecord JSON. Expires HOLDS_TTL_S after the last decision. */
  holds: (room: string) => `crest:${TAG}:held:${room}`,
  /** A room's ad spend as seen on its ticks: list of "ts,amount" (amount = rise of the cumulative spend), bounded. */
  spend: (room: string) => `crest:${TAG}:spend:${room}`,
  /** Last tick seen per room with its cumulative ad spend: room → "ts,adSpend". */
  spendLast: () => `crest:${TAG}:spend-last`,
} as const;
