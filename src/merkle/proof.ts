/**
 * Inclusion and consistency proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 *
 * Matches transparency-dev/merkle `proof/verify.go` on its golden probes, including its choice that a
 * consistency proof from size 0 is meaningless and rejected (vectors/SOURCES.md).
 */
import { TlogwatchError } from '../errors.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { HASH_SIZE, nodeHash } from './rfc6962.ts';

function bad(message: string, data: Record<string, unknown> = {}): TlogwatchError {
  return new TlogwatchError('MERKLE_BAD_PROOF', message, { kind: 'input', data });
}

function checkHashes(proof: readonly Uint8Array[]): void {
  for (let i = 0; i < proof.length; i++) {
    if (proof[i]!.length !== HASH_SIZE) throw bad(`proof hash ${i} has ${proof[i]!.length} bytes, want ${HASH_SIZE}`);
  }
}

/** RFC 9162 §2.1.3.2 steps 1–6: the root implied by an inclusion proof. Throws on a malformed proof. */
export function rootFromInclusionProof(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  if (index < 0n || index >= size) throw bad(`leaf index ${index} is not below tree size ${size}`);
  if (leaf.length !== HASH_SIZE) throw bad(`leaf hash has ${leaf.length} bytes`);
  checkHashes(proof);
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw bad('inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw bad('inclusion proof is too short');
  return r;
}

export function verifyInclusion(index: bigint, size: bigint, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (root.length !== HASH_SIZE) throw bad(`root has ${root.length} bytes`);
  const got = rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(got, root)) {
    throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `inclusion proof for leaf ${index} in tree ${size} gives root ${toHex(got)}, want ${toHex(root)}`, {
      kind: 'input',
      data: { index: index.toString(), size: size.toString() },
    });
  }
}

/** RFC 9162 §2.1.4.2. Throws unless `proof` shows the tree of size1/root1 is a prefix of size2/root2. */
export function verifyConsistency(size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkHashes(proof);
  if (size2 < size1) throw bad(`size2 ${size2} < size1 ${size1}`);
  // transparency-dev rejects size1 = 0 before anything else (vectors/SOURCES.md); sigsum accepts it.
  if (size1 === 0n) throw bad('consistency proof from an empty tree is meaningless');
  if (size1 === size2) {
    if (proof.length > 0) throw bad('size1 == size2 but the proof is not empty');
    if (!bytesEqual(root1, root2)) throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `two different roots for size ${size1}`, { kind: 'input' });
    return;
  }
  if (root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) throw bad('roots must be 32-byte hashes');
  if (proof.length === 0) throw bad('empty consistency proof');

  // Step 1: if size1 is an exact power of two, prepend root1 to the path.
  const path = (size1 & (size1 - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) throw bad('consistency proof is too long');
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
  if (sn !== 0n) throw bad('consistency proof is too short');
  if (!bytesEqual(fr, root1)) throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `consistency proof does not match root1 of size ${size1}`, { kind: 'input' });
  if (!bytesEqual(sr, root2)) throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `consistency proof does not match root2 of size ${size2}`, { kind: 'input' });
}
