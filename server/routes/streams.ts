/**
 * Stream history of a room (operators and admins):
 *   GET /rooms/:room/streams                      past and open streams, newest first (StreamMeta)
 *   GET /rooms/:room/streams/:streamId/rollups    per-minute rollups (kept CREST_ARCHIVE_ROLLUP_DAYS)
 *   GET /rooms/:room/streams/:streamId/archive    the archive file itself (gzip NDJSON)
 * The report of a past stream is `GET /rooms/:room/report?stream=<streamId>` (routes/report.ts).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Router, type Request } from 'express';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, roomParam } from '../auth/middleware.ts';
import { badRequest, notFound } from '../http-error.ts';
import { HistoryStore } from '../history-store.ts';
import type { ApiResponses } from '../api-responses.ts';
import { archivePath, STREAM_ID_PATTERN } from '../../workers/stream-archive-format.ts';

export function streamsRouter(ctx: AppContext): Router {
  const r = Router();
  const history = new HistoryStore(ctx.redis, ctx.config.shards);
  const auth = [authenticate(ctx.tokenSecrets), requireRole('operator')];

  r.get('/rooms/:room/streams', ...auth, async (req, res) => {
    const room = roomParam(req);
    const limitRaw = req.query.limit;
    const limit = limitRaw === undefined ? 100 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit', 'must be a whole number from 1 to 1000');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ room, history: ctx.config.archive.dir ? 'on' : 'off', streams: await history.list(room, limit) } satisfies ApiResponses['GET /api/v1/rooms/{room}/streams']);
  });

  r.get('/rooms/:room/streams/:streamId/rollups', ...auth, async (req, res) => {
    const room = roomParam(req);
    const id = streamParam(req);
    const meta = await history.get(room, id);
    if (!meta) throw notFound(`room "${room}" has no stream "${id}"`);
    const rollups = await history.rollups(room, id);
    if (meta.status === 'archived' && rollups.length === 0) throw notFound(`the rollups of stream "${id}" have expired (kept ${ctx.config.archive.rollupDays} days); its report still works from the archive`);
    res.json({ room, stream: id, status: meta.status, expiresAt: meta.rollupsExpireAt, rollups });
  });

  r.get('/rooms/:room/streams/:streamId/archive', ...auth, async (req, res) => {
    const room = roomParam(req);
    const id = streamParam(req);
    const dir = ctx.config.archive.dir;
    if (!dir) throw notFound('stream history is off on this server (no CREST_ARCHIVE_DIR)');
    const meta = await history.get(room, id);
    if (!meta || meta.status !== 'archived') throw notFound(meta ? `stream "${id}" is still open` : `room "${room}" has no stream "${id}"`);
    const path = archivePath(dir, room, id);
    const st = await stat(path).catch(() => null);
    if (!st) throw notFound(`the archive file of stream "${id}" is not in this server's CREST_ARCHIVE_DIR`);
    res.setHeader('Content-Type', 'application/gzip');
    res.setHeader('Content-Length', String(st.size));
    res.setHeader('Content-Disposition', `attachment; filename="crest-${room}-${id}.ndjson.gz"`);
    await new Promise<void>((ok, fail) => createReadStream(path).on('error', fail).on('end', ok).pipe(res));
  });
  return r;
}

function streamParam(req: Request): string {
  const id = String(req.params.streamId ?? '');
  if (!STREAM_ID_PATTERN.test(id)) throw badRequest('streamId', 'must be a stream id like 20260101T200000Z (see GET /rooms/:room/streams)');
  return id;
}
