/**
 * One batch through the verifying core (DESIGN.md principle 1), pure:
 *
 *   leaves ──leafHash──▶ check against the log's level-0 tile (tiles logs)
 *                     └─▶ append to the frontier (collect tile-row nodes for the store)
 *                     └─▶ decode the body into an Entry record
 *
 * The caller commits the result in one atomic batch, and moves the verified checkpoint only when
 * `frontier.root()` equals a verified checkpoint's root.
 */
import type { Finding } from '../monitor/finding.ts';
import { TlogwatchError } from '../errors.ts';
import type { CompactRange, NodeVisitor } from '../merkle/compact.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { decodeRekorV1Body, decodeRekorV2Entry, KNOWN_KINDS } from '../entries/decode.ts';
import { ClaimsCache } from '../entries/certificate.ts';
import type { Entry } from '../entries/types.ts';
import { verifySET, type SetKey } from '../entries/set.ts';
import { decodeStatement } from '../monitor/provenance.ts';
import { isEntryPayload } from '../entries/dsse-pae.ts';
import type { Metrics } from '../metrics.ts';
import { leafCount, leafRun, type FetchedLeaf, type LeafBatch, type LeafRun } from '../sources/types.ts';
import type { CommitBuilder } from '../store/commit-builder.ts';
import type { CommitInput } from '../store/store.ts';
import type { EntriesOutcome, MirrorHooks } from './types.ts';
import { bytesEqual, parseBase64, toBase64, toHex } from '../util/bytes.ts';

/** Levels whose complete-subtree hashes the store keeps (the tile rows): any node is ≤255 hashes away. */
export const STORED_LEVEL_STEP = 8;

export interface StoredNode {
  level: number;
  index: bigint;
  hash: Uint8Array;
}

export interface IngestedEntry {
  entry: Entry;
  body: Uint8Array;
  leaf: FetchedLeaf;
}

export interface IngestResult {
  entries: IngestedEntry[];
  nodes: StoredNode[];
  frontier: CompactRange;
}

function withoutAttestation({ attestation: _unbound, ...leaf }: FetchedLeaf): FetchedLeaf {
  return leaf;
}

/**
 * Provenance from an in-toto statement, and its subject digests indexed with the entry (so searching an
 * artifact's digest also finds its attestations), when the statement is the entry's own payload
 * (isEntryPayload). Returns whether it was: false leaves the entry as it was.
 */
export function withStatement(entry: Entry, payload: Uint8Array, from: 'attestation' | 'bundle', payloadType?: string): boolean {
  if (!isEntryPayload(entry, payload, payloadType)) return false;
  const st = decodeStatement(payload, from);
  if (st) {
    entry.provenance = st.provenance;
    entry.digests = [...new Set([...entry.digests, ...st.subjects])].sort();
  }
  return true;
}

/**
 * Certificates repeat across entries (a signer's certificate signs many artifacts in its ten minutes;
 * DSSE entries carry several): one cache per process keeps the DER walk off the hot path.
 */
const sharedClaims = new ClaimsCache();

/**
 * A Rekor v1 entry's signed entry timestamp (rekor.md §1.7), the log's signature over its body,
 * integrated time, log ID and index. The Merkle proofs cover only the body, so this is what vouches for
 * the integrated time that time searches and rules (off-hours builds) read. Every entry Rekor serves
 * has one; a missing one, one that does not verify, or a logID that is not the log's key is a
 * misbehaving log (or a network rewriting its answers), with the entry as evidence.
 */
export function checkEntrySET(leaf: FetchedLeaf, k: SetKey): void {
  const v1 = leaf.v1;
  const bad = (why: string, cause?: unknown) =>
    new TlogwatchError('VERIFY_BAD_SET', `entry ${leaf.logIndex}: ${why}`, {
      kind: 'misbehaviour',
      data: { index: leaf.logIndex.toString(), logID: v1?.logID ?? null, integratedTime: leaf.integratedTime ?? null, signedEntryTimestamp: v1?.signedEntryTimestamp ?? null, body: toBase64(leaf.body) },
      ...(cause !== undefined ? { cause } : {}),
    });
  if (v1?.signedEntryTimestamp === undefined || leaf.integratedTime === undefined) throw bad('the log served it without a signed entry timestamp and integrated time');
  if (v1.logID !== toHex(k.logId)) throw bad(`its logID ${v1.logID.slice(0, 80)} is not the log's key ID ${toHex(k.logId)}`);
  const set = parseBase64(v1.signedEntryTimestamp);
  if (!set) throw bad('its signed entry timestamp is not base64');
  try {
    verifySET({ body: leaf.body, integratedTime: BigInt(leaf.integratedTime), logId: k.logId, logIndex: leaf.logIndex, set }, k.key);
  } catch (e) {
    throw bad(`its signed entry timestamp does not verify with the log's key: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

export function ingestBatch(
  log: string,
  type: 'tiles' | 'rekor-v1',
  frontier: CompactRange,
  batch: LeafRun,
  observedAt: number,
  opts: {
    certificates?: ClaimsCache;
    /** Rekor v1: the log's key, to check each entry's SET (checkEntrySET). */
    setKey?: SetKey | undefined;
    /** Where the nodes to store go as they are made; without it, they are returned in `nodes`. */
    onNode?: NodeVisitor;
    /** Entries from this virtual index on are marked observed live (observed-live.ts liveFrom); none without it. */
    liveFrom?: bigint | undefined;
  } = {},
): IngestResult {
  const { certificates = sharedClaims, setKey, liveFrom } = opts;
  const next = frontier.clone();
  const nodes: StoredNode[] = [];
  const keep = opts.onNode ?? ((level: number, index: bigint, hash: Uint8Array) => nodes.push({ level, index, hash }));
  const visit = (level: number, index: bigint, hash: Uint8Array) => {
    if (level % STORED_LEVEL_STEP === 0) keep(level, index, hash);
  };
  const entries: IngestedEntry[] = [];
  for (let i = 0; i < batch.leaves.length; i++) {
    const leaf = batch.leaves[i]!;
    if (leaf.treeIndex !== next.size) {
      throw new TlogwatchError('VERIFY_MISSING_ENTRY', `expected leaf ${next.size}, the log returned ${leaf.treeIndex}`, {
        kind: 'misbehaviour',
        data: { expected: next.size.toString(), got: leaf.treeIndex.toString() },
      });
    }
    const hash = leafHash(leaf.body);
    const tileHash = batch.tileHashes?.[i];
    if (tileHash !== undefined && !bytesEqual(hash, tileHash)) {
      throw new TlogwatchError('VERIFY_TILE_MISMATCH', `entry ${leaf.treeIndex} hashes to ${toHex(hash)} but the log's level-0 tile says ${toHex(tileHash)}`, {
        kind: 'misbehaviour',
        // The body too, so the finding shows what was served and its hash can be recomputed offline.
        data: { index: leaf.treeIndex.toString(), entryLeafHash: toHex(hash), tileLeafHash: toHex(tileHash), body: toBase64(leaf.body) },
      });
    }
    next.append(hash, visit);
    const meta = {
      log,
      index: Number(leaf.logIndex),
      leafHash: hash,
      ...(leaf.integratedTime !== undefined ? { integratedTime: leaf.integratedTime } : {}),
    };
    if (setKey && type === 'rekor-v1') checkEntrySET(leaf, setKey);
    const entry = type === 'tiles' ? decodeRekorV2Entry(leaf.body, meta, { certificates }) : decodeRekorV1Body(leaf.body, meta, { certificates });
    entry.observedAt ??= observedAt;
    if (liveFrom !== undefined && leaf.logIndex >= liveFrom) entry.observedLive = true;
    // An attestation that is not this entry's payload (isEntryPayload) is neither kept nor served as its attestation.
    entries.push({ entry, body: leaf.body, leaf: leaf.attestation && !withStatement(entry, leaf.attestation, 'attestation') ? withoutAttestation(leaf) : leaf });
  }
  return { entries, nodes, frontier: next };
}

/**
 * The `kind` label of an entry: a kind tlogwatch decodes, `unknown` for a body without one, `other` for
 * the rest. A body's kind is whatever string (up to 64 characters) the log put in it, so as a label it
 * would let a misbehaving log create a series per entry.
 */
export function kindLabel(kind: string): string {
  return KNOWN_KINDS.has(kind) || kind === 'unknown' ? kind : 'other';
}

/**
 * Adds how many of `entries` are of each kind (kindLabel) to `kinds`, for one labelled counter update per kind
 * instead of one per entry, and how many of those had a decode problem to `undecoded`: an entry the decoder
 * did not fully understand may have lost its signer, so no rule can match it, and only this count shows it.
 */
export function countKinds(entries: readonly IngestedEntry[], kinds = new Map<string, number>(), undecoded?: Map<string, number>): Map<string, number> {
  for (const { entry } of entries) {
    const k = kindLabel(entry.kind);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
    if (entry.problem && undecoded) undecoded.set(k, (undecoded.get(k) ?? 0) + 1);
  }
  return kinds;
}

/** Entries decoded per turn of `ingestInto`: one entry bundle. */
export const INGEST_CHUNK = 256;

export interface IngestedInto {
  frontier: CompactRange;
  kinds: Map<string, number>;
  /** Of those, the entries with a decode problem, by kind label (tlogwatch_entries_undecoded_total). */
  undecoded: Map<string, number>;
  /** What `onEntries` made of each chunk, in order: ops for the commit, and what to run once it is committed. */
  outcomes: EntriesOutcome[];
}

/**
 * A fetched batch through `ingestBatch` a chunk at a time, each chunk's entries checked by `onEntries` (the
 * monitor) and turned into their writes in `builder` before the next chunk is decoded, with the tree nodes
 * the leaves complete (CommitBuilder.addNode). The result is the same as one ingestBatch over the whole
 * batch followed by commitBatch; the difference is memory: no decoded Entry outlives its chunk, and no node
 * hash waits for the commit as an object, so neither survives into V8's old generation to wait for a full
 * collection (BENCHMARKS.md "Ingest", garbage collection). Nothing is written here: the caller still
 * checks the root and commits the builder, or drops it.
 */
export function ingestInto(
  log: string,
  type: 'tiles' | 'rekor-v1',
  frontier: CompactRange,
  batch: LeafBatch,
  observedAt: number,
  builder: CommitBuilder,
  opts: { treeID?: string | undefined; onEntries?: MirrorHooks['onEntries']; setKey?: SetKey | undefined; prior?: ReadonlyMap<string, Finding> | undefined; liveFrom?: bigint | undefined } = {},
): IngestedInto {
  let next = frontier;
  const kinds = new Map<string, number>();
  const undecoded = new Map<string, number>();
  const outcomes: EntriesOutcome[] = [];
  const onNode: NodeVisitor = (level, index, hash) => builder.addNode(level, index, hash);
  const n = leafCount(batch);
  for (let i = 0; i < n; i += INGEST_CHUNK) {
    // The chunk's leaves are made only now (leafRun), so they die with it, young.
    const chunk = leafRun(batch, i, Math.min(n, i + INGEST_CHUNK));
    const part = ingestBatch(log, type, next, chunk, observedAt, { setKey: opts.setKey, onNode, liveFrom: opts.liveFrom });
    next = part.frontier;
    countKinds(part.entries, kinds, undecoded);
    if (opts.onEntries) outcomes.push(opts.onEntries(log, part.entries, observedAt, opts.prior));
    for (const { record, body } of storedEntries(part.entries, opts.treeID)) builder.addEntry(record, body);
  }
  return { frontier: next === frontier ? frontier.clone() : next, kinds, undecoded, outcomes };
}

/**
 * What follows the commit of a batch `ingestInto` prepared, for the follower and backfill alike: the
 * counters, each chunk's `committed` (the monitor's findings are counted and notified only now, so a batch
 * that fails its root check or its write reports nothing), and the daemon's hook.
 */
export function afterIngestCommitted(log: string, batch: Pick<IngestedInto, 'kinds' | 'undecoded' | 'outcomes'>, began: number, metrics: Metrics, hooks?: MirrorHooks): void {
  for (const [kind, n] of batch.kinds) metrics.entriesIngested.inc({ log, kind }, n);
  for (const [kind, n] of batch.undecoded) metrics.entriesUndecoded.inc({ log, kind }, n);
  metrics.batchDuration.observe({ log }, (performance.now() - began) / 1000);
  for (const o of batch.outcomes) o.committed?.();
  hooks?.afterCommit?.(log);
}

/** What the store keeps of ingested entries; `treeID` names the Rekor v1 tree (shard) they belong to. */
export function storedEntries(entries: readonly IngestedEntry[], treeID?: string): CommitInput['entries'] {
  return entries.map((e) => ({
    record: {
      entry: e.entry,
      ...(e.leaf.v1 ? { v1: { logID: e.leaf.v1.logID, treeIndex: e.leaf.treeIndex.toString(), ...(treeID !== undefined ? { treeID } : {}), ...(e.leaf.v1.signedEntryTimestamp ? { signedEntryTimestamp: e.leaf.v1.signedEntryTimestamp } : {}) } } : {}),
      ...(e.leaf.attestation ? { attestation: toBase64(e.leaf.attestation) } : {}),
    },
    body: e.body,
  }));
}
