/**
 * The express application: /api/v1 routes, health and metrics, the static client, and the one place
 * where errors become responses (HttpError → its status and body; anything else → 500, logged).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppContext } from './app-context.ts';
import { HttpError } from './http-error.ts';
import { eventsRouter } from './routes/events.ts';
import { roomsRouter } from './routes/rooms.ts';
import { webhooksRouter } from './routes/webhooks.ts';
import { connectorsRouter } from './routes/connectors.ts';

export const CLIENT_DIR = fileURLToPath(new URL('../dist/client/', import.meta.url));
/** Paths the single-page client routes itself. */
const CLIENT_ROUTES = ['/', '/rooms', '/operator/:room', '/host/:room', '/buyer/:room'];

export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

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
  app.get('/metrics', (_req, res) => {
    const lines = Object.entries({ ...ctx.counters, ...prefixed('ingest_events', ctx.ingest.counters) }).flatMap(([k, v]) => [
      `# TYPE crest_${k} counter`,
      `crest_${k} ${v}`,
    ]);
    res.type('text/plain; version=0.0.4').send(lines.join('\n') + '\n');
  });

  const api = express.Router();
  api.use(eventsRouter(ctx));
  api.use(roomsRouter(ctx));
  api.use(webhooksRouter(ctx));
  api.use(connectorsRouter(ctx));
  api.use((req, _res, next) => next(new HttpError(404, 'not-found', `no route ${req.method} ${req.baseUrl}${req.path}`)));
  app.use('/api/v1', api);

  if (existsSync(CLIENT_DIR)) {
    app.use(express.static(CLIENT_DIR, { index: false, maxAge: '1h' }));
    app.get(CLIENT_ROUTES, (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile('index.html', { root: CLIENT_DIR });
    });
  }

  app.use(errorHandler(ctx));
  return app;
}

function prefixed(prefix: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}_${k}_total`, Number(v)]));
}

/** The one place errors become answers. Body-parser errors carry `status` and `type`. */
function errorHandler(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (isBodyParserError(err)) {
      e =
        err.type === 'entity.too.large'
          ? new HttpError(413, 'too-large', `body over the limit of ${ctx.config.maxBodyBytes} bytes`, { field: 'body' })
          : new HttpError(err.status ?? 400, 'invalid', `body: ${err.message}`, { field: 'body' });
    } else if (isRedisDown(err)) {
      e = new HttpError(503, 'unavailable', 'event store unavailable: retry shortly', { headers: { 'Retry-After': '2' } });
    } else {
      ctx.log.error('unhandled error', { path: req.path, error: err instanceof Error ? err.stack : String(err) });
      e = new HttpError(500, 'internal', 'internal error (logged)');
    }
    ctx.counters[`http_${e.status}`] = (ctx.counters[`http_${e.status}`] ?? 0) + 1;
    res.status(e.status).set(e.headers).json({ error: e.body });
  };
}

function isBodyParserError(err: unknown): err is { status?: number; type?: string; message: string } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string' && 'status' in err;
}

function isRedisDown(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : '';
  return /Connection is closed|ECONNREFUSED|enableOfflineQueue|Stream isn't writeable|ETIMEDOUT|LOADING/.test(msg);
}
