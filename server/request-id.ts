/**
 * X-Request-Id: taken from the caller when it is a sane token (a proxy's or the client's own id, so its logs
 * and ours join up), else made here; echoed on the answer, named in our log lines, and carried by ingested
 * events into the stream (field `q`) and on to the webhook deliveries they cause.
 */
import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Printable, no spaces or quotes, short: it goes into log lines, stream entries and job data as it is. */
const ACCEPTED = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** 16 characters: 96 random bits, unique enough to find one request's lines, cheap to keep on every event. */
export const newRequestId = (): string => randomBytes(12).toString('base64url');

export function requestIdOf(res: Response): string {
  return (res.locals.requestId as string | undefined) ?? '';
}

export function requestId() {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get(REQUEST_ID_HEADER);
    const id = given && ACCEPTED.test(given) ? given : newRequestId();
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
