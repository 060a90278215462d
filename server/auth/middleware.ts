/**
 * Express side of access control: who is calling (Bearer token) and whether their role and rooms
 * allow this request. A room outside the token gets the same 403 whether or not it exists, so a
 * token never learns which other rooms are there.
 */
import type { NextFunction, Request, Response } from 'express';
import { ROOM_ID_PATTERN } from '../../core/events.ts';
import type { Role } from '../../core/protocol.ts';
import { badRequest, forbidden, HttpError } from '../http-error.ts';
import { canAccessRoom, TokenError, verifyToken, type TokenClaims } from './token.ts';

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

/** Tokens remembered as verified, per route: an ingest client posting 200 times a second would otherwise pay
 * an HMAC per secret and a claims parse on every request (~3% of the API thread in the latency bench). */
const VERIFIED_KEPT = 1_000;

/** `secrets`: pass `ctx.tokenSecrets` (current first, then the previous one during a rotation). */
export function authenticate(secrets: string | readonly string[]) {
  // Keyed by the whole token string, so only the exact token that verified is let through; expiry is still
  // checked on every request (an expired one is verified again, which answers token-expired).
  const verified = new Map<string, TokenClaims>();
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      const token = bearerToken(req);
      let claims = token ? verified.get(token) : undefined;
      if (!claims || claims.exp * 1000 <= Date.now()) {
        if (claims) verified.delete(token!);
        claims = Object.freeze(verifyToken(secrets, token));
        if (verified.size >= VERIFIED_KEPT) verified.delete(verified.keys().next().value!);
        verified.set(token!, claims);
      }
      req.claims = claims;
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
