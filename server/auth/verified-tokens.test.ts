import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NextFunction, Request, Response } from 'express';
import { rateLimit } from '../rate-limiter.ts';
import { authenticate } from './middleware.ts';
import { signToken, TokenError } from './token.ts';
import { VerifiedTokens, verifiedTokens } from './verified-tokens.ts';
import { exitsWithin } from '../../test/support/exit-watch.ts';

exitsWithin();

const SECRET = 'a-test-secret-of-enough-length';

/** Runs one Express middleware on a bare request carrying `token`; resolves with what it passed to next. */
function run(mw: (req: Request, res: Response, next: NextFunction) => void, token: string): Promise<{ err: unknown; req: Request }> {
  const req = { method: 'POST', headers: { authorization: `Bearer ${token}` }, socket: { remoteAddress: '127.0.0.1' } } as unknown as Request;
  return new Promise((ok) => mw(req, {} as Response, (err?: unknown) => ok({ err, req })));
}

test('the rate limiter and the routes verify a token once between them', async () => {
  const secrets = [SECRET];
  const limit = rateLimit(secrets, 5);
  const auth = authenticate(secrets);
  const ingest = signToken(SECRET, { role: 'ingest', rooms: '*', ttlS: 60 });
  const operator = signToken(SECRET, { role: 'operator', rooms: ['r1'], ttlS: 60 });
  for (let i = 0; i < 3; i++) {
    for (const token of [ingest, operator]) {
      assert.equal((await run(limit, token)).err, undefined);
      const { err, req } = await run(auth, token);
      assert.equal(err, undefined);
      assert.equal(req.claims?.role, token === ingest ? 'ingest' : 'operator');
    }
  }
  assert.equal(verifiedTokens(secrets).verifications, 2, 'one verification per token, not one per middleware and request');
});

test('a remembered token still expires, and only its exact spelling is remembered', () => {
  let now = Date.UTC(2026, 0, 1);
  const tokens = new VerifiedTokens([SECRET], () => now);
  const token = signToken(SECRET, { role: 'operator', rooms: '*', ttlS: 10, nowMs: now });
  assert.equal(tokens.claims(token).role, 'operator');
  assert.equal(tokens.claims(token).role, 'operator');
  assert.equal(tokens.verifications, 1);
  // Another spelling (its last character changed) is not taken from the cache: verified afresh, and refused.
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  assert.throws(() => tokens.claims(`${token.slice(0, -1)}${last}`), (e: unknown) => e instanceof TokenError && e.code === 'token-invalid');
  now += 10_000;
  assert.throws(() => tokens.claims(token), (e: unknown) => e instanceof TokenError && e.code === 'token-expired');
  assert.throws(() => tokens.claims(undefined), (e: unknown) => e instanceof TokenError && e.code === 'token-missing');
});

test('another secrets list has its own cache: a token of a rotated-out secret is not let through', () => {
  const token = signToken(SECRET, { role: 'ingest', rooms: '*', ttlS: 60 });
  assert.equal(verifiedTokens([SECRET]).claims(token).role, 'ingest');
  assert.throws(() => verifiedTokens(['another-secret-of-enough-length']).claims(token), TokenError);
});
