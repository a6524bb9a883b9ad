/**
 * Compact range [0, size): the log's frontier (transparency-dev/merkle docs/compact_ranges.md; c2sp.md §2.3).
 * https://github.com/transparency-dev/merkle/blob/main/docs/compact_ranges.md
 *
 * One perfect-subtree root per set bit of `size`, largest first. Appending a leaf merges equal-height
 * nodes; the root folds the nodes from the right (RFC 9162 §2.1.1's MTH, since every left subtree of an
 * MTH split is perfect). The mirror persists it with each batch, so it can resume without rehashing the log.
 */
import { TlogwatchError } from '../errors.ts';
import { bitLength, popcount } from './bits.ts';
import { decompInclProof, isLeftInner, rootFromInclusionProof } from './proof.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './rfc6962.ts';

/** Called for each complete subtree node an append creates: (level, index) as in prove.ts's NodeId. */
export type NodeVisitor = (level: number, index: bigint, hash: Uint8Array) => void;

const MAX_SIZE = (1n << 64n) - 1n; // serialize() stores the size as a uint64

function rangeError(message: string): TlogwatchError {
  return new TlogwatchError('MERKLE_RANGE', message, { kind: 'input' });
}

export class CompactRange {
  #size: bigint;
  /** Largest subtree first; nodes[i] roots a perfect subtree of height = the i-th set bit of size from the top. */
  #nodes: Uint8Array[];

  private constructor(size: bigint, nodes: Uint8Array[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): CompactRange {
    return new CompactRange(0n, []);
  }

  /** Frontier of [0, size) from its nodes, left to right, largest first (exactly popcount(size) hashes, copied). */
  static fromNodes(size: bigint, nodes: readonly Uint8Array[]): CompactRange {
    if (size < 0n || size > MAX_SIZE) throw rangeError(`frontier size ${size} is not a uint64`);
    const want = popcount(size);
    if (nodes.length !== want) throw rangeError(`a frontier of size ${size} has ${want} nodes, got ${nodes.length}`);
    nodes.forEach((n, i) => {
      if (n.length !== HASH_SIZE) throw rangeError(`frontier node ${i} has ${n.length} bytes, want ${HASH_SIZE}`);
    });
    return new CompactRange(size, nodes.map((n) => new Uint8Array(n)));
  }

  /**
   * Frontier of [0, size) from an inclusion proof of its last leaf (index size-1) in a tree of `size`;
   * or, with four arguments, the frontier of [0, index+1) from an inclusion proof of leaf `index` in any
   * tree of `treeSize` > index (a proof fetched against a later checkpoint). The proof's left siblings are
   * exactly the perfect subtrees covering [0, index) (a left subtree of an MTH split is always perfect), so
   * with the leaf appended they form the frontier. The caller must verify the proof against a trusted root
   * first: this only reads its shape.
   */
  static fromInclusionProof(size: bigint, lastLeafHash: Uint8Array, proof: readonly Uint8Array[]): CompactRange;
  static fromInclusionProof(index: bigint, treeSize: bigint, leafHash: Uint8Array, proof: readonly Uint8Array[]): CompactRange;
  static fromInclusionProof(a: bigint, b: bigint | Uint8Array, c: Uint8Array | readonly Uint8Array[], d?: readonly Uint8Array[]): CompactRange {
    if (typeof b === 'bigint') {
      if (!(c instanceof Uint8Array) || d === undefined) throw new TypeError('fromInclusionProof(index, treeSize, leafHash, proof)');
      return fromProof(a, b, c, d);
    }
    if (c instanceof Uint8Array) throw new TypeError('fromInclusionProof(size, lastLeafHash, proof)');
    return fromProof(a - 1n, a, b, c);
  }

  get size(): bigint {
    return this.#size;
  }

  /** The frontier's hashes, largest subtree first (copies: the range's own nodes stay private). */
  nodes(): Uint8Array[] {
    return this.#nodes.map((n) => new Uint8Array(n));
  }

  /**
   * Appends one leaf hash. `visit` sees every complete subtree node created, level 0 (the leaf itself) first,
   * so callers can persist tile hashes. Hot path: one nodeHash per merge, amortised one per leaf.
   */
  append(leaf: Uint8Array, visit?: NodeVisitor): void {
    if (leaf.length !== HASH_SIZE) throw new RangeError(`append: leaf hash has ${leaf.length} bytes, want ${HASH_SIZE}`);
    if (this.#size === MAX_SIZE) throw rangeError('frontier is full (2^64 - 1 leaves)');
    let index = this.#size;
    // Keep our own copy: a caller reusing its buffer must not rewrite the frontier.
    let hash: Uint8Array = new Uint8Array(leaf);
    visit?.(0, index, hash);
    let level = 0;
    // Each trailing 1 bit of the old size is a subtree of equal height to merge with (carry propagation).
    for (let s = this.#size; (s & 1n) === 1n; s >>= 1n) {
      hash = nodeHash(this.#nodes.pop()!, hash);
      level++;
      index >>= 1n;
      visit?.(level, index, hash);
    }
    this.#nodes.push(hash);
    this.#size++;
  }

  /** MTH of [0, size): the nodes folded from the right; EMPTY_ROOT (a copy) for size 0. */
  root(): Uint8Array {
    const n = this.#nodes;
    if (n.length === 0) return new Uint8Array(EMPTY_ROOT);
    let r = n[n.length - 1]!;
    for (let i = n.length - 2; i >= 0; i--) r = nodeHash(n[i]!, r);
    return n.length === 1 ? new Uint8Array(r) : r;
  }

  /**
   * MTH(D[0:size]) of a tree whose leaves [0, this.size) this range covers, whose leaf `this.size` is
   * `leaf`, and where `right` are the elements of that leaf's PATH right of it (prove.ts
   * inclusionRightPlan). The range's nodes are exactly the path's left elements (the left subtrees of MTH
   * splits are perfect), so this is RFC 9162 §2.1.3.2 on the proof they make together: hashes the caller
   * computed from leaves it holds, checked against a root with only the hashes after them read from elsewhere.
   */
  rootWith(leaf: Uint8Array, size: bigint, right: readonly Uint8Array[]): Uint8Array {
    const index = this.#size;
    const { inner, border } = decompInclProof(index, size);
    const lefts = this.#nodes.slice().reverse(); // leaf to root
    const proof: Uint8Array[] = [];
    let r = 0;
    for (let i = 0; i < inner + border; i++) {
      const left = i >= inner || isLeftInner(index, i);
      const h = left ? lefts.shift() : right[r++];
      if (h !== undefined) proof.push(h);
    }
    // Too few right elements give a short proof, too many are left over: either way a wrong-length proof.
    return rootFromInclusionProof(index, size, leaf, r < right.length ? [...proof, ...right.slice(r)] : proof);
  }

  /** Independent copy (nodes are never written in place, so sharing them is safe). */
  clone(): CompactRange {
    return new CompactRange(this.#size, this.#nodes.slice());
  }

  /** 8-byte big-endian size followed by the nodes, largest first: 8 + 32·popcount(size) bytes (≤ 2,056). */
  serialize(): Uint8Array {
    const out = new Uint8Array(8 + this.#nodes.length * HASH_SIZE);
    new DataView(out.buffer).setBigUint64(0, this.#size);
    this.#nodes.forEach((n, i) => out.set(n, 8 + i * HASH_SIZE));
    return out;
  }

  /** Strict inverse of serialize(): throws MERKLE_RANGE unless the length is exactly 8 + 32·popcount(size). */
  static deserialize(b: Uint8Array): CompactRange {
    if (b.length < 8) throw rangeError(`serialized frontier has ${b.length} bytes, shorter than its 8-byte size`);
    const size = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);
    const want = 8 + popcount(size) * HASH_SIZE;
    if (b.length !== want) throw rangeError(`serialized frontier of size ${size} must be ${want} bytes, got ${b.length}`);
    const nodes: Uint8Array[] = [];
    // new Uint8Array(view) copies (Buffer#slice would not), so the range never aliases the caller's bytes.
    for (let off = 8; off < b.length; off += HASH_SIZE) nodes.push(new Uint8Array(b.subarray(off, off + HASH_SIZE)));
    return new CompactRange(size, nodes);
  }

  /** Heights of the frontier's nodes, largest first (the set bits of size). */
  static heights(size: bigint): number[] {
    const out: number[] = [];
    for (let k = bitLength(size) - 1; k >= 0; k--) if (((size >> BigInt(k)) & 1n) === 1n) out.push(k);
    return out;
  }
}

function fromProof(index: bigint, treeSize: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): CompactRange {
  if (index < 0n || index >= treeSize) throw rangeError(`leaf ${index} is not in a tree of size ${treeSize}`);
  const { inner, border } = decompInclProof(index, treeSize);
  if (proof.length !== inner + border) {
    throw new TlogwatchError('MERKLE_BAD_PROOF', `inclusion proof for leaf ${index} in tree ${treeSize} has ${proof.length} hashes, want ${inner + border}`, {
      kind: 'input',
    });
  }
  // Leaf-to-root order: inner siblings on the left where the index bit is set, then every border sibling.
  const lefts: Uint8Array[] = [];
  for (let i = 0; i < proof.length; i++) if (i >= inner || isLeftInner(index, i)) lefts.push(proof[i]!);
  const range = CompactRange.fromNodes(index, lefts.reverse());
  range.append(leaf);
  return range;
}
