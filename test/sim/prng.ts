/** Deterministic randomness from (seed, stream, index): mulberry32 seeded through SHA-256 once per stream. */
import { createHash } from 'node:crypto';

export function seeded(...parts: Array<string | number>): () => number {
  let a = createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
