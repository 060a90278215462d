/**
 * Room read API and acknowledgements. Hosts and buyers see their own audience's suggestions only;
 * a room outside the token is 403 whether or not it exists.
 */
import { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, roomParam } from '../auth/middleware.ts';
import { canAccessRoom } from '../auth/token.ts';
import { badRequest, notFound } from '../http-error.ts';

export function roomsRouter(ctx: AppContext): Router {
  const r = Router();
  const readers = [authenticate(ctx.tokenSecrets), requireRole('operator', 'host', 'buyer')];

  r.get('/rooms', ...readers, async (req, res) => {
    const rooms = await ctx.store.list((room) => canAccessRoom(req.claims!, room));
    res.json({ rooms });
  });

  const viewOr404 = async (room: string) => {
    const view = await ctx.store.view(room);
    if (!view) throw notFound(`no events seen yet for room "${room}"`);
    return view;
  };

  r.get('/rooms/:room/state', ...readers, async (req, res) => {
    const room = roomParam(req);
    const { windows: _w, ...summary } = await viewOr404(room);
    res.json(summary);
  });

  r.get('/rooms/:room/windows', ...readers, async (req, res) => {
    const room = roomParam(req);
    res.json({ room, windows: (await viewOr404(room)).windows });
  });

  r.get('/rooms/:room/suggestions', ...readers, async (req, res) => {
    const room = roomParam(req);
    await viewOr404(room);
    const [suggestions, acks] = await Promise.all([ctx.store.suggestions(room, req.claims!.role), ctx.store.acks(room)]);
    res.json({ room, suggestions, acks });
  });

  r.get('/rooms/:room/series', ...readers, async (req, res) => {
    const room = roomParam(req);
    const raw = req.query.limit;
    const limit = raw === undefined ? 3_600 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 3_600) throw badRequest('limit', 'must be an integer from 1 to 3600');
    await viewOr404(room);
    res.json({ room, points: await ctx.store.series(room, limit) });
  });

  r.post('/rooms/:room/suggestions/:id/ack', ...readers, async (req, res) => {
    const room = roomParam(req);
    const id = String(req.params.id);
    if (id.length < 1 || id.length > 256) throw badRequest('id', 'must be 1–256 characters');
    const out = await ctx.store.ack(room, id, req.claims!.sub, req.claims!.role);
    if (!out.ok) throw notFound(`no suggestion "${id}" visible to this token in room "${room}"`);
    res.status(out.first ? 201 : 200).json({ ack: out.ack });
  });
  return r;
}
