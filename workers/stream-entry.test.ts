import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareIds } from './stream-entry.ts';
import { exitsWithin } from '../test/support/exit-watch.ts';

exitsWithin();

/** Reference order of `<ms>-<seq>` ids, by numbers. */
const ref = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
};

test('compareIds orders stream ids by number, whatever their lengths', () => {
  const ms = ['0', '9', '10', '1795650000000', '1795650000001', '1795659999999', '17956500000000'];
  const seq = ['0', '1', '9', '10', '11', '99', '100', '12345'];
  const ids = ms.flatMap((m) => seq.map((s) => `${m}-${s}`));
  for (const a of ids) {
    for (const b of ids) assert.equal(Math.sign(compareIds(a, b)), ref(a, b), `${a} vs ${b}`);
  }
});
