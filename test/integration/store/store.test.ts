import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { proveConsistencyAsync, proveInclusionAsync, treeRootAsync } from '../../../src/merkle/prove.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { checkLog } from '../../../src/store/check.ts';
import { entriesHeld, fetchedSize } from '../../../src/store/codec.ts';
import { Bucket, entryKey } from '../../../src/store/keys.ts';
import { openStore, Store } from '../../../src/store/store.ts';
import { bodyAt, entryAt, fill, hex, stateOf } from './fixtures.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tlogwatch-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('Store', () => {
  it('commits, reads back and finds entries by uuid and by Rekor v1 entry ID', async () => {
    const store = await openStore(tmp());
    const { bodies, range } = await fill(store, 25);
    const got = await store.getEntry('l', 7);
    expect(got!.record.entry).toEqual(entryAt(7));
    expect(Buffer.from(got!.body).toString()).toBe('{"entry":7}');
    expect(Buffer.from((await store.getBody('l', 7n))!).toString()).toBe('{"entry":7}');
    expect(await store.getEntry('l', 25)).toBeUndefined();
    expect(await store.getEntry('nope', 1)).toBeUndefined();
    const uuid = hex(leafHash(bodies[7]!));
    expect(await store.getByUuid(uuid)).toEqual([{ log: 'l', index: 7 }]);
    expect(await store.getByUuid(`24296fb24b8ad77a${uuid.toUpperCase()}`)).toEqual([{ log: 'l', index: 7 }]);
    expect(await store.getByUuid(uuid.slice(1))).toEqual([]);
    expect(await store.getByUuid(`zz${uuid}`)).toEqual([]);
    const state = await store.getLogState('l');
    expect(fetchedSize(state!)).toBe(25n);
    expect(hex(CompactRange.deserialize(state!.frontier).root())).toBe(hex(range.root()));
    const cps = await store.listCheckpoints('l', { limit: 2 });
    expect(cps.checkpoints.map((c) => c.size)).toEqual([25n, 20n]);
    expect(cps.checkpoints[0]!.note).toBe('note 25');
    const page2 = await store.listCheckpoints('l', { limit: 10, cursor: cps.next! });
    expect(page2.checkpoints.map((c) => c.size)).toEqual([10n]);
    expect(page2.next).toBeNull();
    expect((await checkLog(store, 'l')).problems).toEqual([]);
    await store.close();
  });

  it('keeps a uuid that differs from the leaf hash, and refuses an unreadable entry value', async () => {
    const store = await Store.open(tmp());
    const e = { ...entryAt(0), uuid: 'ab'.repeat(32) };
    await store.commitBatch({ entries: [{ record: { entry: e, attestation: 'e30=' }, body: bodyAt(0) }], nodes: [], state: stateOf(CompactRange.empty()) });
    expect(await store.getEntry('l', 0)).toEqual({ record: { entry: e, attestation: 'e30=' }, body: bodyAt(0) });
    await store.db.put(entryKey(await store.logId('l'), 1), new Uint8Array([9, 9, 9]));
    await expect(store.getEntry('l', 1)).rejects.toSatisfy((err) => isTlogwatchError(err, 'STORE_CORRUPT'));
    await store.close();
  });

  it('searches newest first with cursors, time windows and prefixes', async () => {
    const store = await Store.open(tmp());
    await fill(store, 40);
    const d0 = new Uint8Array([1, ...Buffer.alloc(32)]);
    const all = await store.search('DIGEST', d0, { limit: 100 });
    expect(all.refs.map((r) => r.index)).toEqual([39, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0]);
    const p1 = await store.search('DIGEST', d0, { limit: 5 });
    const p2 = await store.search('DIGEST', d0, { limit: 5, cursor: p1.next! });
    const p3 = await store.search('DIGEST', d0, { limit: 5, cursor: p2.next! });
    expect([...p1.refs, ...p2.refs, ...p3.refs].map((r) => r.index)).toEqual(all.refs.map((r) => r.index));
    expect(p3.next).toBeNull();
    const windowed = await store.search('DIGEST', d0, { limit: 100, since: 1_700_000_010, until: 1_700_000_021 });
    expect(windowed.refs.map((r) => r.index)).toEqual([21, 18, 15, 12]);
    const email = await store.search('SAN', Buffer.from('dev4@acme.com'), { limit: 10 });
    expect(email.refs.map((r) => r.index)).toEqual([4]);
    const prefix = await store.search('SAN', Buffer.from('https://github.com/acme/repo1/'), { prefix: true, limit: 100 });
    expect(prefix.refs.map((r) => r.index).sort((a, b) => a - b)).toEqual([1, 5, 9, 13, 17, 21, 25, 29, 33, 37]);
    const prefixPaged = await store.search('SAN', Buffer.from('https://github.com/acme/repo1/'), { prefix: true, limit: 4, since: 1_700_000_009 });
    const prefixNext = await store.search('SAN', Buffer.from('https://github.com/acme/repo1/'), { prefix: true, limit: 100, since: 1_700_000_009, cursor: prefixPaged.next! });
    expect([...prefixPaged.refs, ...prefixNext.refs].map((r) => r.index).sort((a, b) => a - b)).toEqual([9, 13, 17, 21, 25, 29, 33, 37]);
    const repo = await store.search('REPOSITORY', Buffer.from('https://github.com/acme/repo3'), { limit: 3 });
    expect(repo.refs.map((r) => r.index)).toEqual([39, 35, 31]);
    expect((await store.search('OWNER', Buffer.from('https://github.com/acme'), { limit: 100 })).refs).toHaveLength(40);
    expect((await store.search('ISSUER', Buffer.from('https://token.actions.githubusercontent.com'), { limit: 1 })).refs[0]!.index).toBe(39);
    expect((await store.search('TIME', new Uint8Array(0), { limit: 3 })).refs.map((r) => r.index)).toEqual([39, 38, 37]);
    await expect(store.search('DIGEST', d0, { limit: 5, cursor: p1.next!.slice(0, 4) })).rejects.toThrow(/cursor/);
    await expect(store.search('SAN', Buffer.from('x'), { limit: 5, cursor: p1.next! })).rejects.toThrow(/cursor/);
    await store.close();
  });

  it('does not index a hostile identity that carries a NUL byte (it would break the key layout)', async () => {
    const store = await Store.open(tmp());
    const e = entryAt(1);
    e.signer = { ...e.signer!, san: 'evil\u0000@acme.com' };
    await store.commitBatch({ entries: [{ record: { entry: e }, body: bodyAt(1) }], nodes: [], state: stateOf(CompactRange.empty()) });
    expect((await store.search('SAN', Buffer.from('evil'), { prefix: true, limit: 5 })).refs).toEqual([]);
    expect((await store.search('ISSUER', Buffer.from(e.signer.issuer!), { limit: 5 })).refs).toHaveLength(1);
    await store.close();
  });

  it('serves proofs from stored tile rows that verify against the root', async () => {
    const store = await Store.open(tmp());
    const n = 700;
    const { range, bodies } = await fill(store, n, { batch: 97 });
    const read = store.hashReader('l');
    expect(hex(await treeRootAsync(BigInt(n), read))).toBe(hex(rootFromLeafHashes(bodies.map(leafHash))));
    for (const i of [0, 255, 256, 511, 699]) {
      const proof = await proveInclusionAsync(BigInt(i), BigInt(n), read);
      verifyInclusion(BigInt(i), BigInt(n), leafHash(bodies[i]!), proof, range.root());
    }
    await store.close();
  });

  // Mirrors started at 0, inside a tile, on a tile boundary and mid-log: every node at or after the
  // start, straddling it, or a frontier node left of it equals the naive MTH of its leaves.
  for (const start of [0, 1, 255, 256, 1000]) {
    it(`reads any node equal to a naive computation (mirror started at ${start})`, async () => {
      const store = await Store.open(tmp());
      const n = 2100;
      const { bodies } = await fill(store, n, { batch: 300, start });
      const leaves = bodies.map(leafHash);
      const read = store.hashReader('l');
      const naive = (lo: number, hi: number) => hex(rootFromLeafHashes(leaves.slice(lo, hi)));
      const node = fc
        .tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: n }))
        .map(([level, at]) => ({ level, index: BigInt(at >> level) }))
        .filter((x) => (Number(x.index) + 1) << x.level <= n && (Number(x.index) + 1) << x.level > start);
      await fc.assert(
        fc.asyncProperty(fc.array(node, { minLength: 1, maxLength: 4 }), async (ids) => {
          const got = await read(ids);
          ids.forEach((id, k) => expect(hex(got[k]!)).toBe(naive(Number(id.index) << id.level, (Number(id.index) + 1) << id.level)));
        }),
        { numRuns: 60 },
      );
      const sizes = fc.integer({ min: Math.max(start, 1), max: n });
      await fc.assert(
        fc.asyncProperty(sizes, sizes, fc.nat(), async (a, b, leaf) => {
          const [m1, m2] = a <= b ? [a, b] : [b, a];
          const i = start + (leaf % (m2 - start || 1));
          if (i < m2) verifyInclusion(BigInt(i), BigInt(m2), leaves[i]!, await proveInclusionAsync(BigInt(i), BigInt(m2), read), rootFromLeafHashes(leaves.slice(0, m2)));
          const proof = await proveConsistencyAsync(BigInt(m1), BigInt(m2), read);
          verifyConsistency(BigInt(m1), BigInt(m2), proof, rootFromLeafHashes(leaves.slice(0, m1)), rootFromLeafHashes(leaves.slice(0, m2)));
        }),
        { numRuns: 40 },
      );
      // Leaf 0's proof needs leaf 1's hash, which only exists once the mirror starts at or before 1.
      if (start > 1) await expect(proveInclusionAsync(0n, BigInt(n), read)).rejects.toSatisfy((e) => isTlogwatchError(e, 'API_NOT_FOUND'));
      expect((await checkLog(store, 'l')).problems).toEqual([]);
      await store.close();
    });
  }

  it('indexes only digests of unwatched entries in watched mode', async () => {
    const store = await Store.open(tmp(), { indexMode: 'watched' });
    const watched = (i: number) => i % 5 === 0;
    await fill(store, 20, { isWatched: (e) => watched(e.index) });
    expect((await store.search('SAN', Buffer.from('dev2@acme.com'), { limit: 5 })).refs).toEqual([]);
    expect((await store.search('SAN', Buffer.from('dev10@acme.com'), { limit: 5 })).refs.map((r) => r.index)).toEqual([10]);
    const dig = new Uint8Array([1, ...Buffer.alloc(31), 2]);
    expect((await store.search('DIGEST', dig, { limit: 50 })).refs.map((r) => r.index)).toEqual([17, 14, 11, 8, 5, 2]);
    expect((await checkLog(store, 'l', watched)).problems).toEqual([]);
    await store.close();
  });

  it('writes extra ops of other repositories in the same batch, and state-only updates', async () => {
    const store = await Store.open(tmp());
    const findingKey = new Uint8Array([Bucket.FINDING, ...Buffer.alloc(16, 7)]);
    await store.commitBatch({
      entries: [{ record: { entry: entryAt(0) }, body: bodyAt(0) }],
      nodes: [],
      state: stateOf(CompactRange.empty()),
      extraOps: [{ type: 'put', key: findingKey, value: Buffer.from('{"rule":"x"}') }],
    });
    expect(Buffer.from((await store.db.get(findingKey))).toString()).toBe('{"rule":"x"}');
    await store.putLogState({ ...stateOf(CompactRange.empty()), status: 'halted', halt: { code: 'VERIFY_FORK', message: 'm', at: 5, evidence: { a: 1n } } }, [{ type: 'del', key: findingKey }]);
    expect(await store.db.get(findingKey)).toBeUndefined();
    expect((await store.getLogState('l'))!.halt).toEqual({ code: 'VERIFY_FORK', message: 'm', at: 5, evidence: { a: 1n } });
    await store.close();
  });

  it('counts fetched entries across Rekor v1 shards from the frontier and the shard offset', () => {
    const range = CompactRange.empty();
    for (let i = 0; i < 5; i++) range.append(leafHash(bodyAt(i)));
    const s = { ...stateOf(range, 1_000n), type: 'rekor-v1' as const, shard: { treeID: '1', offset: 998n, seq: 1 } };
    expect(fetchedSize(s)).toBe(1003n);
    expect(entriesHeld(s)).toBe(3n);
  });

  it('finds what the checker must find: a missing index key, a gap, a stale state', async () => {
    const store = await Store.open(tmp());
    await fill(store, 12);
    const id = await store.logId('l');
    for await (const k of store.db.keys({ gte: new Uint8Array([Bucket.INDEX, 2]), lt: new Uint8Array([Bucket.INDEX, 3]), limit: 1 })) await store.db.del(k);
    await store.db.del(entryKey(id, 4));
    const problems = (await checkLog(store, 'l')).problems.join('\n');
    expect(problems).toMatch(/index keys differ from what it implies \(expected 8, found 7\)/);
    expect(problems).toMatch(/gap: entries 4\.\.4 missing/);
    expect(problems).toMatch(/8 index keys for entry 4, which is not stored/);
    expect(problems).toMatch(/UUID key for entry 4/);
    expect(problems).toMatch(/state says 12 entries from 0, the store holds 11/);
    await store.close();
  });

  it('reports its size and compacts', async () => {
    const store = await Store.open(tmp());
    await fill(store, 300, { batch: 100 });
    await store.compact();
    expect(await store.approximateSize()).toBeGreaterThan(0);
    await store.close();
  });

  it('refuses a store of another schema version and says what to do', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await store.db.put(new Uint8Array([0, ...Buffer.from('schema')]), new Uint8Array([0, 99]));
    await store.close();
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'STORE_SCHEMA_VERSION')).toBe(true);
    expect((err as Error).message).toMatch(/schema version 99.*uses 1.*move the directory away/);
  });
});
