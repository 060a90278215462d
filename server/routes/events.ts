/**
 * POST /api/v1/events — a JSON array (or one object) or NDJSON. Limits on bytes and on events per
 * request. The answer says, per event index, what was rejected (field + reason) and what was a
 * duplicate; everything else was durably appended.
 */
import express, { Router } from 'express';
import type { AppContext } from '../app-context.ts';
import { authenticate, requireRole } from '../auth/middleware.ts';
import { canonicalElements, canonicalObject } from '../../core/canonical-json.ts';
import { badRequest, HttpError } from '../http-error.ts';
import { UnparseableItem } from '../ingest-service.ts';
import { requestIdOf } from '../request-id.ts';
import type { Handler } from '../direct-route.ts';

export function eventsRouter(post: readonly Handler[]): Router {
  const r = Router();
  r.post('/events', ...post);
  return r;
}

/**
 * The handlers of POST /events, in order: built once, so the router and server/direct-route.ts run the very
 * same instances.
 */
export function eventsPost(ctx: AppContext): Handler[] {
  return [
    (_req, res, next) => {
      // First, so refusals (401, 413, 429 backlog) are timed too; the token-rate 429 answers before the router.
      const took = ctx.metrics.ingestRequest.startTimer();
      res.once('finish', () => took({ status: String(res.statusCode) }));
      next();
    },
    authenticate(ctx.tokenSecrets),
    requireRole('ingest'),
    express.text({ type: () => true, limit: ctx.config.maxBodyBytes }),
    async (req, res) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const { items, texts } = parseBody(body, String(req.headers['content-type'] ?? ''));
      if (items.length > ctx.config.maxEventsPerRequest) {
        throw new HttpError(413, 'too-many-events', `at most ${ctx.config.maxEventsPerRequest} events per request, got ${items.length}`);
      }
      const requestId = requestIdOf(res);
      const result = await ctx.ingest.ingest(items, req.claims!, { requestId, texts });
      const status = result.rejected > 0 && result.accepted + result.duplicate === 0 ? 400 : 200;
      // debug: at full load this is hundreds of lines a second; the metrics count them at any level.
      ctx.log.debug('ingest', { requestId, status, events: items.length, accepted: result.accepted, duplicate: result.duplicate, rejected: result.rejected });
      res.status(status).json(result);
    },
  ];
}

/**
 * JSON array / single object, or NDJSON (by content type, or when the body is not one JSON value).
 * A line that is not JSON is not fatal for NDJSON: it becomes that index's rejection. `texts`: each item's own
 * text where it is already what storing it would write (core/canonical-json.ts), else undefined.
 */
export function parseBody(body: string, contentType: string): { items: unknown[]; texts: (string | undefined)[] } {
  const text = body.trim();
  if (!text) throw badRequest('body', 'empty body: send a JSON array of events or NDJSON (one event per line)');
  const ndjson = /ndjson|jsonl|json-seq/.test(contentType);
  if (!ndjson) {
    let v: unknown;
    try {
      v = JSON.parse(text) as unknown;
    } catch (err) {
      if (!text.includes('\n')) throw badRequest('body', `invalid JSON: ${(err as Error).message}`);
    }
    if (v !== undefined) return Array.isArray(v) ? { items: v, texts: canonicalElements(text, v) } : { items: [v], texts: [canonicalObject(text, v)] };
  }
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const items = lines.map((line, i) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (err) {
      return new UnparseableItem(`invalid JSON on line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return { items, texts: lines.map((line, i) => (items[i] instanceof UnparseableItem ? undefined : canonicalObject(line, items[i]))) };
}
