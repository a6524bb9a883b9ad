/** transparency-dev/merkle golden probes, the 8-leaf reference tree and the computed tile layout. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
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

/** Runs `fn`; returns 'ok' or the TlogwatchError code. Anything else thrown (a TypeError, a crash) fails the test. */
function outcome(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!isTlogwatchError(e)) throw e;
    expect(e.kind).toBe('input');
    expect(e.message.length).toBeGreaterThan(10);
    return e.code;
  }
}

describe('transparency-dev/merkle inclusion probes', () => {
  const files = jsonFiles(`${V}/transparency-dev-merkle/testdata/inclusion`);
  it('has the probes', () => expect(files.length).toBeGreaterThanOrEqual(90));
  for (const f of files) {
    const v = read(f);
    it(`${f.split('/testdata/')[1]}: ${v.desc}`, () => {
      const run = () => verifyInclusion(BigInt(v.leafIdx), BigInt(v.treeSize), b64(v.leafHash ?? ''), (v.proof ?? []).map(b64), b64(v.root ?? ''));
      const got = outcome(run);
      if (v.wantErr) expect(got).toMatch(/^MERKLE_(BAD_PROOF|ROOT_MISMATCH)$/);
      else expect(got).toBe('ok');
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
      const got = outcome(run);
      if (v.wantErr) expect(got).toMatch(/^MERKLE_(BAD_PROOF|ROOT_MISMATCH)$/);
      else expect(got).toBe('ok');
    });
  }
  it('size1 = 0 is refused as transparency-dev does, even 0 → 0 with the empty root and no proof', () => {
    const empty = hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(outcome(() => verifyConsistency(0n, 0n, [], empty, empty))).toBe('MERKLE_BAD_PROOF');
    expect(outcome(() => verifyConsistency(0n, 5n, [], empty, empty))).toBe('MERKLE_BAD_PROOF');
    expect(read(`${V}/transparency-dev-merkle/testdata/consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json`).wantErr).toBe(true);
  });
});

describe('transparency-dev/merkle probes: what the errors say', () => {
  const dir = `${V}/transparency-dev-merkle/testdata`;
  it('wrong-length inclusion proofs say how many hashes they need', () => {
    const v = read(`${dir}/inclusion/4/happy-path.json`);
    const proof: Uint8Array[] = v.proof.map(b64);
    const args = [BigInt(v.leafIdx), BigInt(v.treeSize), b64(v.leafHash)] as const;
    expect(() => rootFromInclusionProof(...args, proof.slice(1))).toThrow(new RegExp(`has ${proof.length - 1} hashes, want ${proof.length}`));
    expect(() => rootFromInclusionProof(...args, [...proof, proof[0]!])).toThrow(/want/);
    expect(() => rootFromInclusionProof(...args, proof.map((p, i) => (i === 1 ? p.subarray(0, 31) : p)))).toThrow(/proof hash 1 has 31 bytes/);
    expect(outcome(() => verifyInclusion(...args, proof, b64(v.root).subarray(1)))).toBe('MERKLE_BAD_PROOF');
  });
  it('a bit flip anywhere in a valid proof is a root mismatch', () => {
    for (const f of jsonFiles(`${dir}/inclusion`).filter((f) => f.endsWith('happy-path.json'))) {
      const v = read(f);
      const proof: Uint8Array[] = (v.proof ?? []).map(b64);
      for (let i = 0; i < proof.length; i++) {
        for (const bit of [0, 7, 255]) {
          const flipped = proof.map((p, j) => (j === i ? Uint8Array.from(p, (x, k) => (k === bit >> 3 ? x ^ (1 << (bit & 7)) : x)) : p));
          expect(outcome(() => verifyInclusion(BigInt(v.leafIdx), BigInt(v.treeSize), b64(v.leafHash), flipped, b64(v.root)))).toBe('MERKLE_ROOT_MISMATCH');
        }
      }
    }
  });
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

describe('golang.org/x/mod sumdb/tlog vectors (golang_sumdb_tlog_vectors.json)', () => {
  const t = read(`${V}/signed-notes/golang_sumdb_tlog_vectors.json`);
  it('the tree note root of FormatTree is RecordHash("hello world") = leafHash', () => {
    const root = t.formatTree.text.split('\n')[2];
    expect(Buffer.from(leafHash(Buffer.from('hello world'))).toString('base64')).toBe(root);
    expect(toHex(rootFromLeafHashes([]))).toBe(t.emptyTreeHash);
  });
  it("Go's tile N encoding is the same x-path (Go puts the height in the path; C2SP fixes it at 8)", () => {
    for (const v of t.tilePaths) {
      const m = /^tile\/\d+\/(-?\d+|data)\/(.*?)(\.p\/\d+)?$/.exec(v.path);
      if (v.invalid) {
        const asC2sp = `tile/0/${m?.[2] ?? ''}`;
        if (m?.[1] !== '-1') expect(parseTilePath(asC2sp), asC2sp).toBeUndefined();
        continue;
      }
      expect(formatTileIndex(BigInt(v.N))).toBe(m![2]);
      expect(parseTilePath(`tile/0/${m![2]}${m![3] ?? ''}`)).toEqual({ level: 0, n: BigInt(v.N), width: m![3] ? v.W : 256 });
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
