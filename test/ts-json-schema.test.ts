/**
 * The TypeScript-to-JSON-Schema reader behind the OpenAPI document's socket and answer schemas
 * (test/support/ts-json-schema.ts), on one of each shape it supports (test/fixtures/schema-shapes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { interfaceSchemas } from './support/ts-json-schema.ts';
import { exitsWithin } from './support/exit-watch.ts';

exitsWithin();

const FIXTURE = fileURLToPath(new URL('./fixtures/schema-shapes.ts', import.meta.url));

test('each shape: literal unions as enum, optional members, null unions, Record over literals and over string, intersections, named types as refs', () => {
  const { roots, defs } = interfaceSchemas([
    { file: FIXTURE, name: 'Events', members: 'payload' },
    { file: FIXTURE, name: 'Shapes', members: 'type' },
  ]);
  const ref = (n: string) => ({ $ref: `#/components/schemas/${n}` });
  assert.deepEqual(roots.Events, { 'shape:new': { type: 'object', properties: { shape: ref('Shapes') }, required: ['shape'], additionalProperties: false } });
  assert.deepEqual(roots.Shapes!.name, { description: 'Its name.', type: 'string' });
  assert.deepEqual(defs.Colour, { enum: ['red', 'green'] });
  assert.deepEqual(defs.PerColour, {
    type: 'object',
    properties: { red: { type: 'number' }, green: { type: 'number' } },
    required: ['red', 'green'],
    additionalProperties: false,
  });
  const shapes = defs.Shapes as { description: string; properties: Record<string, unknown>; required: string[] };
  assert.equal(shapes.description, 'A thing with every shape.');
  assert.deepEqual(shapes.properties.on, { type: 'boolean' });
  assert.deepEqual(shapes.properties.maybe, { type: 'number' });
  assert.ok(!shapes.required.includes('maybe') && shapes.required.includes('nullable'), `required: ${shapes.required}`);
  // Members in the checker's own order (null first).
  assert.deepEqual(shapes.properties.nullable, { anyOf: [{ type: 'null' }, { type: 'string' }] });
  assert.deepEqual(shapes.properties.colour, ref('Colour'));
  assert.deepEqual(shapes.properties.byKey, { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'number' }] } });
  assert.deepEqual(shapes.properties.list, { type: 'array', items: ref('Colour') });
  assert.deepEqual(shapes.properties.both, {
    type: 'object',
    properties: { a: { type: 'number' }, b: { type: 'string' } },
    required: ['a', 'b'],
    additionalProperties: false,
  });
  assert.deepEqual(shapes.properties.flags, { anyOf: [{ type: 'boolean' }, { type: 'null' }] });
});

test('a type it cannot describe is an error naming it, not a schema that passes anything', () => {
  assert.throws(() => interfaceSchemas([{ file: FIXTURE, name: 'NoSuchInterface', members: 'type' }]), /has no interface NoSuchInterface/);
});
