/**
 * Payload presets against the platforms' documented shapes and signature algorithms. No I/O: the builders
 * are pure. Signature vectors were computed independently with Python's hmac/base64/urllib from the
 * platforms' published recipes (Feishu: key `${t}\n${secret}`, empty message; DingTalk: key secret, message
 * `${t}\n${secret}`, URL-encoded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Suggestion } from '../core/protocol.ts';
import { bodyVerdict, buildDelivery, dingtalkSign, feishuSign, WEBHOOK_PRESETS } from '../server/webhook-presets.ts';
import { verifySignature } from '../server/webhook-signature.ts';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const NOW = 1_700_000_000_123;
const s: Suggestion = {
  id: 'demo:boost.now:1700000000000',
  room: 'demo',
  audience: 'buyer',
  kind: 'boost.now',
  reasonCode: 'rising',
  params: { liftPct: 42 },
  reason: 'viewers rising 42 % above baseline <fast> & steady',
  confidence: 0.834,
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_300_000,
  cooldownKey: 'demo:boost.now',
  windowId: 'demo:1699999980000',
  forecastPeakTs: 1_700_000_120_000,
  suggestedBoostMin: 10,
  suppressed: null,
};
const base = { url: 'https://hooks.example.com/x?access_token=abc', deliveryId: 'wh_1.demo%3Aboost.now', suggestion: s, secret: 'whsec_0123456789abcdef', nowMs: NOW };

test('feishu and dingtalk signatures match independently computed vectors', () => {
  assert.equal(feishuSign('feishu-secret-123', 1_700_000_000), 'wAKC6MXbPqtffyEjIIFCeFvDIz3W7u9+zZzoj6JvcJE=');
  assert.equal(dingtalkSign('SECdingtalk0123456789', 1_700_000_000_123), '5fJtJTn5AEzl2C+g3LXs13k/g+LNzbA6bpL69v4Zsgo=');
});

test('every preset carries a verifiable X-Crest-Signature over its exact body, and the delivery id', () => {
  for (const preset of WEBHOOK_PRESETS) {
    const r = buildDelivery({ ...base, preset });
    const v = verifySignature(base.secret, r.headers['X-Crest-Signature'], r.body, { nowSec: Math.floor(NOW / 1000) });
    assert.equal(v.ok, true, preset);
    assert.equal(r.headers['X-Crest-Delivery'], base.deliveryId);
    assert.equal(r.headers['X-Crest-Event'], 'boost.now');
  }
});

test('generic is Crest\'s own {id, type, suggestion} to the URL as given', () => {
  const r = buildDelivery({ ...base, preset: 'generic' });
  assert.equal(r.url, base.url);
  assert.deepEqual(JSON.parse(r.body), { id: base.deliveryId, type: 'suggestion', suggestion: s });
});

test('slack is {text, blocks} with mrkdwn escaped', () => {
  const r = buildDelivery({ ...base, preset: 'slack' });
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body).sort(), ['blocks', 'text']);
  assert.equal(body.text, 'Boost now · demo: viewers rising 42 % above baseline <fast> & steady');
  assert.deepEqual(body.blocks.map((b: { type: string }) => b.type), ['header', 'section', 'context']);
  assert.deepEqual(body.blocks[0].text, { type: 'plain_text', text: 'Boost now · demo' });
  assert.equal(body.blocks[1].text.type, 'mrkdwn');
  const section: string = body.blocks[1].text.text;
  assert.match(section, /&lt;fast&gt; &amp; steady/);
  assert.match(section, /Confidence 83 %/);
  assert.match(section, /Forecast peak 22:15 UTC/);
  assert.match(section, /Suggested boost 10 min/);
  assert.equal(r.url, base.url);
});

test('feishu is an interactive card; with a bot secret it carries timestamp (s, string) and sign', () => {
  const plain = JSON.parse(buildDelivery({ ...base, preset: 'feishu' }).body);
  assert.equal(plain.msg_type, 'interactive');
  assert.equal('timestamp' in plain || 'sign' in plain, false, 'unsigned without a bot secret');
  assert.equal(plain.card.header.title.tag, 'plain_text');
  assert.equal(plain.card.header.title.content, 'Boost now · demo');
  assert.equal(plain.card.elements[0].tag, 'div');
  assert.equal(plain.card.elements[0].text.tag, 'lark_md');
  assert.match(plain.card.elements[0].text.content, /viewers rising 42 %/);

  const signed = JSON.parse(buildDelivery({ ...base, preset: 'feishu', botSecret: 'feishu-secret-123', nowMs: 1_700_000_000_999 }).body);
  assert.equal(signed.timestamp, '1700000000');
  assert.equal(signed.sign, 'wAKC6MXbPqtffyEjIIFCeFvDIz3W7u9+zZzoj6JvcJE=');
  assert.deepEqual(signed.card, plain.card);
});

test('dingtalk is {msgtype:"markdown", markdown:{title, text}}; with a bot secret the URL gets timestamp (ms) and the URL-encoded sign', () => {
  const plain = buildDelivery({ ...base, preset: 'dingtalk' });
  assert.equal(plain.url, base.url);
  const body = JSON.parse(plain.body);
  assert.deepEqual(Object.keys(body).sort(), ['markdown', 'msgtype']);
  assert.equal(body.msgtype, 'markdown');
  assert.equal(body.markdown.title, 'Boost now · demo');
  assert.match(body.markdown.text, /^### Boost now · demo\n/);
  assert.match(body.markdown.text, /- Confidence 83 %/);

  const signed = buildDelivery({ ...base, preset: 'dingtalk', botSecret: 'SECdingtalk0123456789', nowMs: 1_700_000_000_123 });
  assert.equal(signed.url, 'https://hooks.example.com/x?access_token=abc&timestamp=1700000000123&sign=5fJtJTn5AEzl2C%2Bg3LXs13k%2Fg%2BLNzbA6bpL69v4Zsgo%3D');
  const u = new URL(signed.url);
  assert.equal(u.searchParams.get('sign'), dingtalkSign('SECdingtalk0123456789', 1_700_000_000_123));
});

test('chat answers with an error code in a 200 body fail the attempt; rate limits are retried', () => {
  assert.equal(bodyVerdict('feishu', '{"code":0,"msg":"success","data":{}}'), null);
  assert.equal(bodyVerdict('feishu', '{"StatusCode":0,"StatusMessage":"success"}'), null);
  assert.deepEqual(bodyVerdict('feishu', '{"code":19021,"msg":"sign match fail"}'), { retry: false, message: 'feishu code 19021: sign match fail' });
  assert.equal(bodyVerdict('feishu', '{"code":11232,"msg":"frequency limited"}')?.retry, true);
  assert.equal(bodyVerdict('dingtalk', '{"errcode":0,"errmsg":"ok"}'), null);
  assert.deepEqual(bodyVerdict('dingtalk', '{"errcode":310000,"errmsg":"keywords not in content"}'), { retry: false, message: 'dingtalk code 310000: keywords not in content' });
  assert.equal(bodyVerdict('dingtalk', '{"errcode":130101,"errmsg":"send too fast"}')?.retry, true);
  assert.equal(bodyVerdict('dingtalk', 'not json')?.retry, false);
  assert.equal(bodyVerdict('slack', 'invalid_payload'), null, 'slack errors come as HTTP statuses');
  assert.equal(bodyVerdict('generic', ''), null);
});
