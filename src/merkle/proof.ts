/**
 * Inclusion and consistency proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 *
 * Inclusion uses the decomposition of transparency-dev/merkle `proof/verify.go` (decompInclProof,
 * chainInner, chainBorderRight), which computes the same root as the RFC's loop but knows the proof's
 * exact length up front, so a wrong-length proof gets a precise error. Consistency follows the RFC's
 * §2.1.4.2 loop. Both match transparency-dev on its golden probes, including its choice that a
 * consistency proof from size 0 is meaningless and rejected (vectors/SOURCES.md; c2sp.md §2.2).
 */
import { TlogwatchError } from '../errors.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { bitLength, popcount } from './bits.ts';
import { consistencyRootsNative, inclusionRootNativeScratch } from './native.ts';
import { HASH_SIZE, nodeHash } from './rfc6962.ts';

function bad(message: string, data: Record<string, unknown> = {}): TlogwatchError {
  return new TlogwatchError('MERKLE_BAD_PROOF', message, { kind: 'input', data });
}

function mismatch(message: string, data: Record<string, unknown>): TlogwatchError {
  return new TlogwatchError('MERKLE_ROOT_MISMATCH', message, { kind: 'input', data });
}

function checkHash(what: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw bad(`${what} has ${h.length} bytes, want ${HASH_SIZE}`);
}

function checkHashes(proof: readonly Uint8Array[]): void {
  for (let i = 0; i < proof.length; i++) checkHash(`proof hash ${i}`, proof[i]!);
}

/**
 * Shape of the inclusion proof of leaf `index` in a tree of `size` (0 <= index < size): the first `inner`
 * hashes are siblings below the point where the leaf's path meets the tree's right border, the next
 * `border` are left siblings on that border. The proof has exactly inner + border hashes.
 */
export function decompInclProof(index: bigint, size: bigint): { inner: number; border: number } {
  if (index < 0n || index >= size) throw bad(`leaf index ${index} is not below tree size ${size}`);
  const inner = bitLength(index ^ (size - 1n));
  return { inner, border: popcount(index >> BigInt(inner)) };
}

/** True when proof hash `i` (of the `inner` ones) is a left sibling: bit i of the leaf index is set. */
export function isLeftInner(index: bigint, i: number): boolean {
  return ((index >> BigInt(i)) & 1n) === 1n;
}

/** RFC 9162 §2.1.3.2 steps 1–6: the root implied by an inclusion proof. Throws MERKLE_BAD_PROOF on a malformed proof. */
export function rootFromInclusionProof(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  return inclusionRootNativeScratch(index, size, leaf, proof)?.slice() ?? inclusionRootCrypto(index, size, leaf, proof);
}

/**
 * rootFromInclusionProof with node:crypto: the definition. The addon (native.ts) answers only for a proof
 * it fully accepts; anything else, valid or not, comes here, which gives the precise error.
 */
function inclusionRootCrypto(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  const { inner, border } = decompInclProof(index, size);
  checkHash('leaf hash', leaf);
  if (proof.length !== inner + border) {
    throw bad(`inclusion proof for leaf ${index} in tree ${size} has ${proof.length} hashes, want ${inner + border}`, {
      index: index.toString(),
      size: size.toString(),
    });
  }
  checkHashes(proof);
  let r = leaf;
  // chainInner: below the border the index bits say which side each sibling is on.
  let bits = index;
  for (let i = 0; i < inner; i++) {
    r = (bits & 1n) === 1n ? nodeHash(proof[i]!, r) : nodeHash(r, proof[i]!);
    bits >>= 1n;
  }
  // chainBorderRight: on the right border every sibling is on the left.
  for (let i = inner; i < proof.length; i++) r = nodeHash(proof[i]!, r);
  return r;
}

/** Throws MERKLE_BAD_PROOF (malformed) or MERKLE_ROOT_MISMATCH unless `proof` shows `leaf` at `index` under `root`. */
export function verifyInclusion(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkHash('root', root);
  // The scratch root is compared (and printed) before anything else can overwrite it.
  const got = inclusionRootNativeScratch(index, size, leaf, proof) ?? inclusionRootCrypto(index, size, leaf, proof);
  if (!bytesEqual(got, root)) {
    throw mismatch(`inclusion proof for leaf ${index} in tree ${size} gives root ${toHex(got)}, want ${toHex(root)}`, {
      index: index.toString(),
      size: size.toString(),
    });
  }
}

/**
 * RFC 9162 §2.1.4.2. Throws unless `proof` shows the tree of size1/root1 is a prefix of size2/root2:
 * MERKLE_BAD_PROOF for a malformed proof or impossible sizes, MERKLE_ROOT_MISMATCH when a root differs.
 *
 * Edge cases (c2sp.md §2.2): size1 > size2 and size1 = 0 are errors (transparency-dev: "a consistency
 * proof from an empty tree is meaningless"); size1 = size2 needs an empty proof and equal roots.
 */
export function verifyConsistency(size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  if (size1 < 0n || size2 < 0n) throw bad(`negative tree size (${size1}, ${size2})`);
  if (size2 < size1) throw bad(`size2 ${size2} < size1 ${size1}`);
  if (size1 === 0n) throw bad('consistency proof from an empty tree is meaningless');
  checkHashes(proof);
  const sizes = { size1: size1.toString(), size2: size2.toString() };
  // Equal sizes compare the roots as given, whatever their length (transparency-dev's probe
  // sizes-are-equal-one-and-proof-is-empty passes 12-byte roots and expects success).
  if (size1 === size2) {
    if (proof.length > 0) throw bad(`size1 == size2 == ${size1} but the proof has ${proof.length} hashes`, sizes);
    if (!bytesEqual(root1, root2)) throw mismatch(`two different roots for size ${size1}: ${toHex(root1)} and ${toHex(root2)}`, sizes);
    return;
  }
  checkHash('root1', root1);
  checkHash('root2', root2);
  if (proof.length === 0) throw bad('empty consistency proof', sizes);

  const [fr, sr] = consistencyRootsNative(size1, size2, proof, root1) ?? consistencyRoots(size1, size2, proof, root1, sizes);
  if (!bytesEqual(fr, root1)) throw mismatch(`consistency proof does not lead to root1 ${toHex(root1)} of size ${size1}`, sizes);
  if (!bytesEqual(sr, root2)) throw mismatch(`consistency proof does not lead to root2 ${toHex(root2)} of size ${size2}`, sizes);
}

/**
 * RFC 9162 §2.1.4.2 steps 1–7 for 0 < size1 < size2 and a non-empty proof of 32-byte hashes: the roots of
 * size1 and size2 the proof implies. Throws MERKLE_BAD_PROOF when the proof is too long or too short.
 */
function consistencyRoots(size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array, sizes: Record<string, string>): [Uint8Array, Uint8Array] {
  // Step 1: when size1 is a power of two the old tree is a perfect left subtree and SUBPROOF omits its
  // root, so root1 seeds the path.
  const seeded = (size1 & (size1 - 1n)) === 0n;
  let at = seeded ? 0 : 1;
  const first = seeded ? root1 : proof[0]!;
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = first;
  let sr = first;
  for (; at < proof.length; at++) {
    const c = proof[at]!;
    if (sn === 0n) throw bad(`consistency proof is too long (${proof.length} hashes)`, sizes);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw bad(`consistency proof is too short (${proof.length} hashes)`, sizes);
  return [fr, sr];
}
