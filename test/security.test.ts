/**
 * Security basics: helmet headers (with a CSP the client works under: see test/browser.test.ts), a
 * per-token rate limit with ingest exempt (for socket joins and acks too), the CORS allow-list for the API and socket.io, token secret
 * rotation (the previous secret still verifies, never signs), and no secret in the logs of a busy run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { createLogger } from '../server/logger.ts';
import { signToken, verifyToken } from '../server/auth/token.ts';
import { RateLimiter } from '../server/rate-limiter.ts';
import { buildClient } from './support/client-build.ts';
import { join, startTestCrest, TEST_SECRET, type TestCrest } from './support/crest.ts';
import { exitsWithin } from './support/exit-watch.ts';

const ALLOWED = 'https://ops.example.com';
const PREVIOUS = 'previous-secret-0123456789abcdef';
const logLines: string[] = [];
let crest: TestCrest;

before(async () => {
  // The headers test fetches the client's page: build it here rather than rely on a browser test having run first.
  buildClient();
  crest = await startTestCrest(
    { CREST_RATE_LIMIT_PER_S: '5', CREST_CORS_ORIGINS: ALLOWED, CREST_TOKEN_SECRET_PREVIOUS: PREVIOUS },
    { log: createLogger('debug', { json: true, write: (l) => logLines.push(l) }) },
  );
});
after(async () => {
  await crest.close();
});
exitsWithin();

describe('headers', () => {
  test('helmet headers on the API and the client, with a CSP that allows only our own scripts and connections', async () => {
    for (const path of ['/healthz', '/api/v1/rooms', '/']) {
      const res = await crest.api(path);
      await res.arrayBuffer();
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /object-src 'none'/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });
});

describe('rate limit', () => {
  test('a token gets its burst, then 429 with Retry-After; another token is not affected; ingest is exempt', async () => {
    const op = crest.token('operator', '*', 'rl-op');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    const t0 = performance.now();
    // Until the first 429 (bounded): a loaded machine is slow enough for the bucket to refill meanwhile.
    while (statuses.length < 40 && !statuses.includes(429)) {
      const res = await crest.api('/api/v1/rooms', { token: op });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
      await res.arrayBuffer();
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const granted = statuses.filter((s) => s === 200).length;
    // Burst of 2 s' worth (10), plus what 5/s refilled while the loop ran.
    assert.ok(statuses.includes(429), `never refused: ${statuses.join(',')}`);
    assert.ok(granted >= 10, `the burst is 10, got ${granted}: ${statuses.join(',')}`);
    assert.ok(granted <= 10 + Math.ceil(5 * elapsedS) + 1, `${granted} granted in ${elapsedS.toFixed(2)} s: ${statuses.join(',')}`);
    assert.ok(Number(retryAfter) >= 1, 'Number(retryAfter) >= 1');
    assert.equal((await crest.api('/api/v1/rooms', { token: crest.token('operator', '*', 'rl-other') })).status, 200);
    for (let i = 0; i < 30; i++) {
      const res = await crest.post([{ id: `rl-${i}`, room: 'rl-room', ts: Date.now() - 60_000 + i, type: 'stream.start' }]);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
  });

  test('socket joins and acks are limited per token too: refused with a reason past the burst, another token unaffected', async () => {
    const busy = await crest.socket(crest.token('operator', '*', 'rl-sock'));
    const results: string[] = [];
    const t0 = performance.now();
    // Until the first refusal (bounded), as for the API above.
    while (results.length < 40 && !results.includes('rate-limited')) {
      const r = await join(busy, 'rl-room');
      results.push(r.ok ? 'ok' : r.error.code);
      if (!r.ok && r.error.code === 'rate-limited') assert.match(r.error.reason, /over 5 requests\/s for this token: retry in \d+ s/);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const granted = results.filter((c) => c === 'ok').length;
    assert.ok(results.includes('rate-limited'), `never refused: ${results.join(',')}`);
    assert.ok(granted >= 10 && granted <= 10 + Math.ceil(5 * elapsedS) + 1, `${granted} joins granted in ${elapsedS.toFixed(2)} s: ${results.join(',')}`);
    const ack = await busy.timeout(5_000).emitWithAck('suggestion:ack', { room: 'rl-room', id: 'any' });
    assert.equal(!ack.ok && ack.error.code, 'rate-limited', 'an ack is metered by the same bucket');
    // A second socket of the same token shares its bucket; another token has its own.
    const sameToken = await crest.socket(crest.token('operator', '*', 'rl-sock'));
    const again = await join(sameToken, 'rl-room');
    assert.equal(!again.ok && again.error.code, 'rate-limited', 'a second socket of the token is not a way around it');
    const other = await crest.socket(crest.token('operator', '*', 'rl-sock-other'));
    assert.equal((await join(other, 'rl-room')).ok, true, 'another token joins');
    // The bucket refills: a join goes through again after a second or so.
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await join(busy, 'rl-room')).ok, true, 'joins again once the bucket refilled');
  });

  test('the bucket refills at the configured rate and keeps a bounded number of callers', () => {
    let now = 0;
    const rl = new RateLimiter(2, () => now);
    assert.deepEqual([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')], [0, 0, 0, 0]);
    assert.equal(rl.take('a'), 1);
    now += 500;
    assert.equal(rl.take('a'), 0);
    assert.equal(rl.take('a'), 1);
    for (let i = 0; i < 20_000; i++) rl.take(`k${i}`);
    assert.ok((rl as unknown as { buckets: Map<string, unknown> }).buckets.size <= 10_000, '(rl as unknown as { buckets: Map<string, unknown> }).buckets.size <= 10_000');
  });
});

describe('CORS allow-list', () => {
  test('an allowed origin gets CORS headers and its preflight; any other origin gets none', async () => {
    const pre = await crest.api('/api/v1/rooms', { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'GET' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /X-Request-Id/, 'a caller may send its own request id');
    const evilPre = await crest.api('/api/v1/rooms', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(evilPre.status, 403);
    assert.equal(evilPre.headers.get('access-control-allow-origin'), null);
    const get = await crest.api('/api/v1/rooms', { token: crest.token('admin', '*', 'cors'), headers: { origin: ALLOWED } });
    assert.equal(get.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(get.headers.get('access-control-expose-headers') ?? '', /X-Request-Id/, 'and read ours back');
    assert.ok(get.headers.get('x-request-id'), 'the answer carries one');
    const evil = await crest.api('/api/v1/rooms', { token: crest.token('admin', '*', 'cors'), headers: { origin: 'https://evil.example' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });

  test('socket.io refuses a handshake from an origin not allowed, accepts same-origin and allowed ones', async () => {
    const token = crest.token('operator', '*', 'cors-sock');
    const tryOrigin = (origin: string | undefined) =>
      new Promise<boolean>((ok) => {
        const s = io(crest.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: origin ? { origin } : {} });
        s.once('connect', () => (s.disconnect(), ok(true)));
        s.once('connect_error', () => (s.disconnect(), ok(false)));
      });
    assert.equal(await tryOrigin('https://evil.example'), false);
    assert.equal(await tryOrigin(ALLOWED), true);
    assert.equal(await tryOrigin(crest.url), true);
    assert.equal(await tryOrigin(undefined), true);
  });
});

describe('token rotation', () => {
  test('tokens signed with CREST_TOKEN_SECRET_PREVIOUS still work over HTTP and socket.io; new ones use the current secret; others fail', async () => {
    const old = signToken(PREVIOUS, { role: 'operator', rooms: '*', sub: 'old', ttlS: 600 });
    assert.equal((await crest.api('/api/v1/rooms', { token: old })).status, 200);
    const s = await crest.socket(old);
    assert.equal((await join(s, 'any-room')).ok, true);
    const fresh = crest.token('operator', '*', 'new');
    assert.doesNotThrow(() => verifyToken(TEST_SECRET, fresh));
    assert.throws(() => verifyToken(PREVIOUS, fresh), /signature/);
    const stranger = signToken('a-third-secret-0123456789abcdef', { role: 'operator', rooms: '*', ttlS: 600 });
    assert.equal((await crest.api('/api/v1/rooms', { token: stranger })).status, 401);
    // Expiry still applies to old-secret tokens.
    const oldExpired = signToken(PREVIOUS, { role: 'operator', rooms: '*', ttlS: 60, nowMs: Date.now() - 3_600_000 });
    assert.equal((await crest.api('/api/v1/rooms', { token: oldExpired })).status, 401);
  });
});

describe('token expiry over HTTP', () => {
  test('a token the API has already verified (and remembers) is refused once it expires, and a tampered copy never passes', async () => {
    const short = signToken(TEST_SECRET, { role: 'operator', rooms: ['exp-http'], sub: 'short-http', ttlS: 2 });
    const first = await crest.api('/api/v1/rooms', { token: short });
    assert.equal(first.status, 200, 'valid at first');
    await first.arrayBuffer();
    // Same payload and signature with one changed character: never served from what was verified.
    const tampered = short.slice(0, -2) + (short.at(-2) === 'A' ? 'B' : 'A') + short.at(-1);
    assert.equal((await crest.api('/api/v1/rooms', { token: tampered })).status, 401, 'a changed token is checked afresh');
    const exp = JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()).exp as number;
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const later = await crest.api('/api/v1/rooms', { token: short });
    assert.equal(later.status, 401, 'refused after expiry');
    assert.equal((await later.json()).error.code, 'token-expired');
  });
});

describe('token expiry on a live socket', () => {
  test('a socket is dropped when its token expires and cannot come back with it; a longer token stays', async () => {
    // Whole seconds: `exp` is iat + ttl with iat floored, so a 3 s token lives 2–3 s from now.
    const short = signToken(TEST_SECRET, { role: 'operator', rooms: ['exp-room'], sub: 'short', ttlS: 3 });
    const long = crest.token('operator', ['exp-room'], 'long');
    const [s, l] = await Promise.all([crest.socket(short), crest.socket(long)]);
    assert.equal((await join(s, 'exp-room')).ok, true, 'the short token joins while valid');
    assert.equal((await join(l, 'exp-room')).ok, true, 'the long token joins');
    let longDropped = false;
    l.on('disconnect', () => (longDropped = true));
    const t0 = Date.now();
    const reason = await new Promise<string>((ok, fail) => {
      const guard = setTimeout(() => fail(new Error('the expired socket was still connected after 6 s')), 6_000);
      s.once('disconnect', (r) => {
        clearTimeout(guard);
        ok(r);
      });
    });
    assert.equal(reason, 'io server disconnect', 'the gateway dropped it');
    assert.ok(Date.now() - t0 <= 3_500, `dropped within the token's life, after ${Date.now() - t0} ms`);
    const again = await new Promise<string>((ok) => {
      s.once('connect_error', (err) => ok(err.message));
      s.connect();
    });
    assert.equal(again, 'token-expired', 'reconnecting with the expired token is refused with the reason');
    assert.equal(longDropped, false, 'the socket with a valid token was not touched');
    assert.equal(l.connected, true, 'the long-token socket is still connected');
    s.disconnect();
  });
});

describe('secrets stay out of the logs', () => {
  test('after a busy run at debug level, the log holds no token secret, token or webhook secret', async () => {
    const admin = crest.token('admin', '*', 'log-admin');
    const wh = await crest.api('/api/v1/webhooks', {
      method: 'POST',
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook', room: 'log-room', secret: 'whsec-chosen-by-caller-0123456789' }),
    });
    assert.equal(wh.status, 201);
    const { secret: generatedWebhookSecret } = await (
      await crest.api('/api/v1/webhooks', { method: 'POST', token: admin, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/h2', room: 'log-room' }) })
    ).json();
    await crest.post([{ id: 'log-1', room: 'log-room', ts: Date.now() - 60_000, type: 'stream.start' }]);
    await crest.api('/api/v1/rooms', { token: `${admin}x` });
    await crest.api('/api/v1/rooms', { token: 'crest1.bad.token' });
    const bad = io(crest.url, { auth: { token: `${admin}tampered` }, transports: ['websocket'], reconnection: false, forceNew: true });
    await new Promise((ok) => bad.once('connect_error', ok));
    bad.disconnect();
    // A route that logs an unhandled error must not echo the request's credentials either.
    await crest.api('/api/v1/rooms/%/state', { token: admin });

    assert.ok(logLines.length > 0, 'the run logged something');
    const log = logLines.join('\n');
    for (const secret of [TEST_SECRET, PREVIOUS, crest.tokenSecret, admin, admin.split('.')[2]!, 'whsec-chosen-by-caller-0123456789', generatedWebhookSecret]) {
      assert.ok(!log.includes(secret), `a secret appears in the log: ${secret.slice(0, 8)}…`);
    }
  });
});
