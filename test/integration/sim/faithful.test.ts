/** Everything the simulator serves verifies with src/merkle, src/note and merkletreejs, and looks like the real logs. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json as sjson } from '@sigstore/core';
import { MerkleTree } from 'merkletreejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../../../src/entries/decode.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { entriesPath, tilePath } from '../../../src/merkle/tiles.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { parseEntryBundle, parseHashTile } from '../../../src/sources/tiles.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { startSimulator, type Simulator } from '../../sim/index.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dirs: string[] = [];
const sims: Simulator[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
async function sim(o: Parameters<typeof startSimulator>[0] extends infer T ? Omit<T & object, 'out'> : never) {
  const out = mkdtempSync(join(tmpdir(), 'tlogwatch-sim-'));
  dirs.push(out);
  const s = await startSimulator({ ...o, out });
  sims.push(s);
  return s;
}
const manifest = (s: Simulator) => readFileSync(s.manifestPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
function oracleRoot(leaves: Uint8Array[]): string {
  const t = new MerkleTree(leaves.map((l) => Buffer.from(l)), (d: Buffer) => createHash('sha256').update(Buffer.from([1])).update(d).digest(), { hashLeaves: false });
  return t.getRoot().toString('hex');
}

/** Key names and JSON value types, recursively (arrays by their first element). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

describe('tiles simulator', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await sim({ api: 'tiles', entries: 700, seed: 'faithful', witnesses: 2 });
  });

  it('serves a checkpoint that verifies with the trusted root it wrote, and tiles and bundles that recompute its root', async () => {
    const root = parseTrustedRoot(readJson(s.trustedRootPath));
    const tlog = root.tlogs[0]!;
    expect(tlog.type).toBe('tiles');
    expect(tlog.baseUrl).toBe(s.url);
    const note = await (await fetch(`${s.url}/checkpoint`)).text();
    const { checkpoint, note: parsed } = verifyCheckpoint(note, tlog.name, [checkpointVerifierForTlog(tlog)]);
    expect(parsed.signatures.length).toBe(3);
    expect(checkpoint.size).toBe(700n);
    const leaves: Uint8Array[] = [];
    const m = manifest(s);
    for (let n = 0n; n * 256n < 700n; n++) {
      const width = Number(700n - n * 256n < 256n ? 700n - n * 256n : 256n);
      const bundle = parseEntryBundle(new Uint8Array(await (await fetch(`${s.url}/${entriesPath(n, width)}`)).arrayBuffer()));
      const tile = parseHashTile(new Uint8Array(await (await fetch(`${s.url}/${tilePath(0, n, width)}`)).arrayBuffer()));
      expect(bundle.length).toBe(width);
      bundle.forEach((b, i) => {
        expect(hex(leafHash(b))).toBe(hex(tile[i]!));
        // Bodies are RFC 8785 canonical, decode cleanly and match the manifest.
        expect(Buffer.from(b).toString()).toBe(sjson.canonicalize(JSON.parse(Buffer.from(b).toString())));
        const idx = Number(n) * 256 + i;
        const e = decodeRekorV2Entry(b, { log: 's', index: idx });
        expect(e.problem).toBeUndefined();
        expect(e.uuid).toBe(m[idx].uuid);
        expect(e.digests).toEqual(m[idx].digests);
        expect(e.signer?.san ?? null).toBe(m[idx].san);
        expect(e.signer?.fulcio?.sourceRepositoryURI ?? null).toBe(m[idx].repository);
      });
      leaves.push(...bundle.map(leafHash));
    }
    expect(oracleRoot(leaves)).toBe(hex(checkpoint.rootHash));
    const l1 = parseHashTile(new Uint8Array(await (await fetch(`${s.url}/${tilePath(1, 0n, 2)}`)).arrayBuffer()));
    expect(l1.length).toBe(2);
    expect((await fetch(`${s.url}/${tilePath(0, 3n)}`)).status).toBe(404);
  });

  it('gzips when asked', async () => {
    const res = await fetch(`${s.url}/${entriesPath(0n)}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(parseEntryBundle(new Uint8Array(await res.arrayBuffer())).length).toBe(256);
  });
});

describe('Rekor v1 simulator', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await sim({ api: 'v1', entries: 600, seed: 'faithful', shards: 2 });
  });

  it('serves entries whose proofs, checkpoints and SETs verify, with virtual and shard-local indexes', async () => {
    const root = parseTrustedRoot(readJson(s.trustedRootPath));
    const tlog = root.tlogs[0]!;
    expect(tlog.type).toBe('rekor-v1');
    const verifier = checkpointVerifierForTlog(tlog);
    const info = (await (await fetch(`${s.url}/api/v1/log`)).json()) as any;
    expect(info.inactiveShards).toHaveLength(1);
    const m = manifest(s);
    for (const idx of [0, 1, 299, 300, 301, 599]) {
      const res = (await (await fetch(`${s.url}/api/v1/log/entries?logIndex=${idx}`)).json()) as any;
      const [id, e] = Object.entries(res)[0] as [string, any];
      expect(id).toHaveLength(80);
      expect(id.slice(16)).toBe(m[idx].uuid);
      const body = new Uint8Array(Buffer.from(e.body, 'base64'));
      const p = e.verification.inclusionProof;
      const shard = idx < 300 ? info.inactiveShards[0] : info;
      expect(p.logIndex).toBe(idx < 300 ? idx : idx - 300);
      verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(body), p.hashes.map((h: string) => new Uint8Array(Buffer.from(h, 'hex'))), new Uint8Array(Buffer.from(p.rootHash, 'hex')));
      const { checkpoint } = verifyCheckpoint(p.checkpoint, `${tlog.name} - ${shard.treeID}`, [verifier]);
      expect(hex(checkpoint.rootHash)).toBe(p.rootHash);
      verifySET({ body, integratedTime: BigInt(e.integratedTime), logId: new Uint8Array(Buffer.from(e.logID, 'hex')), logIndex: BigInt(idx), set: new Uint8Array(Buffer.from(e.verification.signedEntryTimestamp, 'base64')) }, tlog.spki);
      const decoded = decodeRekorV1Body(body, { log: 's', index: idx });
      expect(decoded.problem).toBeUndefined();
      expect(decoded.digests).toEqual(m[idx].digests);
      expect(e.integratedTime).toBe(m[idx].integratedTime);
      if (decoded.kind !== 'hashedrekord') expect(e.attestation?.data).toBeDefined();
    }
  });

  it('serves consistency proofs, retrieve limits and search', async () => {
    const info = (await (await fetch(`${s.url}/api/v1/log`)).json()) as any;
    const a = (await (await fetch(`${s.url}/api/v1/log/proof?firstSize=100&lastSize=250&treeID=${info.treeID}`)).json()) as any;
    const root100 = (await (await fetch(`${s.url}/api/v1/log/proof?firstSize=1&lastSize=100&treeID=${info.treeID}`)).json()) as any;
    verifyConsistency(100n, 250n, a.hashes.map((h: string) => new Uint8Array(Buffer.from(h, 'hex'))), new Uint8Array(Buffer.from(root100.rootHash, 'hex')), new Uint8Array(Buffer.from(a.rootHash, 'hex')));
    const post = (body: unknown) => fetch(`${s.url}/api/v1/log/entries/retrieve`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect((await post({ logIndexes: Array.from({ length: 11 }, (_, i) => i) })).status).toBe(422);
    expect(((await (await post({ logIndexes: [1, 2, 9999] })).json()) as unknown[]).length).toBe(2);
    const m = manifest(s);
    const found = (await (await fetch(`${s.url}/api/v1/index/retrieve`, { method: 'POST', body: JSON.stringify({ hash: m[7].digests[0] }) })).json()) as string[];
    expect(found.map((x) => x.slice(16))).toContain(m[7].uuid);
  });

  it('has the shape of real Rekor v1 responses, field by field', async () => {
    const realInfo = readJson(`${REALDATA}/rekor-v1-api/staging_loginfo_8202293616175992157_size1352764.json`);
    const info = await (await fetch(`${s.url}/api/v1/log`)).json();
    expect(shape(info)).toEqual(shape(realInfo));
    const realEntry = Object.values(readJson(`${REALDATA}/rekor-v1-api/staging_entry_1688_shard108574341321668964.json`) as object)[0];
    const idx = manifest(s).findIndex((l: any) => l.kind === 'hashedrekord');
    const entry = Object.values((await (await fetch(`${s.url}/api/v1/log/entries?logIndex=${idx}`)).json()) as object)[0];
    expect(shape(entry)).toEqual(shape(realEntry));
  });
});
