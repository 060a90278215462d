import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES, parseEvent, type CrestEventType } from './events.ts';

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
    for (const v of [null, 42, 'x', [1]]) assert.ok(!parseEvent(v).ok);
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
      assert.ok(parseEvent({ ...base, room: 'A-z_0.9', type: 'viewer.enter', viewer: 'v', source }).ok);
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
