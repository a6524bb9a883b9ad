/**
 * Deterministic randomness. `seeded(...)` hashes its parts once with SHA-256 (setup paths); `entryRandom`
 * derives a stream per (seed, stream, index) with integer mixing only, because the build calls it for
 * every one of a million entries. Both feed mulberry32. Indexes go past 2^32, so they are split with
 * division, not bit operators.
 */
import { createHash } from 'node:crypto';

function mulberry32(state: number): () => number {
  let a = state;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit word from SHA-256 of the parts. */
export function seedWord(...parts: Array<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}

export function seeded(...parts: Array<string | number>): () => number {
  return mulberry32(seedWord(...parts));
}

/** murmur3's 32-bit finaliser: full avalanche on a 32-bit word. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The random stream of entry `index` (any safe integer) under `word` (from seedWord) and `stream`. */
export function entryRandom(word: number, stream: number, index: number): () => number {
  const lo = index % 4294967296;
  const hi = Math.floor(index / 4294967296);
  return mulberry32(fmix(fmix(fmix(word ^ Math.imul(stream + 1, 0x9e3779b9)) ^ lo) ^ hi));
}

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export function randomHex(r: () => number, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}
