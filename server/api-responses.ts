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
  RoomSummary,
  SeriesBucketPoint,
  SeriesPoint,
  SeriesResolution,
  Suggestion,
} from '../core/protocol.ts';
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
}
