/**
 * Stored tree hashes for proofs served from the mirror (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF via
 * merkle/prove.ts). The mirror stores the complete-subtree hashes of the tile rows, levels 0, 8, 16, …
 * (C2SP tlog-tiles: https://c2sp.org/tlog-tiles), as it appends leaves; node (L, i) is then the MTH of
 * 2^(L mod 8) consecutive stored hashes of row 8·⌊L/8⌋, at most 255 hashings away.
 * Left of where the mirror started no leaf was appended, so only the frontier's nodes exist there; they
 * are stored at their own level, and a node whose row is incomplete is looked up as stored, else
 * computed from its two children.
 */
import type { Level } from 'level';
import { TlogwatchError } from '../errors.ts';
import { CompactRange } from '../merkle/compact.ts';
import { nodeHash } from '../merkle/rfc6962.ts';
import { frontierNodeIds, hashRun } from '../merkle/tiles.ts';
import type { LogState } from './codec.ts';
import { nodeKey } from './keys.ts';

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
