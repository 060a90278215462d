/**
 * Cross-origin access from config (CREST_CORS_ORIGINS): an allow-list of exact origins. With none, no
 * CORS headers are ever sent, so browsers only let the same origin read the API. Tokens travel in the
 * Authorization header (never cookies), so no credentials mode is offered. socket.io gets the same list
 * through `socketCors`; its WebSocket upgrade is not covered by CORS in browsers, so `allowSocketRequest`
 * checks the Origin header itself.
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './http-error.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

const ALLOWED_METHODS = 'GET, POST, DELETE';
// A caller may send its own request id (so its logs and ours join up) and must be able to read ours back.
const ALLOWED_HEADERS = `Authorization, Content-Type, ${REQUEST_ID_HEADER}`;
const EXPOSED_HEADERS = `Retry-After, ${REQUEST_ID_HEADER}`;
const PREFLIGHT_MAX_AGE_S = 600;

/** Same origin: the Origin's host:port is the Host the request was sent to (scheme may differ behind a TLS proxy). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch (err) {
    if (err instanceof TypeError) return false;
    throw err;
  }
}

export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes(origin) || sameOrigin(origin, host);
}

export function cors(allowed: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin !== undefined && allowed.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    res.append('Vary', 'Origin');
    if (req.method !== 'OPTIONS' || origin === undefined || req.headers['access-control-request-method'] === undefined) return next();
    if (!allowed.includes(origin)) return next(new HttpError(403, 'forbidden', `origin ${origin} is not in CREST_CORS_ORIGINS`));
    res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
    res.status(204).end();
  };
}

/** socket.io `cors` option: the allow-list, or none at all (same origin only). */
export function socketCors(allowed: readonly string[]): { origin: string[]; methods: string[] } | undefined {
  return allowed.length > 0 ? { origin: [...allowed], methods: ['GET', 'POST'] } : undefined;
}

/** socket.io `allowRequest`: refuses a browser handshake (polling or WebSocket) from an origin not allowed. */
export function allowSocketRequest(allowed: readonly string[]) {
  return (req: IncomingMessage, callback: (err: string | null | undefined, success: boolean) => void) => {
    const origin = req.headers.origin;
    callback(null, originAllowed(origin, req.headers.host, allowed));
  };
}
