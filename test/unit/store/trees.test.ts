/**
 * Tree sequences in the store (keys.ts treeKey): the trees before the one a Rekor v1 mirror started in get
 * negative sequences, kept in the 2-byte key field as two's complement; and which tree holds a state's
 * start (codec.ts startSeq), with their offsets from the final heads' sizes (rekor.md §1.5).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { priorTreeSpans, startSeq, type VerifiedHead } from '../../../src/store/codec.ts';
import { checkpointKey, nodeKey, treeKey, treeSeq } from '../../../src/store/keys.ts';
import { validAtTime } from '../../../src/mirror/backfill-trees.ts';

const head = (size: bigint): VerifiedHead => ({ size, rootHash: new Uint8Array(32), note: '', at: 0 });

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

describe('startSeq', () => {
  // Trees before the start of 100, 0 and 50 entries: [0, 100) is −3, the empty one −2, [100, 150) is −1;
  // the tree the mirror started in begins at 150.
  const prior = [100n, 0n, 50n].map((size, i) => ({ treeID: String(i + 1), head: head(size) }));
  const at = (startIndex: bigint) => startSeq({ startIndex, priorTrees: prior });

  it('places each tree before the start after the ones before it', () => {
    expect(priorTreeSpans({ priorTrees: prior }).map((t) => [t.seq, t.offset, t.treeID])).toEqual([
      [-3, 0n, '1'],
      [-2, 100n, '2'],
      [-1, 100n, '3'],
    ]);
  });

  it('is 0 from the tree the mirror started in on, and the tree before that holds the start below it', () => {
    expect([200n, 151n, 150n].map((i) => at(i))).toEqual([0, 0, 0]);
    // A start at a tree's first leaf is in that tree; an empty tree never holds one.
    expect([149n, 101n, 100n].map((i) => at(i))).toEqual([-1, -1, -1]);
    expect([99n, 1n, 0n].map((i) => at(i))).toEqual([-3, -3, -3]);
    // Without the trees before (not verified yet), the start is in the tree the mirror started in.
    expect(startSeq({ startIndex: 120n })).toBe(0);
  });
});

describe('validAtTime', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const until = new Date('2026-06-01T00:00:00Z');
  const s = (d: Date) => d.getTime() / 1000;
  it('takes validFor as [start, end] (protobuf-specs TimeRange), open where absent, and any of a key\'s periods', () => {
    expect(validAtTime(undefined, 0)).toBe(true);
    expect(validAtTime([{ validFrom: from }], s(from))).toBe(true);
    expect(validAtTime([{ validFrom: from }], s(from) - 1)).toBe(false);
    expect(validAtTime([{ validUntil: until }], s(until))).toBe(true);
    expect(validAtTime([{ validUntil: until }], s(until) + 1)).toBe(false);
    expect(validAtTime([{ validUntil: until }], s(until) - 1)).toBe(true);
    expect(validAtTime([{ validFrom: until }, { validUntil: from }], s(from) + 1)).toBe(false);
    expect(validAtTime([{ validFrom: until }, { validUntil: from }], s(until) + 5)).toBe(true);
    expect(validAtTime([], s(from))).toBe(false);
  });
});
