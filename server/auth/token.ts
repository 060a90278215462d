/**
 * Access tokens: `crest1.<claims base64url>.<HMAC-SHA256 base64url>`. Small, stateless and checked in
 * constant time. A token carries its role, the rooms it may touch ('*' = all) and an expiry.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../../core/events.ts';
import type { Role } from '../../core/protocol.ts';

const claimsSchema = z.strictObject({
  v: z.literal(1),
  role: z.enum(['ingest', 'operator', 'host', 'buyer', 'admin']),
  rooms: z.union([z.literal('*'), z.array(z.string().regex(ROOM_ID_PATTERN)).max(10_000)]),
  sub: z.string().max(128),
  iat: z.number().int(),
  exp: z.number().int(),
});

export type TokenClaims = z.infer<typeof claimsSchema>;

export class TokenError extends Error {
  override name = 'TokenError';
  readonly code: 'token-missing' | 'token-invalid' | 'token-expired';
  constructor(code: TokenError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

const PREFIX = 'crest1';

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest();
}

export function signToken(
  secret: string,
  opts: { role: Role; rooms: string[] | '*'; sub?: string; ttlS: number; nowMs?: number },
): string {
  const iat = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const claims: TokenClaims = { v: 1, role: opts.role, rooms: opts.rooms, sub: opts.sub ?? opts.role, iat, exp: iat + opts.ttlS };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${mac(secret, payload).toString('base64url')}`;
}

/**
 * Verifies signature, shape and expiry; throws TokenError saying which. `secrets` may list the current
 * secret and, during a rotation, the previous one: a token signed by any of them is accepted.
 */
export function verifyToken(secrets: string | readonly string[], token: string | undefined, nowMs = Date.now()): TokenClaims {
  if (!token) throw new TokenError('token-missing', 'no token: send "Authorization: Bearer <token>" (get one with `crest token`)');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new TokenError('token-invalid', 'token is malformed');
  const [, payload, sig] = parts as [string, string, string];
  const given = Buffer.from(sig, 'base64url');
  // Base64 decoding ignores a last character's spare bits and any stray characters, so several strings decode to
  // one signature: only the one canonical spelling counts, or a changed token would still be accepted.
  if (given.toString('base64url') !== sig) throw new TokenError('token-invalid', 'token signature does not match');
  // Every secret is tried (no early exit), each compare in constant time.
  let matched = false;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const want = mac(secret, payload);
    if (given.length === want.length && timingSafeEqual(given, want)) matched = true;
  }
  if (!matched) throw new TokenError('token-invalid', 'token signature does not match');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('token-invalid', 'token payload is not JSON');
  }
  const r = claimsSchema.safeParse(raw);
  if (!r.success) throw new TokenError('token-invalid', 'token claims are malformed');
  if (r.data.exp * 1000 <= nowMs) throw new TokenError('token-expired', 'token has expired: get a new one');
  return r.data;
}

export function canAccessRoom(claims: Pick<TokenClaims, 'rooms'>, room: string): boolean {
  return claims.rooms === '*' || claims.rooms.includes(room);
}
