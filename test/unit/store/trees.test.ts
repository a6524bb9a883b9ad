/**
 * Tree sequences in the store (keys.ts treeKey): the trees before the one a Rekor v1 mirror started in get
 * negative sequences, kept in the 2-byte key field as two's complement.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpointKey, nodeKey, treeKey, treeSeq } from '../../../src/store/keys.ts';

describe('treeKey', () => {
  it('keeps 0 and up as they were, and puts −1, −2, … at 0xffff, 0xfffe, …', () => {
    expect([0, 1, 2, 0x7fff].map(treeKey)).toEqual([0, 1, 2, 0x7fff]);
    expect([-1, -2, -0x8000].map(treeKey)).toEqual([0xffff, 0xfffe, 0x8000]);
    expect(Buffer.from(nodeKey(7, -1, 8, 3n)).subarray(3, 5)).toEqual(Buffer.from([0xff, 0xff]));
    expect(Buffer.from(checkpointKey(7, -2, 3n)).subarray(3, 5)).toEqual(Buffer.from([0xff, 0xfe]));
    // Stores written before hold trees 0 and up under the same keys as ever.
    expect(Buffer.from(nodeKey(7, 1, 8, 3n)).subarray(3, 5)).toEqual(Buffer.from([0x00, 0x01]));
  });

  it('is undone by treeSeq, and refuses what 2 bytes cannot hold', () => {
    fc.assert(fc.property(fc.integer({ min: -0x8000, max: 0x7fff }), (seq) => treeSeq(treeKey(seq)) === seq));
    for (const bad of [0x8000, -0x8001, 1.5, Number.NaN]) expect(() => treeKey(bad)).toThrow(RangeError);
  });
});
