/**
 * fast-check properties with merkletreejs as an independent oracle. It computes RFC 6962 roots and proofs
 * when (1) leaves are passed already hashed with 0x00 (`hashLeaves: false`), (2) its hash function gets
 * left||right and prefixes 0x01, (3) pairs keep their order (`sortPairs: false`), and (4) an odd last node
 * is promoted unchanged rather than duplicated (`duplicateOdd: false`, not `complete`, not Bitcoin):
 * bottom-up pairing with promotion builds exactly MTH's largest-power-of-two split.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { MerkleTree } from 'merkletreejs';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { inclusionRightPlan, proveConsistency, proveInclusion, treeRoot, type NodeId } from '../../../src/merkle/prove.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { leafHash, nodeHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { frontierFromTiles, frontierNodeIds, nodeLocation, parseTilePath, tilePath } from '../../../src/merkle/tiles.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

/** An in-memory store of every complete subtree node, filled by the compact range's visitor. */
function store(leaves: Uint8Array[]) {
  const levels: Uint8Array[][] = [];
  const range = CompactRange.empty();
  for (const l of leaves) range.append(l, (level, index, h) => ((levels[level] ??= [])[Number(index)] = h));
  const read = (ids: readonly NodeId[]) => ids.map((id) => levels[id.level]![Number(id.index)]!);
  return { levels, range, read };
}

function oracle(leaves: Uint8Array[]) {
  const hashFn = (data: Buffer) => createHash('sha256').update(Buffer.from([1])).update(data).digest();
  return new MerkleTree(
    leaves.map((l) => Buffer.from(l)),
    hashFn,
    { hashLeaves: false, sortPairs: false, sortLeaves: false, duplicateOdd: false, isBitcoinTree: false, complete: false },
  );
}

const sizes = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(255, 256, 257, 511, 512, 513));

describe('Merkle properties', () => {
  it('compact range root == naive MTH == merkletreejs root == stored-node root', () => {
    fc.assert(
      fc.property(sizes, (n) => {
        const leaves = leavesOf(n);
        const { range, read } = store(leaves);
        const want = hex(rootFromLeafHashes(leaves));
        expect(hex(range.root())).toBe(want);
        expect(oracle(leaves).getRoot().toString('hex')).toBe(want);
        expect(hex(treeRoot(BigInt(n), read))).toBe(want);
      }),
      { numRuns: 60 },
    );
  });

  it('verify(prove(x)) for inclusion, and the proof equals merkletreejs', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), ([n, i]) => {
        const leaves = leavesOf(n);
        const { range, read } = store(leaves);
        const proof = proveInclusion(BigInt(i), BigInt(n), read);
        verifyInclusion(BigInt(i), BigInt(n), leaves[i]!, proof, range.root());
        expect(proof.map(hex)).toEqual(oracle(leaves).getProof(Buffer.from(leaves[i]!), i).map((p) => p.data.toString('hex')));
        // A different leaf, index or size must not verify.
        expect(() => verifyInclusion(BigInt(i), BigInt(n), leafHash(Buffer.from('x')), proof, range.root())).toThrow();
        if (n > 1) expect(() => verifyInclusion(BigInt((i + 1) % n), BigInt(n), leaves[i]!, proof, range.root())).toThrow();
      }),
      { numRuns: 150 },
    );
  });

  it('verify(prove(x)) for consistency between any two sizes', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([m, n]) => {
        const leaves = leavesOf(n);
        const { read } = store(leaves);
        const r1 = rootFromLeafHashes(leaves.slice(0, m));
        const r2 = rootFromLeafHashes(leaves);
        const proof = proveConsistency(BigInt(m), BigInt(n), read);
        verifyConsistency(BigInt(m), BigInt(n), proof, r1, r2);
        if (m < n) {
          const forged = leavesOf(n).map((l, i) => (i === m - 1 ? leafHash(Buffer.from('forged')) : l));
          expect(() => verifyConsistency(BigInt(m), BigInt(n), proof, rootFromLeafHashes(forged.slice(0, m)), r2)).toThrow();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a frontier from an inclusion proof equals the frontier built by appends', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([x, n]) => {
        const leaves = leavesOf(n);
        const { read } = store(leaves);
        const proof = proveInclusion(BigInt(x - 1), BigInt(n), read);
        const fromProof = CompactRange.fromInclusionProof(BigInt(x - 1), BigInt(n), leaves[x - 1]!, proof);
        const byAppend = store(leaves.slice(0, x)).range;
        expect(fromProof.size).toBe(BigInt(x));
        expect(fromProof.nodes().map(hex)).toEqual(byAppend.nodes().map(hex));
        // The brief's form: the last leaf of the tree itself.
        const own = CompactRange.fromInclusionProof(BigInt(x), leaves[x - 1]!, proveInclusion(BigInt(x - 1), BigInt(x), read));
        expect(own.nodes().map(hex)).toEqual(byAppend.nodes().map(hex));
        expect(() => CompactRange.fromInclusionProof(BigInt(x), leaves[x - 1]!, [...proof, proof[0] ?? leaves[0]!])).toThrow();
      }),
      { numRuns: 150 },
    );
  });

  it('a range of leaves rebuilds the root with only the stored hashes beside it: the frontier left of it, the path right of its last leaf', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))).chain(([b, n]) => fc.tuple(fc.integer({ min: 0, max: b }), fc.constant(b), fc.constant(n))), ([a, b, n]) => {
        const leaves = leavesOf(n);
        const { read } = store(leaves);
        // Leaves a..b from the caller, the rest only as stored nodes outside [a, b].
        const range = CompactRange.fromNodes(BigInt(a), read(frontierNodeIds(BigInt(a))));
        for (let i = a; i < b; i++) range.append(leaves[i]!);
        const plan = inclusionRightPlan(BigInt(b), BigInt(n));
        for (const node of plan.nodes) expect(node.index << BigInt(node.level)).toBeGreaterThan(BigInt(b));
        const right = plan.assemble(read(plan.nodes));
        expect(hex(range.rootWith(leaves[b]!, BigInt(n), right))).toBe(hex(rootFromLeafHashes(leaves)));
        // Another leaf in the range, or a hash missing from the right, does not give the root.
        expect(hex(range.rootWith(leafHash(Buffer.from('x')), BigInt(n), right))).not.toBe(hex(rootFromLeafHashes(leaves)));
        if (right.length) expect(() => range.rootWith(leaves[b]!, BigInt(n), right.slice(1))).toThrow(/inclusion proof for leaf/);
      }),
      { numRuns: 150 },
    );
    expect(() => CompactRange.empty().rootWith(leavesOf(1)[0]!, 0n, [])).toThrow(/not below tree size 0/);
  });

  it('node and leaf hashes equal SHA-256 over the RFC 6962 prefixes (the scratch buffer is not shared state)', () => {
    const sha = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 5000 }), (l, r, d) => {
        const a = nodeHash(l, r);
        const b = nodeHash(r, l);
        expect(hex(a)).toBe(sha(Uint8Array.of(1), l, r));
        expect(hex(b)).toBe(sha(Uint8Array.of(1), r, l));
        expect(hex(leafHash(d))).toBe(sha(Uint8Array.of(0), d));
      }),
    );
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError);
  });

  it('the range keeps its own copies: callers reusing buffers cannot rewrite it', () => {
    const buf = new Uint8Array(leafHash(Buffer.from('a')));
    const range = CompactRange.empty();
    range.append(buf);
    const before = hex(range.root());
    buf.fill(7);
    range.nodes()[0]!.fill(9);
    range.root().fill(8);
    expect(hex(range.root())).toBe(before);
    const bytes = range.serialize();
    const back = CompactRange.deserialize(Buffer.from(bytes)); // Buffer#slice would alias; the range must copy
    bytes.fill(0);
    expect(hex(back.root())).toBe(before);
    expect(hex(CompactRange.empty().root())).toBe(hex(rootFromLeafHashes([])));
  });

  it('hostile frontier bytes are refused with MERKLE_RANGE, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          const r = CompactRange.deserialize(b);
          expect(hex(r.serialize())).toBe(hex(b));
        } catch (e) {
          expect(isTlogwatchError(e, 'MERKLE_RANGE')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
    expect(() => CompactRange.fromNodes(3n, [leafHash(Buffer.from('x'))])).toThrow(/2 nodes/);
    expect(() => CompactRange.fromNodes(1n, [new Uint8Array(31)])).toThrow(/31 bytes/);
    expect(() => CompactRange.empty().append(new Uint8Array(33))).toThrow(RangeError);
  });

  it('serialize/deserialize round-trips and rejects wrong lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), (n) => {
        const { range } = store(leavesOf(n));
        const b = range.serialize();
        const back = CompactRange.deserialize(b);
        expect(back.size).toBe(range.size);
        expect(hex(back.root())).toBe(hex(range.root()));
        expect(() => CompactRange.deserialize(b.subarray(0, b.length - 1))).toThrow();
        expect(() => CompactRange.deserialize(new Uint8Array([...b, 0]))).toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it('frontier from tiles equals the appended frontier (sizes around tile boundaries)', async () => {
    for (const n of [1, 255, 256, 257, 300, 65535, 65536, 65537]) {
      const leaves = leavesOf(n);
      const { levels, range } = store(leaves);
      const readTile = (level: number, tileN: bigint, width: number) =>
        Promise.resolve(levels[level * 8]!.slice(Number(tileN) * 256, Number(tileN) * 256 + width));
      for (const size of [n, Math.max(1, n - 1), Math.floor(n / 2) || 1]) {
        const f = await frontierFromTiles(BigInt(size), BigInt(n), readTile);
        expect(hex(f.root()), `size ${size} of ${n}`).toBe(hex(size === n ? range.root() : rootFromLeafHashes(leaves.slice(0, size))));
      }
    }
  });

  it('index math stays exact near 2^63 (no 32-bit operators)', () => {
    const big = (1n << 63n) - 3n;
    expect(frontierNodeIds(big).length).toBe(62);
    const loc = nodeLocation({ level: 17, index: (1n << 45n) + 5n });
    expect(loc.tileLevel).toBe(2);
    expect(parseTilePath(tilePath(3, big / 256n))?.n).toBe(big / 256n);
    // The inclusion walk handles indexes beyond 2^53 (proof of the right length for a huge tree).
    const proofLen = 61; // popcount(2^63 - 4): the last leaf's siblings are the frontier of [0, size-1)
    const proof = Array.from({ length: proofLen }, (_, i) => leafHash(Buffer.from([i])));
    expect(() => rootFromInclusionProof(big - 1n, big, leafHash(Buffer.from('a')), proof)).not.toThrow();
  });
});
