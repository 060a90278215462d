/**
 * X-Request-Id: taken from the caller when it is a sane token (a proxy's or the client's own id, so its logs
 * and ours join up), else made here; echoed on the answer and named in our log lines. Either goes on with the
 * request's events into the stream (field `q`, once per shard the request wrote to: server/lua/ingest.lua) and
 * to the webhook deliveries they cause.
 */
import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Printable, no spaces or quotes, short: it goes into log lines, stream entries and job data as it is. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** A random prefix per process and a counter: unique across processes and restarts, no randomness per request. */
const PREFIX = randomBytes(6).toString('base64url');
let seq = 0;
export const newRequestId = (): string => `${PREFIX}${(seq++).toString(36).padStart(6, '0')}`;

export function requestIdOf(res: Response): string {
  return (res.locals.requestId as string | undefined) ?? '';
}

export function requestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get(REQUEST_ID_HEADER);
    const ok = given !== undefined && REQUEST_ID_PATTERN.test(given);
    const id = ok ? given : newRequestId();
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
