/**
 * One log interface, two implementations (certspotter's ctclient/rfc6962.go vs static.go): Rekor v1 REST
 * (`rekor-v1.ts`) and C2SP tlog-tiles (`tiles.ts`). The mirror sees only this.
 *
 * Nothing a source returns is trusted: the mirror verifies checkpoints' signatures, recomputes roots from
 * the leaves it is given, and cross-checks level-0 tiles where the log serves them.
 */

import { HASH_SIZE } from '../merkle/rfc6962.ts';
import { TILE_WIDTH } from '../merkle/tiles.ts';

const W = BigInt(TILE_WIDTH);

/**
 * What a source's requests are aborted with: a signal, or a function that returns the current one (a
 * follower's round's, which changes from round to round while the source stays).
 */
export type SourceSignal = AbortSignal | (() => AbortSignal | undefined);

/** The signal a source's request should carry now, as `request` options. */
export function signalOption(signal: SourceSignal | undefined): { signal?: AbortSignal } {
  const s = typeof signal === 'function' ? signal() : signal;
  return s ? { signal: s } : {};
}

/** One leaf as the log served it. */
export interface FetchedLeaf {
  /** Index in the Merkle tree that holds it (shard-local for Rekor v1). */
  treeIndex: bigint;
  /** Index the log's users see: the virtual index for Rekor v1, the tree index for tiles. */
  logIndex: bigint;
  /** The leaf data: the canonical entry body. */
  body: Uint8Array;
  /** Rekor v1 only. */
  integratedTime?: number;
  /** Rekor v1 only: the stored attestation (`attestation.data`), when the log kept one. */
  attestation?: Uint8Array;
  /** Rekor v1 only: the raw LogEntry fields the Rekor-compatible API serves unchanged. */
  v1?: { logID: string; signedEntryTimestamp?: string };
}

/** A contiguous run of leaves plus, for tiles, the log's own level-0 hashes for them (to cross-check). */
export interface LeafRun {
  leaves: FetchedLeaf[];
  tileHashes?: Uint8Array[];
}

/** One entry bundle of a tiles log as served, with its level-0 tile, unsplit. */
export interface EntryBundle {
  /** Its tile number: it holds leaves [256·n, 256·n + count) (TILE_WIDTH = 256). */
  n: bigint;
  /** The bundle's bytes, and where each entry's body starts and ends in them (2 per entry). */
  data: Uint8Array;
  bounds: Uint32Array;
  /** The level-0 tile's bytes: 32 per leaf. */
  hashes: Uint8Array;
  /** Entries the verified checkpoint implies (a full bundle may be read for a partial one). */
  count: number;
}

/**
 * Leaves [start, start + count) of a tiles log in the bundles that hold them. The mirror reads them a run
 * at a time (`leafRun`), so no leaf's objects outlive the run that uses them: listed up front, a batch's
 * leaves and views lived from its fetch, a batch ahead, to its end, and were promoted out of V8's young
 * generation, 2,048 of each per batch.
 */
export interface BundledLeaves {
  start: bigint;
  count: number;
  bundles: EntryBundle[];
  /**
   * Frees the memory behind the bundles now (those the transport inflated into memory of their own), for
   * a caller that has copied what it keeps; every body is empty afterwards. Without it V8 frees them only at
   * a full collection, as a batch lives long enough to reach its old generation.
   */
  release: () => void;
}

/** What a source returns for a range of leaves: listed (Rekor v1), or bundled (tiles). */
export type LeafBatch = LeafRun | BundledLeaves;

export function leafCount(batch: LeafBatch): number {
  return 'bundles' in batch ? batch.count : batch.leaves.length;
}

/** Leaves [i, j) of the batch (positions from its first leaf), made now. */
export function leafRun(batch: LeafBatch, i: number, j: number): LeafRun {
  if (!('bundles' in batch)) return { leaves: batch.leaves.slice(i, j), ...(batch.tileHashes ? { tileHashes: batch.tileHashes.slice(i, j) } : {}) };
  if (i < 0 || j > batch.count || i > j) throw new RangeError(`leaves [${i}, ${j}) of a batch of ${batch.count}`);
  const leaves: FetchedLeaf[] = [];
  const tileHashes: Uint8Array[] = [];
  for (let k = i; k < j; k++) {
    const index = batch.start + BigInt(k);
    const b = batch.bundles[Number(index / W - batch.bundles[0]!.n)]!;
    const p = Number(index % W);
    leaves.push({ treeIndex: index, logIndex: index, body: b.data.subarray(b.bounds[2 * p], b.bounds[2 * p + 1]) });
    tileHashes.push(b.hashes.subarray(HASH_SIZE * p, HASH_SIZE * (p + 1)));
  }
  return { leaves, tileHashes };
}

/** Frees what a batch can free (BundledLeaves.release); a listed batch has nothing of its own. */
export function releaseLeaves(batch: LeafBatch): void {
  if ('bundles' in batch) batch.release();
}
