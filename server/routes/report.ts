/**
 * `GET /api/v1/rooms/:room/report?format=json|csv|html&stream=current&tz=Area/City`: the post-stream
 * report (operators and admins). 403 for a room outside the token (whether or not it exists), 404 for a
 * room with no events or a stream id other than the current one (history is not archived yet).
 */
import { Router } from 'express';
import type { Request } from 'express';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, roomParam } from '../auth/middleware.ts';
import { badRequest, notFound } from '../http-error.ts';
import { loadRoomReport, UnknownStreamError } from '../report/load-room-report.ts';
import { listPlans } from '../plan-store.ts';
import { timeZoneOrThrow } from '../report/report-format.ts';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render-report.ts';
import { HistoryStore } from '../history-store.ts';
import { loadArchivedReport, PastStreamError } from '../history-report.ts';
import { HttpError } from '../http-error.ts';
import { STREAM_ID_PATTERN } from '../../workers/stream-archive-format.ts';

/** The page loads nothing and runs nothing: inline styles only. */
const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function reportRouter(ctx: AppContext): Router {
  const r = Router();
  r.get('/rooms/:room/report', authenticate(ctx.tokenSecrets), requireRole('operator'), async (req, res) => {
    const room = roomParam(req);
    const format = (queryString(req, 'format') ?? 'json') as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) throw badRequest('format', `must be one of ${REPORT_FORMATS.join(', ')}`);
    const tz = queryString(req, 'tz') ?? 'UTC';
    try {
      timeZoneOrThrow(tz);
    } catch {
      throw badRequest('tz', 'must be an IANA time zone such as UTC or Asia/Shanghai');
    }
    const stream = queryString(req, 'stream');
    if (stream !== undefined && (stream.length < 1 || stream.length > 128)) throw badRequest('stream', 'must be 1–128 characters');

    let report;
    try {
      const plannedMoments = await listPlans(ctx.redis, ctx.config.shards, room);
      // A past stream (history on): its archive replayed through the core (server/history-report.ts).
      if (stream !== undefined && STREAM_ID_PATTERN.test(stream) && ctx.config.archive.dir) {
        const history = new HistoryStore(ctx.redis, ctx.config.shards);
        const opts = { dir: ctx.config.archive.dir, history, engine: ctx.config.engine, now: Date.now(), acks: await ctx.store.acks(room), plannedMoments };
        report = (await loadArchivedReport(room, stream, opts).catch((err: unknown) => {
          if (err instanceof PastStreamError) throw new HttpError(err.status, err.status === 409 ? 'conflict' : 'not-found', err.message, { field: 'stream' });
          throw err;
        })).report;
      } else report = await loadRoomReport(ctx.store, room, { stream, now: Date.now(), plannedMoments });
    } catch (err) {
      if (err instanceof UnknownStreamError) throw notFound(err.message);
      throw err;
    }
    if (!report) throw notFound(`no events seen yet for room "${room}"`);

    const out = renderReport(report, format, { timeZone: tz });
    res.setHeader('Cache-Control', 'no-store');
    res.type(out.contentType);
    if (format !== 'json') res.setHeader('Content-Disposition', `attachment; filename="${out.filename}"`);
    if (format === 'html') res.setHeader('Content-Security-Policy', HTML_CSP);
    res.send(out.body);
  });
  return r;
}

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(name, 'must be given once, as plain text');
  return v;
}
