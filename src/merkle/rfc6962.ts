/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256.
 * https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 *
 *   MTH({})    = SHA-256()
 *   leaf hash  = SHA-256(0x00 || d)
 *   node hash  = SHA-256(0x01 || left || right)
 */
import { hash } from 'node:crypto';
import { leafHashNative, nodeHashNative } from './native.ts';

export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree. Shared: callers must not write into it. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(hash('sha256', new Uint8Array(0), 'buffer'));

// One reusable scratch buffer for node hashing (the hot path). nodeHash is synchronous, so no call can
// observe another's bytes. The one-shot crypto.hash over it is one native call where createHash()
// .update().digest() is three plus an object (BENCHMARKS.md "Merkle" measures both in the same run).
const nodeScratch = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;

/** SHA-256(0x00 || data): the hash of one log entry. Returns a fresh 32-byte array. */
export function leafHash(data: Uint8Array): Uint8Array {
  const fast = leafHashNative(data);
  if (fast) return fast;
  const buf = Buffer.allocUnsafe(data.length + 1); // from Node's pool for entries under 4 KiB
  buf[0] = 0x00;
  buf.set(data, 1);
  return hash('sha256', buf, 'buffer');
}

/** SHA-256(0x01 || left || right): an interior node. Returns a fresh 32-byte array. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new RangeError('nodeHash: inputs must be 32-byte hashes');
  const fast = nodeHashNative(left, right);
  if (fast) return fast;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeScratch, 'buffer');
}

/**
 * The naive recursive MTH over leaf hashes (RFC 9162 §2.1.1: split at the largest power of two strictly
 * below n), kept deliberately simple as the reference the tests compare every faster path with.
 */
export function rootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  const n = leaves.length;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(rootFromLeafHashes(leaves.slice(0, k)), rootFromLeafHashes(leaves.slice(k)));
}
