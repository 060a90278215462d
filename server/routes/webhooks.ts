/**
 * Webhook subscriptions and their dead letters (DESIGN §6). Mounted under /api/v1.
 *
 *   POST   /webhooks                              operator, buyer   create (preset: generic | slack | feishu | dingtalk); the secret is answered once
 *   GET    /webhooks?room=                        operator, buyer   list (never the secret)
 *   DELETE /webhooks/:id                          operator, buyer   stop deliveries (queued ones are skipped)
 *   GET    /webhooks/dead-letters?room=           operator          deliveries that gave up, with why
 *   POST   /webhooks/dead-letters/:id/replay      operator          enqueue one again (same delivery id)
 *   GET    /rooms/:room/alert-rules               operator          the room's quiet rules per audience
 *   PUT    /rooms/:room/alert-rules               operator          replace them ({} removes them)
 *   GET    /rooms/:room/alert-holds               operator          suggestions held back at delivery, with why
 *   GET    /rooms/:room/boost-outcomes?withinMin= operator, buyer   did ad spend follow each boost.now
 *
 * Visibility: a subscription is visible to tokens granting its room; buyers see only the ones they created
 * (by token `sub`), operators every one in their rooms. Anything not visible is 404, like a missing one.
 * Buyers may only subscribe to the buyer audience: hosts' and operators' cues are not theirs to receive.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import express, { Router, type Request } from 'express';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../../core/events.ts';
import { SUGGESTION_KINDS, type SuggestionKind } from '../../core/protocol.ts';
import {
  AUDIENCE_KINDS,
  deadLetterSchema,
  enqueueReplay,
  lanesFor,
  parseSubscription,
  WEBHOOK_QUEUE,
  WEBHOOK_QUEUE_PREFIX,
  type DeadLetter,
  type WebhookSubscription,
} from '../../workers/alert-worker.ts';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole, requireRoomAccess, roomParam } from '../auth/middleware.ts';
import { canAccessRoom, type TokenClaims } from '../auth/token.ts';
import { withBodyErrors } from '../body-errors.ts';
import { bodyFieldError } from '../zod-field-error.ts';
import { badRequest, forbidden, HttpError, notFound } from '../http-error.ts';
import { keys } from '../redis-keys.ts';
import type { WebhookLanes } from '../webhook-lanes.ts';
import { BOT_SECRET_PRESETS, WEBHOOK_PRESETS } from '../webhook-presets.ts';
import { listHolds, readRules, writeRules } from '../webhook-rules.ts';
import { alertRulesSchema } from '../../core/quiet-rules.ts';
import { boostOutcomes, DEFAULT_OUTCOME_WITHIN_MS } from '../../core/outcome.ts';
import { readSpend } from '../webhook-spend.ts';
import type { ApiResponses } from '../api-responses.ts';

const BODY_LIMIT = '64kb';
/** Cap on stored subscriptions: the alert worker reads them all per batch of suggestions. */
const MAX_SUBSCRIPTIONS = 10_000;

const ROOM_REASON = 'must be 1–64 characters of A-Z a-z 0-9 _ . -';

/** zod message: "is required" when the field is absent, `reason` otherwise. */
const msg = (reason: string) => ({ error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : reason) });

export const webhookCreateSchema = z.strictObject({
  url: z.string(msg('must be a string')).min(1, 'is required').max(2048, 'must be at most 2048 characters'),
  room: z.string(msg('must be a string')).regex(ROOM_ID_PATTERN, ROOM_REASON),
  audience: z.enum(['buyer', 'host', 'operator'], msg('must be one of buyer, host, operator')).default('buyer'),
  kinds: z
    .array(z.enum(SUGGESTION_KINDS as [SuggestionKind, ...SuggestionKind[]], msg(`must be one of ${SUGGESTION_KINDS.join(', ')}`)))
    .min(1, 'must name at least one kind (or leave kinds out for all of the audience)')
    .max(32, 'too many kinds')
    .optional(),
  secret: z.string(msg('must be a string')).min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters').optional(),
  preset: z.enum(WEBHOOK_PRESETS, msg(`must be one of ${WEBHOOK_PRESETS.join(', ')}`)).default('generic'),
  botSecret: z.string(msg('must be a string')).min(1, 'must not be empty').max(256, 'must be at most 256 characters').optional(),
});

/** The public view of a subscription: everything but the secret. */
/** A subscription as the API shows it: no secrets, and whether a platform bot signature is set. */
export type WebhookView = ReturnType<typeof publicView>;

function publicView(sub: WebhookSubscription) {
  const { secret: _secret, botSecret, createdBy: _by, ...rest } = sub;
  return { ...rest, botSigning: botSecret !== undefined };
}

export function webhooksRouter(ctx: AppContext, opts: { queueName?: string } = {}): Router {
  const r = Router();
  const auth = authenticate(ctx.tokenSecrets);
  const subscribers = [auth, requireRole('operator', 'buyer')];
  const operators = [auth, requireRole('operator')];

  // Only replays enqueue from the API; the Queue shares ctx.redis (BullMQ leaves a shared client open).
  let lanes: WebhookLanes | null = null;
  const replayLanes = (): WebhookLanes => {
    if (!lanes) {
      const queue = new Queue(opts.queueName ?? WEBHOOK_QUEUE, { connection: ctx.redis, prefix: WEBHOOK_QUEUE_PREFIX });
      queue.on('error', (e: Error) => ctx.log.warn('webhook replay queue error', { error: e.message }));
      lanes = lanesFor(ctx.redis, queue, ctx.config.webhook);
    }
    return lanes;
  };

  r.post('/webhooks', ...subscribers, jsonBody(), async (req, res) => {
    const claims = req.claims!;
    if (req.body === undefined) throw badRequest('body', 'is required: a JSON object with url and room');
    const parsed = webhookCreateSchema.safeParse(req.body);
    if (!parsed.success) throw fieldError(parsed.error);
    const body = parsed.data;

    const urlProblem = checkUrl(body.url);
    if (urlProblem) throw badRequest('url', urlProblem);
    if (!canAccessRoom(claims, body.room)) throw new HttpError(403, 'forbidden', `this token does not grant room "${body.room}"`, { field: 'room' });
    if (!mayManageAll(claims) && body.audience !== 'buyer') {
      throw new HttpError(403, 'forbidden', `role "${claims.role}" may only subscribe to the buyer audience`, { field: 'audience' });
    }
    if (body.botSecret !== undefined && !BOT_SECRET_PRESETS.includes(body.preset)) {
      throw badRequest('botSecret', `only the ${BOT_SECRET_PRESETS.join(' and ')} presets sign with a bot secret; preset "${body.preset}" is signed with secret`);
    }
    const allowed = AUDIENCE_KINDS[body.audience];
    const kinds = body.kinds ? [...new Set(body.kinds)] : [...allowed];
    const stray = body.kinds?.findIndex((k) => !allowed.includes(k)) ?? -1;
    if (stray >= 0) {
      throw badRequest(`kinds.${stray}`, `"${body.kinds![stray]}" is never sent to the ${body.audience} audience; it gets ${allowed.join(', ')}`);
    }

    // Soft cap: concurrent creates can overshoot it by a few, which is harmless.
    if ((await ctx.redis.hlen(keys.webhooks())) >= MAX_SUBSCRIPTIONS) {
      throw new HttpError(409, 'too-many-subscriptions', `at most ${MAX_SUBSCRIPTIONS} webhook subscriptions; delete unused ones first`);
    }
    const sub: WebhookSubscription = {
      id: `wh_${randomBytes(8).toString('hex')}`,
      url: body.url,
      room: body.room,
      audience: body.audience,
      kinds,
      secret: body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`,
      preset: body.preset,
      ...(body.botSecret !== undefined ? { botSecret: body.botSecret } : {}),
      createdBy: claims.sub,
      createdAt: Date.now(),
    };
    await ctx.redis.hset(keys.webhooks(), sub.id, JSON.stringify(sub));
    ctx.log.info('webhook subscription created', { id: sub.id, room: sub.room, audience: sub.audience, by: claims.sub });
    // The only time the secret is shown: keep it out of caches.
    res.set('Cache-Control', 'no-store');
    res.status(201).json({ ...publicView(sub), secret: sub.secret } satisfies ApiResponses['POST /api/v1/webhooks']);
  });

  r.get('/webhooks', ...subscribers, async (req, res) => {
    const claims = req.claims!;
    const room = roomQuery(req, claims);
    const all = await ctx.redis.hgetall(keys.webhooks());
    const webhooks = Object.values(all)
      .map(parseSubscription)
      .filter((s): s is WebhookSubscription => s !== null && visible(claims, s) && (room === undefined || s.room === room))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(publicView);
    res.json({ webhooks } satisfies ApiResponses['GET /api/v1/webhooks']);
  });

  r.get('/webhooks/dead-letters', ...operators, async (req, res) => {
    const claims = req.claims!;
    const room = roomQuery(req, claims);
    const deadLetters = (await readDeadLetters(ctx))
      .map(([, dl]) => dl)
      .filter((dl) => canAccessRoom(claims, dl.room) && (room === undefined || dl.room === room));
    res.json({ deadLetters } satisfies ApiResponses['GET /api/v1/webhooks/dead-letters']);
  });

  r.post('/webhooks/dead-letters/:id/replay', ...operators, async (req, res) => {
    const claims = req.claims!;
    const id = String(req.params.id);
    const found = (await readDeadLetters(ctx)).find(([, dl]) => dl.id === id && canAccessRoom(claims, dl.room));
    if (!found) throw notFound(`no dead letter "${id}" visible to this token`);
    const [raw, dl] = found;
    const subRaw = await ctx.redis.hget(keys.webhooks(), dl.subscriptionId);
    if (!subRaw) {
      throw new HttpError(409, 'subscription-deleted', `subscription "${dl.subscriptionId}" was deleted; there is nowhere to deliver to`);
    }
    // Idempotent without a lock: the job id is derived from the dead letter's id (BullMQ drops a second
    // add), and LREM of the exact record removes it at most once.
    const jobId = await enqueueReplay(replayLanes(), dl);
    await ctx.redis.lrem(keys.webhookDeadLetters(), 1, raw);
    ctx.log.info('webhook dead letter replayed', { deadLetter: dl.id, jobId, by: claims.sub });
    res.status(202).json({ replayed: { id: dl.id, jobId, deliveryId: dl.deliveryId } });
  });

  r.get('/rooms/:room/alert-rules', ...operators, async (req, res) => {
    const room = roomParam(req);
    res.json({ room, rules: (await readRules(ctx.redis, room)) ?? {} } satisfies ApiResponses['GET /api/v1/rooms/{room}/alert-rules']);
  });

  r.put('/rooms/:room/alert-rules', ...operators, requireRoomAccess, jsonBody(), async (req, res) => {
    const room = roomParam(req);
    if (req.body === undefined) throw badRequest('body', 'is required: a JSON object with buyer, host and/or operator rules ({} removes them)');
    const parsed = alertRulesSchema.safeParse(req.body);
    if (!parsed.success) {
      const fe = bodyFieldError(parsed.error, ['buyer', 'host', 'operator', 'mutedKinds', 'quietHours', 'cooldownMinutes', 'maxAlerts'], 'must be a JSON object with buyer, host and/or operator rules');
      throw badRequest(fe.field, fe.reason);
    }
    await writeRules(ctx.redis, room, parsed.data);
    ctx.log.info('alert rules set', { room, audiences: Object.keys(parsed.data), by: req.claims!.sub });
    res.json({ room, rules: parsed.data } satisfies ApiResponses['PUT /api/v1/rooms/{room}/alert-rules']);
  });

  // The operator log of alerts held back at delivery, with why (the suggestions themselves stay in
  // GET /rooms/:room/suggestions).
  r.get('/rooms/:room/alert-holds', ...operators, async (req, res) => {
    const room = roomParam(req);
    res.json({ room, holds: await listHolds(ctx.redis, room) } satisfies ApiResponses['GET /api/v1/rooms/{room}/alert-holds']);
  });

  // Did ad spend follow each boost.now? (core/outcome.ts over the spend the alert worker saw on ticks.)
  r.get('/rooms/:room/boost-outcomes', ...subscribers, async (req, res) => {
    const room = roomParam(req);
    const q = req.query.withinMin;
    const withinMin = q === undefined ? DEFAULT_OUTCOME_WITHIN_MS / 60_000 : Number(q);
    if (!Number.isInteger(withinMin) || withinMin < 1 || withinMin > 240) throw badRequest('withinMin', 'must be a whole number of minutes from 1 to 240');
    const [suggestions, acks, view, events] = await Promise.all([
      ctx.store.suggestions(room, req.claims!.role),
      ctx.store.acks(room),
      ctx.store.view(room),
      readSpend(ctx.redis, room),
    ]);
    const outcomes = boostOutcomes({ suggestions, events, acks, withinMs: withinMin * 60_000, clock: view?.metrics?.ts ?? undefined });
    res.json({ room, withinMin, outcomes } satisfies ApiResponses['GET /api/v1/rooms/{room}/boost-outcomes']);
  });

  r.delete('/webhooks/:id', ...subscribers, async (req, res) => {
    const claims = req.claims!;
    const id = String(req.params.id);
    const raw = await ctx.redis.hget(keys.webhooks(), id);
    const sub = raw ? parseSubscription(raw) : null;
    if (!sub || !visible(claims, sub)) throw notFound(`no webhook subscription "${id}" visible to this token`);
    await ctx.redis.hdel(keys.webhooks(), id);
    // Queued deliveries go with it (one in flight finds its lane gone and stops).
    await replayLanes().clear(id);
    ctx.log.info('webhook subscription deleted', { id, room: sub.room, by: claims.sub });
    res.status(204).end();
  });

  return r;
}

const mayManageAll = (claims: TokenClaims) => claims.role === 'operator' || claims.role === 'admin';

function visible(claims: TokenClaims, sub: WebhookSubscription): boolean {
  return canAccessRoom(claims, sub.room) && (mayManageAll(claims) || sub.createdBy === claims.sub);
}

/** Optional `?room=`: validated and checked against the token (403 for a room it does not grant). */
function roomQuery(req: Request, claims: TokenClaims): string | undefined {
  const q = req.query.room;
  if (q === undefined) return undefined;
  if (typeof q !== 'string' || !ROOM_ID_PATTERN.test(q)) throw badRequest('room', ROOM_REASON);
  if (!canAccessRoom(claims, q)) throw forbidden(`this token does not grant room "${q}"`);
  return q;
}

/** [raw JSON, record] newest first; records that do not parse are skipped (the list is capped anyway). */
async function readDeadLetters(ctx: AppContext): Promise<[string, DeadLetter][]> {
  const raws = await ctx.redis.lrange(keys.webhookDeadLetters(), 0, -1);
  const out: [string, DeadLetter][] = [];
  for (const raw of raws) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      if (err instanceof SyntaxError) continue;
      throw err;
    }
    const r = deadLetterSchema.safeParse(value);
    if (r.success) out.push([raw, { ...r.data, reason: r.data.reason ?? r.data.error } as unknown as DeadLetter]);
  }
  return out;
}

/**
 * http(s) only, no credentials in the URL (fetch refuses them), and not the unspecified or link-local
 * addresses (cloud metadata lives at 169.254.169.254). Loopback and private networks are allowed on
 * purpose: Crest's own tests and single-machine setups post to 127.0.0.1. A production deployment exposed
 * to untrusted buyers should also refuse private ranges, checked on the resolved address at connect time
 * (a literal check here is bypassed by any DNS name pointing inside).
 */
export function checkUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch (err) {
    if (err instanceof TypeError) return 'must be an absolute http:// or https:// URL';
    throw err;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must use http or https, not ${u.protocol.slice(0, -1)}`;
  if (u.username || u.password) return 'must not contain credentials; authenticate the request with the signature';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) return 'must name a host';
  const ip = isIP(host);
  if ((ip === 4 && (host === '0.0.0.0' || host.startsWith('169.254.'))) || (ip === 6 && (/^fe[89ab]/i.test(host) || host === '::'))) {
    return 'must not point at an unspecified or link-local address';
  }
  return null;
}

/**
 * express.json, with its errors turned into HttpErrors naming the body (the global handler would answer a
 * bare SyntaxError with 500). Any content type is read as JSON: `curl -d` sends form-urlencoded by default.
 */
function jsonBody() {
  return withBodyErrors(express.json({ limit: BODY_LIMIT, type: () => true }), BODY_LIMIT);
}

/** The first zod issue as "field + reason". */
function fieldError(err: z.ZodError): HttpError {
  const fe = bodyFieldError(err, ['url', 'room', 'audience', 'kinds', 'secret', 'preset', 'botSecret'], 'must be a JSON object with url and room');
  return badRequest(fe.field, fe.reason);
}
