/**
 * The Rekor v1 simulator is faithful (reference/rekor.md §1): every entry's inclusion proof, checkpoint
 * and SET verify with src/merkle, src/note and src/entries, merkletreejs agrees on roots and audit paths,
 * shards keep virtual and shard-local indexes apart, and retrieve/search behave as Rekor's handlers do.
 */
import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import type { Simulator } from '../../sim/index.ts';
import { canonicalSetPayload } from '../../sim/server-v1.ts';
import { getJson, hex, manifest, oracleProof, oracleRoot, oracleTree, post, sim, stopAll, trustOf, unhex } from './helpers.ts';

afterAll(stopAll);

const N = 600;
const entryAt = async (s: Simulator, i: number) => Object.entries((await getJson(`${s.url}/api/v1/log/entries?logIndex=${i}`)) as Record<string, any>)[0]!;

describe('a Rekor v1 log of 600 entries over 3 shards', () => {
  let s: Simulator;
  let info: any;
  const entries: Array<[string, any]> = [];
  beforeAll(async () => {
    s = await sim({ api: 'v1', entries: N, seed: 'v1', shards: 3 });
    info = await getJson(`${s.url}/api/v1/log`);
    for (let i = 0; i < N; i++) entries.push(await entryAt(s, i));
  });

  it('names itself as production does: logID = SHA-256(SPKI), origin "<host> - <treeID>", signer name = host', () => {
    const { tlog } = trustOf(s);
    expect(tlog.type).toBe('rekor-v1');
    expect(tlog.baseUrl).toBe(s.url);
    expect(tlog.name).toBe(new URL(s.url).host);
    expect(hex(tlog.keyId)).toBe(createHash('sha256').update(tlog.spki).digest('hex'));
    expect(info.inactiveShards).toHaveLength(2);
    for (const shard of [...info.inactiveShards, info]) {
      const { checkpoint } = verifyCheckpoint(shard.signedTreeHead, `${tlog.name} - ${shard.treeID}`, [trustOf(s).verifier]);
      expect(checkpoint.size).toBe(BigInt(shard.treeSize));
      expect(hex(checkpoint.rootHash)).toBe(shard.rootHash);
    }
    expect([...info.inactiveShards, info].map((x: any) => x.treeSize)).toEqual([200, 200, 200]);
  });

  it('serves every entry with a verifying inclusion proof (shard-local index), checkpoint and SET (virtual index)', () => {
    const { tlog, verifier } = trustOf(s);
    const m = manifest(s);
    const shards = [...info.inactiveShards, info];
    entries.forEach(([id, e], i) => {
      const shard = shards[Math.floor(i / 200)];
      const p = e.verification.inclusionProof;
      const body = new Uint8Array(Buffer.from(e.body, 'base64'));
      expect(id).toBe(`${BigInt(shard.treeID).toString(16).padStart(16, '0')}${m[i]!.uuid}`);
      expect(hex(leafHash(body))).toBe(m[i]!.uuid);
      expect(e.logIndex).toBe(i);
      expect(p.logIndex).toBe(i % 200);
      expect(p.treeSize).toBe(shard.treeSize);
      expect(p.rootHash).toBe(shard.rootHash);
      verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(body), p.hashes.map(unhex), unhex(p.rootHash));
      const { checkpoint } = verifyCheckpoint(p.checkpoint, `${tlog.name} - ${shard.treeID}`, [verifier]);
      expect(hex(checkpoint.rootHash)).toBe(p.rootHash);
      expect(e.logID).toBe(hex(tlog.keyId));
      expect(e.integratedTime).toBe(m[i]!.integratedTime);
      verifySET({ body, integratedTime: BigInt(e.integratedTime), logId: unhex(e.logID), logIndex: BigInt(i), set: new Uint8Array(Buffer.from(e.verification.signedEntryTimestamp, 'base64')) }, tlog.spki);
    });
  });

  it('has shard roots that merkletreejs and src/merkle recompute from all leaves, and the same audit paths', () => {
    const leaves = entries.map(([, e]) => leafHash(new Uint8Array(Buffer.from(e.body, 'base64'))));
    [...info.inactiveShards, info].forEach((shard: any, k: number) => {
      const mine = leaves.slice(k * 200, k * 200 + 200);
      expect(oracleRoot(mine)).toBe(shard.rootHash);
      expect(hex(rootFromLeafHashes(mine))).toBe(shard.rootHash);
      const oracle = oracleTree(mine);
      for (let i = 0; i < 200; i++) expect(entries[k * 200 + i]![1].verification.inclusionProof.hashes).toEqual(oracleProof(oracle, i));
    });
  });

  it('serves canonical bodies of every v1 kind that decode to the manifest, with attestations for dsse and intoto', () => {
    const m = manifest(s);
    const kinds = new Map<string, number>();
    entries.forEach(([, e], i) => {
      const body = Buffer.from(e.body, 'base64');
      expect(body.toString('utf8')).toBe(json.canonicalize(JSON.parse(body.toString('utf8'))));
      const d = decodeRekorV1Body(new Uint8Array(body), { log: 'sim', index: i });
      expect(d.problem).toBeUndefined();
      expect(d.kind).toBe(m[i]!.kind);
      expect(d.digests).toEqual(m[i]!.digests);
      expect(d.signer?.san ?? null).toBe(m[i]!.san);
      expect(d.signer?.issuer ?? null).toBe(m[i]!.issuer);
      expect(d.signer?.fulcio?.sourceRepositoryURI ?? null).toBe(m[i]!.repository);
      expect(d.signer?.fulcio?.buildSignerURI ?? null).toBe(m[i]!.buildSigner);
      kinds.set(`${d.kind}@${d.apiVersion}`, (kinds.get(`${d.kind}@${d.apiVersion}`) ?? 0) + 1);
      if (d.kind === 'hashedrekord') {
        expect(e.attestation).toBeUndefined();
        return;
      }
      // Rekor stores the in-toto statement and serves it as attestation.data; its hash is the body's payloadHash.
      const statement = Buffer.from(e.attestation.data, 'base64');
      expect(d.digests).toContain(`sha256:${createHash('sha256').update(statement).digest('hex')}`);
      const st = JSON.parse(statement.toString('utf8'));
      expect(st._type).toBe('https://in-toto.io/Statement/v1');
      expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
      const started = Date.parse(st.predicate.runDetails.metadata.startedOn) / 1000;
      const finished = Date.parse(st.predicate.runDetails.metadata.finishedOn) / 1000;
      expect(started).toBeLessThan(finished);
      expect(finished).toBeLessThanOrEqual(e.integratedTime);
      expect(e.integratedTime - started).toBeLessThan(600);
      if (m[i]!.buildSigner) {
        const builder = st.predicate.runDetails.builder.id as string;
        expect(builder === m[i]!.buildSigner || builder.startsWith('https://github.com/actions/runner/')).toBe(true);
        expect(st.predicate.buildDefinition.externalParameters.workflow.repository).toBe(m[i]!.repository);
      }
    });
    expect([...kinds.keys()].sort()).toEqual(['dsse@0.0.1', 'hashedrekord@0.0.1', 'intoto@0.0.2']);
  });

  it('serves consistency proofs per tree that verify against roots recomputed from the leaves; rootHash is the current root', async () => {
    const leaves = entries.map(([, e]) => leafHash(new Uint8Array(Buffer.from(e.body, 'base64'))));
    const shards = [...info.inactiveShards, info];
    for (const [k, shard] of shards.entries()) {
      const mine = leaves.slice(k * 200, k * 200 + 200);
      for (const [a, b] of [[1, 1], [1, 2], [3, 7], [100, 128], [128, 129], [1, 200], [64, 200], [199, 200], [200, 200], [17, 143]]) {
        const proof = await getJson(`${s.url}/api/v1/log/proof?firstSize=${a}&lastSize=${b}&treeID=${shard.treeID}`);
        expect(proof.rootHash).toBe(shard.rootHash); // gotcha 6 in realdata/SOURCES.md: the root now, not at lastSize
        verifyConsistency(BigInt(a!), BigInt(b!), proof.hashes.map(unhex), rootFromLeafHashes(mine.slice(0, a)), rootFromLeafHashes(mine.slice(0, b)));
      }
    }
    const noTree = await getJson(`${s.url}/api/v1/log/proof?lastSize=150`); // firstSize defaults to 1, treeID to the active tree
    verifyConsistency(1n, 150n, noTree.hashes.map(unhex), leaves[400]!, rootFromLeafHashes(leaves.slice(400, 550)));
    const status = async (q: string) => (await fetch(`${s.url}/api/v1/log/proof?${q}`)).status;
    expect(await status('firstSize=5&lastSize=4')).toBe(400);
    expect(await status('firstSize=0&lastSize=4')).toBe(400);
    expect(await status('lastSize=201')).toBe(400); // lastSizeGreaterThanKnown
    expect(await status('firstSize=1')).toBe(400);
    expect(await status('lastSize=5&treeID=12345')).toBe(400);
    expect(await status('lastSize=-1')).toBe(400);
  });

  it('finds entries by 64-hex UUID in any shard and by 80-hex EntryID only in its own', async () => {
    const [id, e] = entries[123]!;
    for (const key of [id, id.slice(16), id.toUpperCase()]) expect(Object.keys(await getJson(`${s.url}/api/v1/log/entries/${key}`))).toEqual([id]);
    const other = entries[450]![0].slice(0, 16);
    expect((await fetch(`${s.url}/api/v1/log/entries/${other}${id.slice(16)}`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/log/entries/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/log/entries/xyz`)).status).toBe(400);
    expect((await fetch(`${s.url}/api/v1/log/entries?logIndex=${N}`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/v1/log/entries?logIndex=01`)).status).toBe(400);
    expect((await fetch(`${s.url}/api/v1/log/entries`)).status).toBe(400);
    expect(e.logIndex).toBe(123);
  });

  it('retrieves at most 10 items: UUIDs, then proposed entries, then indexes; missing ones omitted; 422 above 10', async () => {
    const ids = (is: number[]) => is.map((i) => entries[i]![0]);
    const got = async (body: unknown) => ((await (await post(`${s.url}/api/v1/log/entries/retrieve`, body)).json()) as object[]).map((x) => Object.keys(x)[0]);
    expect(await got({ logIndexes: [5, 9999, 250], entryUUIDs: [entries[7]![0].slice(16), 'f'.repeat(64)], entries: [JSON.parse(Buffer.from(entries[3]![1].body, 'base64').toString())] })).toEqual(ids([7, 3, 5, 250]));
    expect(await got({ logIndexes: Array.from({ length: 10 }, (_, i) => i * 60) })).toEqual(ids(Array.from({ length: 10 }, (_, i) => i * 60)));
    expect((await post(`${s.url}/api/v1/log/entries/retrieve`, { logIndexes: [1, 2, 3, 4, 5, 6], entryUUIDs: [1, 2, 3, 4, 5].map((i) => entries[i]![0]) })).status).toBe(422);
    expect((await post(`${s.url}/api/v1/log/entries/retrieve`, { logIndexes: [-1] })).status).toBe(422);
    expect((await post(`${s.url}/api/v1/log/entries/retrieve`, { entryUUIDs: ['nothex'] })).status).toBe(422);
    expect((await fetch(`${s.url}/api/v1/log/entries/retrieve`, { method: 'POST', body: '{' })).status).toBe(400);
  });

  it('searches its index by hash, email, subject and public key, with "or" and "and"', async () => {
    const m = manifest(s);
    const search = async (q: unknown) => ((await (await post(`${s.url}/api/v1/index/retrieve`, q)).json()) as string[]).map((x) => x.slice(16));
    const withSan = m.find((l) => l.san?.includes('@') && !l.san.includes('://'))!;
    const gh = m.find((l) => l.san?.startsWith('https://'))!;
    expect(await search({ hash: m[42]!.digests[0] })).toContain(m[42]!.uuid);
    expect(await search({ hash: m[42]!.digests[0]!.slice(7).toUpperCase() })).toContain(m[42]!.uuid);
    expect(await search({ email: withSan.san!.toUpperCase() })).toEqual(m.filter((l) => l.san === withSan.san).map((l) => l.uuid));
    expect(await search({ subject: gh.san })).toEqual(m.filter((l) => l.san === gh.san).map((l) => l.uuid));
    expect(await search({ subject: gh.san, hash: m[42]!.digests[0], operator: 'and' })).toEqual(m[42]!.san === gh.san ? [m[42]!.uuid] : []);
    const [, e] = entries.find(([, x]) => JSON.parse(Buffer.from(x.body, 'base64').toString()).kind === 'hashedrekord')!;
    const pemB64 = JSON.parse(Buffer.from(e.body, 'base64').toString()).spec.signature.publicKey.content as string;
    const byKey = await search({ publicKey: { format: 'x509', content: pemB64 } });
    expect(byKey).toContain(hex(leafHash(Buffer.from(e.body, 'base64'))));
    expect((await post(`${s.url}/api/v1/index/retrieve`, {})).status).toBe(400);
    expect((await post(`${s.url}/api/v1/index/retrieve`, { hash: 'x', operator: 'xor' })).status).toBe(422);
  });

  it('serves its public key as PEM and rotates to a new shard at runtime', async () => {
    const res = await fetch(`${s.url}/api/v1/log/publicKey`);
    expect(res.headers.get('content-type')).toBe('application/x-pem-file');
    expect(Buffer.from((await res.text()).replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').equals(Buffer.from(trustOf(s).tlog.spki))).toBe(true);
    s.append(5);
    s.rotate();
    s.append(3);
    const now = await getJson(`${s.url}/api/v1/log`);
    expect(now.inactiveShards.map((x: any) => x.treeSize)).toEqual([200, 200, 205]);
    expect(now.treeSize).toBe(3);
    const [, e] = await entryAt(s, 607);
    expect(e.verification.inclusionProof.logIndex).toBe(2);
    expect(e.verification.inclusionProof.treeSize).toBe(3);
    expect(now.inactiveShards[2].treeID).toBe(info.treeID);
  });
});

describe('the SET payload', () => {
  it('is canonicalized by template exactly as json.canonicalize does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), (body, integratedTime, logID, logIndex) => {
        const p = { body: Buffer.from(body).toString('base64'), integratedTime, logID: Buffer.from(logID).toString('hex'), logIndex };
        expect(canonicalSetPayload(p)).toBe(json.canonicalize(p));
      }),
    );
    for (const odd of [{ body: 'a"b\\', integratedTime: 1, logID: 'ab', logIndex: 2 }, { body: 'AA==', integratedTime: 1.5, logID: 'XY', logIndex: 2 ** 60 }]) {
      expect(canonicalSetPayload(odd)).toBe(json.canonicalize(odd));
    }
  });
});
