/**
 * One route served without Express's router: POST /api/v1/events is most of the API's traffic, and on its way
 * to the handler the router matches the request against every layer before it (the app's middleware, five
 * GET routes, the /api/v1 mount, the events router's own mount and route), with a closure and a try per layer.
 * Here the same middleware instances run in the same order, as the router would run them once it had matched:
 * each handler's next() calls the following one; next(err), a throw or a rejected promise goes to the error
 * handler. Everything else still goes through Express.
 * test/direct-route.test.ts holds the two to the same answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';

export type Handler = RequestHandler;
export type ErrorHandler = ErrorRequestHandler;

export interface DirectRoute {
  method: string;
  /** The exact request URL taken (no query string, no trailing slash, this case): anything else goes to Express. */
  url: string;
  /** Every handler the router would run for it, app-level middleware first, down to the API's 404. */
  chain: readonly Handler[];
  /** The app's error handler. */
  errors: ErrorHandler;
}

/**
 * A request listener: `route` served directly, anything else by `app`. `served` counts the direct answers
 * (for tests: that the direct path is the one taken).
 */
export function directListener(app: Express, route: DirectRoute): ((req: IncomingMessage, res: ServerResponse) => void) & { served: number } {
  const listener = (rawReq: IncomingMessage, rawRes: ServerResponse) => {
    if (rawReq.method !== route.method || rawReq.url !== route.url) return app(rawReq as Request, rawRes as Response);
    listener.served++;
    // What app.handle does before its router runs: the circular references and Express's prototypes, so the
    // middleware sees req.get, res.json, res.locals exactly as under the router.
    const req = Object.setPrototypeOf(rawReq, app.request) as Request;
    const res = Object.setPrototypeOf(rawRes, app.response) as Response;
    (req as { res?: Response }).res = res;
    (res as { req?: Request }).req = req;
    res.locals ??= Object.create(null) as Response['locals'];
    req.originalUrl ??= req.url;
    req.baseUrl = '';
    req.params = {};
    run(route, req, res);
  };
  listener.served = 0;
  return listener;
}

function run(route: DirectRoute, req: Request, res: Response): void {
  const { chain } = route;
  let i = 0;
  let failed = false;
  const fail = (err: unknown) => {
    // As Express's final handler would if the error handler itself failed: a bare 500 (or a cut connection).
    const last = (e?: unknown) => {
      if (e === undefined) return;
      if (res.headersSent) res.destroy();
      else res.status(500).end();
    };
    try {
      const ret: unknown = route.errors(err, req, res, last);
      if (ret instanceof Promise) ret.catch(last);
    } catch (e) {
      last(e ?? new Error('error handler threw'));
    }
  };
  const next: NextFunction = (err?: unknown) => {
    if (failed) return;
    const h = chain[i++];
    // Falling off the end cannot happen (the chain ends in the API's 404, which always passes an error).
    if (err || !h) {
      failed = true;
      return fail(err || new Error('direct route: the chain ended without an answer'));
    }
    try {
      const ret: unknown = h(req, res, next);
      // || as the router has it: a promise rejected with a falsy value is still an error.
      if (ret instanceof Promise) ret.catch((e: unknown) => next(e || new Error('Rejected promise')));
    } catch (e) {
      next(e);
    }
  };
  next();
}
