/**
 * Planned moments of a room (DESIGN §4 Plans). Mounted under /api/v1.
 *
 *   GET    /rooms/:room/plans                 operator, host, buyer   list, by time
 *   POST   /rooms/:room/plans                 operator                create one (201)
 *   PUT    /rooms/:room/plans/:planId         operator                replace one (its version goes up; cues move)
 *   DELETE /rooms/:room/plans/:planId         operator                delete one (its cues are cancelled) (204)
 *   POST   /rooms/:room/plans/import          operator                JSON array or CSV (text/csv); all rows or none:
 *                                                                     201 with the plans, or 422 with every row's errors
 *
 * Admins pass every role check. A room outside the token is 403 whether or not it exists.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { Queue } from 'bullmq';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, requireRoomAccess, roomParam } from '../auth/middleware.ts';
import { withBodyErrors } from '../body-errors.ts';
import { badRequest } from '../http-error.ts';
import { MAX_PLANS_PER_ROOM, PLAN_FIELDS, PlanStore, parseCsv, planFieldError, planInputSchema, type PlanInput, type RowError } from '../plan-store.ts';
import { PLAN_QUEUE, PLAN_QUEUE_PREFIX } from '../../workers/plan-scheduler.ts';
import type { ApiResponses } from '../api-responses.ts';

const BODY_LIMIT = '256kb';
const PLAN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function plansRouter(ctx: AppContext, opts: { queueName?: string } = {}): Router {
  const r = Router();
  const auth = authenticate(ctx.tokenSecrets);
  const readers = [auth, requireRole('operator', 'host', 'buyer')];
  const writers = [auth, requireRole('operator'), requireRoomAccess];

  // The Queue shares ctx.redis (BullMQ leaves a shared client open); only writes need it.
  let queue: Queue | null = null;
  const store = new PlanStore(ctx.redis, {
    shards: ctx.config.shards,
    outStreamMaxLen: ctx.config.outStreamMaxLen,
    countdownMin: ctx.config.plans.countdownMin,
    queue: () => {
      if (!queue) {
        queue = new Queue(opts.queueName ?? PLAN_QUEUE, { connection: ctx.redis, prefix: PLAN_QUEUE_PREFIX });
        queue.on('error', (e: Error) => ctx.log.warn('plan queue error', { error: e.message }));
      }
      return queue;
    },
  });

  r.get('/rooms/:room/plans', ...readers, async (req, res) => {
    const room = roomParam(req);
    res.json({ room, plans: await store.list(room) } satisfies ApiResponses['GET /api/v1/rooms/{room}/plans']);
  });

  r.post('/rooms/:room/plans/import', ...writers, importBody(), async (req, res) => {
    const room = roomParam(req);
    const now = Date.now();
    const { inputs, errors } = readImport(req.body, now);
    const existing = await store.list(room);
    // Rows equal to a stored moment (same time and sku) are skipped: importing a file twice adds nothing.
    const fresh = inputs.filter(([, p]) => !existing.some((e) => e.at === p.at && e.sku === p.sku));
    if (errors.length === 0 && existing.length + fresh.length > MAX_PLANS_PER_ROOM) {
      errors.push({ row: 0, field: 'body', reason: `the room would have over ${MAX_PLANS_PER_ROOM} planned moments` });
    }
    if (errors.length > 0) {
      res.status(422).json({ error: { code: 'invalid-rows', reason: `${errors.length} row error(s); nothing was imported` }, errors });
      return;
    }
    const created = [];
    for (const [, input] of fresh) created.push(await store.create(room, input, req.claims!.sub, now));
    res.status(201).json({ room, created, skipped: inputs.length - fresh.length } satisfies ApiResponses['POST /api/v1/rooms/{room}/plans/import']);
  });

  r.post('/rooms/:room/plans', ...writers, jsonBody(), async (req, res) => {
    const room = roomParam(req);
    const plan = await store.create(room, parseOne(req.body, Date.now()), req.claims!.sub);
    res.status(201).json({ plan } satisfies ApiResponses['POST /api/v1/rooms/{room}/plans']);
  });

  r.put('/rooms/:room/plans/:planId', ...writers, jsonBody(), async (req, res) => {
    const room = roomParam(req);
    const plan = await store.update(room, planIdParam(req), parseOne(req.body, Date.now()), req.claims!.sub);
    res.json({ plan } satisfies ApiResponses['PUT /api/v1/rooms/{room}/plans/{planId}']);
  });

  r.delete('/rooms/:room/plans/:planId', ...writers, async (req, res) => {
    const room = roomParam(req);
    await store.remove(room, planIdParam(req));
    res.status(204).end();
  });
  return r;
}

function planIdParam(req: Request): string {
  const id = String(req.params.planId ?? '');
  if (!PLAN_ID.test(id)) throw badRequest('planId', 'must be a plan id as returned by the API');
  return id;
}

function parseOne(body: unknown, now: number): PlanInput {
  if (body === undefined) throw badRequest('body', 'is required: a JSON object with at, sku and optionally name, welfare, leadMin, budget');
  const r = planInputSchema.safeParse(body);
  if (!r.success) {
    const fe = planFieldError(r.error);
    throw badRequest(fe.field, fe.reason);
  }
  const problem = PlanStore.timeProblem(r.data.at, now);
  if (problem) throw badRequest('at', problem);
  return r.data;
}

/** Validates every row; rows are 1-based (see RowError). */
function readImport(body: unknown, now: number): { inputs: [number, PlanInput][]; errors: RowError[] } {
  const errors: RowError[] = [];
  let rows: unknown[];
  if (typeof body === 'string') {
    const { header, rows: csvRows } = parseCsv(body);
    const canon = new Map<string, string>(PLAN_FIELDS.map((f) => [f.toLowerCase(), f]));
    const names = header.map((h) => canon.get(h.toLowerCase()));
    header.forEach((h, i) => {
      if (!names[i]) errors.push({ row: 0, field: h || `column ${i + 1}`, reason: `unknown column; expected ${PLAN_FIELDS.join(', ')}` });
    });
    if (errors.length > 0) return { inputs: [], errors };
    rows = csvRows.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [canon.get(k.toLowerCase())!, v])));
  } else if (Array.isArray(body)) rows = body;
  else throw badRequest('body', 'must be a JSON array of plans, or CSV (Content-Type: text/csv) with a header line');
  if (rows.length === 0) throw badRequest('body', 'has no plans');
  if (rows.length > MAX_PLANS_PER_ROOM) throw badRequest('body', `has over ${MAX_PLANS_PER_ROOM} plans`);
  const inputs: [number, PlanInput][] = [];
  rows.forEach((raw, i) => {
    const row = i + 1;
    const r = planInputSchema.safeParse(raw);
    if (!r.success) {
      // Every issue of the row, one per field, so a whole file can be fixed in one go.
      const seen = new Set<string>();
      for (const issue of r.error.issues) {
        const fe = planFieldError({ issues: [issue] } as typeof r.error);
        if (!seen.has(fe.field)) errors.push({ row, ...fe });
        seen.add(fe.field);
      }
      return;
    }
    const problem = PlanStore.timeProblem(r.data.at, now);
    if (problem) errors.push({ row, field: 'at', reason: problem });
    else inputs.push([row, r.data]);
  });
  return { inputs, errors };
}

/** JSON bodies (any content type: `curl -d` sends form-urlencoded), errors as HttpErrors naming the body. */
function jsonBody() {
  return withBodyErrors(express.json({ limit: BODY_LIMIT, type: () => true }), BODY_LIMIT);
}

/** text/csv as a string, anything else as JSON. */
function importBody() {
  const csv = withBodyErrors(express.text({ limit: BODY_LIMIT, type: ['text/csv', 'text/plain', 'application/csv'] }), BODY_LIMIT);
  const json = jsonBody();
  return (req: Request, res: Response, next: NextFunction) => (/csv|text\/plain/i.test(req.headers['content-type'] ?? '') ? csv : json)(req, res, next);
}

