/** The building blocks of the simulator's speed and memory: batched-nonce ECDSA, typed-array indexes, the body file, parallel builds. */
import { createHash, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { BodyStore } from '../../sim/bodystore.ts';
import { P256Signer } from '../../sim/ecdsa.ts';
import { HashIndex, LeafIndex } from '../../sim/hashindex.ts';
import { ecdsaKey, ecdsaScalarKey, ed25519Key, spkiOf } from '../../sim/keys.ts';
import { SimLog } from '../../sim/log.ts';
import { entryRandom } from '../../sim/prng.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tlogwatch-simunit-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('P256Signer', () => {
  it('makes signatures OpenSSL verifies, over any message and key, across nonce batches', () => {
    const signer = new P256Signer();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ minLength: 1 }), (msg, keyName) => {
        const key = ecdsaKey('prop', keyName);
        const sig = signer.sign(key.privateKey, createHash('sha256').update(msg).digest());
        return verify('sha256', msg, key.publicKey, sig);
      }),
      { numRuns: 2500 }, // more than two batches of nonces
    );
  });

  it('never repeats r, signs hex digests alike, and refuses what is not a digest or a P-256 key', () => {
    const signer = new P256Signer();
    const key = ecdsaKey('r');
    const rs = new Set(Array.from({ length: 300 }, (_, i) => signer.sign(key.privateKey, createHash('sha256').update(String(i)).digest()).toString('hex').slice(8, 72)));
    expect(rs.size).toBe(300);
    const digest = createHash('sha256').update('m').digest('hex');
    expect(verify('sha256', Buffer.from('m'), key.publicKey, signer.signHex(key.privateKey, digest))).toBe(true);
    expect(() => signer.signHex(key.privateKey, digest.slice(1))).toThrow(/64 hex/);
    expect(() => signer.signHex(key.privateKey, `${digest.slice(1)}z`)).toThrow(SyntaxError);
    expect(() => signer.sign(key.privateKey, new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => signer.sign(ed25519Key('e').privateKey, new Uint8Array(32))).toThrow(/P-256/);
  });
});

describe('seeded keys and randomness', () => {
  it('derive the same keys from the same parts, other keys from others', () => {
    expect(Buffer.from(spkiOf(ecdsaKey('a', 1).publicKey)).equals(Buffer.from(spkiOf(ecdsaKey('a', 1).publicKey)))).toBe(true);
    expect(Buffer.from(spkiOf(ecdsaKey('a', 1).publicKey)).equals(Buffer.from(spkiOf(ecdsaKey('a', 2).publicKey)))).toBe(false);
    expect(ed25519Key('a').publicKey.export({ format: 'jwk' }).x).toBe(ed25519Key('a').publicKey.export({ format: 'jwk' }).x);
  });
  it('make the same P-256 key as a scalar (no KeyObject) as ecdsaKey does, and the batched signer signs with it', () => {
    const pair = ecdsaKey('leaf', 'x', 3);
    const scalar = ecdsaScalarKey('leaf', 'x', 3);
    expect(Buffer.from(scalar.spki).equals(Buffer.from(spkiOf(pair.publicKey)))).toBe(true);
    const sig = new P256Signer().sign(scalar.privateKey, createHash('sha256').update('m').digest());
    expect(verify('sha256', Buffer.from('m'), pair.publicKey, sig)).toBe(true);
    expect(() => new P256Signer().sign(0n, new Uint8Array(32))).toThrow(RangeError);
  });
  it('gives entries past 2^32 their own streams', () => {
    const a = entryRandom(7, 1, 5)();
    expect(entryRandom(7, 1, 5)()).toBe(a);
    expect(entryRandom(7, 1, 5 + 2 ** 32)()).not.toBe(a);
    expect(entryRandom(7, 2, 5)()).not.toBe(a);
  });
});

describe('HashIndex', () => {
  it('agrees with a Map of arrays (insertion order, many values per key, growth)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.nat()), { maxLength: 3000 }), (ops) => {
        const idx = new HashIndex();
        const oracle = new Map<number, number[]>();
        const key = (k: number) => createHash('sha256').update(String(k)).digest();
        for (const [k, v] of ops) {
          idx.add(key(k), v);
          oracle.set(k, [...(oracle.get(k) ?? []), v]);
        }
        for (let k = 0; k <= 300; k++) expect(idx.get(key(k))).toEqual(oracle.get(k) ?? []);
        expect(idx.size).toBe(ops.length);
      }),
      { numRuns: 30 },
    );
  });
});

describe('LeafIndex', () => {
  it('finds every index filed under a leaf hash (repeated leaves, growth past its first size), reading keys back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 3000 }), fc.nat({ max: 2000 }), (leafIds, expected) => {
        const leaf = (k: number) => createHash('sha256').update(String(k)).digest();
        const leaves = leafIds.map(leaf);
        const idx = new LeafIndex((i) => leaves[i]!, expected);
        leaves.forEach((l, i) => idx.add(l, i));
        for (let k = 0; k <= 700; k++) expect(idx.get(leaf(k))).toEqual(leafIds.flatMap((id, i) => (id === k ? [i] : [])));
        expect(idx.size).toBe(leaves.length);
      }),
      { numRuns: 20 },
    );
    expect(() => new LeafIndex(() => new Uint8Array(32)).add(new Uint8Array(32), 2 ** 31)).toThrow(RangeError);
  });
});

describe('BodyStore', () => {
  it('returns what was appended, one at a time or in runs, across flushes', () => {
    const store = new BodyStore(join(tmp(), 'b.bin'));
    const bodies = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 0 : 1 + ((i * 977) % 3000), i % 251));
    bodies.slice(0, 1000).forEach((b) => store.append(b));
    store.appendMany(Buffer.concat(bodies.slice(1000)), Uint32Array.from(bodies.slice(1000).map((b) => b.length)));
    expect(store.count).toBe(3000);
    expect(store.range(0, 3000).every((b, i) => b.equals(bodies[i]!))).toBe(true);
    expect(store.get(2999).equals(bodies[2999]!)).toBe(true);
    expect(() => store.range(10, 3001)).toThrow(RangeError);
    store.close();
  });

  it('keeps prefixed records as tlog-tiles entry bundles, and takes runs only in that form', () => {
    const store = new BodyStore(join(tmp(), 'p.bin'), { prefixed: true });
    const bodies = [Buffer.from('a'), Buffer.alloc(300, 7), Buffer.alloc(0)];
    store.append(bodies[0]!);
    store.appendMany(Buffer.concat([Buffer.from([0x01, 0x2c]), bodies[1]!, Buffer.from([0, 0])]), Uint32Array.of(300, 0));
    expect(store.range(0, 3).every((b, i) => b.equals(bodies[i]!))).toBe(true);
    expect(store.raw(0, 2).equals(Buffer.concat([Buffer.from([0, 1]), bodies[0]!, Buffer.from([0x01, 0x2c]), bodies[1]!]))).toBe(true);
    expect(() => store.appendMany(Buffer.concat([Buffer.from([0, 2]), bodies[1]!]), Uint32Array.of(300))).toThrow(/prefix/);
    expect(() => store.append(Buffer.alloc(0x10000))).toThrow(/uint16/);
    expect(store.count).toBe(3);
    store.close();
  });
});

describe('parallel builds', () => {
  it('give the same log in worker threads as in one thread, apart from the randomised ECDSA bytes', { timeout: 120_000 }, async () => {
    const build = (workers: number) => SimLog.create({ api: 'v1', entries: 6000, seed: 'par', out: tmp(), workers, shards: 2, inject: [{ at: 4100, key: 'ecdsa' }], log: () => undefined });
    const [a, b] = [await build(0), await build(2)];
    // ECDSA signatures, and certificates (the CA's signature), differ run to run; what they say must not.
    const lines = (l: SimLog) =>
      l.bodies.range(0, l.size).map((body, i) => {
        const e = decodeRekorV1Body(new Uint8Array(body), { log: 'p', index: i });
        const s = e.signer;
        return JSON.stringify([l.integratedTime(i), e.kind, e.kind === 'hashedrekord' ? e.digests : [], s?.type, s?.type === 'key' ? s.fingerprint : s?.notBefore, s?.san, s?.issuer, s?.fulcio]);
      });
    expect(lines(b)).toEqual(lines(a));
    expect(b.shards.map((s) => [s.treeID, s.offset, s.final])).toEqual(a.shards.map((s) => [s.treeID, s.offset, s.final]));
    expect(b.shards[0]!.final).toBe(3000);
    expect(Buffer.from(spkiOf(a.logKey.publicKey)).equals(Buffer.from(spkiOf(b.logKey.publicKey)))).toBe(true);
    await a.close();
    await b.close();
  });
});
