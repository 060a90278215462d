/**
 * Event contract v1 (DESIGN §3): the one schema every event must match, whichever way it arrives
 * (HTTP, simulator, replay, connector). zod gives us the runtime validator and the TypeScript types
 * from one declaration, and its issues carry the path we turn into "field + reason".
 */
import { z } from 'zod';

export const ROOM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const TRAFFIC_SOURCES = ['follow', 'public', 'paid', 'other'] as const;
export type TrafficSource = (typeof TRAFFIC_SOURCES)[number];

const roomId = z
  .string()
  .regex(ROOM_ID_PATTERN, 'must be 1–64 characters of A-Z a-z 0-9 _ . -');
const eventId = z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters');
// Event time, ms since epoch. Bounded so arithmetic on it can never leave the safe-integer range.
const eventTime = z.number().int('must be an integer (ms since epoch)').min(0).max(8_640_000_000_000);
const viewerId = z.string().min(1).max(128);
const source = z.enum(TRAFFIC_SOURCES);
const count = z.number().int().min(0).max(1_000_000_000);
/** Money in minor units (cents, fen): integers only, so sums are exact. */
const money = z.number().int('must be an integer in minor units (cents, fen)').min(0).max(1e13);

const base = { id: eventId, room: roomId, ts: eventTime };
const engage = <T extends string>(type: T) =>
  z.strictObject({ ...base, type: z.literal(type), viewer: viewerId, count: count.min(1).optional() });
const order = <T extends string>(type: T) =>
  z.strictObject({
    ...base,
    type: z.literal(type),
    order: z.string().min(1).max(128),
    viewer: viewerId.optional(),
    sku: z.string().min(1).max(128).optional(),
    amount: money,
    qty: z.number().int().min(1).max(1_000_000).optional(),
  });

export const crestEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('viewer.enter'), viewer: viewerId, source }),
  z.strictObject({ ...base, type: z.literal('viewer.leave'), viewer: viewerId }),
  z.strictObject({ ...base, type: z.literal('room.online'), count }),
  z.strictObject({ ...base, type: z.literal('room.exposure'), source, count }),
  engage('engage.like'),
  engage('engage.comment'),
  engage('engage.share'),
  engage('engage.follow'),
  engage('engage.gift'),
  z.strictObject({
    ...base,
    type: z.literal('product.launch'),
    sku: z.string().min(1).max(128),
    name: z.string().max(256).optional(),
    price: money.optional(),
  }),
  z.strictObject({ ...base, type: z.literal('product.click'), viewer: viewerId, sku: z.string().min(1).max(128) }),
  order('order.created'),
  order('order.paid'),
  order('order.refunded'),
  z.strictObject({ ...base, type: z.literal('ad.spend'), amount: money, campaign: z.string().max(128).optional() }),
  z.strictObject({ ...base, type: z.literal('stream.start') }),
  z.strictObject({ ...base, type: z.literal('stream.end') }),
]);

export type CrestEvent = z.infer<typeof crestEventSchema>;
export type CrestEventType = CrestEvent['type'];
export type EventOf<T extends CrestEventType> = Extract<CrestEvent, { type: T }>;
export const EVENT_TYPES = crestEventSchema.options.map((o) => o.shape.type.value) as CrestEventType[];

/** A rejection that names the field and says why. `field` is a dotted path ('' for the whole event). */
export interface FieldError {
  field: string;
  reason: string;
}

export type ParseResult = { ok: true; event: CrestEvent } | { ok: false; error: FieldError };

/**
 * Validates one untrusted value against contract v1; never throws. A value the fast check accepts is
 * returned as it is (it already has exactly the schema's shape); anything else goes through zod, which
 * stays the source of truth and words the rejection.
 */
export function parseEvent(input: unknown): ParseResult {
  if (fastValid(input)) return { ok: true, event: input as CrestEvent };
  const r = crestEventSchema.safeParse(input);
  if (!r.success && typeof input === 'object' && input !== null && !('type' in input)) {
    return { ok: false, error: { field: 'type', reason: 'is required' } };
  }
  if (r.success) return { ok: true, event: r.data };
  return { ok: false, error: firstFieldError(r.error, input) };
}

/**
 * Turns a zod error into the one field error we report (the first issue: the most useful one). Pass the
 * input when you have it: zod 4 does not say "received undefined" for a missing enum field, so absence is
 * read from the input itself.
 */
export function firstFieldError(err: z.ZodError, input?: unknown): FieldError {
  const issue = err.issues[0];
  if (!issue) return { field: '', reason: 'invalid' };
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      field: path ? `${path}.${keys[0]}` : String(keys[0]),
      reason: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')} (not in contract v1)`,
    };
  }
  const missing = /received undefined/.test(issue.message) || (input !== undefined && valueAt(input, issue.path) === undefined);
  if (issue.code === 'invalid_union' && path === 'type') {
    const reason = missing ? 'is required' : `unknown event type; expected one of ${EVENT_TYPES.join(', ')}`;
    return { field: 'type', reason };
  }
  if (issue.code === 'invalid_type' && path === '') return { field: '', reason: 'an event must be a JSON object' };
  if (missing && path !== '') return { field: path, reason: 'is required' };
  return { field: path, reason: issue.message };
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

// ---- fast path -------------------------------------------------------------------------------------
// A hand-written check of exactly the schema above, ~10× cheaper than zod's safeParse on the hot path
// (ingest and every stream entry the detector reads back). It must accept exactly what the schema accepts:
// core/events.test.ts proves that with a fast-check property over valid and mutated events. Change both
// together, or the property test fails.

const str = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const int = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const optStr = (v: unknown, min: number, max: number): boolean => v === undefined || str(v, min, max);
const optInt = (v: unknown, min: number, max: number): boolean => v === undefined || int(v, min, max);
const isSource = (v: unknown): boolean => v === 'follow' || v === 'public' || v === 'paid' || v === 'other';
const MONEY_MAX = 1e13;

const BASE_KEYS = ['id', 'room', 'ts', 'type'];
const FIELDS: Record<CrestEventType, ReadonlySet<string>> = Object.fromEntries(
  crestEventSchema.options.map((o) => [o.shape.type.value, new Set(Object.keys(o.shape))]),
) as unknown as Record<CrestEventType, ReadonlySet<string>>;
for (const set of Object.values(FIELDS)) for (const k of BASE_KEYS) if (!set.has(k)) throw new Error(`events: schema lost base field ${k}`);

/** True when `input` matches contract v1 exactly (same answer as crestEventSchema.safeParse(...).success). */
export function fastValid(input: unknown): boolean {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const proto = Object.getPrototypeOf(input);
  if (proto !== Object.prototype && proto !== null) return false; // exotic objects: let zod decide
  const e = input as Record<string, unknown>;
  const type = e.type;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type) || !Object.hasOwn(e, 'type')) return false;
  const allowed = FIELDS[type as CrestEventType];
  for (const k in e) if (!Object.hasOwn(e, k) || !allowed.has(k)) return false;
  if (!str(e.id, 1, 128) || typeof e.room !== 'string' || !ROOM_ID_PATTERN.test(e.room) || !int(e.ts, 0, 8_640_000_000_000)) return false;
  switch (type as CrestEventType) {
    case 'viewer.enter':
      return str(e.viewer, 1, 128) && isSource(e.source);
    case 'viewer.leave':
      return str(e.viewer, 1, 128);
    case 'room.online':
      return int(e.count, 0, 1_000_000_000);
    case 'room.exposure':
      return isSource(e.source) && int(e.count, 0, 1_000_000_000);
    case 'engage.like':
    case 'engage.comment':
    case 'engage.share':
    case 'engage.follow':
    case 'engage.gift':
      return str(e.viewer, 1, 128) && optInt(e.count, 1, 1_000_000_000);
    case 'product.launch':
      return str(e.sku, 1, 128) && optStr(e.name, 0, 256) && optInt(e.price, 0, MONEY_MAX);
    case 'product.click':
      return str(e.viewer, 1, 128) && str(e.sku, 1, 128);
    case 'order.created':
    case 'order.paid':
    case 'order.refunded':
      return (
        str(e.order, 1, 128) &&
        optStr(e.viewer, 1, 128) &&
        optStr(e.sku, 1, 128) &&
        int(e.amount, 0, MONEY_MAX) &&
        optInt(e.qty, 1, 1_000_000)
      );
    case 'ad.spend':
      return int(e.amount, 0, MONEY_MAX) && optStr(e.campaign, 0, 128);
    case 'stream.start':
    case 'stream.end':
      return true;
  }
}
