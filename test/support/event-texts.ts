/**
 * Random valid events (contract v1) and the many ways a client may spell one in JSON: key order, whitespace,
 * numbers written as 1e3 or 1000.0, strings and keys with \u escapes, a key given twice. For the property tests
 * of the stored text (core/canonical-json.test.ts, server/ingest-service.test.ts).
 */
import fc from 'fast-check';

/** Strings with what JSON treats specially: quotes, backslashes, controls, non-BMP, line separators, lone surrogates. */
const tricky = fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u001f', '\u007f', 'é', '中', '😀', '\u2028', '\ud800', '\udfff', ' ');
const char = fc.oneof({ weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) }, { weight: 2, arbitrary: tricky });
const text = (min: number, max: number) => fc.array(char, { minLength: min, maxLength: max }).map((cs) => cs.join('').slice(0, max)).filter((s) => s.length >= min);
const ident = text(1, 24);
const room = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
// Up to 2^53 (fc.integer stops at 2^31): small ones, the bounds, and anything between.
const int = (min: number, max: number) =>
  fc.oneof(fc.integer({ min, max: Math.min(max, 2_000) }), fc.constantFrom(min, max), fc.maxSafeNat().map((n) => min + (n % (max - min + 1))));
const source = fc.constantFrom('follow', 'public', 'paid', 'other');
const MONEY = 1e13;

export const validEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ id: ident, room, ts: fc.oneof(int(0, 8_640_000_000_000), fc.constant(1_764_000_000_000)) })
  .chain((base) =>
    fc.oneof(
      fc.record({ type: fc.constant('viewer.enter'), viewer: ident, source }),
      fc.record({ type: fc.constant('viewer.leave'), viewer: ident }),
      fc.record({ type: fc.constant('room.online'), count: int(0, 1_000_000_000) }),
      fc.record({ type: fc.constant('room.exposure'), source, count: int(0, 1_000_000_000) }),
      fc.record(
        { type: fc.constantFrom('engage.like', 'engage.comment', 'engage.share', 'engage.follow', 'engage.gift'), viewer: ident, count: int(1, 1_000_000_000) },
        { requiredKeys: ['type', 'viewer'] },
      ),
      fc.record({ type: fc.constant('product.launch'), sku: ident, name: text(0, 40), price: int(0, MONEY) }, { requiredKeys: ['type', 'sku'] }),
      fc.record({ type: fc.constant('product.click'), viewer: ident, sku: ident }),
      fc.record(
        { type: fc.constantFrom('order.created', 'order.paid', 'order.refunded'), order: ident, viewer: ident, sku: ident, amount: int(0, MONEY), qty: int(1, 1_000_000) },
        { requiredKeys: ['type', 'order', 'amount'] },
      ),
      fc.record({ type: fc.constant('ad.spend'), amount: int(0, MONEY), campaign: text(0, 30) }, { requiredKeys: ['type', 'amount'] }),
      fc.record({ type: fc.constantFrom('stream.start', 'stream.end') }),
    ).map((rest) => ({ ...base, ...rest })),
  );

/** How one event is written out: each choice is drawn once per event. */
export interface Spelling {
  order: number[];
  space: string;
  /** 0: as JSON.stringify writes it; 1: 1000.0; 2: an exponent where there is one to write; 3: 1000E0 */
  numbers: number;
  /** stringify: as JSON.stringify writes them; escaped: every unit as \uXXXX; raw: as they are wherever JSON allows (lone surrogates too) */
  strings: 'stringify' | 'escaped' | 'raw';
  escapeKeys: boolean;
  /** A key written twice: first with another value, then the real one (JSON.parse keeps the last). */
  repeat: boolean;
}

export const spelling = (keys: number): fc.Arbitrary<Spelling> =>
  fc.record({
    order: fc.shuffledSubarray([...Array(keys).keys()], { minLength: keys, maxLength: keys }),
    space: fc.constantFrom('', '', '', ' ', '\n', ' \t'),
    numbers: fc.constantFrom(0, 0, 1, 2, 3),
    strings: fc.constantFrom('stringify', 'escaped', 'raw'),
    escapeKeys: fc.boolean(),
    repeat: fc.boolean(),
  });

/** The canonical spelling (what JSON.stringify writes) with the variations a client's encoder might make. */
const plain: Spelling = { order: [], space: '', numbers: 0, strings: 'stringify', escapeKeys: false, repeat: false };

function num(n: number, how: number): string {
  if (how === 1) return `${n}.0`;
  if (how === 2 && n !== 0 && n % 1000 === 0) return `${n / 1000}e3`;
  if (how === 3) return `${n}E0`;
  return JSON.stringify(n);
}

/** Every UTF-16 unit as \uXXXX: valid JSON for any string, lone surrogates too. */
const escapeAll = (s: string): string => `"${Array.from({ length: s.length }, (_, i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;

export function writeEvent(ev: Record<string, unknown>, sp: Spelling = plain): string {
  const keys = Object.keys(ev);
  const order = sp.order.length === keys.length ? sp.order.map((i) => keys[i]!) : keys;
  const s = sp.space;
  const key = (k: string) => (sp.escapeKeys ? escapeAll(k) : JSON.stringify(k));
  const str = (v: string) => (sp.strings === 'escaped' ? escapeAll(v) : sp.strings === 'raw' && !/["\\\u0000-\u001f]/.test(v) ? `"${v}"` : JSON.stringify(v));
  const value = (v: unknown) => (typeof v === 'number' ? num(v, sp.numbers) : str(String(v)));
  const members = order.map((k) => `${key(k)}${s}:${s}${value(ev[k])}`);
  if (sp.repeat) members.unshift(`${key(order.at(-1)!)}:${JSON.stringify('an earlier value')}`);
  return `{${s}${members.join(`,${s}`)}${s}}`;
}
