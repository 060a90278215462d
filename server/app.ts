/**
 * The express application: /api/v1 routes, health and metrics, the static client, and the one place
 * where errors become responses (HttpError → its status and body; anything else → 500, logged).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { existsSync } from 'node:fs';
import type { AppContext } from './app-context.ts';
import { HttpError } from './http-error.ts';
import { eventsPost, eventsRouter } from './routes/events.ts';
import { roomsRouter } from './routes/rooms.ts';
import { webhooksRouter } from './routes/webhooks.ts';
import { connectorsRouter } from './routes/connectors.ts';
import { plansRouter } from './routes/plans.ts';
import { reportRouter } from './routes/report.ts';
import { streamsRouter } from './routes/streams.ts';
import { cors } from './cors.ts';
import { requestId, requestIdOf } from './request-id.ts';
import { rateLimit } from './rate-limiter.ts';
import { CLIENT_DIR } from './project-paths.ts';
import { API_PREFIX, openApiDocument, renderApiPage } from './openapi.ts';
import { directListener, type DirectRoute, type Handler } from './direct-route.ts';

/** Paths the single-page client routes itself. */
const CLIENT_ROUTES = ['/', '/rooms', '/operator/:room', '/host/:room', '/buyer/:room'];

/**
 * helmet's defaults (script-src 'self', object-src 'none', frame-ancestors 'self', …) fit the client: one
 * module script from our origin; Lit's adopted stylesheets and the chart's element.style writes are
 * not governed by style-src, and index.html's one inline <style> is covered by helmet's 'unsafe-inline' for
 * styles. socket.io connects to our own origin (connect-src 'self' covers ws: there). No
 * upgrade-insecure-requests: a plain-http deployment on a LAN address must still load its own assets.
 */
const CSP_DIRECTIVES = { 'connect-src': ["'self'"], 'upgrade-insecure-requests': null };

/** The express application alone: every route through Express's router (tests compare it with the listener). */
export function createApp(ctx: AppContext): express.Express {
  return buildApp(ctx).app;
}

/** What the HTTP server runs: POST /api/v1/events directly (server/direct-route.ts), the rest by the app. */
export function createRequestListener(ctx: AppContext): ReturnType<typeof directListener> {
  const { app, events } = buildApp(ctx);
  return directListener(app, events);
}

function buildApp(ctx: AppContext): { app: express.Express; events: DirectRoute } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const security = helmet({ contentSecurityPolicy: { directives: CSP_DIRECTIVES } }) as Handler;
  const ids = requestId();
  app.use(security);
  app.use(ids);

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await ctx.redis.ping();
      res.json({ ok: true });
    } catch (err) {
      res.status(503).set('Retry-After', '2').json({ ok: false, reason: `redis: ${(err as Error).message}` });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.contentType).send(await ctx.metrics.text());
  });

  // Built per ask (a few ms): its examples carry times near now, so they stay valid requests.
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument(Date.now()));
  });
  app.get('/docs/api', (_req, res) => {
    res.type('html').send(renderApiPage(openApiDocument(Date.now())));
  });

  const api = express.Router();
  const apiCors = cors(ctx.config.corsOrigins);
  const limit = rateLimit(ctx.tokenSecrets, ctx.config.rateLimitPerS);
  const postEvents = eventsPost(ctx);
  const notFound: Handler = (req, _res, next) => next(new HttpError(404, 'not-found', `no route ${req.method} ${req.baseUrl}${req.path}`));
  api.use(apiCors);
  api.use(limit);
  api.use(eventsRouter(postEvents));
  api.use(roomsRouter(ctx));
  api.use(webhooksRouter(ctx));
  api.use(connectorsRouter(ctx));
  api.use(plansRouter(ctx));
  api.use(reportRouter(ctx));
  api.use(streamsRouter(ctx));
  api.use(notFound);
  app.use(API_PREFIX, api);

  if (existsSync(CLIENT_DIR)) {
    app.use(express.static(CLIENT_DIR, { index: false, maxAge: '1h' }));
    app.get(CLIENT_ROUTES, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile('index.html', { root: CLIENT_DIR });
    });
  }

  const errors = errorHandler(ctx);
  app.use(errors);
  // The router's order for this path: the app's middleware, the API's, the route's handlers (its last never
  // calls next; the 404 is there only so that falling through answers as the router would).
  const events: DirectRoute = { method: 'POST', url: `${API_PREFIX}/events`, chain: [security, ids, apiCors, limit, ...postEvents, notFound], errors };
  return { app, events };
}

/** The one place errors become answers. Body-parser errors carry `status` and `type`. */
export function errorHandler(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (isBodyParserError(err)) {
      e =
        err.type === 'entity.too.large'
          ? new HttpError(413, 'too-large', `body over the limit of ${ctx.config.maxBodyBytes} bytes`, { field: 'body' })
          : new HttpError(err.status ?? 400, 'invalid', `body: ${err.message}`, { field: 'body' });
    } else if (isClientError(err)) {
      // e.g. the router's "Failed to decode param" (a malformed %-escape in the path): the caller's mistake.
      e = new HttpError(err.status, 'invalid', err.message);
    } else if (isRedisDown(err)) {
      e = new HttpError(503, 'unavailable', 'event store unavailable: retry shortly', { headers: { 'Retry-After': '2' } });
    } else {
      ctx.log.error('unhandled error', { requestId: requestIdOf(res), path: req.path, error: err instanceof Error ? err.stack : String(err) });
      e = new HttpError(500, 'internal', 'internal error (logged)');
    }
    ctx.metrics.httpErrors.inc({ status: String(e.status) });
    if (e.status !== 500) ctx.log.debug('request refused', { requestId: requestIdOf(res), method: req.method, path: req.path, status: e.status, code: e.body.code });
    res.status(e.status).set(e.headers).json({ error: e.body });
  };
}

function isBodyParserError(err: unknown): err is { status?: number; type?: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string' && 'status' in err;
}

/** An http-errors style error (express, its router) with a 4xx status. */
function isClientError(err: unknown): err is { status: number; message: string } {
  const status = (err as { status?: unknown } | null)?.status;
  return err instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
}

function isRedisDown(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : '';
  // ioredis: offline (no offline queue), closed mid-command, retries exhausted, command timeout; Redis: still loading the AOF.
  return /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|enableOfflineQueue|Stream isn't writeable|max retries per request|Command timed out|ETIMEDOUT|LOADING|MISCONF|READONLY/i.test(msg);
}
