/**
 * Server-side proofs and roots from stored hashes of complete (perfect) subtrees: RFC 9162 §2.1.3.1
 * PATH and §2.1.4.1 SUBPROOF, where every element is the MTH of a leaf range. A range either is a
 * perfect aligned subtree (one stored node) or ends at the tree's right edge, in which case it splits
 * into the perfect subtrees of its binary decomposition and folds from the right (golang.org/x/mod
 * sumdb/tlog ProveRecord/ProveTree do the same with "stored hash indexes").
 *
 * The logic is a pure plan (which nodes, how to fold), shared by the sync and async readers.
 */
import { TlogwatchError } from '../errors.ts';
import { bitLength, splitPoint } from './bits.ts';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './rfc6962.ts';

/** Node (level L, index i) is the root of the perfect subtree over leaves [i·2^L, (i+1)·2^L). */
export interface NodeId {
  level: number;
  index: bigint;
}
export type HashReader = (nodes: readonly NodeId[]) => Uint8Array[];
export type AsyncHashReader = (nodes: readonly NodeId[]) => Promise<Uint8Array[]>;

/** A leaf range [lo, hi) whose MTH is one proof element. */
interface Range {
  lo: bigint;
  hi: bigint;
}

/** Perfect aligned subtrees covering [lo, hi), left to right (lo is aligned to every one of them here). */
export function rangeNodes(lo: bigint, hi: bigint): NodeId[] {
  const out: NodeId[] = [];
  let at = lo;
  while (at < hi) {
    let level = bitLength(hi - at) - 1;
    // Keep the subtree aligned: its start must be a multiple of its width.
    while (level > 0 && at % (1n << BigInt(level)) !== 0n) level--;
    out.push({ level, index: at >> BigInt(level) });
    at += 1n << BigInt(level);
  }
  return out;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), leaf to root. */
function inclusionRanges(m: bigint, lo: bigint, hi: bigint): Range[] {
  const out: Range[] = [];
  while (hi - lo > 1n) {
    const k = splitPoint(hi - lo);
    if (m - lo < k) {
      out.push({ lo: lo + k, hi });
      hi = lo + k;
    } else {
      out.push({ lo, hi: lo + k });
      lo = lo + k;
    }
  }
  return out.reverse();
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
function subproofRanges(m: bigint, lo: bigint, hi: bigint, b: boolean): Range[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [{ lo, hi }];
  const k = splitPoint(n);
  if (m <= k) return [...subproofRanges(m, lo, lo + k, b), { lo: lo + k, hi }];
  return [...subproofRanges(m - k, lo + k, hi, false), { lo, hi: lo + k }];
}

/**
 * Which stored nodes a proof or root needs (`nodes`, read in one batch) and how to fold them into the
 * result (`assemble`, given the hashes in the same order). Pure index math, shared by the sync and
 * async entry points below, and usable on its own to prefetch.
 */
export interface Plan {
  nodes: NodeId[];
  assemble(hashes: readonly Uint8Array[]): Uint8Array[];
}

function readerError(message: string): TlogwatchError {
  return new TlogwatchError('MERKLE_BAD_HASHES', message, { kind: 'fatal' });
}

function describe(h: unknown): string {
  return h instanceof Uint8Array ? `${h.length} bytes` : typeof h;
}

function planRanges(ranges: Range[]): Plan {
  const parts = ranges.map((r) => rangeNodes(r.lo, r.hi));
  const nodes = parts.flat();
  return {
    nodes,
    assemble(hashes) {
      // A reader that answers wrongly is a broken store, not a bad request.
      if (hashes.length !== nodes.length) throw readerError(`hash reader returned ${hashes.length} hashes for ${nodes.length} nodes`);
      hashes.forEach((h, i) => {
        if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw readerError(`hash reader returned ${describe(h)} for node (${nodes[i]!.level}, ${nodes[i]!.index})`);
      });
      let at = 0;
      return parts.map((p) => {
        const hs = hashes.slice(at, at + p.length);
        at += p.length;
        let r = hs[hs.length - 1]!;
        for (let i = hs.length - 2; i >= 0; i--) r = nodeHash(hs[i]!, r);
        return r;
      });
    },
  };
}

/** RFC 9162 §2.1.3.1 PATH(index, D[0:size]), leaf to root. */
export function inclusionPlan(index: bigint, size: bigint): Plan {
  if (index < 0n || index >= size) throw new TlogwatchError('MERKLE_RANGE', `leaf ${index} is not below size ${size}`);
  return planRanges(inclusionRanges(index, 0n, size));
}

/**
 * The elements of PATH(index, D[0:size]) right of the leaf, leaf to root: the MTHs of the leaf ranges
 * after `index` that its path meets. With the frontier of [0, index) (the elements left of it) they make
 * the whole proof (CompactRange#rootWith), so a range of leaves ending at `index` that the caller hashed
 * itself is checked against a root reading only the hashes outside the range.
 */
export function inclusionRightPlan(index: bigint, size: bigint): Plan {
  if (index < 0n || index >= size) throw new TlogwatchError('MERKLE_RANGE', `leaf ${index} is not below size ${size}`);
  return planRanges(inclusionRanges(index, 0n, size).filter((r) => r.lo > index));
}

/** RFC 9162 §2.1.4.1 PROOF(size1, D[0:size2]); empty for size1 = 0 or size1 = size2. */
export function consistencyPlan(size1: bigint, size2: bigint): Plan {
  if (size1 < 0n || size1 > size2) throw new TlogwatchError('MERKLE_RANGE', `bad consistency sizes ${size1} → ${size2}`);
  if (size1 === 0n || size1 === size2) return planRanges([]);
  return planRanges(subproofRanges(size1, 0n, size2, true));
}

/** MTH(D[0:size]) from the frontier nodes of [0, size). */
export function rootPlan(size: bigint): Plan {
  if (size < 0n) throw new TlogwatchError('MERKLE_RANGE', `negative tree size ${size}`);
  return size === 0n ? { nodes: [], assemble: () => [new Uint8Array(EMPTY_ROOT)] } : planRanges([{ lo: 0n, hi: size }]);
}

function run(plan: Plan, read: HashReader): Uint8Array[] {
  return plan.assemble(plan.nodes.length ? read(plan.nodes) : []);
}
async function runAsync(plan: Plan, read: AsyncHashReader): Promise<Uint8Array[]> {
  return plan.assemble(plan.nodes.length ? await read(plan.nodes) : []);
}

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size`, leaf to root. */
export function proveInclusion(index: bigint, size: bigint, read: HashReader): Uint8Array[] {
  return run(inclusionPlan(index, size), read);
}
/** RFC 9162 §2.1.4.1 consistency proof from `size1` to `size2` (empty when size1 is 0 or equals size2). */
export function proveConsistency(size1: bigint, size2: bigint, read: HashReader): Uint8Array[] {
  return run(consistencyPlan(size1, size2), read);
}
/** MTH of the first `size` leaves (EMPTY_ROOT for 0). */
export function treeRoot(size: bigint, read: HashReader): Uint8Array {
  return run(rootPlan(size), read)[0]!;
}
export function proveInclusionAsync(index: bigint, size: bigint, read: AsyncHashReader): Promise<Uint8Array[]> {
  return runAsync(inclusionPlan(index, size), read);
}
export function proveConsistencyAsync(size1: bigint, size2: bigint, read: AsyncHashReader): Promise<Uint8Array[]> {
  return runAsync(consistencyPlan(size1, size2), read);
}
export async function treeRootAsync(size: bigint, read: AsyncHashReader): Promise<Uint8Array> {
  return (await runAsync(rootPlan(size), read))[0]!;
}
