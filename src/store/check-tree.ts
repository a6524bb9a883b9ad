/**
 * The stored Merkle tree, checked against the bodies it was built from and against the checkpoints the
 * mirror verified. Proofs the API serves are read from these hashes (tree-hashes.ts), so a hash changed
 * on disk would be served as the log's word; these checks are how the mirror notices instead.
 *
 * - `checkVerifiedRoot`: the latest verified checkpoint's root rebuilds from the stored tree, and the
 *   current start's verified frontier reads back node by node (the reverify job, each run).
 * - `checkRetiredShards`: each retired Rekor v1 tree the store holds is complete (from the start, for the
 *   tree that holds it) and rebuilds its final root (the retiredShards job).
 * - `checkTreeHashes`: every stored hash of every tree, one pass in key order (`tlogwatch check`):
 *   - each leaf hash (row 0) is the RFC 9162 §2.1.1 leaf hash of the body stored at that index, one per
 *     held entry, and left of the mirror's start only the start's frontier node;
 *   - each tile-row node (rows 8, 16, …; C2SP tlog-tiles) whose 256 children are stored is their MTH,
 *     and a complete run of 256 has its parent stored;
 *   - each node stored at its own level (a start's frontier node) whose row below is complete is that
 *     run's MTH. What no stored child covers (the frontier left of the start) the root check covers.
 */
import { describeError, TlogwatchError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { treeRootAsync } from '../merkle/prove.ts';
import { leafHash } from '../merkle/rfc6962.ts';
import { frontierNodeIds, hashRun } from '../merkle/tiles.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { decodeJson, fetchedSize, localStartIndex, priorTreeSpans, startSeq, type LogState, type VerifiedHead } from './codec.ts';
import { entryValueBody } from './entry-value.ts';
import { Bucket, entryKey, key, nodeKey, prefixEnd, readU16, readU64, treeSeq, u16 } from './keys.ts';
import { scanChunks } from './level.ts';
import type { Store } from './store.ts';
import { frontierNodes } from './tree-hashes.ts';
import { treeIdOfNote } from '../note/rekor-v1-origin.ts';

/** Where a nodeKey's fields are (keys.ts: bucket, log id, tree, level, index). */
const LEVEL_AT = 5;
const INDEX_AT = 6;
const ROW = 256;

/**
 * The latest verified checkpoint's root, rebuilt from the stored tree: a later Rekor v1 tree's from its
 * first leaf; the first tree's from where the mirror started or backfill reached, left of which the store
 * keeps the verified frontier nodes of each start (tree-hashes.ts preStartNodes at the start, backfill's
 * candidate frontier after a backfill; readNode takes the widest it holds), so a mirror started at
 * `latest` is checked too. Then the current start's verified frontier, node by node as the store reads
 * it: the root can resolve through an earlier start's nodes (a partial backfill leaves those in place),
 * while proofs across the start rest on these, so a changed one must not go unseen. Only while the start
 * is in the current tree (later trees start at leaf 0; retired ones are checkRetiredShards').
 */
export async function checkVerifiedRoot(store: Store, log: string, state: LogState): Promise<string[]> {
  if (!state.verified) return [];
  const problems: string[] = [];
  const read = store.hashReader(log, state.shard?.seq ?? 0, { uncached: true });
  const root = await treeRootAsync(state.verified.size, read).catch((e: unknown) => {
    problems.push(`cannot recompute the verified root: ${describeError(e)}`);
    return undefined;
  });
  if (root && !bytesEqual(root, state.verified.rootHash)) problems.push(`stored tree gives root ${toHex(root)} for size ${state.verified.size}, the verified checkpoint says ${toHex(state.verified.rootHash)}`);
  if (startSeq(state) === (state.shard?.seq ?? 0)) problems.push(...(await checkStartFrontier(state, read)));
  return problems;
}

/** The start's verified frontier (LogState.startFrontier), node by node as the store reads it from the tree that holds the start. */
async function checkStartFrontier(state: LogState, read: ReturnType<Store['hashReader']>): Promise<string[]> {
  if (!state.startFrontier) return [];
  const problems: string[] = [];
  const nodes = frontierNodes(CompactRange.deserialize(state.startFrontier));
  const got = await read(nodes).catch(() => undefined);
  nodes.forEach((n, k) => {
    const have = got?.[k];
    if (!have || !bytesEqual(have, n.hash)) problems.push(`stored tree gives ${have ? toHex(have) : 'nothing'} for node (${n.level}, ${n.index}) of the start's verified frontier, which says ${toHex(n.hash)}`);
  });
  return problems;
}

/**
 * The log's verified-checkpoint history (Bucket.CHECKPOINT), the evidence a finding or a peer is shown:
 * each record reads back, is the checkpoint of the size its key says, and the root it records is the one
 * its signed note says (a flipped bit in either shows), and the current tree's newest is the state's
 * verified checkpoint.
 */
export async function checkCheckpointHistory(store: Store, log: string, state: LogState): Promise<string[]> {
  const id = await store.logId(log);
  const problems: string[] = [];
  const current = state.shard?.seq ?? 0;
  let newest: VerifiedHead | undefined;
  const prefix = key(Bucket.CHECKPOINT, u16(id));
  for await (const [k, v] of store.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
    const tree = treeSeq(readU16(k, 3));
    const size = readU64(k, 5);
    // A Rekor v1 tree by its ID, as the log names it: the current tree's from the state, an earlier one's
    // from its note's origin; the store's sequence (keys.ts treeKey) only for a record that cannot be read.
    const named = (head?: VerifiedHead) => (tree === current ? state.shard?.treeID : typeof head?.note === 'string' ? treeIdOfNote(head.note) : undefined) ?? `#${tree} in the store`;
    const at = (head?: VerifiedHead) => `verified checkpoint of size ${size}${state.shard ? ` (tree ${named(head)})` : ''}`;
    let head: VerifiedHead;
    try {
      head = decodeJson<VerifiedHead>(v);
    } catch (e) {
      problems.push(`${at()}: ${describeError(e)}`);
      continue;
    }
    const where = at(head);
    const [, noteSize, noteRoot] = typeof head.note === 'string' ? head.note.split('\n') : [];
    if (typeof head.size !== 'bigint' || head.size !== size) problems.push(`${where}: its record says size ${String(head.size)}`);
    else if (!(head.rootHash instanceof Uint8Array) || noteSize !== String(size) || noteRoot !== Buffer.from(head.rootHash).toString('base64')) {
      problems.push(`${where}: its root and its signed note disagree`);
    }
    if (tree === current) newest = head;
  }
  const verified = state.verified;
  if (verified && !newest) problems.push(`no verified checkpoint of the current tree is stored; the state's is of size ${verified.size}`);
  else if (verified && newest && !(newest.size === verified.size && bytesEqual(newest.rootHash, verified.rootHash))) {
    problems.push(`the newest verified checkpoint stored (size ${String(newest.size)}, root ${toHex(newest.rootHash)}) is not the state's (size ${verified.size}, root ${toHex(verified.rootHash)})`);
  }
  return problems;
}

/** One tree of a log as the store holds it: leaves [first, end) of it (tree-local), at virtual `offset`. */
export interface HeldTree {
  seq: number;
  /** Rekor v1: the tree's ID, as the log and `/api/v1/log` name it (undefined for a tiles log's one tree). */
  treeID?: string;
  offset: bigint;
  first: bigint;
  end: bigint;
  /** A retired tree's final verified checkpoint (undefined for the current tree, or when none is stored). */
  final?: VerifiedHead;
  retired: boolean;
}

/**
 * A tree as a problem or a report names it for the operator: by the tree ID the log and `/api/v1/log`
 * give it, not its sequence in the store's keys (negative for the trees before the mirror's start).
 */
export function treeName(tree: Pick<HeldTree, 'seq' | 'treeID'>): string {
  return `tree ${tree.treeID ?? tree.seq}`;
}

/**
 * The trees a log's entries span: retired Rekor v1 trees first, those before the tree the mirror started in
 * that backfill has reached (their final heads from priorTrees), then those it followed to their end
 * (their sizes from their final verified checkpoints), then the current one. Trees are contiguous in
 * virtual indexes, and the mirror's first tree need not be the log's first: retired offsets count back
 * from the current tree's.
 */
export async function heldTrees(store: Store, state: LogState): Promise<HeldTree[]> {
  const seq = state.shard?.seq ?? 0;
  const finals: Array<VerifiedHead | undefined> = [];
  for (let t = 0; t < seq; t++) finals.push((await store.listCheckpoints(state.name, { limit: 1, tree: t })).checkpoints[0]);
  const currentOffset = state.shard?.offset ?? 0n;
  let offset = currentOffset - finals.reduce((sum, f) => sum + (f?.size ?? 0n), 0n);
  const local = (o: bigint) => (state.startIndex > o ? state.startIndex - o : 0n);
  const first = startSeq(state);
  const prior: HeldTree[] = priorTreeSpans(state)
    .filter((t) => t.seq >= first)
    .map((t) => ({ seq: t.seq, treeID: t.treeID, offset: t.offset, first: local(t.offset), end: t.head.size, final: t.head, retired: true }));
  const trees: HeldTree[] = finals.map((final, t) => {
    const treeID = final ? treeIdOfNote(final.note) : undefined;
    const tree: HeldTree = { seq: t, offset, first: local(offset), end: final?.size ?? 0n, retired: true, ...(final ? { final } : {}), ...(treeID ? { treeID } : {}) };
    offset += final?.size ?? 0n;
    return tree;
  });
  trees.push({ seq, offset: currentOffset, first: local(currentOffset), end: fetchedSize(state) - currentOffset, retired: false, ...(state.shard ? { treeID: state.shard.treeID } : {}) });
  return [...prior, ...trees];
}

/**
 * Retired Rekor v1 shards must stay complete: every entry of each finished tree is stored, and the tree
 * rebuilt from the stored hashes has the root of the tree's final verified checkpoint. `countEntries:
 * false` leaves out the count, the part that reads every key of the retired trees (a check of part of
 * the log, which reads only that part's).
 */
export async function checkRetiredShards(store: Store, log: string, { countEntries = true }: { countEntries?: boolean } = {}): Promise<string[]> {
  const state = await store.getLogState(log);
  const id = await store.logId(log);
  if (!state?.shard || id === undefined) return [];
  const problems: string[] = [];
  for (const tree of (await heldTrees(store, state)).filter((t) => t.retired)) {
    if (!tree.final) {
      problems.push(`retired ${treeName(tree)} has no verified final checkpoint`);
      continue;
    }
    // Counted from the keys alone: this runs with every reverify, over trees that may hold millions.
    const held = countEntries ? await countKeys(store, id, tree.offset + tree.first, tree.offset + tree.final.size) : tree.final.size - tree.first;
    const missing = tree.final.size - tree.first - held;
    if (missing) problems.push(`retired ${treeName(tree)}: ${missing} of its ${tree.final.size} entries are missing`);
    // The tree that holds the start from there on, as in checkVerifiedRoot (with its start's frontier node
    // by node: the root can resolve through an earlier start's nodes); later trees are held from their first leaf.
    const read = store.hashReader(log, tree.seq, { uncached: true });
    if (tree.seq > startSeq(state) || localStartIndex(state) !== undefined) {
      const root = await treeRootAsync(tree.final.size, read).catch(() => undefined);
      if (!root || !bytesEqual(root, tree.final.rootHash)) problems.push(`retired ${treeName(tree)}: stored hashes do not rebuild the root of its final checkpoint (size ${tree.final.size})`);
    }
    if (tree.seq === startSeq(state)) problems.push(...(await checkStartFrontier(state, read)).map((p) => `retired ${treeName(tree)}: ${p}`));
  }
  return problems;
}

/** How many entry values the store holds in [from, to) (virtual indexes), reading keys only. */
async function countKeys(store: Store, id: number, from: bigint, to: bigint): Promise<bigint> {
  let n = 0;
  await scanChunks(store.entryDb.keys({ gte: entryKey(id, from), lt: entryKey(id, to) }), () => void n++, 4096);
  return BigInt(n);
}

export interface TreeHashesCheck {
  /** Leaf hashes compared with the hash of their stored body. */
  leaves: number;
  /** Nodes compared with the MTH of their stored children (tile-row parents and frontier nodes). */
  nodes: number;
  /** Nodes no stored child covers (a start's frontier, left of it): the root check is what covers them. */
  uncovered: number;
}

/** Runs of consecutive hashes in one row, grouped by the 256 a tile-row parent covers. */
class RowRuns {
  private group = -1n;
  private run: Uint8Array[] | undefined;

  /** Adds row hash `index`; returns [group, MTH] when it completes a run of 256 from a group's start. */
  add(index: bigint, hash: Uint8Array): [bigint, Uint8Array] | undefined {
    const g = index / BigInt(ROW);
    if (g !== this.group) {
      this.group = g;
      this.run = [];
    }
    if (!this.run || BigInt(this.run.length) !== index % BigInt(ROW)) {
      this.run = undefined; // a gap: this group has no complete run
      return undefined;
    }
    this.run.push(hash);
    if (this.run.length < ROW) return undefined;
    const done: [bigint, Uint8Array] = [g, hashRun(this.run)];
    this.run = undefined;
    return done;
  }
}

/** Entries [from, end) (virtual indexes): the part of a log `tlogwatch check --from/--to` is given. */
export interface EntryWindow {
  from: bigint;
  end: bigint;
}

/**
 * Every stored hash of every tree of `log`, in one pass over the node keys in key order (row 0, the levels
 * between, row 8, …), reading bodies a chunk at a time. O(1) memory in the log's size; `problem` is called
 * for each finding (the caller caps them), `progress` with the leaf hashes compared so far, after each chunk.
 *
 * With a `window`, the stored hashes over its entries only: their leaf hashes, and every node with one of
 * them under it. A tile-row node is compared with the 256 hashes under it, so hashes beside the window (in
 * the runs of 256 at its edges) are read too, and damage to those is said as the node's; nothing is said
 * of leaf hashes or nodes over no entry of the window.
 */
export async function checkTreeHashes(store: Store, log: string, state: LogState, problem: (p: string) => void, progress?: (leaves: number) => void, window?: EntryWindow): Promise<TreeHashesCheck> {
  const id = await store.logId(log);
  if (id === undefined) throw new TlogwatchError('API_NOT_FOUND', `no log named ${log}`);
  const out: TreeHashesCheck = { leaves: 0, nodes: 0, uncovered: 0 };
  for (const tree of await heldTrees(store, state)) {
    if (!window) {
      await checkTree(store, { log, id }, tree, undefined, problem, out, progress);
      continue;
    }
    // The window's leaves in this tree (tree-local).
    const first = window.from - tree.offset > tree.first ? window.from - tree.offset : tree.first;
    const end = window.end - tree.offset < tree.end ? window.end - tree.offset : tree.end;
    if (first < end) await checkTree(store, { log, id }, tree, { first, end }, problem, out, progress);
  }
  return out;
}

/**
 * Which node indexes of level `l` a window's check reads, [lo, hi): on a tile row each run of 256 with a
 * node over a leaf of [first, end) (a run is compared with its parent whole); between rows, the nodes over
 * a leaf of it.
 */
function levelSpan(l: number, first: bigint, end: bigint): { lo: bigint; hi: bigint } {
  const lo = first >> BigInt(l);
  const hi = ((end - 1n) >> BigInt(l)) + 1n;
  if (l % 8 !== 0) return { lo, hi };
  return { lo: (lo / BigInt(ROW)) * BigInt(ROW), hi: ((hi - 1n) / BigInt(ROW) + 1n) * BigInt(ROW) };
}

/** checkTreeHashes for one tree: all of it, or the leaves [first, end) of it (tree-local) and the nodes over them. */
async function checkTree(
  store: Store,
  { log, id }: { log: string; id: number },
  tree: HeldTree,
  window: { first: bigint; end: bigint } | undefined,
  problem: (p: string) => void,
  out: TreeHashesCheck,
  progress?: (leaves: number) => void,
): Promise<void> {
  const at = (i: bigint) => tree.offset + i; // the entry index of leaf i
  const where = tree.retired || tree.seq > 0 ? `${treeName(tree)}: ` : '';
  // The leaves whose hashes must be stored, each once: all the tree holds, or the window's.
  const { first, end } = window ?? tree;
  /** Whether node (l, index) is over a leaf the check covers (outside a window, every node). */
  const covered = (l: number, index: bigint) => !window || (((index + 1n) << BigInt(l)) > first && index << BigInt(l) < end);
  // Left of the start the only leaf hash that may be stored is the start frontier's (when `first` is odd).
  const preStart = new Set(frontierNodeIds(tree.first).map((n) => `${n.level}/${n.index}`));
  let level = -1;
  let runs = new RowRuns();
  let nextLeaf = first;
  /** Leaves of the current chunk to compare with their bodies. */
  let pending: Array<{ leaf: bigint; hash: Uint8Array }> = [];

  const compareLeaves = async () => {
    if (pending.length === 0) return;
    const values = await store.getEntryValues(pending.map((p) => ({ log, index: Number(at(p.leaf)) })));
    pending.forEach((p, k) => {
      const v = values[k];
      if (!v) return problem(`${where}leaf hash stored for entry ${at(p.leaf)}, which is not`);
      let body;
      try {
        body = entryValueBody(v);
      } catch (e) {
        return problem(`entry ${at(p.leaf)}: ${describeError(e)}`);
      }
      const lh = leafHash(body);
      if (!bytesEqual(lh, p.hash)) problem(`entry ${at(p.leaf)}: body hashes to ${toHex(lh)}, the stored tree has ${toHex(p.hash)}`);
      out.leaves++;
    });
    pending = [];
    progress?.(out.leaves);
  };
  // Row nodes above row 0, and how many of them checkParent found: the rest have no complete run under
  // them (a start's frontier node, or one an earlier start stored), which the root check covers.
  let rowNodes = 0;
  let parentsFound = 0;
  // Whether row 0 was met: a tree whose leaf hashes are all lost may keep the nodes over them.
  let leavesSeen = false;
  const endLevel = async () => {
    if (level === 0) {
      leavesSeen = true;
      await compareLeaves();
      if (nextLeaf < end) problem(`${where}no leaf hash for entries ${at(nextLeaf)}..${at(end - 1n)}`);
    }
  };
  /** A complete run of 256 at row `row`: its parent must be stored, and be the run's MTH. */
  const checkParent = async (row: number, group: bigint, mth: Uint8Array) => {
    const parent = await store.db.get(nodeKey(id, tree.seq, row + 8, group));
    out.nodes++;
    if (parent) parentsFound++;
    if (!parent) problem(`${where}node (${row + 8}, ${group}) is missing, though the ${ROW} hashes under it are stored`);
    else if (!bytesEqual(parent, mth)) problem(`${where}node (${row + 8}, ${group}) is ${toHex(parent)}, the ${ROW} hashes under it give ${toHex(mth)}`);
  };
  /** A node stored at its own level: compared with its row below when that run is complete. */
  const checkOwnLevel = async (l: number, index: bigint, hash: Uint8Array) => {
    const mth = await fromRowBelow(store, id, tree.seq, l, index);
    if (!mth) {
      out.uncovered++;
      return;
    }
    out.nodes++;
    if (!bytesEqual(mth, hash)) problem(`${where}node (${l}, ${index}) is ${toHex(hash)}, the hashes under it give ${toHex(mth)}`);
  };
  const visit = async (l: number, index: bigint, hash: Uint8Array) => {
    if (l !== level) {
      await endLevel();
      level = l;
      runs = new RowRuns();
    }
    if (hash.length !== 32) {
      if (!covered(l, index)) return;
      problem(`${where}node (${l}, ${index}) is ${hash.length} bytes, not 32`);
      if (l === 0 && index >= nextLeaf) nextLeaf = index + 1n; // said once, not again as a gap
      return;
    }
    if (l % 8 !== 0) return checkOwnLevel(l, index, hash);
    const done = runs.add(index, hash);
    if (l > 0 && covered(l, index)) rowNodes++;
    if (done) await checkParent(l, done[0], done[1]);
    if (l !== 0 || !covered(0, index)) return;
    if (index < tree.first) {
      if (preStart.has(`0/${index}`)) out.uncovered++;
      else problem(`${where}leaf hash stored for entry ${at(index)}, left of where the mirror holds the log (${at(tree.first)})`);
      return;
    }
    if (index >= tree.end) return problem(`${where}leaf hash stored for entry ${at(index)}, past the entries the mirror holds (${at(tree.end)})`);
    if (index > nextLeaf) problem(`${where}no leaf hash for entries ${at(nextLeaf)}..${at(index - 1n)}`);
    nextLeaf = index + 1n;
    pending.push({ leaf: index, hash });
    if (pending.length >= 1024) await compareLeaves();
  };

  // The whole tree is one key range; a window's is one range per level, in the same (key) order.
  const prefix = nodeKey(id, tree.seq, 0, 0n).subarray(0, LEVEL_AT);
  const ranges = window
    ? Array.from({ length: 64 }, (_, l) => levelSpan(l, first, end)).map(({ lo, hi }, l) => ({ gte: nodeKey(id, tree.seq, l, lo), lt: nodeKey(id, tree.seq, l, hi) }))
    : [{ gte: prefix, lt: prefixEnd(prefix) }];
  for (const range of ranges) {
    const it = store.db.iterator(range);
    try {
      for (let chunk = await it.nextv(1024); chunk.length > 0; chunk = await it.nextv(1024)) {
        for (const [k, hash] of chunk) await visit(k[LEVEL_AT]!, readU64(k, INDEX_AT), hash);
      }
    } finally {
      await it.close();
    }
  }
  await endLevel();
  out.uncovered += rowNodes - parentsFound;
  if (!leavesSeen && end > first) problem(`${where}no leaf hash for entries ${at(first)}..${at(end - 1n)}`);
}

/**
 * The hash of node (level, index) from the row below it as stored: the 2^(level mod 8) hashes of row
 * 8·⌊level/8⌋ under a node stored at its own level, the 256 of the row 8 below under a tile-row node.
 * Undefined when that run is incomplete (left of a start, or past the tree's end).
 */
async function fromRowBelow(store: Store, id: number, tree: number, level: number, index: bigint): Promise<Uint8Array | undefined> {
  const r = level % 8 === 0 ? 8 : level % 8;
  const from = index << BigInt(r);
  const below = await store.db.values({ gte: nodeKey(id, tree, level - r, from), lt: nodeKey(id, tree, level - r, from + (1n << BigInt(r))) }).all();
  return below.length === 1 << r ? hashRun(below) : undefined;
}

/**
 * The stored nodes above the leaves whose first leaf is in [from, to) (tree-local), each compared with the
 * run under it where that run is stored: the reverify job's share of checkTreeHashes. Windows that cover
 * the tree between them check every stored node once, including those the verified root does not read
 * (under a complete larger subtree, or a start's frontier that backfill has since covered) but proofs do.
 */
export async function checkNodesOver(store: Store, log: string, held: Pick<HeldTree, 'seq' | 'treeID'>, from: bigint, to: bigint): Promise<{ nodes: number; problems: string[] }> {
  const tree = held.seq;
  const id = await store.logId(log);
  if (id === undefined || to <= from) return { nodes: 0, problems: [] };
  const problems: string[] = [];
  let nodes = 0;
  for (let l = 1; l < 64; l++) {
    const shift = BigInt(l);
    // Past 2^l ≥ to only node (l, 0) can start in the window, and only when it starts at leaf 0.
    if (from > 0n && 1n << shift >= to) break;
    // Nodes (l, i) with i·2^l in [from, to).
    const lo = (from + (1n << shift) - 1n) >> shift;
    const hi = (to + (1n << shift) - 1n) >> shift;
    if (lo >= hi) continue;
    for (const [k, hash] of await store.db.iterator({ gte: nodeKey(id, tree, l, lo), lt: nodeKey(id, tree, l, hi) }).all()) {
      const index = readU64(k, INDEX_AT);
      const mth = await fromRowBelow(store, id, tree, l, index);
      if (!mth) continue;
      nodes++;
      if (!bytesEqual(mth, hash)) problems.push(`${tree > 0 ? `${treeName(held)}: ` : ''}node (${l}, ${index}) is ${toHex(hash)}, the hashes under it give ${toHex(mth)}`);
    }
  }
  return { nodes, problems };
}

/**
 * The stored bodies of entries [from, to) (virtual indexes, all in tree `tree` at `offset`) re-hashed and
 * compared with the stored leaf hashes: the reverify job's window. Both are read with iterators a chunk
 * at a time, and the bodies are not decoded, so a window costs about a leaf hash per entry.
 */
export async function checkLeavesIn(store: Store, log: string, tree: { seq: number; offset: bigint }, from: bigint, to: bigint): Promise<{ checked: number; problems: string[] }> {
  const id = await store.logId(log);
  if (id === undefined || to <= from) return { checked: 0, problems: [] };
  const problems: string[] = [];
  let checked = 0;
  const CHUNK = 4096n;
  for (let lo = from; lo < to; lo += CHUNK) {
    const hi = lo + CHUNK < to ? lo + CHUNK : to;
    const hashes = new Map<bigint, Uint8Array>();
    for (const [k, v] of await store.db.iterator({ gte: nodeKey(id, tree.seq, 0, lo - tree.offset), lt: nodeKey(id, tree.seq, 0, hi - tree.offset) }).all()) hashes.set(readU64(k, INDEX_AT) + tree.offset, v);
    let next = lo;
    const missing = (until: bigint) => {
      for (; next < until; next++) problems.push(`entry ${next} is missing from the store`);
    };
    await scanChunks(store.entryDb.iterator({ gte: entryKey(id, lo), lt: entryKey(id, hi) }), ([k, v]) => {
      const i = readU64(k, 3);
      missing(i);
      next = i + 1n;
      let lh: Uint8Array;
      try {
        lh = leafHash(entryValueBody(v));
      } catch (e) {
        problems.push(`entry ${i}: ${describeError(e)}`);
        return;
      }
      const stored = hashes.get(i);
      if (!stored || !bytesEqual(lh, stored)) problems.push(`entry ${i}: body hashes to ${toHex(lh)}, the verified tree has ${stored ? toHex(stored) : 'nothing'}`);
      checked++;
    });
    missing(hi);
  }
  return { checked, problems };
}
