/**
 * Every Redis key Crest uses, in one place. Keys of a shard share the hash tag `{sN}` so that a
 * checkpoint (state + cursor + outputs) touches one Redis Cluster slot and stays one atomic script.
 * The few keys that belong to no shard (detector presence, webhooks, connectors) carry no tag: each is
 * only ever used alone (no script or MULTI names it beside another key), which is all a cluster needs.
 * BullMQ's keys are its own, under the hash-tagged prefix `{crest-bull}`.
 */
export const shardTag = (shard: number) => `{s${shard}}`;

export const keys = {
  /** Input stream: accepted events of every room of the shard, in arrival order. */
  events: (s: number) => `crest:${shardTag(s)}:ev`,
  /** Output stream: ticks, window changes, suggestions, acks. */
  out: (s: number) => `crest:${shardTag(s)}:out`,
  /** Detector checkpoint hash: `@cursor`, `@processed`, `@added`, `@owed`, `@active`, `r:<room>` states, and `w:<room>` marks (sliced checkpoints under way). */
  checkpoint: (s: number) => `crest:${shardTag(s)}:ckpt`,
  /** Which detector worker owns the shard (value = worker id, PX = lease). */
  lease: (s: number) => `crest:${shardTag(s)}:lease`,
  /** Room summaries for the room list: room → RoomSummary JSON. */
  view: (s: number) => `crest:${shardTag(s)}:view`,
  /**
   * Dedupe set of the shard for time bucket `b` (Redis time ÷ dedupe horizon): members `<room>:<id>` of
   * the events accepted in it; looked up in this bucket and the next (server/lua/ingest.lua).
   */
  dedupe: (s: number, bucket: number) => `crest:${shardTag(s)}:dd:${bucket}`,
  /** A room's open viewer sessions (hash viewer → "src,enter,seen"), written by checkpoint.lua with the room's state. */
  sessions: (s: number, room: string) => `crest:${shardTag(s)}:sessions:${room}`,
  /** Exact members of a room's unique / paying viewer counts (sets; absent once the count is an estimate). */
  uniqueViewers: (s: number, room: string) => `crest:${shardTag(s)}:unique:${room}`,
  payingViewers: (s: number, room: string) => `crest:${shardTag(s)}:payers:${room}`,
  /**
   * While a sliced checkpoint of a big room is under way (server/lua/checkpoint-slice.lua, docs/big-rooms.md):
   * the undo log of its parts (sessions: viewer → the value the last checkpoint left, '' = none; the members the
   * slices added) and the fresh parts that replace them when the checkpoint ends with a reset. Gone once it ends.
   */
  sessionsUndo: (s: number, room: string) => `crest:${shardTag(s)}:sessions-undo:${room}`,
  uniqueUndo: (s: number, room: string) => `crest:${shardTag(s)}:unique-undo:${room}`,
  payersUndo: (s: number, room: string) => `crest:${shardTag(s)}:payers-undo:${room}`,
  sessionsFresh: (s: number, room: string) => `crest:${shardTag(s)}:sessions-fresh:${room}`,
  uniqueFresh: (s: number, room: string) => `crest:${shardTag(s)}:unique-fresh:${room}`,
  payersFresh: (s: number, room: string) => `crest:${shardTag(s)}:payers-fresh:${room}`,
  /** Newest-first list of a room's suggestions (bounded). */
  suggestions: (s: number, room: string) => `crest:${shardTag(s)}:sug:${room}`,
  /** Acknowledgements of a room's suggestions: suggestion id → Ack JSON. */
  acks: (s: number, room: string) => `crest:${shardTag(s)}:ack:${room}`,
  /** A room's 1 s concurrency/GMV series (bounded list of "ts,concurrency,gmv,orders"). */
  series: (s: number, room: string) => `crest:${shardTag(s)}:series:${room}`,
  /** A room's planned moments: plan id → PlannedMoment JSON. */
  plans: (s: number, room: string) => `crest:${shardTag(s)}:plans:${room}`,
  /** Rooms of the shard that have plans (the scheduler re-checks their jobs at start). */
  planRooms: (s: number) => `crest:${shardTag(s)}:plan-rooms`,
  /** Fire-once key of one plan cue (value 1, expires): a job that runs again writes nothing twice. */
  planFired: (s: number, cueId: string) => `crest:${shardTag(s)}:pf:${cueId}`,
  /** Live detector workers (sorted set: worker id → last beat, Redis time ms), for fair shard shares. */
  detectors: () => 'crest:detectors',
  /** Webhook subscriptions (not per shard: read by the alert worker for any room). */
  webhooks: () => 'crest:webhooks',
  webhookDeadLetters: () => 'crest:webhooks:dead',
  /** Platform connector states: room → ConnectorState JSON (not per shard: read by the API for any room). */
  connectors: () => 'crest:connectors',
  /** Worker processes' metrics (server/metrics-publisher.ts): a set by last publish time, and each one's JSON (PX). One tag: one MGET reads all. */
  metricsProcs: () => 'crest:{metrics}:procs',
  metricsOf: (id: string) => `crest:{metrics}:p:${id}`,
} as const;

export const CHECKPOINT_FIELDS = {
  cursor: '@cursor',
  processed: '@processed',
  added: '@added',
  owed: '@owed',
  active: '@active',
  room: (room: string) => `r:${room}`,
  /** Set while a sliced checkpoint of the room is under way (slices written, its JSON not yet): a successor undoes them. */
  writing: (room: string) => `w:${room}`,
} as const;
