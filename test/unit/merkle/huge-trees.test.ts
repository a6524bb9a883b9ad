/**
 * Index math on trees up to 2^64 - 1 leaves, where any 32-bit operator or Number conversion would break.
 *
 * A real tree that large cannot be hashed, so the tests use a Thue–Morse tree: leaf i is A or B by the
 * parity of popcount(i). Every perfect subtree (level k, index j) then has one of two hashes, chosen by the
 * parity of popcount(j), computable in O(k) — and its two children differ, so a sibling on the wrong side or
 * at the wrong height changes the root. The model is checked against real appends on small trees first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { popcount } from '../../../src/merkle/bits.ts';
import { decompInclProof, verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { consistencyPlan, inclusionPlan, proveConsistency, proveInclusion, rootPlan, treeRoot, type NodeId } from '../../../src/merkle/prove.ts';
import { leafHash, nodeHash } from '../../../src/merkle/rfc6962.ts';
import { formatTileIndex, nodeLocation, parseTilePath, tileCounts, tilePath, tileWidth } from '../../../src/merkle/tiles.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MAX = (1n << 64n) - 1n;

/** T[k][p]: hash of a perfect subtree of height k whose first leaf has popcount parity p. */
const T: Uint8Array[][] = [[leafHash(Buffer.from('A')), leafHash(Buffer.from('B'))]];
for (let k = 1; k <= 64; k++) T.push([nodeHash(T[k - 1]![0]!, T[k - 1]![1]!), nodeHash(T[k - 1]![1]!, T[k - 1]![0]!)]);
const nodeOf = (id: NodeId) => T[id.level]![popcount(id.index) % 2]!;
const leafOf = (i: bigint) => T[0]![popcount(i) % 2]!;
const read = (ids: readonly NodeId[]) => ids.map(nodeOf);

/** Sizes biased to the interesting places: near 2^63 and 2^64, around powers of two, and anywhere. */
const bigSize = fc.oneof(
  fc.bigInt({ min: 1n, max: MAX }),
  fc.bigInt({ min: (1n << 63n) - 300n, max: (1n << 63n) + 300n }),
  fc.bigInt({ min: MAX - 300n, max: MAX }),
  fc.tuple(fc.integer({ min: 2, max: 63 }), fc.integer({ min: -2, max: 2 })).map(([k, d]) => (1n << BigInt(k)) + BigInt(d)),
);
const sizeAndIndex = bigSize.chain((size) => fc.tuple(fc.constant(size), fc.bigInt({ min: 0n, max: size - 1n })));

describe('Thue–Morse model', () => {
  it('matches the nodes real appends produce', () => {
    for (const n of [1, 2, 3, 255, 256, 257, 300]) {
      const range = CompactRange.empty();
      for (let i = 0n; i < BigInt(n); i++) {
        range.append(leafOf(i), (level, index, h) => expect(hex(h)).toBe(hex(nodeOf({ level, index }))));
      }
      expect(hex(range.root())).toBe(hex(treeRoot(BigInt(n), read)));
    }
  });
});

describe('huge trees (sizes up to 2^64 - 1)', () => {
  it('verify(prove(inclusion)) with the exact proof length, nodes inside the tree', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const plan = inclusionPlan(index, size);
        for (const id of plan.nodes) expect((id.index + 1n) << BigInt(id.level) <= size).toBe(true);
        const proof = proveInclusion(index, size, read);
        const { inner, border } = decompInclProof(index, size);
        expect(proof.length).toBe(inner + border);
        const root = treeRoot(size, read);
        verifyInclusion(index, size, leafOf(index), proof, root);
        // The other leaf value, or a neighbour's index with the other parity, must not verify.
        expect(() => verifyInclusion(index, size, T[0]![1 - (popcount(index) % 2)]!, proof, root)).toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('verify(prove(consistency)) between any two sizes', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size2, i]) => {
        const size1 = i + 1n;
        for (const id of consistencyPlan(size1, size2).nodes) expect((id.index + 1n) << BigInt(id.level) <= size2).toBe(true);
        const proof = proveConsistency(size1, size2, read);
        verifyConsistency(size1, size2, proof, treeRoot(size1, read), treeRoot(size2, read));
        if (size1 < size2 && proof.length > 0) {
          const other = proof.map((p, j) => (j === 0 ? nodeHash(p, p) : p));
          expect(() => verifyConsistency(size1, size2, other, treeRoot(size1, read), treeRoot(size2, read))).toThrow();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('frontier from the last leaf proof == frontier nodes; serialize round-trips', () => {
    fc.assert(
      fc.property(bigSize, (size) => {
        const fromProof = CompactRange.fromInclusionProof(size, leafOf(size - 1n), proveInclusion(size - 1n, size, read));
        const nodes = rootPlan(size).nodes;
        expect(nodes.map((n) => n.level)).toEqual(CompactRange.heights(size));
        expect(fromProof.nodes().map(hex)).toEqual(read(nodes).map(hex));
        expect(hex(fromProof.root())).toBe(hex(treeRoot(size, read)));
        const bytes = fromProof.serialize();
        expect(bytes.length).toBe(8 + 32 * popcount(size));
        expect(hex(CompactRange.deserialize(bytes).root())).toBe(hex(fromProof.root()));
      }),
      { numRuns: 200 },
    );
  });

  it('appending past 2^63 merges 63 levels at once', () => {
    const size = (1n << 63n) - 1n;
    const range = CompactRange.fromNodes(size, read(rootPlan(size).nodes));
    const seen: number[] = [];
    range.append(leafOf(size), (level, index) => {
      seen.push(level);
      expect(index).toBe(size >> BigInt(level));
    });
    expect(seen).toEqual(Array.from({ length: 64 }, (_, k) => k));
    expect(range.nodes().length).toBe(1);
    expect(hex(range.root())).toBe(hex(treeRoot(1n << 63n, read)));
    expect(() => CompactRange.fromNodes(MAX, read(rootPlan(MAX).nodes)).append(leafOf(0n))).toThrow(/full/);
  });
});

describe('tile math past 2^53', () => {
  it('tile paths round-trip for any uint64 index and width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.bigInt({ min: 0n, max: MAX }), fc.integer({ min: 1, max: 256 }), (level, n, width) => {
        expect(parseTilePath(tilePath(level, n, width))).toEqual({ level, n, width });
        expect(formatTileIndex(n).replace(/x|\//g, '').replace(/^0+(?=.)/, '')).toBe(n.toString());
      }),
    );
    expect(parseTilePath(`tile/0/${formatTileIndex(MAX)}`)?.n).toBe(MAX);
    expect(parseTilePath('tile/0/x018/x446/x744/x073/x709/x551/616')).toBeUndefined(); // 2^64: past uint64
  });

  it('tile counts agree with tile widths and add back up to the size', () => {
    fc.assert(
      fc.property(bigSize, (size) => {
        const counts = tileCounts(size);
        counts.forEach(({ level, full, partialWidth }) => {
          expect(full * 256n + BigInt(partialWidth)).toBe(size >> BigInt(8 * level));
          if (full > 0n) expect(tileWidth(level, full - 1n, size)).toBe(256);
          expect(tileWidth(level, full, size)).toBe(partialWidth);
          expect(tileWidth(level, full + 1n, size)).toBe(0);
        });
        expect(counts.length).toBe(Math.ceil(size.toString(2).length / 8));
      }),
    );
  });

  it('a node lives in the tile and offset covering its first leaf', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: 63 }), ([, leaf], level) => {
        const index = leaf >> BigInt(level);
        const loc = nodeLocation({ level, index });
        expect(loc.tileLevel).toBe(Math.floor(level / 8));
        expect(loc.offset + loc.count).toBeLessThanOrEqual(256);
        // First leaf of the node == first leaf of hash `offset` in tile (tileLevel, n).
        const rowStart = loc.n * 256n + BigInt(loc.offset);
        expect(rowStart << BigInt(8 * loc.tileLevel)).toBe(index << BigInt(level));
      }),
    );
  });
});
