/**
 * One log interface, two implementations (certspotter's ctclient/rfc6962.go vs static.go): Rekor v1 REST
 * (`rekor-v1.ts`) and C2SP tlog-tiles (`tiles.ts`). The mirror sees only this.
 *
 * Nothing a source returns is trusted: the mirror verifies checkpoints' signatures, recomputes roots from
 * the leaves it is given, and cross-checks level-0 tiles where the log serves them.
 */

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
export interface LeafBatch {
  leaves: FetchedLeaf[];
  tileHashes?: Uint8Array[];
  /**
   * Frees the memory behind the leaves' bodies now (tiles: the entry bundles, which this batch alone
   * holds), for a caller that has copied what it keeps; every body is empty afterwards. Without it V8 frees
   * them only at a full collection, as a batch lives long enough to reach its old generation.
   */
  release?: () => void;
}
