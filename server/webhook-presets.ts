/**
 * Payload presets: what one delivery looks like on the wire for each kind of receiver. Pure functions of
 * (preset, suggestion, delivery id, secrets, time): the alert worker calls them with the clock, tests with a
 * fixed time.
 *
 * - generic  — Crest's own JSON `{id, type:"suggestion", suggestion}`.
 * - slack    — Slack incoming webhook: `{text, blocks}` (text is the notification fallback).
 * - feishu   — Feishu / Lark custom bot: `{msg_type:"interactive", card}`; with the bot's signing secret also
 *              `timestamp` (unix s, string) and `sign` = base64(HMAC-SHA256(key = `${timestamp}\n${secret}`,
 *              message = empty)), as Feishu documents it.
 * - dingtalk — DingTalk custom robot: `{msgtype:"markdown", markdown:{title, text}}`; with the robot's signing
 *              secret (`SEC…`) the URL gets `timestamp` (unix ms) and `sign` = urlencode(base64(HMAC-SHA256(
 *              key = secret, message = `${timestamp}\n${secret}`))), as DingTalk documents it.
 *
 * Every preset also carries Crest's headers (X-Crest-Signature over the exact body, X-Crest-Delivery,
 * X-Crest-Event): chat platforms ignore them, a proxy in between can verify and dedupe.
 */
import { createHmac } from 'node:crypto';
import type { Suggestion, SuggestionKind } from '../core/protocol.ts';
import { webhookHeaders } from './webhook-signature.ts';

export const WEBHOOK_PRESETS = ['generic', 'slack', 'feishu', 'dingtalk'] as const;
export type WebhookPreset = (typeof WEBHOOK_PRESETS)[number];
/** Presets whose platform has its own optional signing secret. */
export const BOT_SECRET_PRESETS: readonly WebhookPreset[] = ['feishu', 'dingtalk'];

export interface OutgoingRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryInput {
  preset: WebhookPreset;
  url: string;
  deliveryId: string;
  suggestion: Suggestion;
  /** The subscription's Crest secret (X-Crest-Signature). */
  secret: string;
  /** The chat bot's own signing secret (Feishu, DingTalk), when the bot has signing turned on. */
  botSecret?: string;
  nowMs: number;
}

const TITLES: Record<SuggestionKind, string> = {
  'boost.now': 'Boost now',
  'boost.stop': 'Stop boost',
  'cue.tease': 'Tease the hot item',
  'cue.launch': 'Launch now',
  'cue.hold': 'Hold them',
  'cue.countdown': 'Countdown',
  'cue.retract': 'False start',
  'plan.at-risk': 'Plan at risk',
};

/** "Boost now · demo-beauty": the one-line title every chat preset shows. */
export function suggestionTitle(s: Suggestion): string {
  return `${TITLES[s.kind]} · ${s.room}`;
}

/** The detail lines a person needs to act: reason, confidence, forecast peak, boost length. Times in UTC. */
export function suggestionLines(s: Suggestion): string[] {
  const lines = [s.reason, `Confidence ${Math.round(s.confidence * 100)} %`];
  if (s.forecastPeakTs !== null) lines.push(`Forecast peak ${hhmmUtc(s.forecastPeakTs)} UTC`);
  if (s.suggestedBoostMin !== null) lines.push(`Suggested boost ${s.suggestedBoostMin} min`);
  lines.push(`Expires ${hhmmUtc(s.expiresAt)} UTC`);
  return lines;
}

function hhmmUtc(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** Slack mrkdwn: only &, < and > are control characters. */
const slackEscape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackBody(s: Suggestion, deliveryId: string): { text: string; blocks: unknown[] } {
  const title = suggestionTitle(s);
  return {
    text: `${title}: ${s.reason}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title } },
      { type: 'section', text: { type: 'mrkdwn', text: suggestionLines(s).map(slackEscape).join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Crest · ${slackEscape(deliveryId)}` }] },
    ],
  };
}

/** Feishu's documented custom-bot signature: the key is `${timestampSec}\n${secret}`, the message is empty. */
export function feishuSign(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}

export function feishuBody(s: Suggestion, deliveryId: string, sig?: { timestampSec: number; botSecret: string }): Record<string, unknown> {
  const card = {
    header: { title: { tag: 'plain_text', content: suggestionTitle(s) }, template: s.kind === 'boost.now' || s.kind === 'plan.at-risk' ? 'red' : 'blue' },
    elements: [
      { tag: 'div', text: { tag: 'lark_md', content: suggestionLines(s).join('\n') } },
      { tag: 'note', elements: [{ tag: 'plain_text', content: `Crest · ${deliveryId}` }] },
    ],
  };
  const signed = sig ? { timestamp: String(sig.timestampSec), sign: feishuSign(sig.botSecret, sig.timestampSec) } : {};
  return { ...signed, msg_type: 'interactive', card };
}

/** DingTalk's documented robot signature, before URL encoding: the key is the secret, the message `${timestampMs}\n${secret}`. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export function dingtalkBody(s: Suggestion, deliveryId: string): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const title = suggestionTitle(s);
  const text = [`### ${title}`, '', ...suggestionLines(s).map((l) => `- ${l}`), '', `Crest · ${deliveryId}`].join('\n');
  return { msgtype: 'markdown', markdown: { title, text } };
}

/** The signed URL of a DingTalk robot: `timestamp` and `sign` appended to the access_token URL. */
export function dingtalkUrl(url: string, botSecret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingtalkSign(botSecret, timestampMs));
  return u.toString();
}

/** One delivery's request for the subscription's preset. */
export function buildDelivery(d: DeliveryInput): OutgoingRequest {
  let url = d.url;
  let payload: unknown;
  switch (d.preset) {
    case 'generic':
      payload = { id: d.deliveryId, type: 'suggestion', suggestion: d.suggestion };
      break;
    case 'slack':
      payload = slackBody(d.suggestion, d.deliveryId);
      break;
    case 'feishu':
      payload = feishuBody(d.suggestion, d.deliveryId, d.botSecret ? { timestampSec: Math.floor(d.nowMs / 1000), botSecret: d.botSecret } : undefined);
      break;
    case 'dingtalk':
      payload = dingtalkBody(d.suggestion, d.deliveryId);
      if (d.botSecret) url = dingtalkUrl(d.url, d.botSecret, d.nowMs);
      break;
  }
  const body = JSON.stringify(payload);
  const headers = webhookHeaders({ secret: d.secret, body, deliveryId: d.deliveryId, event: d.suggestion.kind, nowSec: Math.floor(d.nowMs / 1000) });
  return { url, body, headers };
}

/**
 * Feishu and DingTalk answer HTTP 200 with an error code in the body. A non-zero code fails the attempt:
 * retried for their rate limits (Feishu 11232, DingTalk 130101 "send too fast"), final otherwise (a bad
 * signature, a missing keyword or a removed bot do not fix themselves). Null: accepted.
 */
export function bodyVerdict(preset: WebhookPreset, text: string): { retry: boolean; message: string } | null {
  if (preset !== 'feishu' && preset !== 'dingtalk') return null;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) return { retry: false, message: `unreadable answer: ${text.slice(0, 120)}` };
    throw err;
  }
  const code = preset === 'feishu' ? (parsed.code ?? parsed.StatusCode) : parsed.errcode;
  if (code === 0 || code === undefined) return null;
  const msg = String((preset === 'feishu' ? (parsed.msg ?? parsed.StatusMessage) : parsed.errmsg) ?? '');
  const retry = (preset === 'feishu' && code === 11232) || (preset === 'dingtalk' && code === 130101);
  return { retry, message: `${preset} code ${String(code)}: ${msg}`.slice(0, 300) };
}
