/**
 * The report of a past stream: its archive file replayed through the core (server/history-core-replay.ts),
 * then core/report.ts's buildReport, the same builder as the live report. Shared by the API
 * (`?stream=<id>`) and `crest report --stream <id>`.
 */
import type { EngineConfig } from '../core/engine-config.ts';
import { buildReport, type PlannedMomentInput, type RoomReport } from '../core/report.ts';
import type { Ack } from '../core/protocol.ts';
import { archivePath, readArchive, STREAM_ID_PATTERN } from '../workers/stream-archive-format.ts';
import { replayThroughCore } from './history-core-replay.ts';
import type { HistoryStore, StreamMeta } from './history-store.ts';

/** A past stream Crest cannot report on: unknown id, still open, history off, or its file is gone. */
export class PastStreamError extends Error {
  override name = 'PastStreamError';
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

export interface ArchivedReportOptions {
  dir: string | undefined;
  history: HistoryStore;
  engine: EngineConfig;
  now: number;
  acks: readonly Ack[];
  /** The room's planned moments; only those inside the stream (lead window included) are compared. */
  plannedMoments: readonly PlannedMomentInput[] | null;
}

export async function loadArchivedReport(room: string, streamId: string, opts: ArchivedReportOptions): Promise<{ report: RoomReport; meta: StreamMeta }> {
  if (!STREAM_ID_PATTERN.test(streamId)) {
    throw new PastStreamError(`"${streamId}" is not a stream id: use current, or an id from GET /api/v1/rooms/${room}/streams (e.g. 20260101T200000Z)`, 404);
  }
  if (!opts.dir) throw new PastStreamError('stream history is off on this server (no CREST_ARCHIVE_DIR): only stream=current can be reported', 404);
  const meta = await opts.history.get(room, streamId);
  if (!meta) throw new PastStreamError(`room "${room}" has no stream "${streamId}"; GET /api/v1/rooms/${room}/streams lists them`, 404);
  if (meta.status !== 'archived') throw new PastStreamError(`stream "${streamId}" is still open (live): use stream=current until it ends`, 409);
  let lines;
  try {
    lines = await readArchive(archivePath(opts.dir, room, streamId));
  } catch (err) {
    throw new PastStreamError(`the archive of stream "${streamId}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check CREST_ARCHIVE_DIR on this server`, 404);
  }
  const rep = replayThroughCore(room, lines, opts.engine);
  const from = rep.firstTs ?? meta.startTs;
  const to = rep.lastTs ?? meta.endTs ?? from;
  const plans = opts.plannedMoments?.filter((p) => p.at >= from && p.at - p.leadMin * 60_000 <= to) ?? null;
  const ids = new Set(rep.suggestions.map((s) => s.id));
  const report = buildReport({
    room,
    stream: streamId,
    generatedAt: opts.now,
    metrics: rep.metrics,
    windows: rep.windows,
    // Newest first, as the live report reads them from the store.
    suggestions: [...rep.suggestions].reverse(),
    acks: opts.acks.filter((a) => ids.has(a.suggestionId)),
    series: rep.series,
    plannedMoments: plans,
  });
  // buildReport words its notes for the live report (room-retained timeline); an archive is one whole stream.
  report.notes = [
    `Past stream ${streamId}: every figure is this stream's own, from its archive (${meta.archive?.lines ?? '?'} lines) replayed through the core.`,
    ...report.notes.filter((n) => !/^The current stream's live-retained data/.test(n)),
  ];
  if (report.follows.gained !== null) report.follows.note = 'engage.follow events of this stream';
  return { report, meta };
}
