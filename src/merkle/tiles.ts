/**
 * C2SP tlog-tiles addressing and tile hashing, tile height 8, width 256.
 * https://c2sp.org/tlog-tiles (c2sp.md §1.3, §2.4, §2.5)
 *
 * Paths
 * - `formatTileIndex(n)`, `tilePath(level, n, width?)`, `entriesPath(n, width?)`: `tile/0/x001/234.p/5`.
 * - `parseTilePath(path)`: strict inverse (canonical forms only), or undefined.
 *
 * Shapes
 * - `tileWidth(level, n, size)`: 256, a partial width, or 0 (no such tile) in a tree of `size`.
 * - `tileCounts(size)`: per level, the number of full tiles and the partial width (bigint-safe near 2^64).
 * - `tilesForSize(size)`: every tile (level, n, width) of a tree of `size`, level by level.
 *
 * Node ↔ tile
 * - `nodeLocation({level, index})` → `{ tileLevel, n, offset, count }`: node (ℓ, i) is the MTH of the
 *   `count` = 2^(ℓ mod 8) hashes at `offset` of tile (⌊ℓ/8⌋, n) (tessera `NodeCoordsToTileAddress`).
 * - `tileRootNode(level, n)`: the node a full tile hashes to, i.e. entry n mod 256 of tile (level+1, ⌊n/256⌋).
 * - `hashRun(hashes)`: MTH of 2^k hashes (a perfect subtree inside one tile).
 * - `verifyTileInParent(level, n, tile, parentTile)`: a full tile's MTH equals its entry in the tile above
 *   (golang.org/x/mod sumdb/tlog TileHashReader authenticates full tiles this way).
 *
 * Reading a tree from tiles (`TileReader` returns the hashes of tile (level, n) at the width the tree implies)
 * - `memoTiles(read)`: the same reader, each tile read once.
 * - `nodesFromTiles(nodes, treeSize, read)`: node hashes; doubles as a prove.ts AsyncHashReader.
 * - `frontierFromTiles(size, treeSize, read)`: CompactRange of [0, size), UNVERIFIED: the tiles are trusted.
 * - `rootFromTiles(size, read)`: root of the tree of `size` (compare with its checkpoint's root).
 * - `verifiedFrontierFromTiles(size, {size, rootHash}, read)`: CompactRange of [0, size) authenticated
 *   against a verified checkpoint (a root comparison, or a consistency proof built from the same tiles);
 *   the `start: N` bootstrap for a tiles log.
 */
import { TlogwatchError } from '../errors.ts';
import { bytesEqual, toHex } from '../util/bytes.ts';
import { CompactRange } from './compact.ts';
import { verifyConsistency } from './proof.ts';
import { proveConsistencyAsync, rangeNodes, type NodeId } from './prove.ts';
import { HASH_SIZE, nodeHash } from './rfc6962.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
const W = 256n;
/** Tile indexes are uint64 in every implementation; anything larger is hostile. */
const MAX_INDEX = (1n << 64n) - 1n;

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new RangeError(`tile level ${level} is not 0..63`);
}

/** `N` as zero-padded 3-digit groups, all but the last prefixed with `x`: 1234067 → `x001/x234/067`. */
export function formatTileIndex(n: bigint): string {
  if (n < 0n || n > MAX_INDEX) throw new RangeError(`tile index ${n} is not a uint64`);
  const groups: string[] = [];
  let x = n;
  do {
    groups.unshift((x % 1000n).toString().padStart(3, '0'));
    x /= 1000n;
  } while (x > 0n);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function widthSuffix(width: number | undefined): string {
  if (width === undefined || width === TILE_WIDTH) return '';
  if (!Number.isInteger(width) || width < 1 || width > 255) throw new RangeError(`tile width ${width} is not 1..256`);
  return `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]`; a width of 256 (or none) names the full tile. */
export function tilePath(level: number, n: bigint, width?: number): string {
  checkLevel(level);
  return `tile/${level}/${formatTileIndex(n)}${widthSuffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`: the entry bundle of leaves [N·256, N·256 + W). */
export function entriesPath(n: bigint, width?: number): string {
  return `tile/entries/${formatTileIndex(n)}${widthSuffix(width)}`;
}

const PATH_RE = /^tile\/(0|[1-9]\d?|entries)\/((?:x\d{3}\/)*\d{3})(?:\.p\/([1-9]\d{0,2}))?$/;

/**
 * Strict inverse of tilePath/entriesPath: undefined for anything non-canonical (leading zero groups or
 * level digits, `x` on the last group, W = 0 or ≥ 256, N past uint64). Full tiles report width 256.
 */
export function parseTilePath(path: string): { level: number | 'entries'; n: bigint; width: number } | undefined {
  if (path.length > 128) return undefined; // a uint64 index needs 7 groups; don't run the regex over junk
  const m = PATH_RE.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (typeof level === 'number' && level > 63) return undefined;
  const groups = m[2]!.split('/').map((g) => g.replace(/^x/, ''));
  if (groups.length > 1 && groups[0] === '000') return undefined;
  const n = BigInt(groups.join(''));
  if (n > MAX_INDEX) return undefined;
  if (m[3] === undefined) return { level, n, width: TILE_WIDTH };
  const width = Number(m[3]);
  return width < TILE_WIDTH ? { level, n, width } : undefined;
}

export interface TileRef {
  level: number;
  n: bigint;
  width: number;
}

/** Number of hashes in row 8·level of a tree of `size` (tiles at `level` hold this row). */
function rowSize(level: number, size: bigint): bigint {
  return size >> BigInt(TILE_HEIGHT * level);
}

/** Width of tile (level, n) in a tree of `size`: 256, a partial width (1..255), or 0 when the tile does not exist. */
export function tileWidth(level: number, n: bigint, size: bigint): number {
  checkLevel(level);
  if (n < 0n || size < 0n) throw new RangeError('negative tile index or size');
  const have = rowSize(level, size) - n * W;
  return have <= 0n ? 0 : have >= W ? TILE_WIDTH : Number(have);
}

/** Per level with any hashes: full tiles and the partial tile's width (0 when none); `floor(s/256^l) mod 256`. */
export function tileCounts(size: bigint): Array<{ level: number; full: bigint; partialWidth: number }> {
  if (size < 0n) throw new RangeError('negative tree size');
  const out: Array<{ level: number; full: bigint; partialWidth: number }> = [];
  for (let level = 0; rowSize(level, size) > 0n; level++) {
    const row = rowSize(level, size);
    out.push({ level, full: row / W, partialWidth: Number(row % W) });
  }
  return out;
}

/** Every tile of a tree of `size`, level by level (full tiles, then the partial one if any). Enumerates: keep sizes sane. */
export function tilesForSize(size: bigint): TileRef[] {
  const out: TileRef[] = [];
  for (const { level, full, partialWidth } of tileCounts(size)) {
    for (let n = 0n; n < full; n++) out.push({ level, n, width: TILE_WIDTH });
    if (partialWidth > 0) out.push({ level, n: full, width: partialWidth });
  }
  return out;
}

/** Where node (ℓ, i) is stored: tile (⌊ℓ/8⌋, ⌊j/256⌋), hashes [offset, offset + count) with j = i·2^(ℓ mod 8). */
export function nodeLocation(node: NodeId): { tileLevel: number; n: bigint; offset: number; count: number } {
  if (!Number.isInteger(node.level) || node.level < 0 || node.level > 63 || node.index < 0n) throw new RangeError(`bad node (${node.level}, ${node.index})`);
  const r = node.level % TILE_HEIGHT;
  const j = node.index << BigInt(r);
  return { tileLevel: Math.floor(node.level / TILE_HEIGHT), n: j / W, offset: Number(j % W), count: 2 ** r };
}

/** The node a full tile (level, n) hashes to: (8·(level+1), n), stored at entry n mod 256 of tile (level+1, ⌊n/256⌋). */
export function tileRootNode(level: number, n: bigint): NodeId {
  checkLevel(level);
  return { level: TILE_HEIGHT * (level + 1), index: n };
}

/** MTH of a run of 2^k hashes (a perfect subtree inside one tile). */
export function hashRun(hashes: readonly Uint8Array[]): Uint8Array {
  const len = hashes.length;
  if (len === 0 || (len & (len - 1)) !== 0) throw new RangeError(`hashRun: ${len} hashes is not a power of two`);
  let row = hashes.slice();
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

function badTile(message: string, data: Record<string, unknown> = {}): TlogwatchError {
  return new TlogwatchError('MERKLE_BAD_HASHES', message, { kind: 'input', data });
}

function checkTile(what: string, tile: readonly Uint8Array[], width: number): void {
  if (tile.length !== width) throw badTile(`${what} has ${tile.length} hashes, want ${width}`);
  tile.forEach((h, i) => {
    if (h.length !== HASH_SIZE) throw badTile(`${what} hash ${i} has ${h.length} bytes`);
  });
}

/**
 * Throws MERKLE_ROOT_MISMATCH unless the full tile (level, n) hashes to its entry in `parentTile`, the
 * tile (level+1, ⌊n/256⌋) at any width that contains it. Partial tiles are never hashed into the level
 * above (tlog-tiles), so they can only be checked through a root (`rootFromTiles`).
 */
export function verifyTileInParent(level: number, n: bigint, tile: readonly Uint8Array[], parentTile: readonly Uint8Array[]): void {
  const name = tilePath(level, n);
  checkTile(name, tile, TILE_WIDTH);
  const at = Number(n % W);
  if (parentTile.length <= at) throw badTile(`parent of ${name} has ${parentTile.length} hashes, needs entry ${at}`);
  const parent = parentTile[at]!;
  if (parent.length !== HASH_SIZE) throw badTile(`parent of ${name} has a ${parent.length}-byte hash at ${at}`);
  const got = hashRun(tile);
  if (!bytesEqual(got, parent)) {
    throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `${name} hashes to ${toHex(got)}, its parent ${tilePath(level + 1, n / W)} says ${toHex(parent)}`, {
      kind: 'input',
      data: { tile: name },
    });
  }
}

/**
 * Reads the hashes of tile (level, n) at `width` (what the tree in question implies; 256 = full). May return
 * synchronously. Implementations fall back to the full tile when a partial one is gone and return its first
 * `width` hashes; anything else of the wrong shape is rejected with MERKLE_BAD_HASHES.
 */
export type TileReader = (level: number, n: bigint, width: number) => Promise<readonly Uint8Array[]> | readonly Uint8Array[];

/** Memoises a reader, so a caller that reads nodes in several rounds fetches each tile once (a failed read stays failed). */
export function memoTiles(read: TileReader): TileReader {
  const cache = new Map<string, Promise<readonly Uint8Array[]>>();
  return (level, n, width) => {
    const key = `${level}/${n}/${width}`;
    let tile = cache.get(key);
    if (!tile) cache.set(key, (tile = Promise.resolve(read(level, n, width))));
    return tile;
  };
}

async function readNodes(nodes: readonly NodeId[], treeSize: bigint, read: TileReader): Promise<Uint8Array[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const loc = nodeLocation(node);
      const width = tileWidth(loc.tileLevel, loc.n, treeSize);
      if (loc.offset + loc.count > width) {
        throw new TlogwatchError('MERKLE_RANGE', `node (${node.level}, ${node.index}) is not inside a tree of size ${treeSize}`);
      }
      const tile = await read(loc.tileLevel, loc.n, width);
      checkTile(tilePath(loc.tileLevel, loc.n, width), tile, width);
      return hashRun(tile.slice(loc.offset, loc.offset + loc.count));
    }),
  );
}

/** Hashes of `nodes` (perfect subtrees inside a tree of `treeSize`), each tile read once. */
export function nodesFromTiles(nodes: readonly NodeId[], treeSize: bigint, read: TileReader): Promise<Uint8Array[]> {
  return readNodes(nodes, treeSize, memoTiles(read));
}

/** The frontier nodes of a tree of `size`, largest first: for each set bit k, node (k, (size >> (k+1)) << 1). */
export function frontierNodeIds(size: bigint): NodeId[] {
  return rangeNodes(0n, size);
}

/**
 * The frontier of [0, size) read from the tiles of a tree of `treeSize` >= size. UNVERIFIED: it is exactly
 * what the tiles say. Use verifiedFrontierFromTiles, or compare a root computed from it with a verified
 * checkpoint, before trusting it.
 */
export async function frontierFromTiles(size: bigint, treeSize: bigint, read: TileReader): Promise<CompactRange> {
  if (size < 0n || size > treeSize) throw new TlogwatchError('MERKLE_RANGE', `frontier size ${size} is not within tree size ${treeSize}`);
  return CompactRange.fromNodes(size, await nodesFromTiles(frontierNodeIds(size), treeSize, read));
}

/** MTH of the tree of `size` from its right-edge tiles (c2sp.md §2.5); equal to the checkpoint's root iff the tiles are honest. */
export async function rootFromTiles(size: bigint, read: TileReader): Promise<Uint8Array> {
  return (await frontierFromTiles(size, size, read)).root();
}

/**
 * The frontier of [0, size), authenticated against a verified checkpoint of `tree.size` >= size: at
 * size == tree.size its root must equal the checkpoint's; below, a consistency proof assembled from the
 * same tiles must verify from the frontier's root to the checkpoint's (a collision-free hash then pins every
 * frontier node). Throws MERKLE_ROOT_MISMATCH (or MERKLE_BAD_PROOF / MERKLE_BAD_HASHES) when the tiles lie.
 */
export async function verifiedFrontierFromTiles(size: bigint, tree: { size: bigint; rootHash: Uint8Array }, read: TileReader): Promise<CompactRange> {
  const tiles = memoTiles(read);
  const frontier = await frontierFromTiles(size, tree.size, tiles);
  if (size === 0n) return frontier; // the empty frontier has nothing to authenticate
  if (size === tree.size) {
    const root = frontier.root();
    if (!bytesEqual(root, tree.rootHash)) {
      throw new TlogwatchError('MERKLE_ROOT_MISMATCH', `tiles give root ${toHex(root)} for size ${size}, the checkpoint says ${toHex(tree.rootHash)}`, {
        kind: 'input',
        data: { size: size.toString() },
      });
    }
    return frontier;
  }
  const proof = await proveConsistencyAsync(size, tree.size, (ids) => readNodes(ids, tree.size, tiles));
  verifyConsistency(size, tree.size, proof, frontier.root(), tree.rootHash);
  return frontier;
}
