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

/** Validates one untrusted value against contract v1; never throws. */
export function parseEvent(input: unknown): ParseResult {
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
