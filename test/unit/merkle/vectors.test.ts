/** transparency-dev/merkle golden probes, the 8-leaf reference tree and the computed tile layout. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash, nodeHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { proveConsistency, proveInclusion, treeRoot, type NodeId } from '../../../src/merkle/prove.ts';
import { entriesPath, formatTileIndex, parseTilePath, tilePath, tilesForSize } from '../../../src/merkle/tiles.ts';

const V = 'test/fixtures/vectors';
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? jsonFiles(join(dir, d.name)) : d.name.endsWith('.json') ? [join(dir, d.name)] : []));
}
const read = (f: string): any => JSON.parse(readFileSync(f, 'utf8'));

describe('transparency-dev/merkle inclusion probes', () => {
  const files = jsonFiles(`${V}/transparency-dev-merkle/testdata/inclusion`);
  it('has the probes', () => expect(files.length).toBeGreaterThanOrEqual(90));
  for (const f of files) {
    const v = read(f);
    it(`${f.split('/testdata/')[1]}: ${v.desc}`, () => {
      const run = () => verifyInclusion(BigInt(v.leafIdx), BigInt(v.treeSize), b64(v.leafHash ?? ''), (v.proof ?? []).map(b64), b64(v.root ?? ''));
      if (v.wantErr) expect(run).toThrow();
      else expect(run).not.toThrow();
    });
  }
});

describe('transparency-dev/merkle consistency probes', () => {
  const files = jsonFiles(`${V}/transparency-dev-merkle/testdata/consistency`);
  it('has the probes', () => expect(files.length).toBeGreaterThanOrEqual(90));
  for (const f of files) {
    const v = read(f);
    it(`${f.split('/testdata/')[1]}: ${v.desc}`, () => {
      const run = () => verifyConsistency(BigInt(v.size1), BigInt(v.size2), (v.proof ?? []).map(b64), b64(v.root1 ?? ''), b64(v.root2 ?? ''));
      if (v.wantErr) expect(run).toThrow();
      else expect(run).not.toThrow();
    });
  }
});

describe('the 8-leaf reference tree', () => {
  const ref = read(`${V}/transparency-dev-merkle/reference_tree_8leaves.json`);
  const leaves: Uint8Array[] = ref.leafInputsHex.map((h: string) => leafHash(hex(h)));
  const levels: Uint8Array[][] = ref.nodeHashesByLevel.map((l: string[]) => l.map(hex));
  const reader = (ids: readonly NodeId[]) => ids.map((id) => levels[id.level]![Number(id.index)]!);

  it('leaf and node hashes match every level', () => {
    expect(leaves.map(toHex)).toEqual(ref.nodeHashesByLevel[0]);
    for (let l = 1; l < levels.length; l++) {
      levels[l]!.forEach((h, i) => expect(toHex(nodeHash(levels[l - 1]![2 * i]!, levels[l - 1]![2 * i + 1]!))).toBe(toHex(h)));
    }
  });

  it('roots for every size from the naive MTH, the compact range and stored nodes', () => {
    const range = CompactRange.empty();
    for (let size = 0; size <= 8; size++) {
      const want = ref.rootHashesBySize[String(size)] ?? ref.rootHashesBySize[size];
      expect(toHex(rootFromLeafHashes(leaves.slice(0, size)))).toBe(want);
      expect(toHex(range.root())).toBe(want);
      expect(toHex(treeRoot(BigInt(size), reader))).toBe(want);
      if (size < 8) range.append(leaves[size]!);
    }
  });

  it('compact range shapes', () => {
    const shapes = ref.compactRangeBySize;
    const range = CompactRange.empty();
    for (let size = 0; size <= 8; size++) {
      const shape = shapes[String(size)];
      if (shape) {
        const want = (shape as string[]).map((s) => {
          const m = /^L(\d+)\[(\d+)\]$/.exec(s)!;
          return toHex(levels[Number(m[1])]![Number(m[2])]!);
        });
        expect(range.nodes().map(toHex)).toEqual(want);
      }
      if (size < 8) range.append(leaves[size]!);
    }
  });

  it('proves and verifies the reference inclusion and consistency proofs', () => {
    for (const p of ref.inclusionProofs) {
      const proof = proveInclusion(BigInt(p.leafIndex), BigInt(p.treeSize), reader);
      expect(proof.map(toHex)).toEqual(p.proof);
      verifyInclusion(BigInt(p.leafIndex), BigInt(p.treeSize), leaves[p.leafIndex]!, proof, hex(ref.rootHashesBySize[String(p.treeSize)]));
    }
    for (const p of ref.consistencyProofs) {
      const proof = proveConsistency(BigInt(p.size1), BigInt(p.size2), reader);
      expect(proof.map(toHex)).toEqual(p.proof);
    }
  });
});

describe('C2SP tile paths (computed/tile_paths_and_counts.json)', () => {
  const t = read(`${V}/computed/tile_paths_and_counts.json`);
  it('encodes tile indexes', () => {
    for (const { N, path } of t.tileIndexEncoding) {
      expect(formatTileIndex(BigInt(N))).toBe(path);
      expect(parseTilePath(`tile/0/${path}`)).toEqual({ level: 0, n: BigInt(N), width: 256 });
    }
  });
  it('lists full and partial tiles per tree size', () => {
    for (const [size, levels] of Object.entries(t.tilesPerTreeSize as Record<string, any[]>)) {
      const tiles = tilesForSize(BigInt(size));
      for (const lv of levels) {
        const at = tiles.filter((x) => x.level === lv.level);
        expect(at.filter((x) => x.width === 256).length).toBe(lv.fullTiles);
        const partial = at.find((x) => x.width < 256);
        expect(partial?.width ?? 0).toBe(lv.partialWidth);
        const lastPaths = at.slice(-lv.lastPaths.length).map((x) => tilePath(x.level, x.n, x.width));
        expect(lastPaths).toEqual(lv.lastPaths);
      }
      expect(new Set(tiles.map((x) => x.level)).size).toBe(levels.length);
    }
  });
  it('names the entry bundle holding an index', () => {
    for (const e of t.entryBundleForIndex) {
      const n = BigInt(e.index) / 256n;
      const rem = BigInt(e.treeSize) - n * 256n;
      expect(entriesPath(n, rem < 256n ? Number(rem) : undefined)).toBe(e.bundle);
    }
  });
  it('rejects non-canonical paths', () => {
    for (const bad of ['tile/0/1', 'tile/0/x000/001', 'tile/0/001.p/0', 'tile/0/001.p/256', 'tile/64/000', 'tile/01/000', 'tile/0/001/', 'tile/0/x001', 'tile/entries/000.p/007']) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });
});
