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
import { EMPTY_ROOT, nodeHash } from './rfc6962.ts';

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

interface Plan {
  nodes: NodeId[];
  assemble(hashes: Uint8Array[]): Uint8Array[];
}

function planRanges(ranges: Range[]): Plan {
  const parts = ranges.map((r) => rangeNodes(r.lo, r.hi));
  return {
    nodes: parts.flat(),
    assemble(hashes) {
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

function inclusionPlan(index: bigint, size: bigint): Plan {
  if (index < 0n || index >= size) throw new TlogwatchError('MERKLE_RANGE', `leaf ${index} is not below size ${size}`);
  return planRanges(inclusionRanges(index, 0n, size));
}

function consistencyPlan(size1: bigint, size2: bigint): Plan {
  if (size1 < 0n || size1 > size2) throw new TlogwatchError('MERKLE_RANGE', `bad consistency sizes ${size1} → ${size2}`);
  if (size1 === 0n || size1 === size2) return planRanges([]);
  return planRanges(subproofRanges(size1, 0n, size2, true));
}

function rootPlan(size: bigint): Plan {
  return size === 0n ? { nodes: [], assemble: () => [EMPTY_ROOT] } : planRanges([{ lo: 0n, hi: size }]);
}

function run(plan: Plan, read: HashReader): Uint8Array[] {
  return plan.assemble(plan.nodes.length ? read(plan.nodes) : []);
}
async function runAsync(plan: Plan, read: AsyncHashReader): Promise<Uint8Array[]> {
  return plan.assemble(plan.nodes.length ? await read(plan.nodes) : []);
}

export const proveInclusion = (index: bigint, size: bigint, read: HashReader) => run(inclusionPlan(index, size), read);
export const proveConsistency = (size1: bigint, size2: bigint, read: HashReader) => run(consistencyPlan(size1, size2), read);
export const treeRoot = (size: bigint, read: HashReader) => run(rootPlan(size), read)[0]!;
export const proveInclusionAsync = (index: bigint, size: bigint, read: AsyncHashReader) => runAsync(inclusionPlan(index, size), read);
export const proveConsistencyAsync = (size1: bigint, size2: bigint, read: AsyncHashReader) => runAsync(consistencyPlan(size1, size2), read);
export const treeRootAsync = async (size: bigint, read: AsyncHashReader) => (await runAsync(rootPlan(size), read))[0]!;
