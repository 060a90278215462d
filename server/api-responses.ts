/**
 * What the JSON read routes answer, one type per route (OpenAPI path syntax): the routes check their answers
 * against these with `satisfies`, and server/openapi.ts documents them from the JSON Schemas made of these
 * types (server/contract-schemas.ts; test/openapi.test.ts checks live answers against them).
 */
import type {
  Ack,
  ConnectorsResponse,
  HighlightWindow,
  IngestResult,
  PlannedMoment,
  RoomSummary,
  SeriesBucketPoint,
  SeriesPoint,
  SeriesResolution,
  Suggestion,
} from '../core/protocol.ts';
import type { BoostOutcome } from '../core/outcome.ts';
import type { AlertRules } from '../core/quiet-rules.ts';
import type { DeadLetter } from '../workers/alert-worker.ts';
import type { StreamMeta } from './history-store.ts';
import type { WebhookView } from './routes/webhooks.ts';
import type { HoldRecord } from './webhook-rules.ts';

export interface ApiResponses {
  'POST /api/v1/events': IngestResult;
  'GET /api/v1/rooms': { rooms: RoomSummary[] };
  'GET /api/v1/rooms/{room}/state': RoomSummary;
  'GET /api/v1/rooms/{room}/windows': { room: string; windows: HighlightWindow[] };
  'GET /api/v1/rooms/{room}/suggestions': {
    room: string;
    suggestions: Suggestion[];
    acks: Ack[];
    /** Operators only: the alerts the room's alert rules held back at delivery, and why. */
    alertHolds?: HoldRecord[];
  };
  /** 1 s points as recorded; 10 s and 1 min ones are buckets of them. */
  'GET /api/v1/rooms/{room}/series': { room: string; res: SeriesResolution; points: (SeriesPoint | SeriesBucketPoint)[] };
  'POST /api/v1/rooms/{room}/suggestions/{id}/ack': { ack: Ack };
  'GET /api/v1/connectors': ConnectorsResponse;
  'GET /api/v1/rooms/{room}/plans': { room: string; plans: PlannedMoment[] };
  'GET /api/v1/webhooks': { webhooks: WebhookView[] };
  'GET /api/v1/webhooks/dead-letters': { deadLetters: DeadLetter[] };
  'GET /api/v1/rooms/{room}/alert-holds': { room: string; holds: HoldRecord[] };
  'GET /api/v1/rooms/{room}/boost-outcomes': { room: string; withinMin: number; outcomes: BoostOutcome[] };
  /** `history`: whether this Crest archives streams (CREST_ARCHIVE_DIR). */
  'GET /api/v1/rooms/{room}/streams': { room: string; history: 'on' | 'off'; streams: StreamMeta[] };
  'POST /api/v1/rooms/{room}/plans': { plan: PlannedMoment };
  /** `skipped`: rows equal to a stored moment (same time and sku). */
  'POST /api/v1/rooms/{room}/plans/import': { room: string; created: PlannedMoment[]; skipped: number };
  'PUT /api/v1/rooms/{room}/plans/{planId}': { plan: PlannedMoment };
  /** The only answer that shows the signing secret. */
  'POST /api/v1/webhooks': WebhookView & { secret: string };
  'GET /api/v1/rooms/{room}/alert-rules': AlertRulesAnswer;
  'PUT /api/v1/rooms/{room}/alert-rules': AlertRulesAnswer;
}

/** A room's alert rules per audience (`{}`: none). Named, so both routes' schemas refer to one. */
export interface AlertRulesAnswer {
  room: string;
  rules: AlertRules;
}
