/**
 * Tokens remembered as verified. An ingest client posting 200 times a second would otherwise pay an HMAC per
 * secret, a base64 decode and a claims parse on every request, twice (the rate limiter and the route each
 * checked it: ~3% of the API thread in a profile of the ingest bench). One cache per secrets list, shared by
 * every route's `authenticate` and by the rate limiter, so a request verifies its token at most once.
 */
import { verifyToken, type TokenClaims } from './token.ts';

const KEPT = 1_000;

export class VerifiedTokens {
  private readonly verified = new Map<string, TokenClaims>();
  /** Full verifications done (cache misses): for tests. */
  verifications = 0;

  constructor(
    private readonly secrets: string | readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The token's claims, or throws TokenError as verifyToken does. Keyed by the whole token string, so only the
   * exact spelling that verified is let through; expiry is checked on every call (an expired token is verified
   * again, which answers token-expired). Nothing that failed is remembered.
   */
  claims(token: string | undefined): TokenClaims {
    const nowMs = this.now();
    const known = token ? this.verified.get(token) : undefined;
    if (known && known.exp * 1000 > nowMs) return known;
    if (known) this.verified.delete(token!);
    this.verifications++;
    const claims = Object.freeze(verifyToken(this.secrets, token, nowMs));
    if (this.verified.size >= KEPT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token!, claims);
    return claims;
  }
}

const shared = new WeakMap<readonly string[], VerifiedTokens>();

/** The one cache for `secrets` (pass `ctx.tokenSecrets`: the same array everywhere, so the same cache). */
export function verifiedTokens(secrets: string | readonly string[]): VerifiedTokens {
  if (typeof secrets === 'string') return new VerifiedTokens(secrets);
  let v = shared.get(secrets);
  if (!v) shared.set(secrets, (v = new VerifiedTokens(secrets)));
  return v;
}
