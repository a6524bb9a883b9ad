/**
 * The tiles simulator (Rekor v2, C2SP tlog-tiles) is faithful: everything it serves verifies with
 * src/merkle and src/note, and merkletreejs agrees on every root and audit path.
 */
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { json } from '@sigstore/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRekorV2Entry } from '../../../src/entries/decode.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { proveConsistencyAsync, proveInclusionAsync } from '../../../src/merkle/prove.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { entriesPath, hashRun, nodesFromTiles, rootFromTiles, tileCounts, tilePath, type TileReader } from '../../../src/merkle/tiles.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { cosignatureVerifier, ed25519KeyId, parseVerifierKey, rawEd25519, subtreeCosignedMessage, type CosignatureVerifier } from '../../../src/note/keys.ts';
import { parseNote, verifyNote } from '../../../src/note/note.ts';
import { cosignaturesOf } from '../../../src/note/witness-policy.ts';
import { parseEntryBundle, parseHashTile } from '../../../src/sources/tiles.ts';
import type { Simulator } from '../../sim/index.ts';
import { BASE_TIME, SPAN } from '../../sim/log.ts';
import { bytes, hex, httpTiles, manifest, oracleProof, oracleRoot, oracleTree, sim, stopAll, trustOf } from './helpers.ts';

afterAll(stopAll);

/** A TileReader over HTTP that fetches each tile once. */
function cachedTiles(s: Simulator): TileReader {
  const cache = new Map<string, Promise<readonly Uint8Array[]>>();
  const read = httpTiles(s);
  return (level, n, width) => {
    const k = `${level}/${n}/${width}`;
    if (!cache.has(k)) cache.set(k, Promise.resolve(read(level, n, width)));
    return cache.get(k)!;
  };
}

async function checkpointOf(s: Simulator) {
  const { tlog, verifier } = trustOf(s);
  return verifyCheckpoint(await (await fetch(`${s.url}/checkpoint`)).text(), tlog.name, [verifier]);
}

async function allLeaves(s: Simulator, size: number): Promise<Uint8Array[][]> {
  const bundles: Uint8Array[][] = [];
  for (let n = 0; n * 256 < size; n++) bundles.push(parseEntryBundle(await bytes(`${s.url}/${entriesPath(BigInt(n), Math.min(256, size - n * 256))}`)));
  return bundles;
}

describe('a tiles log of 700 entries with two witnesses', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await sim({ api: 'tiles', entries: 700, seed: 'tiles', witnesses: 2 });
  });

  it('names itself as production does and signs checkpoints with Ed25519 under its origin, cosigned by its witnesses', async () => {
    const { tlog } = trustOf(s);
    const u = new URL(s.url);
    expect(u.pathname).toBe('/api/v2');
    expect(tlog.type).toBe('tiles');
    expect(tlog.baseUrl).toBe(s.url);
    expect(tlog.name).toBe(`${u.host}/api/v2`);
    expect(hex(tlog.keyId)).toBe(hex(ed25519KeyId(tlog.name, rawEd25519(s.log.logKey.publicKey)))); // the full C2SP key ID (rekor.md §3.3)
    const res = await fetch(`${s.url}/checkpoint`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const raw = await res.text();
    const { checkpoint, note, verifiedBy } = verifyCheckpoint(raw, tlog.name, [trustOf(s).verifier]);
    expect(checkpoint.origin).toBe(tlog.name);
    expect(checkpoint.size).toBe(700n);
    expect(verifiedBy.map((v) => v.name)).toEqual([tlog.name]);
    expect(note.signatures.map((x) => x.name)).toEqual([tlog.name, 'witness1.example', 'witness2.example']);
    const witnesses = readFileSync(join(s.log.out, 'witnesses.txt'), 'utf8').trim().split('\n');
    expect(witnesses).toHaveLength(2);
    for (const line of witnesses) {
      const [name, key] = line.split(' ') as [string, string];
      expect(verifyNote(raw, [cosignatureVerifier(name, new Uint8Array(Buffer.from(key, 'base64')))]).verifiedBy.map((v) => v.name)).toEqual([name]);
    }
    // The same keys as verifier keys, the form `verify --witness` and `logs[].witnesses.keys` take.
    const vkeys = readFileSync(join(s.log.out, 'witnesses.vkeys'), 'utf8').trim().split('\n');
    expect(vkeys.map((k) => k.split('+')[0])).toEqual(['witness1.example', 'witness2.example']);
    for (const vkey of vkeys) expect(verifyNote(raw, [parseVerifierKey(vkey)]).verifiedBy.map((v) => v.name)).toEqual([vkey.split('+')[0]]);
  });

  it('recomputes the signed root from all leaves (src/merkle, merkletreejs) and every tile from the tiles below', async () => {
    const { checkpoint } = await checkpointOf(s);
    const bundles = await allLeaves(s, 700);
    const leaves: Uint8Array[] = [];
    for (const [n, bundle] of bundles.entries()) {
      const tile = parseHashTile(await bytes(`${s.url}/${tilePath(0, BigInt(n), bundle.length)}`));
      expect(tile).toHaveLength(bundle.length);
      bundle.forEach((body, i) => expect(hex(leafHash(body)), `entry ${n * 256 + i}`).toBe(hex(tile[i]!)));
      leaves.push(...tile);
    }
    expect(leaves).toHaveLength(700);
    const root = hex(checkpoint.rootHash);
    expect(hex(rootFromLeafHashes(leaves))).toBe(root);
    expect(oracleRoot(leaves)).toBe(root);
    const range = CompactRange.empty();
    leaves.forEach((l) => range.append(l));
    expect(hex(range.root())).toBe(root);
    expect(hex(await rootFromTiles(700n, httpTiles(s)))).toBe(root);
    // Level 1 holds the MTH of each full level-0 tile (tlog-tiles "Merkle Tree").
    const l1 = parseHashTile(await bytes(`${s.url}/${tilePath(1, 0n, 2)}`));
    expect(l1.map(hex)).toEqual([0, 1].map((n) => hex(hashRun(leaves.slice(n * 256, n * 256 + 256)))));
  });

  it('gives inclusion proofs from its tiles that verify for every entry and equal merkletreejs audit paths', async () => {
    const { checkpoint } = await checkpointOf(s);
    const read = cachedTiles(s);
    const leaves = (await allLeaves(s, 700)).flat().map(leafHash);
    const oracle = oracleTree(leaves);
    for (let i = 0; i < 700; i++) {
      const proof = await proveInclusionAsync(BigInt(i), 700n, (nodes) => nodesFromTiles(nodes, 700n, read));
      verifyInclusion(BigInt(i), 700n, leaves[i]!, proof, checkpoint.rootHash);
      expect(proof.map(hex), `entry ${i}`).toEqual(oracleProof(oracle, i));
    }
  });

  it('serves canonical Rekor v2 entries (hashedrekord and dsse 0.0.2) that decode to the manifest', async () => {
    const m = manifest(s);
    const kinds = new Set<string>();
    (await allLeaves(s, 700)).flat().forEach((body, i) => {
      const text = Buffer.from(body).toString('utf8');
      expect(text).toBe(json.canonicalize(JSON.parse(text)));
      const e = decodeRekorV2Entry(body, { log: 'sim', index: i });
      expect(e.problem).toBeUndefined();
      const line = m[i]!;
      expect(line.index).toBe(i);
      expect(e.uuid).toBe(line.uuid);
      expect(`${e.kind}@${e.apiVersion}`).toBe(`${line.kind}@0.0.2`);
      expect(e.digests).toEqual(line.digests);
      expect(e.signer?.san ?? null).toBe(line.san);
      expect(e.signer?.issuer ?? null).toBe(line.issuer);
      expect(e.signer?.fulcio?.sourceRepositoryURI ?? null).toBe(line.repository);
      expect(e.signer?.fulcio?.buildSignerURI ?? null).toBe(line.buildSigner);
      expect(line.integratedTime).toBeGreaterThanOrEqual(BASE_TIME - SPAN);
      expect(line.integratedTime).toBeLessThan(BASE_TIME);
      kinds.add(e.kind);
    });
    expect([...kinds].sort()).toEqual(['dsse', 'hashedrekord']);
  });

  it('grows by appends; consistency proofs from its tiles verify between every pair of published checkpoints', async () => {
    const seen: Array<{ size: bigint; root: Uint8Array }> = [];
    const record = async () => {
      const { checkpoint } = await checkpointOf(s);
      seen.push({ size: checkpoint.size, root: checkpoint.rootHash });
    };
    await record();
    for (const k of [1, 67, 256, 1, 300]) {
      s.append(k);
      await record();
    }
    expect(seen.map((c) => c.size)).toEqual([700n, 701n, 768n, 1024n, 1025n, 1325n]);
    const last = seen.at(-1)!;
    const leaves = (await allLeaves(s, Number(last.size))).flat().map(leafHash);
    for (const c of seen) expect(hex(rootFromLeafHashes(leaves.slice(0, Number(c.size))))).toBe(hex(c.root));
    const read = cachedTiles(s);
    for (const a of seen) {
      for (const b of seen) {
        if (a.size > b.size) continue;
        const proof = await proveConsistencyAsync(a.size, b.size, (nodes) => nodesFromTiles(nodes, b.size, read));
        verifyConsistency(a.size, b.size, proof, a.root, b.root);
      }
    }
  });

  it('serves only what its checkpoint implies, under its prefix, gzipped when asked', async () => {
    const size = Number((await checkpointOf(s)).checkpoint.size);
    const full = Math.floor(size / 256);
    const status = async (p: string, init?: RequestInit) => (await fetch(`${s.url}/${p}`, init)).status;
    expect(await status(entriesPath(BigInt(full), size % 256))).toBe(200);
    expect(await status(entriesPath(BigInt(full)))).toBe(404); // not full yet
    expect(await status(entriesPath(BigInt(full), (size % 256) + 1))).toBe(404); // beyond the checkpoint
    expect(await status(tilePath(0, BigInt(full + 1), 1))).toBe(404);
    expect(await status(tilePath(1, 0n))).toBe(404);
    expect(await status('tile/0/1')).toBe(404); // not a tile path (N has three digits)
    expect(await status('checkpoint', { method: 'POST' })).toBe(405);
    expect((await fetch(`${new URL(s.url).origin}/checkpoint`)).status).toBe(404); // outside the prefix
    const plain = await fetch(`${s.url}/${entriesPath(0n)}`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('cache-control')).toMatch(/immutable/);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const gz = await fetch(`${s.url}/${entriesPath(0n)}`, { headers: { 'accept-encoding': 'gzip, identity' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(Buffer.from(await gz.arrayBuffer()).equals(Buffer.from(await plain.arrayBuffer()))).toBe(true); // fetch inflated it
  });
});

describe('a 70,000-entry tiles log (the tlog-tiles example size)', () => {
  it('serves exactly the tiles the spec lists: 273 full + .p/112 at level 0, 1 + .p/17 at level 1, .p/1 at level 2', { timeout: 120_000 }, async () => {
    const s = await sim({ api: 'tiles', entries: 70_000, seed: 'seventy-k', prefix: '' });
    expect(tileCounts(70_000n)).toEqual([
      { level: 0, full: 273n, partialWidth: 112 },
      { level: 1, full: 1n, partialWidth: 17 },
      { level: 2, full: 0n, partialWidth: 1 },
    ]);
    const status = async (p: string) => (await fetch(`${s.url}/${p}`)).status;
    expect(new URL(s.url).pathname).toBe('/');
    for (const [p, want] of [
      [tilePath(0, 272n), 200],
      [tilePath(0, 273n, 112), 200],
      [tilePath(0, 273n), 404],
      [tilePath(1, 0n), 200],
      [tilePath(1, 1n, 17), 200],
      [tilePath(1, 1n), 404],
      [tilePath(2, 0n, 1), 200],
      [tilePath(2, 0n, 2), 404],
      [tilePath(3, 0n, 1), 404],
      [entriesPath(273n, 112), 200],
    ] as const) {
      expect(await status(p), p).toBe(want);
    }
    const { checkpoint } = await checkpointOf(s);
    expect(hex(await rootFromTiles(70_000n, httpTiles(s)))).toBe(hex(checkpoint.rootHash));
    const last = parseEntryBundle(await bytes(`${s.url}/${entriesPath(273n, 112)}`));
    const m = manifest(s);
    expect(m).toHaveLength(70_000);
    expect(last.map((b) => hex(leafHash(b)))).toEqual(m.slice(69_888).map((l) => l.uuid));
  });
});

describe('entry bundles gzipped ahead (test/sim/gzbundles.ts)', () => {
  /** The bytes on the wire and their Content-Encoding, without fetch's inflating. */
  const raw = (url: string, acceptEncoding: string) =>
    new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      httpGet(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });

  it('serve each full bundle compressed once at build time, the same bundle the plain response is', async () => {
    const s = await sim({ api: 'tiles', entries: 700, seed: 'gz-ahead' });
    for (const n of [0n, 1n]) {
      const plain = await raw(`${s.url}/${entriesPath(n)}`, 'identity');
      const gz = await raw(`${s.url}/${entriesPath(n)}`, 'gzip');
      expect(plain.encoding).toBeUndefined();
      expect(gz.encoding).toBe('gzip');
      expect(gz.body.equals(s.log.gzBundles.get(Number(n))!)).toBe(true); // the copy made ahead, not a new one
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect(parseEntryBundle(plain.body)).toHaveLength(256);
    }
    // The partial bundle has no copy ahead and is compressed as it is sent.
    expect(s.log.gzBundles.get(2)).toBeUndefined();
    const partial = await raw(`${s.url}/${entriesPath(2n, 700 % 256)}`, 'gzip');
    expect(partial.encoding).toBe('gzip');
    expect(gunzipSync(partial.body).equals((await raw(`${s.url}/${entriesPath(2n, 700 % 256)}`, 'identity')).body)).toBe(true);
  });

  it('compress live appends only where a whole bundle was generated at once, and serve the others correctly too', async () => {
    const s = await sim({ api: 'tiles', entries: 700, seed: 'gz-live' });
    s.append(600); // 700..1299: completes bundle 2 (512..767) in part, bundles 3 and 4 whole
    expect(s.log.gzBundles.get(2)).toBeUndefined();
    expect(s.log.gzBundles.get(3)).toBeDefined();
    expect(s.log.gzBundles.get(4)).toBeDefined();
    for (const n of [2n, 3n, 4n]) {
      const plain = await raw(`${s.url}/${entriesPath(n)}`, 'identity');
      const gz = await raw(`${s.url}/${entriesPath(n)}`, 'gzip');
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      const entries = parseEntryBundle(plain.body);
      for (let i = 0; i < 256; i++) expect(Buffer.from(entries[i]!).equals(s.log.bodies.get(Number(n) * 256 + i))).toBe(true);
    }
  });

  it('are not served while a body fault changes what the bundle holds', async () => {
    const s = await sim({ api: 'tiles', entries: 600, seed: 'gz-fault' });
    const honest = (await raw(`${s.url}/${entriesPath(0n)}`, 'identity')).body;
    s.faults.enable('rewrite', 10);
    const plain = await raw(`${s.url}/${entriesPath(0n)}`, 'identity');
    const gz = await raw(`${s.url}/${entriesPath(0n)}`, 'gzip');
    expect(plain.body.equals(honest)).toBe(false); // entry 10 rewritten
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(gz.body.equals(s.log.gzBundles.get(0)!)).toBe(false);
  });
});

describe('ML-DSA-44 witnesses (mldsaWitnesses)', () => {
  it('cosign with type 0x06 under the keys the files give, as noble verifies; bad-cosig@K corrupts the Kth witness’s line only', async () => {
    const s = await sim({ api: 'tiles', entries: 50, seed: 'pq-sim', witnesses: 1, mldsaWitnesses: 2 });
    expect(s.log.witnesses.map((w) => `${w.name} ${w.alg}`)).toEqual(['witness1.example ed25519', 'witness2.example ml-dsa-44', 'witness3.example ml-dsa-44']);
    const vkeys = readFileSync(join(s.log.out, 'witnesses.vkeys'), 'utf8').trim().split('\n');
    const raw = readFileSync(join(s.log.out, 'witnesses.txt'), 'utf8').trim().split('\n').map((l) => Buffer.from(l.split(' ')[1]!, 'base64'));
    expect(raw.map((k) => k.length)).toEqual([32, 1312, 1312]);
    expect(vkeys.map((k) => Buffer.from(k.split('+')[2]!, 'base64')[0])).toEqual([0x04, 0x06, 0x06]);
    const policy = { witnesses: vkeys.map((k) => parseVerifierKey(k) as CosignatureVerifier), quorum: 3 };
    const note = await (await fetch(`${s.url}/checkpoint`)).text();
    expect(cosignaturesOf(note, policy)).toMatchObject({ valid: [{ witness: 'witness1.example' }, { witness: 'witness2.example' }, { witness: 'witness3.example' }], witnessed: true });
    // The independent implementation agrees on the second witness's line.
    const { checkpoint } = verifyCheckpoint(note, trustOf(s).tlog.name, [trustOf(s).verifier]);
    const line = parseNote(note).signatures.find((x) => x.name === 'witness2.example')!;
    const message = subtreeCosignedMessage('witness2.example', new DataView(line.signature.buffer, line.signature.byteOffset).getBigUint64(0), checkpoint.origin, 0n, checkpoint.size, checkpoint.rootHash);
    expect(ml_dsa44.verify(line.signature.subarray(8), message, raw[1]!)).toBe(true);

    s.log.faults.enable('bad-cosig', 3);
    const bad = await (await fetch(`${s.url}/checkpoint`)).text();
    expect(cosignaturesOf(bad, policy)).toMatchObject({ invalid: ['witness3.example'], witnessed: false });
    expect(cosignaturesOf(bad, policy).valid.map((v) => v.witness)).toEqual(['witness1.example', 'witness2.example']);
    s.log.faults.disable('bad-cosig');
  });
});
