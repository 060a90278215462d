/**
 * Webhook signatures, Stripe-style. Every delivery carries:
 *
 *   X-Crest-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
 *   X-Crest-Delivery:  <delivery id>   (same on every retry of one delivery: drop repeats by it)
 *   X-Crest-Event:     <suggestion kind, e.g. boost.now>
 *
 * v1 = hex(HMAC-SHA256(key = the subscription secret as UTF-8, message = `${t}.${rawBody}`)), where rawBody
 * is the exact bytes of the request body. Receivers must verify against the raw bytes (not re-serialized
 * JSON) and reject timestamps further than a tolerance from their clock (default 300 s) so a captured
 * request cannot be replayed later. The header may carry several v1 entries (e.g. during a secret
 * rotation); one match is enough.
 *
 * `verifySignature` depends on node:crypto only, so a receiver can copy it as is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Crest-Signature';
export const DELIVERY_HEADER = 'X-Crest-Delivery';
export const EVENT_HEADER = 'X-Crest-Event';
export const DEFAULT_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestampSec: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex');
}

/** `sha256=<hex>`: HMAC-SHA256 of `${timestampSec}.${body}` with the subscription secret. */
export function signPayload(secret: string, timestampSec: number, body: string | Buffer): string {
  return `sha256=${hmacHex(secret, timestampSec, body)}`;
}

/** The `X-Crest-Signature` value: `t=<timestampSec>,v1=<hex>`. */
export function signatureHeader(secret: string, timestampSec: number, body: string | Buffer): string {
  return `t=${timestampSec},v1=${hmacHex(secret, timestampSec, body)}`;
}

/** Every header a delivery carries (besides Content-Type), signed at `nowSec`. */
export function webhookHeaders(opts: {
  secret: string;
  body: string;
  deliveryId: string;
  event: string;
  nowSec?: number;
}): Record<string, string> {
  const t = opts.nowSec ?? Math.floor(Date.now() / 1000);
  return {
    [SIGNATURE_HEADER]: signatureHeader(opts.secret, t, opts.body),
    [DELIVERY_HEADER]: opts.deliveryId,
    [EVENT_HEADER]: opts.event,
  };
}

export type VerifyResult =
  | { ok: true; timestampSec: number }
  | { ok: false; reason: 'malformed' | 'mismatch' | 'stale' };

/**
 * Checks an `X-Crest-Signature` header against the raw body: the HMAC (constant-time compare), then the
 * timestamp (within `toleranceSec` of `nowSec`, either direction).
 */
export function verifySignature(
  secret: string,
  header: string | string[] | undefined,
  body: string | Buffer,
  opts: { toleranceSec?: number; nowSec?: number } = {},
): VerifyResult {
  if (typeof header !== 'string') return { ok: false, reason: 'malformed' };
  let t: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/i.test(v)) candidates.push(v.toLowerCase());
  }
  if (t === null || candidates.length === 0) return { ok: false, reason: 'malformed' };

  const want = Buffer.from(hmacHex(secret, t, body), 'hex');
  const match = candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), want));
  if (!match) return { ok: false, reason: 'mismatch' };

  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC)) return { ok: false, reason: 'stale' };
  return { ok: true, timestampSec: t };
}
