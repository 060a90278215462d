/**
 * The pino-backed logger: JSON lines with the fields beside `msg`, a terminal view, and no secret in either,
 * whether it sits in a field (by name, at any of the depths Crest logs), a header, a message or an error text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CENSOR, createLogger, type LoggerOptions } from './logger.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

const SECRET = 'token-secret-0123456789abcdef';
const TOKEN = 'crest1.eyJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

function capture(opts: LoggerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger('debug', { json: true, secrets: [SECRET], write: (l) => lines.push(l), ...opts });
  return { log, lines };
}

test('a record is one JSON line: level name, ISO time, msg and the fields', () => {
  const { log, lines } = capture();
  log.info('shard taken', { shard: 3, worker: 'det-1' });
  log.debug('quiet');
  assert.equal(lines.length, 2, 'debug is on at level debug');
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, 'info');
  assert.equal(rec.msg, 'shard taken');
  assert.deepEqual([rec.shard, rec.worker], [3, 'det-1']);
  assert.match(rec.time, /^\d{4}-\d\d-\d\dT/, 'ISO time');
  const quiet = capture();
  createLogger('warn', { json: true, write: (l) => quiet.lines.push(l) }).info('not shown');
  assert.equal(quiet.lines.length, 0, 'below the level: nothing');
});

test('secrets never appear: named fields, headers, the configured secret anywhere, tokens, bearer and URL passwords', () => {
  const { log, lines } = capture();
  log.info('subscription created', { secret: 'whsec-0123456789', botSecret: 'bot-0123456789', sub: { token: TOKEN, secret: 'nested-0123456789' } });
  log.warn('request refused', { req: { headers: { authorization: `Bearer ${TOKEN}`, 'x-crest-signature': 't=1,v1=abcdef0123' } }, headers: { Authorization: 'Basic dXNlcjpwdw==' } });
  log.error(`unhandled error: could not verify ${TOKEN} with ${SECRET}`, { error: `Error: Authorization: Bearer abc.def-123\n    at redis://:redispass123@10.0.0.1:6379` });
  log.info('config', { CREST_TOKEN_SECRET: SECRET, tokenSecret: 'other-0123456789' });
  const out = lines.join('\n');
  for (const s of ['whsec-0123456789', 'bot-0123456789', 'nested-0123456789', TOKEN, TOKEN.split('.')[2]!, 'v1=abcdef0123', 'dXNlcjpwdw==', SECRET, 'abc.def-123', 'redispass123', 'other-0123456789']) {
    assert.ok(!out.includes(s), `secret ${s.slice(0, 10)}… is not in the log`);
  }
  assert.ok(out.includes(CENSOR), 'what was hidden is marked');
  assert.ok(out.includes('10.0.0.1:6379'), 'the rest of a URL stays');
  assert.equal(lines.length, 4, 'every record still written');
});

test('on a terminal the line reads as time, level, msg, key=value, and is scrubbed the same way', () => {
  const { log, lines } = capture({ json: false });
  log.warn('webhook attempt failed', { job: 'j1', error: 'connect ECONNREFUSED', secret: 'whsec-0123456789' });
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d warn  webhook attempt failed job=j1 error="connect ECONNREFUSED" secret=\[redacted\]$/);
});
