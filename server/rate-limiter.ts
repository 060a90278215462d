/**
 * Per-token request rate limit for the HTTP API: one token bucket per caller (token sub + role, or the
 * client address when the request carries no valid token), refilled continuously at `perS` with a burst
 * of two seconds' worth. In memory, per process: with several API nodes behind a balancer each node
 * enforces its own limit, which bounds a caller at nodes × the limit. Ingest tokens are exempt: ingest is
 * bounded by the detector backlog (429 on CREST_MAX_LAG) and must sustain the bench's load.
 */
import type { NextFunction, Request, Response } from 'express';
import { bearerToken } from './auth/middleware.ts';
import { TokenError } from './auth/token.ts';
import { verifiedTokens } from './auth/verified-tokens.ts';
import { HttpError } from './http-error.ts';

/** Buckets kept at most; the least recently used is dropped first (a dropped bucket restarts full). */
const MAX_BUCKETS = 10_000;
const BURST_S = 2;

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;

  constructor(
    private readonly perS: number,
    private readonly now: () => number = Date.now,
  ) {
    this.capacity = Math.max(1, perS * BURST_S);
  }

  /** Takes one request from `key`'s bucket: 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: t };
    this.buckets.delete(key);
    b.tokens = Math.min(this.capacity, b.tokens + ((t - b.at) / 1000) * this.perS);
    b.at = t;
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perS));
  }
}

/**
 * Express middleware for /api/v1; `perS` 0 turns it off. It never authenticates: the routes still do. It reads
 * the token through the routes' verified-token cache, so an ingest request is not verified twice.
 */
export function rateLimit(secrets: readonly string[], perS: number) {
  const limiter = perS > 0 ? new RateLimiter(perS) : null;
  const tokens = verifiedTokens(secrets);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!limiter || req.method === 'OPTIONS') return next();
    let key = `addr:${req.socket.remoteAddress ?? '?'}`;
    try {
      const claims = tokens.claims(bearerToken(req));
      if (claims.role === 'ingest') return next();
      key = `tok:${claims.role}:${claims.sub}`;
    } catch (err) {
      // No valid token: limited by address; the route answers 401 itself.
      if (!(err instanceof TokenError)) return next(err);
    }
    const waitS = limiter.take(key);
    if (waitS === 0) return next();
    next(new HttpError(429, 'rate-limited', `over ${perS} requests per second for this token: retry after ${waitS} s`, { headers: { 'Retry-After': String(waitS) } }));
  };
}
