/**
 * SHA-256 as lower-case hex, for fingerprints and cache keys on the hot path (every certificate of every
 * entry): through the native addon when it loaded, at a fraction of node:crypto's per-call cost
 * (src/merkle/native.ts, BENCHMARKS.md "Merkle"), else node:crypto. Same result either way; the addon's
 * self-test checks it against node:crypto before it is used.
 */
import { hash } from 'node:crypto';
import { sha256NativeScratch } from '../merkle/native.ts';

export function sha256Hex(data: Uint8Array): string {
  return sha256NativeScratch(data)?.toString('hex') ?? hash('sha256', data, 'hex');
}
