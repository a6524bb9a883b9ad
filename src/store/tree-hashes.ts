/**
 * Stored tree hashes for proofs served from the mirror (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF via
 * merkle/prove.ts). The mirror stores the complete-subtree hashes of the tile rows, levels 0, 8, 16, …
 * (C2SP tlog-tiles: https://c2sp.org/tlog-tiles), as it appends leaves; node (L, i) is then the MTH of
 * 2^(L mod 8) consecutive stored hashes of row 8·⌊L/8⌋, at most 255 hashings away.
 * Left of where the mirror started no leaf was appended, so only the frontier's nodes exist there; they
 * are stored at their own level, and a node whose row is incomplete is looked up as stored, else
 * computed from its two children.
 *
 * A batch of nodes (a proof's path) is read by tile, as a tlog-tiles client fetches it (readNodes): the
 * nodes of levels 8b..8b+7 that one proof needs all lie over one or two 256-wide tiles of row 8b, so a
 * proof on a 1M tree costs three range reads instead of one LevelDB iterator per node.
 */
import type { Level } from 'level';
import { TlogwatchError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { nodeHash } from '../merkle/rfc6962.ts';
import { frontierNodeIds, hashRun } from '../merkle/tiles.ts';
import type { NodeId } from '../merkle/prove.ts';
import type { LogState } from './codec.ts';
import { nodeKey } from './keys.ts';
import { MIN_RUN, type NodeCache } from './node-cache.ts';

type Db = Level<Uint8Array, Uint8Array>;

/**
 * Frontier nodes wholly left of where the mirror started: the mirror never appends those leaves, so no
 * tile-row hash covers them; stored at their own level they let proofs span the start (readNode).
 */
export function preStartNodes(state: LogState): Array<{ level: number; index: bigint; hash: Uint8Array }> {
  const localStart = state.startIndex - (state.shard?.offset ?? 0n);
  if (localStart <= 0n) return [];
  return frontierNodes(CompactRange.deserialize(state.frontier)).filter((n) => (n.index + 1n) << BigInt(n.level) <= localStart);
}

/** A frontier's nodes with their (level, index) in the tree, largest first. */
export function frontierNodes(range: CompactRange): Array<{ level: number; index: bigint; hash: Uint8Array }> {
  const hashes = range.nodes();
  return frontierNodeIds(range.size).map((n, i) => ({ ...n, hash: hashes[i]! }));
}

/** Node (level, index) of a log's tree `tree` (Rekor v1 shard sequence; 0 for tiles). */
export async function readNode(db: Db, log: { id: number; name: string; tree: number }, level: number, index: bigint): Promise<Uint8Array> {
  const { id, tree } = log;
  const r = level % 8;
  const first = index << BigInt(r);
  const count = 1 << r;
  const hashes: Uint8Array[] = [];
  for await (const v of db.values({ gte: nodeKey(id, tree, level - r, first), lt: nodeKey(id, tree, level - r, first + BigInt(count)) })) hashes.push(v);
  if (hashes.length === count) return hashRun(hashes);
  if (r > 0) {
    const exact = await db.get(nodeKey(id, tree, level, index));
    if (exact !== undefined) return exact;
  }
  if (level === 0) {
    throw new TlogwatchError('API_NOT_FOUND', `the mirror holds no hash for leaf ${index} of ${log.name} (tree ${tree}): it is before the mirror's start, or the store lost it`);
  }
  const left = await readNode(db, log, level - 1, index * 2n);
  return nodeHash(left, await readNode(db, log, level - 1, index * 2n + 1n));
}

/** The nodes of one batch that lie over one 256-wide tile of tile row `row`, and the span of that row they need. */
interface TileGroup {
  row: number;
  lo: bigint;
  hi: bigint;
  at: number[];
}

/** Where node (level, index) lies in its tile row: the row, and its run [first, first + 2^(level mod 8)) there. */
function inRow(n: NodeId): { row: number; first: bigint; count: number } {
  const r = n.level % 8;
  return { row: n.level - r, first: n.index << BigInt(r), count: 1 << r };
}

/**
 * Nodes `nodes` of a log's tree, as readNode reads each, with one range read per (tile row, 256-wide tile)
 * they lie over (C2SP tlog-tiles' tile of that row). A node's run of stored hashes never crosses a tile:
 * it is at most 128 wide and aligned to its width. What the read does not give in full (a row incomplete
 * left of where the mirror started, a store that lost a hash) goes to readNode, which looks the node up
 * at its own level or splits it. With `cache`, nodes of MIN_RUN stored hashes or more computed from a full
 * run are kept there and taken from it (node-cache.ts); a check of the stored hashes reads without one.
 */
export async function readNodes(db: Db, log: { id: number; name: string; tree: number }, nodes: readonly NodeId[], cache?: NodeCache): Promise<Uint8Array[]> {
  const generation = cache?.generation ?? 0;
  const cacheKey = (n: NodeId) => `${log.id}/${log.tree}/${n.level}/${n.index}`;
  const out: Uint8Array[] = new Array<Uint8Array>(nodes.length);
  const groups = new Map<string, TileGroup>();
  nodes.forEach((n, k) => {
    const { row, first, count } = inRow(n);
    const cached = cache && count >= MIN_RUN ? cache.get(cacheKey(n)) : undefined;
    if (cached) return (out[k] = cached);
    const end = first + BigInt(count);
    const id = `${row}/${first >> 8n}`;
    const g = groups.get(id);
    if (!g) return groups.set(id, { row, lo: first, hi: end, at: [k] });
    if (first < g.lo) g.lo = first;
    if (end > g.hi) g.hi = end;
    g.at.push(k);
  });
  await Promise.all(
    [...groups.values()].map(async (g) => {
      const span = await readRow(db, log, g.row, g.lo, g.hi);
      await Promise.all(
        g.at.map(async (k) => {
          const n = nodes[k]!;
          const { first, count } = inRow(n);
          const at = Number(first - g.lo);
          const run = span.slice(at, at + count);
          if (!run.every((h) => h !== undefined)) return (out[k] = await readNode(db, log, n.level, n.index));
          out[k] = hashRun(run);
          if (cache && count >= MIN_RUN) cache.set(cacheKey(n), out[k], generation);
        }),
      );
    }),
  );
  return out;
}

/**
 * The stored hashes [lo, hi) of tile row `row` by position (undefined where none is stored), in one getMany.
 * Measured on the API bench's 1M-entry store (2026-11-30, a random 256-wide tile of row 0, 2,000 reads a
 * round, 3 rounds): 530–630 µs of CPU by getMany, 690–810 µs by one iterator's nextv, either way ~2.5 µs a
 * hash, so what a read costs is how many hashes it reads, not how many trips.
 */
async function readRow(db: Db, log: { id: number; tree: number }, row: number, lo: bigint, hi: bigint): Promise<Array<Uint8Array | undefined>> {
  const keys: Uint8Array[] = [];
  for (let i = lo; i < hi; i++) keys.push(nodeKey(log.id, log.tree, row, i));
  return db.getMany(keys);
}
