/**
 * Wraps an express body parser so its failures become HttpErrors that name the body (413 too large,
 * 400 unparseable, other 4xx as they are) instead of reaching the global handler as bare errors.
 */
import type { NextFunction, Request, Response } from 'express';
import { badRequest, HttpError } from './http-error.ts';

type Parser = (req: Request, res: Response, next: (err?: unknown) => void) => void;

export function withBodyErrors(parse: Parser, limit: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number; message?: string };
      if (e.type === 'entity.too.large') return next(new HttpError(413, 'too-large', `body is larger than ${limit}`, { field: 'body' }));
      if (e.type === 'entity.parse.failed' || err instanceof SyntaxError) return next(badRequest('body', `invalid JSON: ${e.message ?? 'unparseable'}`));
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        return next(new HttpError(e.status, 'invalid', e.message ?? 'unreadable body', { field: 'body' }));
      }
      next(err);
    });
  };
}
