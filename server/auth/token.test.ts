import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signToken, TokenError, verifyToken } from './token.ts';
import { exitsWithin } from '../../test/support/exit-watch.ts';

exitsWithin();

const SECRET = 'a-test-secret-of-enough-length';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

test('a signature spelled another way that decodes to the same bytes is refused', () => {
  const token = signToken(SECRET, { role: 'operator', rooms: ['r1'], ttlS: 60 });
  const sig = token.slice(token.lastIndexOf('.') + 1);
  // 32 bytes in 43 characters: the last character carries 2 spare bits, so three other characters decode alike.
  const last = B64URL.indexOf(sig.at(-1)!);
  const aliases = [0, 1, 2, 3].map((spare) => B64URL[(last & ~3) | spare]!).filter((c) => c !== sig.at(-1));
  assert.equal(aliases.length, 3);
  for (const c of aliases) {
    const alias = `${token.slice(0, -1)}${c}`;
    assert.deepEqual(Buffer.from(alias.slice(alias.lastIndexOf('.') + 1), 'base64url'), Buffer.from(sig, 'base64url'));
    assert.throws(() => verifyToken(SECRET, alias), (e: unknown) => e instanceof TokenError && e.code === 'token-invalid');
  }
  assert.equal(verifyToken(SECRET, token).role, 'operator');
});

test('a signature with a stray character is refused', () => {
  const token = signToken(SECRET, { role: 'host', rooms: ['r1'], ttlS: 60 });
  assert.throws(() => verifyToken(SECRET, `${token}=`), TokenError);
  assert.throws(() => verifyToken(SECRET, `${token.slice(0, -5)}!${token.slice(-5)}`), TokenError);
});
