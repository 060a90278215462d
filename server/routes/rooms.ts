/**
 * Room read API and acknowledgements. Hosts and buyers see their own audience's suggestions only;
 * a room outside the token is 403 whether or not it exists.
 */
import { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, roomParam } from '../auth/middleware.ts';
import { canAccessRoom } from '../auth/token.ts';
import { badRequest, notFound } from '../http-error.ts';
import { listHolds } from '../webhook-rules.ts';
import type { SeriesResolution } from '../../core/protocol.ts';
import type { ApiResponses } from '../api-responses.ts';
import { readSeries, SERIES_DEFAULT_LIMIT, SERIES_KEPT, SERIES_RESOLUTIONS } from '../series-rollup.ts';

export function roomsRouter(ctx: AppContext): Router {
  const r = Router();
  const readers = [authenticate(ctx.tokenSecrets), requireRole('operator', 'host', 'buyer')];

  r.get('/rooms', ...readers, async (req, res) => {
    const rooms = await ctx.store.list((room) => canAccessRoom(req.claims!, room));
    res.json({ rooms } satisfies ApiResponses['GET /api/v1/rooms']);
  });

  const viewOr404 = async (room: string) => {
    const view = await ctx.store.view(room);
    if (!view) throw notFound(`no events seen yet for room "${room}"`);
    return view;
  };

  r.get('/rooms/:room/state', ...readers, async (req, res) => {
    const room = roomParam(req);
    const { windows: _w, ...summary } = await viewOr404(room);
    res.json(summary satisfies ApiResponses['GET /api/v1/rooms/{room}/state']);
  });

  r.get('/rooms/:room/windows', ...readers, async (req, res) => {
    const room = roomParam(req);
    res.json({ room, windows: (await viewOr404(room)).windows } satisfies ApiResponses['GET /api/v1/rooms/{room}/windows']);
  });

  r.get('/rooms/:room/suggestions', ...readers, async (req, res) => {
    const room = roomParam(req);
    await viewOr404(room);
    const role = req.claims!.role;
    const [suggestions, acks, alertHolds] = await Promise.all([
      ctx.store.suggestions(room, role),
      ctx.store.acks(room),
      // Operators' log also says which alerts were held back at delivery by the room's alert rules, and why.
      role === 'operator' || role === 'admin' ? listHolds(ctx.redis, room) : Promise.resolve(undefined),
    ]);
    res.json({ room, suggestions, acks, ...(alertHolds ? { alertHolds } : {}) } satisfies ApiResponses['GET /api/v1/rooms/{room}/suggestions']);
  });

  // 1 s points from the checkpoint's list; 10 s and 1 min rolled up from them (server/series-rollup.ts).
  r.get('/rooms/:room/series', ...readers, async (req, res) => {
    const room = roomParam(req);
    const rawRes = req.query.res;
    if (rawRes !== undefined && (typeof rawRes !== 'string' || !(SERIES_RESOLUTIONS as readonly string[]).includes(rawRes))) {
      throw badRequest('res', `must be one of ${SERIES_RESOLUTIONS.join(', ')}`);
    }
    const resolution = (rawRes ?? '1s') as SeriesResolution;
    const raw = req.query.limit;
    const max = SERIES_KEPT[resolution];
    const limit = raw === undefined ? SERIES_DEFAULT_LIMIT[resolution] : typeof raw === 'string' && /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > max) throw badRequest('limit', `must be an integer from 1 to ${max} for res=${resolution}`);
    await viewOr404(room);
    const points =
      resolution === '1s' ? await ctx.store.series(room, limit) : await readSeries(ctx.redis, ctx.config.shards, room, resolution, limit);
    res.json({ room, res: resolution, points } satisfies ApiResponses['GET /api/v1/rooms/{room}/series']);
  });

  r.post('/rooms/:room/suggestions/:id/ack', ...readers, async (req, res) => {
    const room = roomParam(req);
    const id = String(req.params.id);
    if (id.length < 1 || id.length > 256) throw badRequest('id', 'must be 1–256 characters');
    const out = await ctx.store.ack(room, id, req.claims!.sub, req.claims!.role);
    if (!out.ok) throw notFound(`no suggestion "${id}" visible to this token in room "${room}"`);
    res.status(out.first ? 201 : 200).json({ ack: out.ack } satisfies ApiResponses['POST /api/v1/rooms/{room}/suggestions/{id}/ack']);
  });
  return r;
}
