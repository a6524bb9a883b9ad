/**
 * mapBounded (src/sources/tiles.ts), the sources' bounded fan-out: entry bundles of a tiles batch, retrieve
 * groups of a Rekor v1 batch. Its results are the items mapped in order, with at most `limit` calls in
 * flight; and once a call fails the batch has failed, so no further item is started (each one a request
 * against the log's rate budget, for a batch no one will use).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../src/sources/tiles.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('mapBounded', () => {
  it('maps every item in order with at most `limit` in flight', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 40 }), fc.integer({ min: 1, max: 10 }), fc.array(fc.nat(3), { minLength: 1, maxLength: 40 }), async (items, limit, delays) => {
        let inFlight = 0;
        let most = 0;
        const out = await mapBounded(items, limit, async (x) => {
          most = Math.max(most, ++inFlight);
          for (let d = delays[Math.abs(x) % delays.length]!; d > 0; d--) await tick();
          inFlight--;
          return x * 2;
        });
        expect(out).toEqual(items.map((x) => x * 2));
        expect(most).toBeLessThanOrEqual(limit);
      }),
    );
  });

  it('starts no item once one has failed, and rejects with that failure', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.nat(), async (n, limit, at) => {
        const failing = at % n;
        const items = Array.from({ length: n }, (_, i) => i);
        let failedAt: number | undefined;
        const startedAfter: number[] = [];
        const err = await mapBounded(items, limit, async (i) => {
          if (failedAt !== undefined) startedAfter.push(i);
          await tick();
          if (i === failing) {
            failedAt = i;
            throw new Error(`item ${i}`);
          }
          return i;
        }).catch((e: unknown) => e);
        expect((err as Error).message).toBe(`item ${failing}`);
        await tick(); // the other workers' calls in flight settle
        await tick();
        expect(startedAfter).toEqual([]);
      }),
    );
  });

  it('stops starting items once `proceed` says no, and returns the results of those started: a prefix, at least the first', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(100), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.nat(300), fc.array(fc.nat(3), { minLength: 1, maxLength: 20 }), async (sizes, limit, budget, delays) => {
        let received = 0;
        const started: number[] = [];
        const out = await mapBounded(
          sizes.map((_, i) => i),
          limit,
          async (i) => {
            started.push(i);
            for (let d = delays[i % delays.length]!; d > 0; d--) await tick();
            received += sizes[i]!;
            return sizes[i]!;
          },
          () => received < budget,
        );
        // A prefix, in order, of exactly the items started, never empty.
        expect(out.length).toBeGreaterThanOrEqual(1);
        expect(out).toEqual(sizes.slice(0, out.length));
        expect([...started].sort((a, b) => a - b)).toEqual(out.map((_, i) => i));
        // Stopping early means the budget was reached by what had been received, all of it returned.
        if (out.length < sizes.length) expect(out.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(budget);
      }),
    );
  });
});
