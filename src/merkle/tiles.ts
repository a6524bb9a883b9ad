/**
 * C2SP tlog-tiles addressing (https://c2sp.org/tlog-tiles; c2sp.md §1.3, §2.5). Tile height 8, width 256.
 *
 * - Tile (L, N) holds hashes of row 8·L, indexes [N·256, N·256+256); a partial tile `.p/W` holds the first W.
 * - A node (ℓ, i) lives in row 8·⌊ℓ/8⌋: it is the MTH of 2^(ℓ mod 8) consecutive hashes there
 *   starting at j = i·2^(ℓ mod 8), in tile ⌊j/256⌋ at offset j mod 256 (`nodeLocation`).
 * - The frontier of a tree of size S is one node per set bit (`frontierNodeIds`), readable from the
 *   right-edge tiles; folding them gives the root (`frontierFromTiles`).
 */
import { TlogwatchError } from '../errors.ts';
import { CompactRange } from './compact.ts';
import { rangeNodes, type NodeId } from './prove.ts';
import { nodeHash } from './rfc6962.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
const W = 256n;

/** `N` as zero-padded 3-digit groups, all but the last prefixed with `x`: 1234067 → `x001/x234/067`. */
export function formatTileIndex(n: bigint): string {
  if (n < 0n) throw new RangeError('negative tile index');
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

export function tilePath(level: number, n: bigint, width?: number): string {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new RangeError(`tile level ${level} is not 0..63`);
  return `tile/${level}/${formatTileIndex(n)}${widthSuffix(width)}`;
}

export function entriesPath(n: bigint, width?: number): string {
  return `tile/entries/${formatTileIndex(n)}${widthSuffix(width)}`;
}

const PATH_RE = /^tile\/(0|[1-9]\d?|entries)\/((?:x\d{3}\/)*\d{3})(?:\.p\/([1-9]\d{0,2}))?$/;

/** Strict inverse of tilePath/entriesPath: rejects non-canonical forms (leading zeros, x on the last group, W=256). */
export function parseTilePath(path: string): { level: number | 'entries'; n: bigint; width: number } | undefined {
  const m = PATH_RE.exec(path);
  if (!m) return undefined;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (typeof level === 'number' && level > 63) return undefined;
  const groups = m[2]!.split('/').map((g) => g.replace(/^x/, ''));
  if (groups.length > 1 && groups[0] === '000') return undefined;
  const n = BigInt(groups.join(''));
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (width > 255 && m[3] !== undefined) return undefined;
  return { level, n, width };
}

export interface TileRef {
  level: number;
  n: bigint;
  width: number;
}

/** Width of tile (level, n) in a tree of `size`: 256, a partial width, or 0 when the tile does not exist. */
export function tileWidth(level: number, n: bigint, size: bigint): number {
  const rowSize = size >> BigInt(TILE_HEIGHT * level);
  const start = n * W;
  if (rowSize <= start) return 0;
  return Number(rowSize - start >= W ? W : rowSize - start);
}

/** Every tile of a tree of `size`, level by level (full tiles, then the partial one if any). */
export function tilesForSize(size: bigint): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; ; level++) {
    const rowSize = size >> BigInt(TILE_HEIGHT * level);
    if (rowSize === 0n) break;
    const full = rowSize / W;
    for (let n = 0n; n < full; n++) out.push({ level, n, width: TILE_WIDTH });
    const partial = Number(rowSize % W);
    if (partial > 0) out.push({ level, n: full, width: partial });
  }
  return out;
}

/** Where node (ℓ, i) is stored: tile (⌊ℓ/8⌋, ⌊j/256⌋), hashes [offset, offset + count) with j = i·2^(ℓ mod 8). */
export function nodeLocation(node: NodeId): { tileLevel: number; n: bigint; offset: number; count: number } {
  const r = node.level % TILE_HEIGHT;
  const j = node.index << BigInt(r);
  return { tileLevel: Math.floor(node.level / TILE_HEIGHT), n: j / W, offset: Number(j % W), count: 1 << r };
}

/** MTH of a run of 2^k hashes (a perfect subtree inside one tile). */
export function hashRun(hashes: readonly Uint8Array[]): Uint8Array {
  let row = hashes.slice();
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  if (row.length !== 1) throw new RangeError('hashRun: empty run');
  return row[0]!;
}

/** The frontier nodes of a tree of `size`, largest first: for each set bit k, node (k, (size >> (k+1)) << 1). */
export function frontierNodeIds(size: bigint): NodeId[] {
  return rangeNodes(0n, size);
}

/** Reads a tile's hashes at the width a tree of `treeSize` implies (from a verified checkpoint). */
export type TileReader = (level: number, n: bigint, width: number) => Promise<Uint8Array[]>;

/** Reads node values from tiles of a tree of `treeSize` (nodes must lie inside that tree). */
export async function nodesFromTiles(nodes: readonly NodeId[], treeSize: bigint, readTile: TileReader): Promise<Uint8Array[]> {
  const cache = new Map<string, Promise<Uint8Array[]>>();
  return Promise.all(
    nodes.map(async (node) => {
      const loc = nodeLocation(node);
      const width = tileWidth(loc.tileLevel, loc.n, treeSize);
      if (loc.offset + loc.count > width) {
        throw new TlogwatchError('MERKLE_RANGE', `node (${node.level}, ${node.index}) is not inside a tree of size ${treeSize}`);
      }
      const key = `${loc.tileLevel}/${loc.n}`;
      let tile = cache.get(key);
      if (!tile) cache.set(key, (tile = readTile(loc.tileLevel, loc.n, width)));
      const hashes = await tile;
      if (hashes.length < loc.offset + loc.count) throw new TlogwatchError('MERKLE_RANGE', `tile ${key} has ${hashes.length} hashes, need ${loc.offset + loc.count}`);
      return hashRun(hashes.slice(loc.offset, loc.offset + loc.count));
    }),
  );
}

/**
 * The frontier of [0, size) read from the tiles of a tree of `treeSize` >= size. With size == treeSize its
 * root must equal the checkpoint's root: that comparison is what authenticates the tiles.
 */
export async function frontierFromTiles(size: bigint, treeSize: bigint, readTile: TileReader): Promise<CompactRange> {
  if (size > treeSize) throw new TlogwatchError('MERKLE_RANGE', `frontier size ${size} beyond tree size ${treeSize}`);
  return CompactRange.fromNodes(size, await nodesFromTiles(frontierNodeIds(size), treeSize, readTile));
}
