import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crestEventSchema, EVENT_TYPES, fastValid, firstFieldError, parseEvent, type CrestEventType } from './events.ts';

const base = { id: 'e1', room: 'room-1', ts: 1_700_000_000_000 };
/** One valid example per type, with every optional field where the type has them. */
const valid: Record<CrestEventType, Record<string, unknown>> = {
  'viewer.enter': { viewer: 'v1', source: 'paid' },
  'viewer.leave': { viewer: 'v1' },
  'room.online': { count: 250 },
  'room.exposure': { source: 'public', count: 10_000 },
  'engage.like': { viewer: 'v1', count: 3 },
  'engage.comment': { viewer: 'v1' },
  'engage.share': { viewer: 'v1' },
  'engage.follow': { viewer: 'v1' },
  'engage.gift': { viewer: 'v1', count: 1 },
  'product.launch': { sku: 'sku-1', name: 'Kettle', price: 4999 },
  'product.click': { viewer: 'v1', sku: 'sku-1' },
  'order.created': { order: 'o1', viewer: 'v1', sku: 'sku-1', amount: 4999, qty: 1 },
  'order.paid': { order: 'o1', amount: 4999 },
  'order.refunded': { order: 'o1', viewer: 'v1', amount: 4999 },
  'ad.spend': { amount: 10_000, campaign: 'c1' },
  'stream.start': {},
  'stream.end': {},
};

function reject(input: unknown): { field: string; reason: string } {
  const r = parseEvent(input);
  assert.equal(r.ok, false, `expected rejection of ${JSON.stringify(input)}`);
  return (r as { ok: false; error: { field: string; reason: string } }).error;
}

describe('event contract v1', () => {
  test('the example list covers every event type', () => {
    assert.deepEqual(Object.keys(valid).sort(), [...EVENT_TYPES].sort());
  });

  for (const [type, fields] of Object.entries(valid)) {
    test(`accepts a valid ${type}`, () => {
      const input = { ...base, type, ...fields };
      const r = parseEvent(input);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.event, input);
    });

    test(`rejects ${type} with an extra field, naming it`, () => {
      const e = reject({ ...base, type, ...fields, colour: 'red' });
      assert.equal(e.field, 'colour');
      assert.match(e.reason, /unknown field/);
    });

    test(`rejects ${type} without id/room/ts, naming the field`, () => {
      for (const k of ['id', 'room', 'ts'] as const) {
        const input: Record<string, unknown> = { ...base, type, ...fields };
        delete input[k];
        assert.equal(reject(input).field, k);
      }
    });

    const required = Object.keys(fields).filter((k) => !isOptional(type as CrestEventType, k));
    for (const k of required) {
      test(`rejects ${type} missing its required field ${k}`, () => {
        const input: Record<string, unknown> = { ...base, type, ...fields };
        delete input[k];
        const e = reject(input);
        assert.equal(e.field, k);
        assert.equal(e.reason, 'is required');
      });
    }
  }

  test('rejects an unknown type, saying which types exist', () => {
    const e = reject({ ...base, type: 'viewer.dance' });
    assert.equal(e.field, 'type');
    assert.match(e.reason, /unknown event type/);
    assert.match(e.reason, /viewer\.enter/);
  });

  test('rejects a missing type', () => {
    assert.deepEqual(reject({ ...base, count: 3 }), { field: 'type', reason: 'is required' });
  });

  test('rejects non-objects', () => {
    for (const v of [null, 42, 'x', [1]]) assert.ok(!parseEvent(v).ok, '!parseEvent(v).ok');
  });

  test('rejects wrong types and out-of-range values, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, type: 'room.online', count: '250' }, 'count'],
      [{ ...base, type: 'room.online', count: -1 }, 'count'],
      [{ ...base, type: 'room.online', count: 2.5 }, 'count'],
      [{ ...base, ts: 1.5, type: 'room.online', count: 1 }, 'ts'],
      [{ ...base, ts: '1700000000000', type: 'room.online', count: 1 }, 'ts'],
      [{ ...base, ts: -5, type: 'room.online', count: 1 }, 'ts'],
      [{ ...base, room: 'has space', type: 'stream.start' }, 'room'],
      [{ ...base, room: 'x'.repeat(65), type: 'stream.start' }, 'room'],
      [{ ...base, id: '', type: 'stream.start' }, 'id'],
      [{ ...base, id: 'x'.repeat(129), type: 'stream.start' }, 'id'],
      [{ ...base, type: 'viewer.enter', viewer: 'v', source: 'tv' }, 'source'],
      [{ ...base, type: 'viewer.enter', viewer: 7, source: 'paid' }, 'viewer'],
      [{ ...base, type: 'order.paid', order: 'o', amount: 9.99 }, 'amount'],
      [{ ...base, type: 'order.paid', order: 'o', amount: 100, qty: 0 }, 'qty'],
      [{ ...base, type: 'engage.like', viewer: 'v', count: 0 }, 'count'],
      [{ ...base, type: 'ad.spend', amount: -1 }, 'amount'],
      [{ ...base, type: 'product.launch', sku: '' }, 'sku'],
    ];
    for (const [input, field] of cases) assert.equal(reject(input).field, field, JSON.stringify(input));
  });

  test('accepts every traffic source and the room-id alphabet', () => {
    for (const source of ['follow', 'public', 'paid', 'other']) {
      assert.ok(parseEvent({ ...base, room: 'A-z_0.9', type: 'viewer.enter', viewer: 'v', source }).ok, 'parseEvent({ ...base, room: \'A-z_0.9\', type: \'viewer.enter\', viewer: \'v\', source }).ok');
    }
  });
});

function isOptional(type: CrestEventType, key: string): boolean {
  if (type.startsWith('engage.') && key === 'count') return true;
  if (type === 'product.launch' && (key === 'name' || key === 'price')) return true;
  if (type.startsWith('order.') && (key === 'viewer' || key === 'sku' || key === 'qty')) return true;
  if (type === 'ad.spend' && key === 'campaign') return true;
  return false;
}

/** Every boundary of the schema's limits and every JSON kind: what a field may be mutated to. */
const EDGE_VALUES: unknown[] = [
  undefined, null, true, 0, -0, -1, 1, 0.5, 1e13, 1e13 + 1, 8_640_000_000_000, 8_640_000_000_001, 1_000_000, 1_000_001,
  1_000_000_000, 1_000_000_001, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2, '', 'x', 'a'.repeat(64),
  'a'.repeat(65), 'a'.repeat(128), 'a'.repeat(129), 'a'.repeat(256), 'a'.repeat(257), 'bad room', 'room/1', 'follow', 'paid',
  'other', 'nope', 'viewer.enter', 'order.paid', [], {}, ['x'], '__proto__',
];

describe('fast validation path', () => {
  // Values a field may be mutated to: every boundary of the schema's limits and every JSON kind.
  const edgeValues = fc.constantFrom<unknown>(...EDGE_VALUES);
  const anyValue = fc.oneof(edgeValues, fc.string({ maxLength: 140 }), fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 1 }));
  const fieldNames = fc.constantFrom(
    'id', 'room', 'ts', 'type', 'viewer', 'source', 'count', 'sku', 'name', 'price', 'order', 'amount', 'qty', 'campaign', 'colour', '__proto__', 'constructor',
  );
  const validEvent = fc.constantFrom(...Object.entries(valid)).map(([type, fields]) => ({ ...base, type, ...fields }) as Record<string, unknown>);
  type Mutation = { op: 'set'; key: string; value: unknown } | { op: 'delete'; key: string };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fieldNames, value: anyValue }),
    fc.record({ op: fc.constant('delete' as const), key: fieldNames }),
  );
  // Mostly the event's own fields set to boundary values, so every limit of every type gets probed.
  const ownMutation = (ev: Record<string, unknown>): fc.Arbitrary<Mutation> =>
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...Object.keys(ev)), value: edgeValues }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...Object.keys(ev)) }) },
      { weight: 2, arbitrary: mutation },
    );
  const mutated = validEvent.chain((ev) => fc.tuple(fc.constant(ev), fc.array(ownMutation(ev), { maxLength: 3 }))).map(([ev, ms]) => {
    const out: Record<string, unknown> = { ...ev };
    for (const m of ms) {
      // defineProperty so "__proto__" becomes an own key, as JSON.parse makes it.
      if (m.op === 'set') Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else delete out[m.key];
    }
    return out;
  });

  test('accepts exactly what the zod schema accepts (valid and mutated events, and JSON round trips)', () => {
    fc.assert(
      fc.property(fc.noBias(fc.oneof(validEvent, { weight: 8, arbitrary: mutated }, anyValue)), (input) => {
        const viaZod = crestEventSchema.safeParse(input);
        assert.equal(fastValid(input), viaZod.success, JSON.stringify(input));
        if (viaZod.success) assert.deepEqual(parseEvent(input), { ok: true, event: viaZod.data });
        // What the wire delivers: the same value through JSON.
        const json = JSON.stringify(input);
        if (json !== undefined) {
          const back: unknown = JSON.parse(json);
          assert.equal(fastValid(back), crestEventSchema.safeParse(back).success, json);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  test('agrees with zod on every single-field change of every type to every boundary value (exhaustive)', () => {
    const values = EDGE_VALUES;
    for (const [type, fields] of Object.entries(valid)) {
      const ev: Record<string, unknown> = { ...base, type, ...fields };
      for (const key of [...Object.keys(ev), 'colour', '__proto__']) {
        for (const value of values) {
          const input: Record<string, unknown> = { ...ev };
          Object.defineProperty(input, key, { value, enumerable: true, writable: true, configurable: true });
          assert.equal(fastValid(input), crestEventSchema.safeParse(input).success, `${type}.${key} = ${String(value).slice(0, 20)}`);
        }
        const without = { ...ev };
        delete without[key];
        assert.equal(fastValid(without), crestEventSchema.safeParse(without).success, `${type} without ${key}`);
      }
    }
  });

  test('a rejection is still worded by zod', () => {
    assert.deepEqual(reject({ ...base, type: 'room.online', count: -1 }), crestEventSchemaError({ ...base, type: 'room.online', count: -1 }));
  });
});


function crestEventSchemaError(input: unknown): { field: string; reason: string } {
  const r = crestEventSchema.safeParse(input);
  assert.equal(r.success, false);
  return firstFieldError(r.error!, input);
}
