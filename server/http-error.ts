/**
 * The one error type handlers throw; `errorHandler` in server/app.ts turns it into a response.
 * Every answer names a code, and where it applies the field and the reason, so a caller knows what to fix.
 */
import type { ErrorBody } from '../core/protocol.ts';

export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, reason: string, opts: { field?: string; headers?: Record<string, string> } = {}) {
    super(`${code}: ${reason}`);
    this.status = status;
    this.body = { code, reason, ...(opts.field !== undefined ? { field: opts.field } : {}) };
    this.headers = opts.headers ?? {};
  }
}

export const badRequest = (field: string, reason: string) => new HttpError(400, 'invalid', reason, { field });
export const unauthorized = (reason: string) => new HttpError(401, 'unauthorized', reason);
export const forbidden = (reason: string) => new HttpError(403, 'forbidden', reason);
export const notFound = (reason: string) => new HttpError(404, 'not-found', reason);
/** Redis unreachable or similar: the caller should retry after the given seconds. */
export const unavailable = (reason: string, retryAfterS = 2) =>
  new HttpError(503, 'unavailable', reason, { headers: { 'Retry-After': String(retryAfterS) } });

