/**
 * Every fault (test/sim/faults.ts) does what it says on the wire, can be switched at runtime, and is
 * logged when it fires; transient ones fire on a deterministic every-Nth request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '@sigstore/core';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../../../src/entries/decode.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { entriesPath, tilePath } from '../../../src/merkle/tiles.ts';
import { parseCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { parseNote } from '../../../src/note/note.ts';
import { parseEntryBundle, parseHashTile } from '../../../src/sources/tiles.ts';
import { parseFault, type FaultName } from '../../sim/faults.ts';
import type { Simulator } from '../../sim/index.ts';
import { bytes, getJson, hex, manifest, post, sim, stopAll, trustOf, unhex } from './helpers.ts';

afterAll(stopAll);

const fired: string[] = [];
const log = (m: string) => fired.push(m);
const firedFor = (name: FaultName) => fired.filter((m) => m.startsWith(`fault ${name} fired`));

describe('misbehaviour on a tiles log', () => {
  let s: Simulator;
  const checkpoint = async () => verifyCheckpoint(await (await fetch(`${s.url}/checkpoint`)).text(), trustOf(s).tlog.name, [trustOf(s).verifier]).checkpoint;
  const bundle = async (n: bigint, w?: number) => parseEntryBundle(await bytes(`${s.url}/${entriesPath(n, w)}`));
  const tile0 = async (n: bigint, w?: number) => parseHashTile(await bytes(`${s.url}/${tilePath(0, n, w)}`));
  const leaves = async () => [...(await bundle(0n)), ...(await bundle(1n)), ...(await bundle(2n, 88))].map(leafHash);
  beforeAll(async () => {
    s = await sim({ api: 'tiles', entries: 600, seed: 'faults', log });
  });

  it('fork@I: another history of the same size under a valid signature, served consistently; off again, the honest one', async () => {
    const honest = await checkpoint();
    s.faults.enable('fork', 100);
    const forked = await checkpoint();
    expect(forked.size).toBe(honest.size);
    expect(hex(forked.rootHash)).not.toBe(hex(honest.rootHash));
    const all = await leaves();
    expect(hex(rootFromLeafHashes(all))).toBe(hex(forked.rootHash));
    const body = (await bundle(0n))[100]!;
    expect(hex(leafHash(body))).not.toBe(manifest(s)[100]!.uuid);
    expect(Buffer.from(body).toString()).toBe(json.canonicalize(JSON.parse(Buffer.from(body).toString()))); // a valid entry, not garbage
    expect(decodeRekorV2Entry(body, { log: 's', index: 100 }).problem).toBeUndefined();
    expect(firedFor('fork')).toHaveLength(1);
    s.faults.disable('fork');
    expect(hex((await checkpoint()).rootHash)).toBe(hex(honest.rootHash));
  });

  it('rewrite@I: the body claims another digest and its tile-0 hash follows it, so the root no longer matches', async () => {
    const cp = await checkpoint();
    s.faults.enable('rewrite', 300);
    const body = (await bundle(1n))[44]!;
    const tile = await tile0(1n);
    expect(hex(leafHash(body))).toBe(hex(tile[44]!));
    expect(hex(leafHash(body))).not.toBe(manifest(s)[300]!.uuid);
    const e = decodeRekorV2Entry(body, { log: 's', index: 300 });
    expect(e.problem).toBeUndefined();
    expect(e.digests).not.toEqual(manifest(s)[300]!.digests);
    expect(e.signer?.san ?? null).toBe(manifest(s)[300]!.san); // same signer, another artifact
    expect(hex(rootFromLeafHashes(await leaves()))).not.toBe(hex(cp.rootHash));
    expect(firedFor('rewrite').length).toBeGreaterThan(0);
    s.faults.disable('rewrite');
    expect(hex(rootFromLeafHashes(await leaves()))).toBe(hex(cp.rootHash));
  });

  it('tile-mismatch@I: the bundle entry disagrees with tile 0, which still matches the checkpoint', async () => {
    s.faults.enable('tile-mismatch', 5);
    const [b, t] = [await bundle(0n), await tile0(0n)];
    b.forEach((body, i) => (i === 5 ? expect(hex(leafHash(body))).not.toBe(hex(t[i]!)) : expect(hex(leafHash(body))).toBe(hex(t[i]!))));
    expect(hex(rootFromLeafHashes([...t, ...(await tile0(1n)), ...(await tile0(2n, 88))]))).toBe(hex((await checkpoint()).rootHash));
    s.faults.disable('tile-mismatch');
  });

  it('drop@I: the entry is missing from its bundle', async () => {
    s.faults.enable('drop', 7);
    const b = await bundle(0n);
    expect(b).toHaveLength(255);
    expect(b.map((x) => hex(leafHash(x)))).toEqual(manifest(s).slice(0, 256).filter((l) => l.index !== 7).map((l) => l.uuid));
    expect(firedFor('drop').length).toBeGreaterThan(0);
    s.faults.disable('drop');
    expect(await bundle(0n)).toHaveLength(256);
  });

  it('bad-sig and wrong-key: checkpoints whose log signature does not verify', async () => {
    for (const f of ['bad-sig', 'wrong-key'] as const) {
      s.faults.enable(f);
      const text = await (await fetch(`${s.url}/checkpoint`)).text();
      expect(parseCheckpoint(parseNote(text).text).size).toBe(600n); // well-formed, same body
      expect(() => verifyCheckpoint(text, trustOf(s).tlog.name, [trustOf(s).verifier])).toThrow(f === 'bad-sig' ? /signature/i : /no verifiable signatures/);
      expect(firedFor(f).length).toBeGreaterThan(0);
      s.faults.disable(f);
    }
    await checkpoint();
  });

  it('shrink: a validly signed checkpoint smaller than the published one', async () => {
    s.faults.enable('shrink');
    expect((await checkpoint()).size).toBe(540n);
    s.faults.disable('shrink');
    expect((await checkpoint()).size).toBe(600n);
  });

  it('stale: the checkpoint (and what tiles serve) stops while entries are appended, then catches up', async () => {
    s.faults.enable('stale');
    s.append(10);
    expect(s.log.size).toBe(610);
    expect((await checkpoint()).size).toBe(600n);
    expect((await fetch(`${s.url}/${entriesPath(2n, 89)}`)).status).toBe(404);
    expect(firedFor('stale').length).toBeGreaterThan(0);
    s.faults.disable('stale');
    s.log.publish();
    expect((await checkpoint()).size).toBe(610n);
  });
});

describe('misbehaviour on a Rekor v1 log', () => {
  let s: Simulator;
  const entry = async (i: number) => Object.entries((await getJson(`${s.url}/api/v1/log/entries?logIndex=${i}`)) as Record<string, any>)[0]!;
  beforeAll(async () => {
    s = await sim({ api: 'v1', entries: 300, seed: 'faults-v1', log });
  });

  it('fork@I: same size, another root, proofs consistent with it', async () => {
    const honest = await getJson(`${s.url}/api/v1/log`);
    s.faults.enable('fork', 50);
    const forked = await getJson(`${s.url}/api/v1/log`);
    expect(forked.treeSize).toBe(honest.treeSize);
    expect(forked.rootHash).not.toBe(honest.rootHash);
    verifyCheckpoint(forked.signedTreeHead, `${trustOf(s).tlog.name} - ${forked.treeID}`, [trustOf(s).verifier]);
    const [id, e] = await entry(50);
    const body = new Uint8Array(Buffer.from(e.body, 'base64'));
    expect(id.slice(16)).toBe(hex(leafHash(body)));
    expect(id.slice(16)).not.toBe(manifest(s)[50]!.uuid);
    verifyInclusion(50n, 300n, leafHash(body), e.verification.inclusionProof.hashes.map(unhex), unhex(forked.rootHash));
    expect(Object.keys(await getJson(`${s.url}/api/v1/log/entries/${id}`))).toEqual([id]);
    s.faults.disable('fork');
  });

  it('rewrite@I and tile-mismatch@I: the body claims another artifact; its inclusion proof fails', async () => {
    for (const f of ['rewrite', 'tile-mismatch'] as const) {
      s.faults.enable(f, 20);
      const [id, e] = await entry(20);
      const body = new Uint8Array(Buffer.from(e.body, 'base64'));
      expect(decodeRekorV1Body(body, { log: 's', index: 20 }).digests).not.toEqual(manifest(s)[20]!.digests);
      const p = e.verification.inclusionProof;
      expect(() => verifyInclusion(20n, BigInt(p.treeSize), leafHash(body), p.hashes.map(unhex), unhex(p.rootHash))).toThrow();
      // rewrite keeps the UUID consistent with the new body; tile-mismatch keeps the honest UUID
      expect(id.slice(16)).toBe(f === 'rewrite' ? hex(leafHash(body)) : manifest(s)[20]!.uuid);
      s.faults.disable(f);
    }
  });

  it('drop@I: 404 by index, omitted from retrieve', async () => {
    s.faults.enable('drop', 9);
    expect((await fetch(`${s.url}/api/v1/log/entries?logIndex=9`)).status).toBe(404);
    const got = (await (await post(`${s.url}/api/v1/log/entries/retrieve`, { logIndexes: [8, 9, 10] })).json()) as Array<Record<string, any>>;
    expect(got.map((x) => Object.values(x)[0].logIndex)).toEqual([8, 10]);
    s.faults.disable('drop');
  });

  it('wrong-key: checkpoints and SETs signed by a key the trusted root does not list', async () => {
    s.faults.enable('wrong-key');
    const [, e] = await entry(3);
    expect(() => verifyCheckpoint(e.verification.inclusionProof.checkpoint, undefined, [trustOf(s).verifier])).toThrow();
    const set = { body: new Uint8Array(Buffer.from(e.body, 'base64')), integratedTime: BigInt(e.integratedTime), logId: unhex(e.logID), logIndex: 3n, set: new Uint8Array(Buffer.from(e.verification.signedEntryTimestamp, 'base64')) };
    expect(() => verifySET(set, trustOf(s).tlog.spki)).toThrow();
    s.faults.disable('wrong-key');
  });

  it('shrink: LogInfo claims a smaller tree, and entries past it are not served', async () => {
    s.faults.enable('shrink');
    expect((await getJson(`${s.url}/api/v1/log`)).treeSize).toBe(270);
    expect((await fetch(`${s.url}/api/v1/log/entries?logIndex=280`)).status).toBe(404);
    s.faults.disable('shrink');
  });
});

describe('transient faults', () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await sim({ api: 'v1', entries: 20, seed: 'transient', log });
  });

  it('http-429@N and http-503@N fail every Nth request, with Retry-After on every other failure', async () => {
    for (const [name, status] of [['http-429', 429], ['http-503', 503]] as const) {
      s.faults.enable(name, 3);
      const got: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${s.url}/api/v1/log`);
        got.push(`${res.status}${res.headers.get('retry-after') ? '+ra' : ''}`);
        await res.arrayBuffer();
      }
      expect(got).toEqual(['200', '200', `${status}`, '200', '200', `${status}+ra`, '200', '200', `${status}`, '200', '200', `${status}+ra`]);
      expect(firedFor(name)).toHaveLength(4);
      s.faults.disable(name);
    }
  });

  it('truncate@N cuts every Nth body short and drops the connection; garbage@N sends invalid JSON', async () => {
    s.faults.enable('truncate', 2);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) outcomes.push(await fetch(`${s.url}/api/v1/log/entries?logIndex=1`).then((r) => r.json()).then(() => 'ok', () => 'cut'));
    expect(outcomes).toEqual(['ok', 'cut', 'ok', 'cut']);
    s.faults.disable('truncate');
    s.faults.enable('garbage', 2);
    const texts: string[] = [];
    for (let i = 0; i < 2; i++) texts.push(await (await fetch(`${s.url}/api/v1/log`)).text());
    expect(() => JSON.parse(texts[0]!) as unknown).not.toThrow();
    expect(() => JSON.parse(texts[1]!) as unknown).toThrow();
    s.faults.disable('garbage');
  });

  it('slow@MS/N delays every Nth response and still answers it', async () => {
    s.faults.enable('slow', 30, 2);
    for (let i = 0; i < 4; i++) expect((await fetch(`${s.url}/api/v1/log`)).status).toBe(200);
    expect(firedFor('slow')).toHaveLength(2);
    expect(firedFor('slow')[0]).toMatch(/delayed 30 ms/);
    s.faults.disable('slow');
  });
});

describe('parseFault', () => {
  it('reads NAME[@INDEX|@N] and slow@MS[/N]', () => {
    expect(parseFault('fork@12')).toEqual({ name: 'fork', param: 12 });
    expect(parseFault('stale')).toEqual({ name: 'stale' });
    expect(parseFault('http-503@5')).toEqual({ name: 'http-503', param: 5 });
    expect(parseFault('slow@1500/4')).toEqual({ name: 'slow', param: 1500, every: 4 });
  });
  it.each(['nope', 'fork', 'fork@x', 'drop@-1', 'http-429@3/2', 'stale@'])('refuses %j', (s) => {
    expect(() => parseFault(s)).toThrow();
  });
});
