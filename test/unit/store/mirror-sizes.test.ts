/**
 * codec.ts mirrorSizes: the verified size, upstream size and lag that /v1/logs and the gauges
 * (tlogwatch_upstream_tree_size, tlogwatch_mirror_lag_entries) give, in the log's virtual numbering.
 */
import { describe, expect, it } from 'vitest';
import { mirrorSizes, type VerifiedHead } from '../../../src/store/codec.ts';

const head = (size: bigint): VerifiedHead => ({ size, rootHash: new Uint8Array(32), note: '', at: 0 });
const upstream = (size: bigint) => ({ size, at: 0 });

describe('mirrorSizes', () => {
  it('knows nothing of the log before its first poll', () => {
    expect(mirrorSizes({ startIndex: 0n })).toEqual({});
  });

  it('while bootstrapping: no verified size, and the lag counts from where the mirror started, not from 0', () => {
    expect(mirrorSizes({ startIndex: 0n, upstream: upstream(1000n) })).toEqual({ upstream: 1000n, lag: 1000n });
    // Started at 3,000,000,000 of a Rekor v1 log: 1000 entries to verify, not 3·10^9.
    expect(mirrorSizes({ startIndex: 3_000_000_000n, upstream: upstream(3_000_001_000n), shard: { treeID: 't', offset: 2_000_000_000n, seq: 0 } })).toEqual({ upstream: 3_000_001_000n, lag: 1000n });
  });

  it('following: from the verified checkpoint, a Rekor v1 tree placed after the trees before it', () => {
    expect(mirrorSizes({ startIndex: 0n, verified: head(400n), upstream: upstream(1000n) })).toEqual({ verified: 400n, upstream: 1000n, lag: 600n });
    expect(mirrorSizes({ startIndex: 0n, verified: head(400n), upstream: upstream(1500n), shard: { treeID: 't', offset: 1000n, seq: 1 } })).toEqual({ verified: 1400n, upstream: 1500n, lag: 100n });
  });

  it('in a Rekor v1 tree after the first followed, before a checkpoint of it verifies: verified where the trees before it end', () => {
    expect(mirrorSizes({ startIndex: 0n, upstream: upstream(1500n), shard: { treeID: 't', offset: 1000n, seq: 1 } })).toEqual({ verified: 1000n, upstream: 1500n, lag: 500n });
  });

  it('never a negative lag (an upstream size seen before the verified one moved past it)', () => {
    expect(mirrorSizes({ startIndex: 0n, verified: head(900n), upstream: upstream(800n) })).toEqual({ verified: 900n, upstream: 800n, lag: 0n });
  });
});
