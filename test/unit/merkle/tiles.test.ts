/**
 * Real tlog-tiles data (test/fixtures/vectors/SOURCES.md): the Tessera test log (15 entries, every
 * checkpoint), Sunlight's skylight mirror store (300 leaves, mirror-cosigned checkpoint) and navigli2025h2
 * production static-CT tiles. Roots are recomputed from the tiles and compared with the signed checkpoints'
 * roots (the signatures themselves are checked in test/unit/note).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { EMPTY_ROOT, leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import {
  entriesPath,
  frontierFromTiles,
  hashRun,
  nodesFromTiles,
  rootFromTiles,
  tilePath,
  tilesForSize,
  verifiedFrontierFromTiles,
  verifyTileInParent,
  type TileReader,
} from '../../../src/merkle/tiles.ts';

const V = 'test/fixtures/vectors';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function splitHashes(b: Uint8Array): Uint8Array[] {
  expect(b.length % 32).toBe(0);
  return Array.from({ length: b.length / 32 }, (_, i) => new Uint8Array(b.subarray(32 * i, 32 * i + 32)));
}

/** A reader over a directory laid out as tlog-tiles; the partial tile must exist at exactly the implied width. */
function dirReader(dir: string): TileReader & { reads: string[] } {
  const reads: string[] = [];
  const read = (level: number, n: bigint, width: number) => {
    const path = tilePath(level, n, width);
    reads.push(path);
    return splitHashes(readFileSync(`${dir}/${path}`));
  };
  return Object.assign(read, { reads });
}

/** Checkpoint body: origin, size, base64 root (the note signature is test/unit/note's business). */
function checkpoint(file: string): { origin: string; size: bigint; rootHash: Uint8Array } {
  const [origin, size, root] = readFileSync(file, 'utf8').split('\n');
  return { origin: origin!, size: BigInt(size!), rootHash: new Uint8Array(Buffer.from(root!, 'base64')) };
}

/** The TlogwatchError code `fn` throws (anything else thrown is returned as is, failing the comparison). */
function codeOf(fn: () => unknown): unknown {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return isTlogwatchError(e) ? e.code : e;
  }
}

function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  return expect(p.then(() => 'resolved', (e: unknown) => (isTlogwatchError(e) ? e.code : e))).resolves.toBe(code);
}

/** tlog-tiles entry bundle: big-endian uint16 length, then the entry. */
function parseBundle(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < b.length; ) {
    const len = (b[off]! << 8) | b[off + 1]!;
    out.push(b.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

describe('Tessera testdata log (15 entries, checkpoints 0..15)', () => {
  const dir = `${V}/tessera-testdata-log`;

  it('checkpoint 0 is the empty tree', async () => {
    const cp = checkpoint(`${dir}/checkpoint.0`);
    expect(cp.size).toBe(0n);
    expect(hex(cp.rootHash)).toBe(hex(EMPTY_ROOT));
    expect(hex(await rootFromTiles(0n, dirReader(dir)))).toBe(hex(EMPTY_ROOT));
  });

  for (let size = 1; size <= 15; size++) {
    it(`size ${size}: bundle leaves hash to tile/0, and the tiles give checkpoint.${size}'s root`, async () => {
      const cp = checkpoint(`${dir}/checkpoint.${size}`);
      expect(cp.size).toBe(BigInt(size));
      const entries = parseBundle(readFileSync(`${dir}/${entriesPath(0n, size)}`));
      expect(entries.length).toBe(size);
      const leaves = entries.map(leafHash);
      const tile = splitHashes(readFileSync(`${dir}/${tilePath(0, 0n, size)}`));
      expect(leaves.map(hex)).toEqual(tile.map(hex));

      const read = dirReader(dir);
      expect(hex(await rootFromTiles(cp.size, read))).toBe(hex(cp.rootHash));
      expect(read.reads).toEqual([tilePath(0, 0n, size)]); // one partial tile covers a tree below 256
      expect(hex(rootFromLeafHashes(leaves))).toBe(hex(cp.rootHash));
      const range = CompactRange.empty();
      leaves.forEach((l) => range.append(l));
      expect(hex(range.root())).toBe(hex(cp.rootHash));
    });
  }

  it('the latest checkpoint is checkpoint.15; bundles only ever grow', () => {
    expect(readFileSync(`${dir}/checkpoint`, 'utf8')).toBe(readFileSync(`${dir}/checkpoint.15`, 'utf8'));
    for (let size = 2; size <= 15; size++) {
      const prev = parseBundle(readFileSync(`${dir}/${entriesPath(0n, size - 1)}`)).map(hex);
      expect(parseBundle(readFileSync(`${dir}/${entriesPath(0n, size)}`)).slice(0, size - 1).map(hex)).toEqual(prev);
    }
    expect(Buffer.from(parseBundle(readFileSync(`${dir}/${entriesPath(0n, 15)}`))[14]!).toString()).toBe('fivten');
  });

  it('a frontier at any start, authenticated against checkpoint.15 from the tiles alone', async () => {
    const cp = checkpoint(`${dir}/checkpoint.15`);
    const leaves = parseBundle(readFileSync(`${dir}/${entriesPath(0n, 15)}`)).map(leafHash);
    // Tiles of the tree of size 15 are read at width 15 whatever the start.
    for (let start = 0; start <= 15; start++) {
      const f = await verifiedFrontierFromTiles(BigInt(start), cp, dirReader(dir));
      const want = CompactRange.empty();
      leaves.slice(0, start).forEach((l) => want.append(l));
      expect(f.size).toBe(BigInt(start));
      expect(f.nodes().map(hex)).toEqual(want.nodes().map(hex));
    }
  });

  it('a tile that lies about one hash is caught, wherever the start is', async () => {
    const cp = checkpoint(`${dir}/checkpoint.15`);
    const honest = dirReader(dir);
    for (let bad = 0; bad < 15; bad++) {
      const lying: TileReader = (l, n, w) => {
        const t = honest(l, n, w) as Uint8Array[];
        t[bad] = leafHash(new TextEncoder().encode('forged'));
        return t;
      };
      for (const start of [1, 7, 8, 14, 15]) {
        // Every hash of the tile is either in the frontier or in the consistency proof's subtrees.
        await expectCode(verifiedFrontierFromTiles(BigInt(start), cp, lying), 'MERKLE_ROOT_MISMATCH');
      }
    }
  });

  it('a tile of the wrong width or with short hashes is rejected, not trusted', async () => {
    const cp = checkpoint(`${dir}/checkpoint.15`);
    const honest = dirReader(dir);
    await expectCode(verifiedFrontierFromTiles(15n, cp, (l, n, w) => (honest(l, n, w) as Uint8Array[]).slice(1)), 'MERKLE_BAD_HASHES');
    await expectCode(
      verifiedFrontierFromTiles(15n, cp, (l, n, w) => (honest(l, n, w) as Uint8Array[]).map((h, i) => (i === 3 ? h.subarray(1) : h))),
      'MERKLE_BAD_HASHES',
    );
    await expectCode(verifiedFrontierFromTiles(16n, cp, honest), 'MERKLE_RANGE');
  });
});

describe('Sunlight skylight mirror store (300 leaves "record i")', () => {
  const dir = `${V}/sunlight-skylight/witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706`;
  const cp = checkpoint(`${dir}/checkpoint`);
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(new TextEncoder().encode(`record ${i}`)));

  it('holds exactly the tiles of a tree of 300', () => {
    expect(cp.origin).toBe('rome2026h1.example.org');
    expect(cp.size).toBe(300n);
    const tiles = tilesForSize(300n).map((t) => tilePath(t.level, t.n, t.width));
    expect(tiles).toEqual(['tile/0/000', 'tile/0/001.p/44', 'tile/1/000.p/1']);
    for (const t of tiles) expect(existsSync(`${dir}/${t}`), t).toBe(true);
  });

  it('level-0 tiles are the leaf hashes, and the full tile hashes to its parent entry', () => {
    const t0 = splitHashes(readFileSync(`${dir}/tile/0/000`));
    const t1 = splitHashes(readFileSync(`${dir}/tile/0/001.p/44`));
    expect([...t0, ...t1].map(hex)).toEqual(leaves.map(hex));
    const parent = splitHashes(readFileSync(`${dir}/tile/1/000.p/1`));
    verifyTileInParent(0, 0n, t0, parent);
    const flipped = t0.map((h, i) => (i === 200 ? Uint8Array.from(h, (x, j) => (j === 0 ? x ^ 1 : x)) : h));
    expect(codeOf(() => verifyTileInParent(0, 0n, flipped, parent))).toBe('MERKLE_ROOT_MISMATCH');
    expect(codeOf(() => verifyTileInParent(0, 0n, t0.slice(0, 255), parent))).toBe('MERKLE_BAD_HASHES');
    expect(codeOf(() => verifyTileInParent(0, 1n, t0, parent))).toBe('MERKLE_BAD_HASHES'); // parent has no entry 1 yet
  });

  it("the tiles give the mirror checkpoint's root: node(L1[0], MTH(44 L0 hashes))", async () => {
    const read = dirReader(dir);
    expect(hex(await rootFromTiles(300n, read))).toBe(hex(cp.rootHash));
    expect(new Set(read.reads)).toEqual(new Set(['tile/1/000.p/1', 'tile/0/001.p/44'])); // the full L0 tile is not needed
    expect(hex(rootFromLeafHashes(leaves))).toBe(hex(cp.rootHash));
    // c2sp.md §2.5: N = 300 reads nodes (8,0), (5,8), (3,36), (2,74).
    const f = await frontierFromTiles(300n, 300n, read);
    expect(CompactRange.heights(300n)).toEqual([8, 5, 3, 2]);
    expect(hex(f.root())).toBe(hex(cp.rootHash));
  });

  it('verified frontiers at starts around the tile boundary match appends', async () => {
    for (const start of [1, 2, 44, 128, 255, 256, 257, 299, 300]) {
      const f = await verifiedFrontierFromTiles(BigInt(start), cp, dirReader(dir));
      const want = CompactRange.empty();
      leaves.slice(0, start).forEach((l) => want.append(l));
      expect(f.nodes().map(hex), `start ${start}`).toEqual(want.nodes().map(hex));
    }
  });

  it('a wrong checkpoint root is refused at every start', async () => {
    const forged = { size: 300n, rootHash: leafHash(new Uint8Array([1])) };
    for (const start of [1, 255, 256, 299, 300]) await expectCode(verifiedFrontierFromTiles(BigInt(start), forged, dirReader(dir)), 'MERKLE_ROOT_MISMATCH');
  });
});

/** static-ct-api TileLeaf: TimestampedEntry, then (precert) pre_certificate<u24>, then chain fingerprints<u16>. */
function parseDataTile(b: Uint8Array): Uint8Array[] {
  const u16 = (o: number) => (b[o]! << 8) | b[o + 1]!;
  const u24 = (o: number) => b[o]! * 65536 + u16(o + 1);
  const out: Uint8Array[] = [];
  for (let off = 0; off < b.length; ) {
    const start = off;
    const type = u16(off + 8);
    off += 10;
    if (type === 1) off += 32; // issuer_key_hash
    off += 3 + u24(off); // certificate or TBSCertificate
    off += 2 + u16(off); // CtExtensions
    const timestampedEntry = b.subarray(start, off);
    if (type === 1) off += 3 + u24(off); // pre_certificate
    off += 2 + u16(off); // fingerprints
    // MerkleTreeLeaf: version v1 (0), leaf_type timestamped_entry (0), TimestampedEntry.
    out.push(leafHash(Uint8Array.from([0, 0, ...timestampedEntry])));
  }
  return out;
}

describe('Sunlight navigli2025h2 production tiles (4 full level-0 tiles, 003.p/10)', () => {
  const dir = `${V}/sunlight-navigli2025h2`;
  const l0 = [0, 1, 2, 3].map((n) => splitHashes(readFileSync(`${dir}/tile/0/00${n}`)));
  const partial = splitHashes(readFileSync(`${dir}/tile/0/003.p/10`));
  const leaves = l0.flat();
  // There is no level-1 tile upstream: build it as a mirror re-serving tiles would (c2sp.md §2.4 step 5).
  const l1 = l0.map(hashRun);
  /** Serves upstream files: the partial 003.p/10 as is, other widths sliced from full tiles (the 404 fallback). */
  const read: TileReader = (level, n, width) => {
    if (level === 0 && n === 3n && width === 10) return partial;
    if (level === 0 && n < 4n) return l0[Number(n)]!.slice(0, width);
    if (level === 1 && n === 0n) return l1.slice(0, width);
    throw new Error(`no tile ${tilePath(level, n, width)}`);
  };

  it('data tiles hash to the level-0 tiles', () => {
    expect(parseDataTile(readFileSync(`${dir}/tile/data/000`)).map(hex)).toEqual(l0[0]!.map(hex));
    expect(parseDataTile(readFileSync(`${dir}/tile/data/003.p/10`)).map(hex)).toEqual(partial.map(hex));
    // The partial tile is a prefix of the full tile that later replaced it.
    expect(l0[3]!.slice(0, 10).map(hex)).toEqual(partial.map(hex));
    l0.forEach((t, n) => verifyTileInParent(0, BigInt(n), t, l1));
  });

  it('roots from tiles equal the naive MTH at the upstream shape (778 = 3·256 + 10) and other sizes', async () => {
    for (const size of [778, 1, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024]) {
      expect(hex(await rootFromTiles(BigInt(size), read)), `size ${size}`).toBe(hex(rootFromLeafHashes(leaves.slice(0, size))));
    }
  });

  it('nodes at every height come from the right tile and offset', async () => {
    const ids = [
      { level: 10, index: 0n },
      { level: 9, index: 1n },
      { level: 8, index: 3n },
      { level: 7, index: 5n },
      { level: 3, index: 100n },
      { level: 1, index: 511n },
      { level: 0, index: 1023n },
    ];
    const got = await nodesFromTiles(ids, 1024n, read);
    const want = ids.map(({ level, index }) => rootFromLeafHashes(leaves.slice(Number(index) << level, (Number(index) + 1) << level)));
    expect(got.map(hex)).toEqual(want.map(hex));
    await expectCode(nodesFromTiles([{ level: 1, index: 389n }], 778n, read), 'MERKLE_RANGE'); // leaves 778..779: past the tree
  });
});
