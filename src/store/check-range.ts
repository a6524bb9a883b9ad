/**
 * Entries [from, to] of one log checked as store/check.ts checks a whole log, as far as that can be done
 * from the range alone (`tlogwatch check --from/--to`): O(entries in the range), whatever the log's size.
 *
 * - the entries are exactly [from, to], each decodes;
 * - their bodies, with the stored hashes beside the range (the frontier left of it and the path right of its
 *   last leaf, RFC 9162 §2.1.3), rebuild a root the mirror holds: the verified checkpoint's while the range
 *   is below it, the state's frontier where it reaches past it (entries fetched, not yet under a verified
 *   checkpoint), a retired Rekor v1 tree's final checkpoint's. The hashes inside the range are not read: a
 *   changed one cannot vouch for a changed body;
 * - each entry has the index and UUID keys it implies, looked up one by one. With `index: watched` an entry
 *   whose time key is missing has its digest keys alone (none of the others: never partly indexed).
 *
 * What a range cannot say, the caller reports as not checked: keys that name an entry of the range but that
 * it does not imply can be anywhere in the index (its keys are ordered by value), and only a scan of the
 * whole index (check.ts) finds them.
 */
import { describeError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { inclusionRightPlan } from '../merkle/prove.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { frontierNodeIds } from '../merkle/tiles.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import type { FullIndex } from './check.ts';
import { impliedKeys, storedKeys, timeKeyStored } from './implied-keys.ts';
import { heldTrees, treeName, type HeldTree } from './check-tree.ts';
import { localStartIndex, type LogState } from './codec.ts';
import { entryKey, Field, readU64 } from './keys.ts';
import type { Store } from './store.ts';

/** A root the range's bodies were hashed into: `checkpoint` a signed one (the verified checkpoint, a retired tree's final), `frontier` the state's. */
export interface RangeRoot {
  /** The range's entries in this tree (virtual indexes). */
  from: bigint;
  to: bigint;
  against: 'verified checkpoint' | 'final checkpoint' | 'frontier';
  /** The tree's sequence in the store (keys.ts treeKey), and its Rekor v1 tree ID. */
  tree: number;
  treeID?: string;
  size: bigint;
}

export interface RangeCheck {
  entries: number;
  /** Index keys found for the range's entries (those they imply). */
  indexKeys: number;
  /** The roots the bodies rebuilt or were compared with, one per tree the range is in. */
  roots: RangeRoot[];
  /** Parts of the range whose bodies were hashed into no root, and why (a problem may say more). */
  unhashed: string[];
}

type Target = RangeRoot & { root: Uint8Array };

/** The root a range was checked against, in words: the state's frontier, a tree's final checkpoint, or the verified checkpoint. */
export function rangeRootName({ against, tree, treeID }: Pick<RangeRoot, 'against' | 'tree' | 'treeID'>): string {
  return against === 'frontier' ? "the state's frontier" : against === 'final checkpoint' ? `the final checkpoint of ${treeName({ seq: tree, ...(treeID ? { treeID } : {}) })}` : 'the verified checkpoint';
}

/** The range's part in one tree, and the root its bodies must rebuild. */
interface Segment {
  tree: HeldTree;
  from: bigint;
  to: bigint;
  target?: Target;
  /** Frontier of the tree's leaves before the one being appended. */
  range?: CompactRange;
  last?: Uint8Array;
  /** Why the root cannot be rebuilt, once it cannot. */
  broken?: string;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** The root the bodies of [from, to] in `tree` must rebuild, or why there is none to rebuild. */
function targetOf(state: LogState, tree: HeldTree, to: bigint): Target | string {
  const base = { tree: tree.seq, ...(tree.treeID ? { treeID: tree.treeID } : {}), from: 0n, to: 0n };
  if (tree.retired) {
    if (!tree.final) return `${treeName(tree)} has no final verified checkpoint`;
    // As checkRetiredShards: a store from before start frontiers cannot say where tree 0's nodes start.
    if (tree.seq === 0 && localStartIndex(state) === undefined) return 'the store does not record where the mirror started in tree 0 (written before tlogwatch recorded it)';
    return { ...base, against: 'final checkpoint', size: tree.final.size, root: tree.final.rootHash };
  }
  const local = to - tree.offset;
  if (state.verified && local < state.verified.size) return { ...base, against: 'verified checkpoint', size: state.verified.size, root: state.verified.rootHash };
  const frontier = CompactRange.deserialize(state.frontier);
  return { ...base, against: 'frontier', size: frontier.size, root: frontier.root() };
}

/**
 * Checks entries [from, to] of `log` (within what the state holds: the caller checked). `problem` is called
 * for each problem (the caller caps them), `progress` with the entries read so far after each chunk.
 * `indexKeys: false`: index keys are counted, not compared (as checkLog's option); UUID keys still are.
 */
export async function checkRange(store: Store, log: string, state: LogState, from: bigint, to: bigint, fullIndex: FullIndex, problem: (p: string) => void, progress?: (entries: number) => void, opts: { indexKeys?: boolean } = {}): Promise<RangeCheck> {
  const id = await store.logId(log);
  const segments: Segment[] = [];
  for (const tree of await heldTrees(store, state)) {
    const seg: Segment = { tree, from: max(from, tree.offset + tree.first), to: min(to, tree.offset + tree.end - 1n) };
    if (seg.from > seg.to) continue;
    segments.push(seg);
    const target = targetOf(state, tree, seg.to);
    if (typeof target === 'string') {
      seg.broken = target;
      continue;
    }
    seg.target = { ...target, from: seg.from, to: seg.to };
    // The frontier left of the range, from the stored tree (left of a start, the start's frontier nodes).
    const left = seg.from - tree.offset;
    try {
      seg.range = CompactRange.fromNodes(left, await store.hashReader(log, tree.seq, { uncached: true })(frontierNodeIds(left)));
    } catch (e) {
      seg.broken = 'the stored hashes left of them cannot be read';
      problem(`entries ${seg.from}..${seg.to}: ${seg.broken}: ${describeError(e)}`);
    }
  }

  let next = from;
  let entries = 0;
  let indexKeys = 0;
  let at = 0;
  const it = store.entryDb.iterator({ gte: entryKey(id, from), lt: entryKey(id, to + 1n) });
  try {
    for (let chunk = await it.nextv(1024); chunk.length > 0; chunk = await it.nextv(1024)) {
      const implied: Array<{ index: bigint; keys: ReturnType<typeof impliedKeys> }> = [];
      for (const [k, v] of chunk) {
        const index = readU64(k, 3);
        if (index > next) problem(`gap: entries ${next}..${index - 1n} missing`);
        next = index + 1n;
        entries++;
        while (at < segments.length && segments[at]!.to < index) at++;
        const seg = segments[at];
        let keys;
        try {
          keys = impliedKeys(v, log, id, index, true);
        } catch (e) {
          // Said, and neither its keys nor the root can be compared.
          problem(describeError(e));
          if (seg) seg.broken ??= 'some could not be decoded';
          continue;
        }
        if (seg) append(seg, index, leafHash(keys.body));
        implied.push({ index, keys });
      }
      indexKeys += await checkKeys(store, implied, fullIndex, opts.indexKeys ?? true, problem);
      progress?.(entries);
    }
  } finally {
    await it.close();
  }
  if (next <= to) problem(`gap: entries ${next}..${to} missing`);

  const roots: RangeRoot[] = [];
  const unhashed: string[] = [];
  for (const seg of segments) {
    if (!seg.broken && !seg.last) seg.broken = 'some are missing';
    if (seg.broken || !seg.target || !seg.range || !seg.last) {
      unhashed.push(`entries ${seg.from}..${seg.to}: ${seg.broken}`);
      continue;
    }
    const { root, ...target } = seg.target;
    roots.push(target);
    await compareRoot(store, log, seg, root, problem);
  }
  return { entries, indexKeys, roots, unhashed };
}

/** Appends entry `index`'s leaf hash to its tree's range; the range's last leaf is kept apart (CompactRange#rootWith). */
function append(seg: Segment, index: bigint, leaf: Uint8Array): void {
  if (!seg.range || seg.broken) return;
  // A gap before it (said by the caller): the leaves no longer follow on.
  if (seg.range.size !== index - seg.tree.offset) seg.broken = 'some are missing';
  else if (index === seg.to) seg.last = leaf;
  else seg.range.append(leaf);
}

async function compareRoot(store: Store, log: string, seg: Segment, root: Uint8Array, problem: (p: string) => void): Promise<void> {
  const { size, tree } = seg.target!;
  const last = seg.to - seg.tree.offset;
  const plan = inclusionRightPlan(last, size);
  let got;
  try {
    got = seg.range!.rootWith(seg.last!, size, plan.assemble(plan.nodes.length ? await store.hashReader(log, tree, { uncached: true })(plan.nodes) : []));
  } catch (e) {
    problem(`entries ${seg.from}..${seg.to}: the stored hashes right of them cannot be read: ${describeError(e)}`);
    return;
  }
  if (bytesEqual(got, root)) return;
  problem(`entries ${seg.from}..${seg.to}: their bodies, with the stored hashes beside them, give root ${toHex(got)} for size ${size}, ${rangeRootName(seg.target!)} says ${toHex(root)}`);
}

/**
 * Looks up the keys a chunk of entries implies (one LevelDB call), and says which entries lack some or
 * are partly indexed. Returns how many index keys were found.
 */
async function checkKeys(store: Store, implied: Array<{ index: bigint; keys: ReturnType<typeof impliedKeys> }>, fullIndex: FullIndex, compareIndex: boolean, problem: (p: string) => void): Promise<number> {
  const found = await storedKeys(store.db, implied.map(({ keys: k }) => [...k.indexKeys, k.uuid]));
  let count = 0;
  for (const [i, { index, keys: k }] of implied.entries()) {
    const has = found[i]!;
    if (!has.at(-1)) problem(`entry ${index}: no UUID key`);
    const digest = k.indexKeys.map((key) => key[1] === Field.DIGEST);
    // `recorded`: its time key says whether the entry was fully indexed (check.ts FullIndex).
    const full = fullIndex === 'recorded' ? timeKeyStored(k.indexKeys, has) : fullIndex(Number(index));
    const want = full ? k.indexKeys.length : digest.filter(Boolean).length;
    const got = k.indexKeys.filter((_, i) => has[i]).length;
    const wanted = k.indexKeys.filter((_, i) => has[i] && (full || digest[i])).length;
    count += got;
    if (compareIndex && (wanted !== want || got !== wanted)) problem(`entry ${index}: index keys differ from what it implies (expected ${want}, found ${got})`);
  }
  return count;
}
