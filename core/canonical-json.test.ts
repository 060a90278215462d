import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spelling, validEvent, writeEvent } from '../test/support/event-texts.ts';
import { canonicalElements, canonicalObject } from './canonical-json.ts';

/** Every text the scan vouches for is given back unchanged by JSON.stringify(JSON.parse(text)). */
function checkVouched(body: string): (string | undefined)[] {
  const parsed = JSON.parse(body) as unknown[];
  const texts = canonicalElements(body, parsed);
  texts.forEach((t, i) => {
    if (t !== undefined) assert.equal(t, JSON.stringify(parsed[i]), `element ${i} of ${body}`);
  });
  return texts;
}

describe('canonical JSON texts', () => {
  test('what JSON.stringify writes for events is taken, element by element', () => {
    fc.assert(
      fc.property(fc.array(validEvent, { minLength: 1, maxLength: 8 }), (events) => {
        const body = JSON.stringify(events);
        const texts = checkVouched(body);
        // Lone surrogates are written escaped (\ud800), which the scan never vouches for; everything else is taken.
        const escaped = events.findIndex((e) => JSON.stringify(e).includes('\\'));
        assert.equal(texts.filter((t) => t !== undefined).length, escaped < 0 ? events.length : escaped);
        assert.equal(canonicalObject(JSON.stringify(events[0]), events[0]) !== undefined, !JSON.stringify(events[0]).includes('\\'));
      }),
      { numRuns: 500 },
    );
  });

  test('any other spelling is either vouched for correctly or left to JSON.stringify', () => {
    const body = fc.array(validEvent.chain((ev) => fc.tuple(fc.constant(ev), spelling(Object.keys(ev).length))), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(body, fc.constantFrom('', ' ', '\n  '), (evs, gap) => {
        checkVouched(`${gap}[${gap}${evs.map(([ev, sp]) => writeEvent(ev, sp)).join(`${gap},${gap}`)}${gap}]${gap}`);
        for (const [ev, sp] of evs) {
          const one = writeEvent(ev, sp);
          const t = canonicalObject(one, JSON.parse(one));
          if (t !== undefined) assert.equal(t, JSON.stringify(JSON.parse(one)));
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('arbitrary JSON values, flat or not', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })))), { maxLength: 5 }), (values) => {
        checkVouched(JSON.stringify(values));
      }),
      { numRuns: 1000 },
    );
  });

  test('integers of any length written out: only the ones a double holds exactly are taken', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 22, size: 'max' }), (first, rest) => {
        checkVouched(`[{"n":${first}${rest.join('')}}]`);
      }),
      { numRuns: 1000 },
    );
  });

  test('the spellings that must not be taken as they are', () => {
    const refused = [
      '{"ts":1e3}', '{"ts":1000.0}', '{"ts":1000E0}', '{"ts":-0}', '{"ts":1234567890123456}', '{"ts": 1}', '{ "ts":1}', '{"ts":1 }',
      '{"a":"\\u0041"}', '{"a":"\\/"}', '{"\\u0061":1}', '{"a":1,"a":2}', '{"b":1,"0":2}', '{"a":"\\ud800"}', '{"a":true}', '{"a":null}',
      '{"a":[]}', '{"a":{}}', '{"a":"x"} ',
    ];
    for (const t of refused) assert.equal(canonicalObject(t, JSON.parse(t)), undefined, t);
    for (const t of ['{}', '{"a":0}', '{"a":"é中😀\u2028/"}', '{"__proto__":1,"ts":123456789012345}']) {
      assert.equal(canonicalObject(t, JSON.parse(t)), t, t);
      assert.equal(JSON.stringify(JSON.parse(t)), t);
    }
    // Scanning stops at the first element it cannot vouch for; the ones before it are kept.
    assert.deepEqual(canonicalElements('[{"a":1}, {"b":1.5},{"c":2}]', [{ a: 1 }, { b: 1.5 }, { c: 2 }]), ['{"a":1}', undefined, undefined]);
    assert.deepEqual(canonicalElements(' [ {"a":1} , {"b":2} ] ', [{ a: 1 }, { b: 2 }]), ['{"a":1}', '{"b":2}']);
  });
});
