/** Value codecs for the store's buckets. JSON where values are small or rare; binary on the hot path. */
import { TlogwatchError } from '../errors.ts';
import type { Digest, Entry } from '../entries/types.ts';
import { parseBase64, toBase64 } from '../util/bytes.ts';

export type LogType = 'tiles' | 'rekor-v1';
export type LogStatus = 'following' | 'halted' | 'bootstrapping';

export interface VerifiedHead {
  size: bigint;
  rootHash: Uint8Array;
  /**
   * The signed note that verified, as kept (mirror/checkpoint-decision.ts keptNote): the log's text unchanged, with
   * the signature lines that verified (the log's, its configured witnesses') and no others.
   */
  note: string;
  /** Unix seconds. */
  at: number;
}

export interface HaltInfo {
  code: string;
  message: string;
  at: number;
  /** Both signed notes and the data needed to re-verify the misbehaviour offline. */
  evidence: Record<string, unknown>;
}

/** Rekor v1 shard the mirror is in: Merkle math is per tree, indexes are virtual (rekor.md §1.5). */
export interface ShardPosition {
  treeID: string;
  /** Virtual index of the tree's leaf 0. */
  offset: bigint;
  /** Sequence number of the tree in this mirror (keys tree hashes and checkpoints). */
  seq: number;
}

/**
 * Everything the mirror knows about one log, committed with every batch. The two cursors (STYLE.md habit 6)
 * are the frontier's size (fetched: see `fetchedSize`, kept only inside the frontier so the two can never
 * disagree) and `verified.size` (moves only to a recomputed root that equals a verified checkpoint's).
 * For Rekor v1, sizes inside `frontier` and `verified` are per tree; add `shard.offset` for virtual indexes.
 */
export interface LogState {
  name: string;
  type: LogType;
  url: string;
  origin: string;
  status: LogStatus;
  /** Serialized CompactRange over the current tree's leaves [0, frontier size). */
  frontier: Uint8Array;
  /**
   * First (virtual) index mirrored: where the mirror started (`latest` or N > 0), lowered by `backfill`,
   * for Rekor v1 through the tree the mirror started in and then through the trees before it (priorTrees).
   */
  startIndex: bigint;
  /**
   * Serialized CompactRange over the leaves before startIndex of the tree that holds startIndex (startSeq:
   * the tree the mirror started in, or for Rekor v1 once backfill has reached them one of the trees before
   * it), tree-local. Verified when written: at bootstrap against a signed checkpoint, by `backfill` by
   * reproducing the previous one or the tree's final signed root (src/mirror/backfill.ts). Absent in
   * stores written before it existed; `backfill` then obtains it verified.
   */
  startFrontier?: Uint8Array;
  verified?: VerifiedHead;
  upstream?: { size: bigint; at: number };
  halt?: HaltInfo;
  shard?: ShardPosition;
  /**
   * Rekor v1: the final signed tree heads of the log's trees before the one the mirror started in (none
   * when it started in the first), oldest first, each verified with the log's key. The mirror holds none of
   * their entries, yet its virtual indexes count them, and Rekor clients read them in LogInfo's
   * `inactiveShards` to place those indexes (rekor.md §1.2, §1.5). Absent until the first round that lists them.
   */
  priorTrees?: Array<{ treeID: string; head: VerifiedHead }>;
}

/** A Rekor v1 tree before the one the mirror started in: its sequence in this mirror (−n … −1, keys.ts treeKey) and virtual offset. */
export interface PriorTree {
  seq: number;
  treeID: string;
  /** Virtual index of its leaf 0: the sizes of the trees before it. */
  offset: bigint;
  /** Its final signed tree head (LogState.priorTrees). */
  head: VerifiedHead;
}

/** LogState.priorTrees with their sequences and offsets, oldest first (rekor.md §1.5: virtual index = the earlier trees' sizes + leaf index). */
export function priorTreeSpans(s: Pick<LogState, 'priorTrees'>): PriorTree[] {
  const trees = s.priorTrees ?? [];
  let offset = 0n;
  return trees.map((t, p) => {
    const span = { seq: p - trees.length, treeID: t.treeID, offset, head: t.head };
    offset += t.head.size;
    return span;
  });
}

/**
 * The sequence of the tree that holds startIndex: 0, the tree the mirror started in, until backfill has
 * committed entries of a tree before it (Rekor v1), then that tree's (negative). Trees after it are held
 * from their first leaf, trees before it not at all. A start at a tree's first leaf is in that tree.
 */
export function startSeq(s: Pick<LogState, 'startIndex' | 'priorTrees'>): number {
  for (const t of priorTreeSpans(s)) if (s.startIndex >= t.offset && s.startIndex < t.offset + t.head.size) return t.seq;
  return 0;
}

/**
 * A log's phase as `/v1/logs`, `/readyz` and `tlogwatch_log_state` report it: `bootstrapping` until the mirror
 * has verified a checkpoint of it (the entries it stores before then are checked against the log's tiles or
 * proofs, not yet against a root the log signed), then `following`, or `halted`. A Rekor v1 mirror that
 * moved on to a new tree has verified the one before, so it is following while it catches up the new one.
 */
export function logPhase(s: Pick<LogState, 'status' | 'verified' | 'shard'>): LogStatus {
  if (s.status !== 'following') return s.status;
  return s.verified || (s.shard?.seq ?? 0) > 0 ? 'following' : 'bootstrapping';
}

/**
 * A log's sizes in its own (virtual, for Rekor v1) numbering, one definition for `/v1/logs` and the gauges
 * (tlogwatch_upstream_tree_size, tlogwatch_mirror_lag_entries). `verified`: the latest verified checkpoint's
 * size; in a Rekor v1 tree after the one the mirror started in, before a checkpoint of it verifies, the end of
 * the trees before it (each verified to its final head); none while bootstrapping. `upstream`: the log's
 * latest signed size the mirror has seen. `lag`: what is left to verify up to it, counted from `verified`, or
 * while bootstrapping from where the mirror started (the entries before that are not its to fetch).
 */
export function mirrorSizes(s: Pick<LogState, 'verified' | 'shard' | 'upstream' | 'startIndex'>): { verified?: bigint; upstream?: bigint; lag?: bigint } {
  const offset = s.shard?.offset ?? 0n;
  const verified = s.verified ? s.verified.size + offset : (s.shard?.seq ?? 0) > 0 ? offset : undefined;
  const upstream = s.upstream?.size;
  const from = verified ?? s.startIndex;
  return {
    ...(verified !== undefined ? { verified } : {}),
    ...(upstream !== undefined ? { upstream, lag: upstream > from ? upstream - from : 0n } : {}),
  };
}

/** Virtual index of the next entry to fetch (the "fetched" cursor; `verified.size` is the other one). */
export function fetchedSize(s: LogState): bigint {
  return (s.shard?.offset ?? 0n) + frontierSize(s.frontier, `log ${s.name}: stored frontier`);
}

/** Size of a serialized CompactRange (its first 8 bytes), without decoding its nodes. */
export function frontierSize(b: Uint8Array, what = 'stored frontier'): bigint {
  if (b.length < 8) throw new TlogwatchError('STORE_CORRUPT', `${what} is shorter than its size field`, { kind: 'fatal' });
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

/**
 * How many leaves of the tree that holds startIndex (tiles: the tree; Rekor v1: tree startSeq, the one the
 * mirror started in until backfill reaches earlier ones) come before the first entry held: 0 once the store
 * holds that tree from its first leaf. Proofs and root checks span a later start too (left of it the store
 * keeps the start's verified frontier nodes: store/tree-hashes.ts). Undefined when the state cannot say: a
 * store from before `startFrontier` that has moved on to a later Rekor v1 tree (its first tree's offset is
 * not in the state).
 */
export function localStartIndex(s: LogState): bigint | undefined {
  if (s.startFrontier) return frontierSize(s.startFrontier);
  if (!s.shard || s.shard.seq === 0) return s.startIndex - (s.shard?.offset ?? 0n);
  return s.startIndex === 0n ? 0n : undefined;
}

/** The (virtual) indexes of the entries the store holds for this log: [startIndex, fetchedSize); backfill lowers the start. */
export function heldRange(s: Readonly<LogState>): { start: bigint; end: bigint } {
  return { start: s.startIndex, end: fetchedSize(s) };
}

/** Whether the state accounts for the entry at `index` (store.ts reads no entry value outside this range). */
export function holdsEntry(s: Readonly<LogState>, index: number | bigint): boolean {
  const { start, end } = heldRange(s);
  const i = BigInt(index);
  return i >= start && i < end;
}

/** How many entries of this log the store holds. */
export function entriesHeld(s: LogState): bigint {
  const { start, end } = heldRange(s);
  return end > start ? end - start : 0n;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function enc(v: unknown): Json {
  if (typeof v === 'bigint') return { $big: v.toString() };
  if (v instanceof Uint8Array) return { $b64: toBase64(v) };
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, enc(x)]));
  return v as Json;
}

function dec(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dec);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o['$big'] === 'string') return BigInt(o['$big']);
    if (typeof o['$b64'] === 'string') {
      const b = parseBase64(o['$b64']);
      if (!b) throw new TlogwatchError('STORE_CORRUPT', 'bad bytes in a stored record');
      return b;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, dec(x)]));
  }
  return v;
}

/** JSON with bigint and bytes preserved: for log state, checkpoints and other small records. */
export function encodeJson(v: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(enc(v)), 'utf8');
}
export function decodeJson<T>(b: Uint8Array): T {
  try {
    return dec(JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'))) as T;
  } catch (e) {
    throw new TlogwatchError('STORE_CORRUPT', `unreadable stored record: ${(e as Error).message}`, { kind: 'fatal', cause: e });
  }
}

/** What the store keeps next to an entry's body. */
export interface StoredRecord {
  entry: Entry;
  /** Rekor v1 only: fields the Rekor-compatible API serves unchanged. */
  v1?: { logID: string; signedEntryTimestamp?: string; treeIndex: string; treeID?: string };
  /** Rekor v1 `attestation.data`, base64, when the log kept one. */
  attestation?: string;
}

const ALG_CODE = { sha256: 1, sha384: 2, sha512: 3 } as const;
const CODE_ALG = ['', 'sha256', 'sha384', 'sha512'] as const;

/** `sha256:<hex>` → alg byte + raw digest (fixed length per algorithm, so no separator is needed). */
export function digestToBytes(d: string): Uint8Array {
  if (!isIndexableDigest(d)) throw new TlogwatchError('ENTRY_MALFORMED', `not a normalised digest: ${d.slice(0, 140)}`);
  return indexableDigestBytes(d);
}

/** digestToBytes for a digest the caller has checked with isIndexableDigest. */
export function indexableDigestBytes(d: Digest): Uint8Array {
  const colon = d.indexOf(':');
  const out = Buffer.allocUnsafe(1 + (d.length - colon - 1) / 2);
  out[0] = ALG_CODE[d.slice(0, colon) as keyof typeof ALG_CODE];
  out.write(d.slice(colon + 1), 1, 'hex');
  return out;
}

/** `sha256:` + 64, `sha384:` + 96 or `sha512:` + 128 lower-case hex digits. */
export function isIndexableDigest(d: string): d is Digest {
  return /^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/.test(d);
}

export function bytesToDigest(b: Uint8Array): Digest {
  return `${CODE_ALG[b[0]!] as 'sha256'}:${Buffer.from(b.subarray(1)).toString('hex')}`;
}
