/**
 * How the catch-up cuts [from, treeSize) into batches (catch-up.ts batchEnd): walking it from any start
 * covers every index exactly once, never passes the tree, and for tiles logs ends every batch but the
 * last on a bundle boundary, so no bundle is fetched twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchEnd } from '../../../src/mirror/catch-up.ts';

/** The batches a catch-up from `from` to `size` makes, as [start, end) pairs. */
function walk(type: 'tiles' | 'rekor-v1', batchSize: number, from: bigint, size: bigint): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  for (let at = from; at < size; ) {
    const end = batchEnd(type, batchSize, at, size);
    out.push([at, end]);
    at = end;
  }
  return out;
}

describe('batchEnd', () => {
  it('tiles: whole bundles from a bundle boundary, a short first batch from inside one, a partial last', () => {
    expect(walk('tiles', 4096, 0n, 10_000n)).toEqual([
      [0n, 4096n],
      [4096n, 8192n],
      [8192n, 10_000n],
    ]);
    expect(walk('tiles', 4096, 100n, 5000n)).toEqual([
      [100n, 4096n],
      [4096n, 5000n],
    ]);
    // Batch sizes round down to whole bundles, and never below one.
    expect(batchEnd('tiles', 1000, 0n, 10_000n)).toBe(768n);
    expect(batchEnd('tiles', 10, 0n, 10_000n)).toBe(256n);
  });

  it('rekor-v1: exactly batchSize entries, the last one clipped', () => {
    expect(walk('rekor-v1', 100, 5n, 255n)).toEqual([
      [5n, 105n],
      [105n, 205n],
      [205n, 255n],
    ]);
  });

  it('covers [from, size) exactly once, in order, in batches of at most the step, on bundle boundaries for tiles', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tiles' as const, 'rekor-v1' as const),
        fc.integer({ min: 1, max: 5000 }),
        fc.bigInt({ min: 0n, max: 100_000n }),
        fc.bigInt({ min: 1n, max: 20_000n }),
        (type, batchSize, from, extra) => {
          const size = from + extra;
          const batches = walk(type, batchSize, from, size);
          const step = BigInt(type === 'tiles' ? Math.max(256, Math.floor(batchSize / 256) * 256) : batchSize);
          expect(batches[0]![0]).toBe(from);
          expect(batches.at(-1)![1]).toBe(size);
          for (let i = 0; i < batches.length; i++) {
            const [s, e] = batches[i]!;
            expect(e > s).toBe(true);
            expect(e - s <= step).toBe(true);
            if (i > 0) expect(s).toBe(batches[i - 1]![1]);
            if (type === 'tiles' && e !== size) expect(e % 256n).toBe(0n);
          }
        },
      ),
    );
  });
});
