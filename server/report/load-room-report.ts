/**
 * Reads what the report needs for one room from the RoomStore and builds it. Shared by the API route and
 * `crest report` for the current stream (live-retained data, per room). Past streams come from their archives
 * (server/history-report.ts); any other stream id is refused rather than answered with today's data.
 */
import { buildReport, type PlannedMomentInput, type RoomReport } from '../../core/report.ts';
import type { RoomStore } from '../room-store.ts';

export const CURRENT_STREAM = 'current';

/** The stream id asked for is not one Crest can report on (yet). */
export class UnknownStreamError extends Error {
  override name = 'UnknownStreamError';
  constructor(readonly stream: string) {
    super(
      `no stream "${stream}": pass stream=${CURRENT_STREAM} (or omit it) for the live stream, or a past stream's id from GET /rooms/:room/streams (history must be on: CREST_ARCHIVE_DIR)`,
    );
  }
}

export interface LoadReportOptions {
  stream?: string;
  /** `null` (the default): plans are not available to the caller, and the report says so. */
  plannedMoments?: readonly PlannedMomentInput[] | null;
  /** Stamped on the report as generatedAt (wall clock). */
  now: number;
}

/** The room's report, or null when Crest has seen no events for it. */
export async function loadRoomReport(store: RoomStore, room: string, opts: LoadReportOptions): Promise<RoomReport | null> {
  const stream = opts.stream ?? CURRENT_STREAM;
  if (stream !== CURRENT_STREAM) throw new UnknownStreamError(stream);
  const view = await store.view(room);
  if (!view) return null;
  // Operators see every suggestion, suppressed ones included (with why): the report is the operator's.
  const [allSuggestions, acks, series] = await Promise.all([store.suggestions(room, 'operator'), store.acks(room), store.series(room)]);
  // Totals restart at each stream.start: keep the windows and suggestions of the same stream beside them.
  const since = view.metrics?.streamStartTs ?? -Infinity;
  const suggestions = allSuggestions.filter((s) => s.createdAt >= since);
  return buildReport({
    room,
    stream,
    generatedAt: opts.now,
    metrics: view.metrics,
    windows: view.windows.filter((w) => w.onsetTs >= since),
    suggestions,
    acks,
    series,
    plannedMoments: opts.plannedMoments ?? null,
  });
}
