/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 *
 *   MTH({})    = SHA-256()
 *   leaf hash  = SHA-256(0x00 || d)
 *   node hash  = SHA-256(0x01 || left || right)
 */
import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(hash('sha256', new Uint8Array(0), 'buffer'));

const LEAF_PREFIX = new Uint8Array([0]);

export function leafHash(data: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(data.length + 1);
  buf[0] = 0;
  buf.set(data, 1);
  return hash('sha256', buf, 'buffer');
}

// One reusable 65-byte scratch buffer: node hashing is the mirror's hot path, and one createHash().update()
// over it beats three update() calls and the one-shot crypto.hash here (BENCHMARKS.md "Merkle").
const scratch = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
scratch[0] = 1;

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError('nodeHash: inputs must be 32-byte hashes');
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return createHash('sha256').update(scratch).digest();
}

/** The naive recursive MTH over leaf hashes (RFC 9162 §2.1.1), kept as the reference the tests compare with. */
export function rootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  const n = leaves.length;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(rootFromLeafHashes(leaves.slice(0, k)), rootFromLeafHashes(leaves.slice(k)));
}

export { LEAF_PREFIX };
