/**
 * Where a rollback of a log's current tree goes (store/rollback.ts unverifiedFrom): the verified
 * checkpoint's size; with none verified in the tree, where its held entries start (the start frontier of
 * the tree that holds startIndex, a Rekor v1 tree entered later from its first leaf, a tree before which
 * backfill reached earlier trees from its first leaf too).
 */
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { localStartIndex, type LogState, type VerifiedHead } from '../../../src/store/codec.ts';
import { unverifiedFrom } from '../../../src/store/rollback.ts';

const head = (size: bigint): VerifiedHead => ({ size, rootHash: new Uint8Array(32), note: '', at: 0 });

/** A frontier over `size` leaves (any hashes: only its size and nodes matter here). */
function range(size: number): CompactRange {
  const r = CompactRange.empty();
  for (let i = 0; i < size; i++) r.append(new Uint8Array(32).fill(i % 251));
  return r;
}

function state(over: Partial<LogState>): LogState {
  return { name: 'x', type: 'tiles', url: 'http://127.0.0.1', origin: 'x', status: 'following', frontier: range(40).serialize(), startIndex: 0n, ...over };
}

describe('unverifiedFrom', () => {
  it('is the verified size when a checkpoint of the current tree is verified, whatever the start', () => {
    expect(unverifiedFrom(state({ verified: head(30n), startIndex: 10n, startFrontier: range(10).serialize() }))).toEqual({ size: 30n });
  });

  it('with none verified, is the start frontier of the tree that holds the start, as recorded', () => {
    const to = unverifiedFrom(state({ startIndex: 10n, startFrontier: range(10).serialize() }));
    expect(to.size).toBe(10n);
    expect(to.frontier?.serialize()).toEqual(range(10).serialize());
  });

  it('with none verified and no start frontier (an older store), is the start, its frontier to rebuild', () => {
    expect(unverifiedFrom(state({ startIndex: 10n }))).toEqual({ size: 10n });
    expect(unverifiedFrom(state({ type: 'rekor-v1', startIndex: 110n, shard: { treeID: 'a', offset: 100n, seq: 0 } }))).toEqual({ size: 10n });
  });

  it('is the first leaf of a Rekor v1 tree entered after the one the mirror started in, or before which backfill reached', () => {
    const later = unverifiedFrom(state({ type: 'rekor-v1', startIndex: 50n, startFrontier: range(50).serialize(), shard: { treeID: 'b', offset: 100n, seq: 1 } }));
    expect(later.size).toBe(0n);
    expect(later.frontier?.size).toBe(0n);
    // Backfill reached the tree before (its entries from 80 on): the tree the mirror started in is held from leaf 0.
    const backfilled = unverifiedFrom(state({ type: 'rekor-v1', startIndex: 80n, startFrontier: range(80).serialize(), priorTrees: [{ treeID: 'p', head: head(100n) }], shard: { treeID: 'a', offset: 100n, seq: 0 } }));
    expect(backfilled.size).toBe(0n);
  });

  it('is the first leaf of a later Rekor v1 tree in a store from before start frontiers too, where the start cannot be placed in its tree', () => {
    // Started at 50 in the first tree (offset unknown to the state: localStartIndex says so), now in the second.
    const old = state({ type: 'rekor-v1', startIndex: 50n, shard: { treeID: 'b', offset: 100n, seq: 1 } });
    expect(localStartIndex(old)).toBeUndefined();
    expect(unverifiedFrom(old)).toEqual({ size: 0n, frontier: CompactRange.empty() });
  });
});
