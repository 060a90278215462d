/**
 * Express side of access control: who is calling (Bearer token) and whether their role and rooms
 * allow this request. A room outside the token gets the same 403 whether or not it exists, so a
 * token never learns which other rooms are there.
 */
import type { NextFunction, Request, Response } from 'express';
import { ROOM_ID_PATTERN } from '../../core/events.ts';
import type { Role } from '../../core/protocol.ts';
import { badRequest, forbidden, HttpError } from '../http-error.ts';
import { canAccessRoom, TokenError, type TokenClaims } from './token.ts';
import { verifiedTokens } from './verified-tokens.ts';

declare module 'express-serve-static-core' {
  interface Request {
    claims?: TokenClaims;
  }
}

export function bearerToken(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : '';
}

/** `secrets`: pass `ctx.tokenSecrets` (current first, then the previous one during a rotation). */
export function authenticate(secrets: string | readonly string[]) {
  const tokens = verifiedTokens(secrets);
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      req.claims = tokens.claims(bearerToken(req));
      next();
    } catch (err) {
      if (err instanceof TokenError) next(new HttpError(401, err.code, err.message, { headers: { 'WWW-Authenticate': 'Bearer' } }));
      else next(err);
    }
  };
}

export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const role = req.claims?.role;
    if (!role || !(roles.includes(role) || role === 'admin')) {
      next(forbidden(`role "${role}" may not do this; needs ${roles.join(' or ')}`));
    } else next();
  };
}

/** Validates `:room` and checks the token grants it. */
export function roomParam(req: Request): string {
  const room = String(req.params.room ?? '');
  if (!ROOM_ID_PATTERN.test(room)) throw badRequest('room', 'must be 1–64 characters of A-Z a-z 0-9 _ . -');
  if (!req.claims || !canAccessRoom(req.claims, room)) throw forbidden(`this token does not grant room "${room}"`);
  return room;
}

/**
 * `roomParam` as a middleware, for routes with a body: placed before the body parser so a token for another
 * room is turned away (403) before its body is read, and learns nothing from how the body would be judged.
 */
export function requireRoomAccess(req: Request, _res: Response, next: NextFunction): void {
  try {
    roomParam(req);
    next();
  } catch (err) {
    next(err);
  }
}
