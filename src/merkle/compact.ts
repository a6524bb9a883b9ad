/**
 * Compact range [0, size): the log's frontier (transparency-dev/merkle docs/compact_ranges.md; c2sp.md §2.3).
 * One perfect-subtree root per set bit of `size`, largest first. Appending a leaf merges equal-height
 * nodes; the root folds the nodes from the right. The mirror persists it with each batch, so it can
 * resume without rehashing the log.
 */
import { TlogwatchError } from '../errors.ts';
import { bitLength, popcount } from './bits.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './rfc6962.ts';

export type NodeVisitor = (level: number, index: bigint, hash: Uint8Array) => void;

export class CompactRange {
  #size: bigint;
  /** Largest subtree first; nodes[i] covers a perfect subtree of height = the i-th set bit of size from the top. */
  #nodes: Uint8Array[];

  private constructor(size: bigint, nodes: Uint8Array[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): CompactRange {
    return new CompactRange(0n, []);
  }

  static fromNodes(size: bigint, nodes: readonly Uint8Array[]): CompactRange {
    if (size < 0n) throw new RangeError('negative size');
    if (nodes.length !== popcount(size)) throw new TlogwatchError('MERKLE_RANGE', `a frontier of size ${size} has ${popcount(size)} nodes, got ${nodes.length}`);
    for (const n of nodes) if (n.length !== HASH_SIZE) throw new TlogwatchError('MERKLE_RANGE', 'frontier node is not 32 bytes');
    return new CompactRange(size, nodes.map((n) => new Uint8Array(n)));
  }

  /**
   * Frontier of [0, index+1) from an inclusion proof of leaf `index` in a tree of `treeSize` >= index+1.
   * The proof's left siblings are exactly the perfect subtrees covering [0, index), largest first, so with
   * the leaf appended they form the frontier. The caller must have verified the proof against a trusted root.
   */
  static fromInclusionProof(index: bigint, treeSize: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): CompactRange {
    if (index < 0n || index >= treeSize) throw new TlogwatchError('MERKLE_RANGE', `leaf ${index} is not in a tree of size ${treeSize}`);
    const lefts: Uint8Array[] = [];
    // Walk the same path as RFC 9162 §2.1.3.2: a sibling is on the left exactly when fn is odd.
    let fn = index;
    let sn = treeSize - 1n;
    for (const p of proof) {
      if (sn === 0n) throw new TlogwatchError('MERKLE_BAD_PROOF', 'inclusion proof is too long');
      // Both cases in which RFC 9162 hashes p on the left (fn odd, or a right-border node shifted up).
      if ((fn & 1n) === 1n || fn === sn) {
        lefts.push(p);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    const range = CompactRange.fromNodes(index, lefts.reverse());
    range.append(leaf);
    return range;
  }

  get size(): bigint {
    return this.#size;
  }

  nodes(): Uint8Array[] {
    return this.#nodes.slice();
  }

  append(leaf: Uint8Array, visit?: NodeVisitor): void {
    if (leaf.length !== HASH_SIZE) throw new RangeError('append: leaf hash must be 32 bytes');
    let index = this.#size;
    let hash = leaf;
    visit?.(0, index, hash);
    let level = 0;
    // Merge while the lowest remaining bit of the old size is set (equal-height neighbours).
    for (let s = this.#size; (s & 1n) === 1n; s >>= 1n) {
      const left = this.#nodes.pop()!;
      hash = nodeHash(left, hash);
      level++;
      index >>= 1n;
      visit?.(level, index, hash);
    }
    this.#nodes.push(hash);
    this.#size++;
  }

  root(): Uint8Array {
    const n = this.#nodes;
    if (n.length === 0) return EMPTY_ROOT;
    let r = n[n.length - 1]!;
    for (let i = n.length - 2; i >= 0; i--) r = nodeHash(n[i]!, r);
    return r;
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#nodes.slice());
  }

  /** 8-byte big-endian size followed by the nodes: at most 8 + 64·32 bytes. */
  serialize(): Uint8Array {
    const out = new Uint8Array(8 + this.#nodes.length * HASH_SIZE);
    new DataView(out.buffer).setBigUint64(0, this.#size);
    this.#nodes.forEach((n, i) => out.set(n, 8 + i * HASH_SIZE));
    return out;
  }

  static deserialize(b: Uint8Array): CompactRange {
    if (b.length < 8) throw new TlogwatchError('MERKLE_RANGE', 'serialized frontier is shorter than its size field');
    const size = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);
    const want = 8 + popcount(size) * HASH_SIZE;
    if (b.length !== want) throw new TlogwatchError('MERKLE_RANGE', `serialized frontier of size ${size} must be ${want} bytes, got ${b.length}`);
    const nodes: Uint8Array[] = [];
    for (let off = 8; off < b.length; off += HASH_SIZE) nodes.push(b.slice(off, off + HASH_SIZE));
    return new CompactRange(size, nodes);
  }

  /** Heights of the frontier's nodes, largest first (the set bits of size). */
  static heights(size: bigint): number[] {
    const out: number[] = [];
    for (let k = bitLength(size) - 1; k >= 0; k--) if (((size >> BigInt(k)) & 1n) === 1n) out.push(k);
    return out;
  }
}
