/**
 * The batched node reader (tree-hashes.ts readNodes, behind Store.hashReader) against the per-node one it
 * replaced (readNode, the oracle), on real LevelDB stores of random sizes, some started mid-log with only
 * the frontier's nodes left of the start; and its node cache (node-cache.ts) across a rollback.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { verifyInclusion } from '../../../src/merkle/proof.ts';
import { inclusionPlan, proveInclusionAsync, type NodeId } from '../../../src/merkle/prove.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { checkVerifiedRoot } from '../../../src/store/check-tree.ts';
import { nodeKey } from '../../../src/store/keys.ts';
import { rollBackTree } from '../../../src/store/rollback.ts';
import { Store } from '../../../src/store/store.ts';
import { readNode } from '../../../src/store/tree-hashes.ts';
import { bodyAt, entryAt, fill, hex, tempDirs } from './fixtures.ts';

const tmp = tempDirs('tlogwatch-tree-hashes-');

/** Any complete node of [0, n) that readNode can answer: wholly at or after `start`, or one the naive tree gives. */
const nodeIn = (n: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: n - 1 }))
    .map(([level, at]): NodeId => ({ level, index: BigInt(at >> level) }))
    .filter((x) => (Number(x.index) + 1) << x.level <= n);

describe('readNodes (Store.hashReader)', () => {
  it('returns exactly what readNode returns, and its proofs verify (RFC 9162 §2.1.3.2)', async () => {
    const tree = fc
      .tuple(fc.oneof(fc.constantFrom(255, 256, 257, 511, 512, 1024), fc.integer({ min: 1, max: 1400 })), fc.oneof(fc.constant(0), fc.nat({ max: 1400 })))
      .map(([n, s]) => ({ n, start: Math.min(s, n - 1) }));
    await fc.assert(
      fc.asyncProperty(tree, fc.array(fc.array(nodeIn(1400), { minLength: 1, maxLength: 24 }), { minLength: 4, maxLength: 4 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), async ({ n, start }, batches, leaves) => {
        const store = await Store.open(tmp());
        try {
          const { bodies } = await fill(store, n, { batch: 211, start });
          const hashes = bodies.map(leafHash);
          const log = { id: await store.logId('l'), name: 'l', tree: 0 };
          const oracle = (ids: readonly NodeId[]) => Promise.all(ids.map(async (x) => hex(await readNode(store.db, log, x.level, x.index))));
          const cached = store.hashReader('l');
          const uncached = store.hashReader('l', 0, { uncached: true });
          // Arbitrary batches (left of the start too: readNode answers the pre-start frontier's nodes), then proofs' paths.
          const paths = leaves.map((l) => start + (l % (n - start))).map((i) => inclusionPlan(BigInt(i), BigInt(n)).nodes);
          for (const ids of [...batches.map((b) => b.filter((x) => (Number(x.index) + 1) << x.level <= n)), ...paths]) {
            const want = await oracle(ids).catch((e: unknown) => e);
            if (want instanceof Error) {
              // Which missing node's error comes first is the order the reads end in.
              await expect(uncached(ids)).rejects.toThrow(/the mirror holds no hash for leaf/);
              continue;
            }
            expect((await uncached(ids)).map(hex)).toEqual(want);
            expect((await cached(ids)).map(hex)).toEqual(want);
            expect((await cached(ids)).map(hex)).toEqual(want); // from the cache the second time
          }
          const root = rootFromLeafHashes(hashes);
          for (const l of leaves) {
            const i = start + (l % (n - start));
            verifyInclusion(BigInt(i), BigInt(n), hashes[i]!, await proveInclusionAsync(BigInt(i), BigInt(n), cached), root);
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 14 },
    );
  }, 120_000);

  it('does not serve a node cached before a rollback once the rolled-back leaves are appended again with other bodies', async () => {
    const store = await Store.open(tmp());
    const n = 1024;
    await fill(store, n, { batch: 256 });
    const read = store.hashReader('l');
    const upper: NodeId = { level: 9, index: 1n }; // leaves [512, 1024): 2^(9 mod 8) = 2 row-8 hashes
    const wide: NodeId = { level: 7, index: 7n }; // leaves [896, 1024): 128 row-0 hashes, kept by the cache
    const before = (await read([upper, wide])).map(hex);
    await proveInclusionAsync(3n, BigInt(n), read);

    const { state } = await rollBackTree(store, (await store.getLogState('l'))!, { size: 600n });
    const range = CompactRange.deserialize(state.frontier);
    const leaves: Uint8Array[] = [];
    const entries = [];
    for (let i = 600; i < n; i++) {
      const body = bodyAt(i + 5000);
      leaves.push(leafHash(body));
      entries.push({ record: { entry: entryAt(i, body) }, body });
    }
    const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
    for (const h of leaves) range.append(h, (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
    await store.commitBatch({ entries, nodes, state: { ...state, frontier: range.serialize() } });

    const after = (await read([upper, wide])).map(hex);
    const log = { id: await store.logId('l'), name: 'l', tree: 0 };
    expect(after).toEqual([hex(await readNode(store.db, log, 9, 1n)), hex(await readNode(store.db, log, 7, 7n))]);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    await store.close();
  });

  it('a check of the stored hashes reads past the cache: damage under a kept node is found', async () => {
    const store = await Store.open(tmp());
    const n = 4096; // root = node (12, 0): 16 row-8 hashes, kept by the cache
    const { range } = await fill(store, n, { batch: 1024 });
    const state = { ...(await store.getLogState('l'))!, verified: { size: range.size, rootHash: range.root(), note: 'n', at: 1 } };
    await store.hashReader('l')([{ level: 12, index: 0n }]);
    expect(await checkVerifiedRoot(store, 'l', state)).toEqual([]);
    // Damage as the disk would do it: past the store's writes, so nothing empties the cache.
    await store.db.put(nodeKey(await store.logId('l'), 0, 8, 3n), new Uint8Array(32).fill(7));
    expect((await checkVerifiedRoot(store, 'l', state)).join('\n')).toMatch(/root/);
    await store.close();
  });
});
