/** Data the handlers return, computed from the store (handlers stay thin over these functions). */
import { proveConsistencyAsync, proveInclusionAsync, treeRootAsync } from '../merkle/prove.ts';
import { localStartIndex, logPhase, mirrorSizes, startSeq, type LogState, type StoredRecord, type VerifiedHead } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { toBase64, toHex } from '../util/bytes.ts';
import { withoutCredentials } from '../util/url.ts';
import { apiError } from './errors.ts';
import { withStatement } from '../mirror/ingest.ts';
import { retiredTree } from '../mirror/signed-tree.ts';
import type { TransientFault } from '../mirror/types.ts';
import { cosignaturesOf, type WitnessPolicy } from '../note/witness-policy.ts';
import type { SourceStatus } from '../monitor/checkpoint-sources.ts';

export interface LogView {
  name: string;
  type: string;
  origin: string;
  url: string;
  verifiedSize: number | null;
  verifiedRoot: string | null;
  upstreamSize: number | null;
  lag: number | null;
  state: string;
  lastVerifiedAt: string | null;
  /** Null for a log the store holds nothing of whose upstream has not answered yet. */
  mirroredFrom: number | null;
  halt?: { code: string; message: string; at: string; evidence: Record<string, unknown> };
  /** While the latest rounds end in transient errors (entries are kept and fetched again), the latest one. */
  transientError?: { code: string; message: string; at: string; rounds: number };
  /** A log with a witness policy: its quorum, and which of its witnesses cosigned the verified checkpoint. */
  witnesses?: { quorum: number; of: string[]; verifiedCosignedBy: string[] };
  /** While the `mirror-stalled` condition holds, why (as /readyz and the finding say). */
  stalled?: string;
  /** The latest comparison with each configured checkpoint source (config `checkpointSources`). */
  checkpointSources?: Array<{ source: string; result: string; checkedAt: string; size?: number; tree?: { id: string; size: number }; reason?: string; finding?: string; consistentAt?: string }>;
}

/**
 * A source's tree head size in the log's own numbering, as `upstreamSize` (a Rekor v1 tree head is of one
 * tree: placed after the trees before it when it is the tree the mirror follows), with its tree's own
 * size beside it for Rekor v1. A retired tree's head has only the latter.
 */
function sourceSize(s: LogState, c: SourceStatus): { size?: number; tree?: { id: string; size: number } } {
  if (c.size === undefined) return {};
  if (c.treeID === undefined) return { size: Number(c.size) };
  const tree = { id: c.treeID, size: Number(c.size) };
  return c.treeID === s.shard?.treeID ? { size: Number(c.size + s.shard.offset), tree } : { tree };
}

/**
 * The 404 for `GET /v1/entries/{log}/{index}` (and its bundle) the mirror cannot answer: a log it does not
 * mirror is named as such, with those it does (a name from another mirror's config, a typo); an index it
 * does not hold says what the mirror holds of that log, as `GET /v1/logs` does.
 */
export function noEntryError(store: Store, log: string, index: number, s: LogState | undefined): Error {
  if (!s) {
    const logs = store.logNamesKnown().sort();
    return apiError('API_NOT_FOUND', `no log named ${log} in this mirror (it mirrors ${logs.length ? logs.join(', ') : 'none yet'})`);
  }
  const v = logView(s);
  return apiError('API_NOT_FOUND', `no mirrored entry ${log}/${index}: the mirror holds ${log} from index ${v.mirroredFrom}, verified up to size ${v.verifiedSize ?? 'none yet'} (GET /v1/logs)`);
}

/** What the daemon knows of a log beside its state, shown in its view. */
export interface LogViewExtras {
  fault?: Readonly<TransientFault> | undefined;
  witnesses?: WitnessPolicy | undefined;
  sources?: readonly SourceStatus[] | undefined;
  stalled?: string | undefined;
  /** False for a log the store holds no state of (its follower's view: follower.ts logStateOf). */
  stored?: boolean;
}

/** Sizes in the log's own numbering (virtual for Rekor v1). */
export function logView(s: Readonly<LogState>, { fault, witnesses, sources = [], stalled, stored = true }: LogViewExtras = {}): LogView {
  const { verified, upstream, lag } = mirrorSizes(s);
  const num = (n: bigint | undefined) => (n === undefined ? null : Number(n));
  return {
    name: s.name,
    type: s.type,
    origin: s.origin,
    // A state stored before the configuration refused credentials in a URL may hold some (util/url.ts).
    url: withoutCredentials(s.url),
    verifiedSize: num(verified),
    verifiedRoot: s.verified ? toBase64(s.verified.rootHash) : null,
    upstreamSize: num(upstream),
    lag: num(lag),
    state: logPhase(s),
    lastVerifiedAt: s.verified ? new Date(s.verified.at * 1000).toISOString() : null,
    // A log the mirror holds nothing of and has seen no checkpoint of (its upstream never answered) has no
    // start yet: `start: latest` starts at the size its first checkpoint gives.
    mirroredFrom: !stored && !s.upstream ? null : Number(s.startIndex),
    ...(s.halt ? { halt: { code: s.halt.code, message: s.halt.message, at: new Date(s.halt.at * 1000).toISOString(), evidence: s.halt.evidence } } : {}),
    ...(stalled !== undefined ? { stalled } : {}),
    ...(fault ? { transientError: { code: fault.code, message: fault.message, at: new Date(fault.at * 1000).toISOString(), rounds: fault.rounds } } : {}),
    ...(witnesses
      ? {
          witnesses: {
            quorum: witnesses.quorum,
            of: witnesses.witnesses.map((w) => w.name),
            // The verified note keeps the cosignatures of the policy's witnesses that verified (checkpoint-decision.ts keptNote).
            verifiedCosignedBy: s.verified ? cosignaturesOf(s.verified.note, witnesses).valid.map((v) => v.witness) : [],
          },
        }
      : {}),
    ...(sources.length
      ? {
          checkpointSources: sources.map((c) => ({
            source: c.source,
            result: c.result,
            checkedAt: new Date(c.at * 1000).toISOString(),
            ...sourceSize(s, c),
            ...(c.reason !== undefined ? { reason: c.reason } : {}),
            ...(c.finding ? { finding: c.finding.id } : {}),
            ...(c.consistentAt !== undefined ? { consistentAt: new Date(c.consistentAt * 1000).toISOString() } : {}),
          })),
        }
      : {}),
  };
}

/** Tree index of a stored entry and whether it is covered by the log's latest verified checkpoint. */
export function treePosition(state: LogState, record: StoredRecord): { treeIndex: bigint; inCurrentTree: boolean; verified: boolean } {
  const treeIndex = record.v1 ? BigInt(record.v1.treeIndex) : BigInt(record.entry.index);
  const inCurrentTree = !record.v1 || !state.shard || record.v1.treeID === state.shard.treeID;
  const verified = !inCurrentTree || (state.verified !== undefined && treeIndex < state.verified.size);
  return { treeIndex, inCurrentTree, verified };
}

export function entryView(state: LogState, record: StoredRecord, body?: Uint8Array): Record<string, unknown> {
  const { verified } = treePosition(state, record);
  const e = { ...record.entry };
  // The store keeps the attestation, not what was derived from it: derive provenance and subjects again.
  if (record.attestation && !e.provenance) withStatement(e, Buffer.from(record.attestation, 'base64'), 'attestation');
  return { ...e, log: e.log, index: e.index, uuid: e.uuid, verified, ...(body ? { body: toBase64(body) } : {}), ...(record.attestation ? { attestation: record.attestation } : {}) };
}

/**
 * RFC 9162 inclusion proof of a stored entry, from stored tree hashes: against the latest verified
 * checkpoint for the current tree, and against the final verified tree head for an entry of a retired
 * Rekor v1 shard (rekor.md §1.5: each shard is its own tree).
 */
export async function inclusionProofView(store: Store, state: LogState, record: StoredRecord) {
  const pos = treePosition(state, record);
  if (!pos.inCurrentTree) {
    const tree = record.v1?.treeID !== undefined ? await retiredTree(store, state, record.v1.treeID) : undefined;
    if (!tree || pos.treeIndex >= tree.head.size) throw apiError('API_NOT_FOUND', `no verified tree head of this entry's shard (tree ${record.v1?.treeID ?? '?'}) covers it`);
    requireFrom(state, tree.seq, pos.treeIndex);
    const hashes = await proveInclusionAsync(pos.treeIndex, tree.head.size, store.hashReader(state.name, tree.seq));
    return { logIndex: Number(pos.treeIndex), treeSize: Number(tree.head.size), rootHash: tree.head.rootHash, hashes, checkpoint: tree.head.note };
  }
  if (!state.verified || pos.treeIndex >= state.verified.size) {
    throw apiError('API_NOT_FOUND', 'no verified checkpoint of this entry\'s tree covers it yet');
  }
  requireFrom(state, state.shard?.seq ?? 0, pos.treeIndex);
  const hashes = await proveInclusionAsync(pos.treeIndex, state.verified.size, store.hashReader(state.name, state.shard?.seq ?? 0));
  return { logIndex: Number(pos.treeIndex), treeSize: Number(state.verified.size), rootHash: state.verified.rootHash, hashes, checkpoint: state.verified.note };
}

/**
 * RFC 9162 consistency proof between two sizes of one tree: the current tree by default, or a retired Rekor
 * v1 shard (`tree`, from `retiredTree`), whose final verified tree head bounds it as the latest verified
 * checkpoint bounds the current one (rekor.md §1.5: consistency proofs are per tree, asked by `treeID`).
 */
export async function consistencyProofView(store: Store, state: LogState, first: bigint, last: bigint, tree?: { seq: number; head: VerifiedHead }) {
  const seq = tree?.seq ?? state.shard?.seq ?? 0;
  const head = tree?.head ?? state.verified;
  if (!head || last > head.size) throw apiError('API_BAD_REQUEST', tree ? `lastSize is beyond the final size of this tree (${head?.size ?? 0})` : 'lastSize is beyond the verified tree size');
  if (first < 1n || first > last) throw apiError('API_BAD_REQUEST', 'firstSize must be between 1 and lastSize');
  requireFrom(state, seq, first);
  const read = store.hashReader(state.name, seq);
  const hashes = await proveConsistencyAsync(first, last, read);
  const root = last === head.size ? head.rootHash : await treeRootAsync(last, read);
  return { hashes, rootHash: toHex(root) };
}

/**
 * Proofs need the hashes of their tree from `from` (an inclusion proof's leaf, a consistency proof's first
 * size) on. Rekor v1 trees after the one that holds the start (startSeq) are held from their first leaf.
 * That one (the tree the mirror started in, one before it that `tlogwatch backfill` has reached, or the
 * whole tiles log) is held from where the mirror started, or from where backfill has filled it down to
 * (localStartIndex); left of that the store keeps the start's verified frontier (store/tree-hashes.ts
 * preStartNodes), each node of which is a maximal subtree left of the start. Every node an inclusion proof
 * of a later leaf, or a consistency proof from a later size, needs is then one of those, or a subtree
 * right of the start, or is computed from both: proofs start where the mirror did. Trees before it are
 * not held at all.
 */
function requireFrom(state: LogState, seq: number, from: bigint): void {
  const first = startSeq(state);
  if (seq > first) return;
  const start = seq === first ? localStartIndex(state) : undefined;
  if (start !== undefined && from >= start) return;
  const where = start === undefined || start === state.startIndex ? `index ${state.startIndex}` : `leaf ${start} of this tree (index ${state.startIndex} of the log)`;
  throw apiError('API_NOT_FOUND', `this mirror holds the log from ${where} on, so it cannot compute proofs that need the tree before it (tlogwatch backfill fills it in)`);
}
