import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { proveConsistencyAsync, proveInclusionAsync, treeRootAsync } from '../../../src/merkle/prove.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import { checkLog } from '../../../src/store/check.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { digestToBytes, entriesHeld, fetchedSize } from '../../../src/store/codec.ts';
import { Bucket, entryKey, key, readU16, readU64, SCHEMA_EARLIER_TREES, SCHEMA_VERSION, u16, uuidKey } from '../../../src/store/keys.ts';
import { earlierTreesOps, ENTRIES_DIR, openStore, Store } from '../../../src/store/store.ts';
import { ENTRIES_DB_OPTIONS, LEVEL_OPTIONS } from '../../../src/store/level.ts';
import { reusedBatches } from '../../../src/store/reused-batches.ts';
import { normaliseIdentity } from '../../../src/store/index-values.ts';
import { bodyAt, entryAt, fill, hex, stateOf, tempDirs } from './fixtures.ts';

const tmp = tempDirs('tlogwatch-store-');
/** Bytes of a LevelDB directory's table files. */
const tableBytes = (path: string) => readdirSync(path).filter((f) => f.endsWith('.ldb')).reduce((n, f) => n + statSync(join(path, f)).size, 0);
/** Compacts every key of a database into tables (classic-level's compactRange, absent from level's types). */
const compactAll = (db: Level<Uint8Array, Uint8Array>) =>
  (db as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0xff]));

describe('Store', () => {
  it("records the index mode its entries were written with: the first writer's, watched once any writer was, nothing it cannot know", async () => {
    const dir = tmp();
    const reopen = async (store: Store, indexMode?: 'all' | 'watched') => {
      await store.close();
      return Store.open(dir, indexMode ? { indexMode } : {});
    };
    let store = await Store.open(dir);
    expect(store.recordedIndexMode).toBeUndefined();
    await fill(store, 10, { log: 'a' });
    expect(store.recordedIndexMode).toBe('all');
    store = await reopen(store, 'watched');
    expect(store.recordedIndexMode).toBe('all'); // opening, reading: nothing recorded
    await fill(store, 10, { log: 'b', isWatched: () => false });
    expect(store.recordedIndexMode).toBe('watched');
    // Back to `all`: the digest-only entries stay, and so does the record that says there may be some.
    store = await reopen(store, 'all');
    await fill(store, 10, { log: 'c' });
    store = await reopen(store);
    expect(store.recordedIndexMode).toBe('watched');
    // Entries from before the record: an `all` writer cannot tell what they were written with; a `watched` one can record watched.
    await store.db.del(key(Bucket.META, 'indexMode'));
    store = await reopen(store, 'all');
    await fill(store, 10, { log: 'd' });
    store = await reopen(store, 'watched');
    expect(store.recordedIndexMode).toBeUndefined();
    await fill(store, 10, { log: 'e', isWatched: () => true });
    store = await reopen(store);
    expect(store.recordedIndexMode).toBe('watched');
    await store.close();
  });

  it('commits, reads back and finds entries by uuid and by Rekor v1 entry ID', async () => {
    const store = await openStore(tmp());
    const { bodies, range } = await fill(store, 25);
    const got = await store.getEntry('l', 7);
    expect(got!.record.entry).toEqual(entryAt(7));
    expect(got!.record.entry.signer).toBeDefined();
    expect(Buffer.from(got!.body).equals(Buffer.from(bodies[7]!))).toBe(true);
    expect(Buffer.from((await store.getBody('l', 7n))!).equals(Buffer.from(bodies[7]!))).toBe(true);
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
    await expect(store.listCheckpoints('l', { limit: 1, cursor: 'abc' })).rejects.toSatisfy((e) => isTlogwatchError(e, 'API_BAD_REQUEST'));
    await expect(store.listCheckpoints('l', { limit: 1, cursor: '1'.repeat(30) })).rejects.toSatisfy((e) => isTlogwatchError(e, 'API_BAD_REQUEST'));
    expect((await checkLog(store, 'l')).problems).toEqual([]);
    // classic-level leaks the copy of every empty value it is handed (keys.ts MARKER): none is written.
    for (const db of [store.db, store.entryDb]) {
      for await (const [k, v] of db.iterator()) expect(v.length, `value of ${hex(k)}`).toBeGreaterThan(0);
    }
    await store.close();
  });

  it('keeps a uuid that differs from the leaf hash, and refuses an unreadable entry value', async () => {
    const store = await Store.open(tmp());
    const e = { ...entryAt(0), uuid: 'ab'.repeat(32) };
    const range = CompactRange.empty();
    range.append(leafHash(bodyAt(0)));
    await store.commitBatch({ entries: [{ record: { entry: e, attestation: 'e30=' }, body: bodyAt(0) }], nodes: [], state: stateOf(range) });
    expect(await store.getEntry('l', 0)).toEqual({ record: { entry: e, attestation: 'e30=' }, body: bodyAt(0) });
    await store.entryDb.put(entryKey(await store.logId('l'), 0), new Uint8Array([2, 1, 0, 0, 0, 9]));
    await expect(store.getEntry('l', 0)).rejects.toSatisfy((err) => isTlogwatchError(err, 'STORE_CORRUPT'));
    await store.close();
  });

  it('searches newest first with cursors, time windows and prefixes (checked against a naive filter)', async () => {
    const store = await Store.open(tmp());
    const { entries } = await fill(store, 60);
    const newestFirst = (pred: (e: Entry) => boolean) => entries.filter(pred).map((e) => e.index).reverse();
    const indexes = (page: { refs: Array<{ index: number }> }) => page.refs.map((r) => r.index);
    const sans = (e: Entry) => (e.signers ?? (e.signer ? [e.signer] : [])).map((x) => x.san).filter((x) => x !== undefined).map(normaliseIdentity);

    const digest = entries[5]!.digests[0]!;
    expect(indexes(await store.search('DIGEST', digestToBytes(digest), { limit: 100 }))).toEqual(newestFirst((e) => e.digests.includes(digest)));

    const issuer = 'https://token.actions.githubusercontent.com';
    const byIssuer = newestFirst((e) => e.signer?.issuer === issuer);
    expect(byIssuer.length).toBeGreaterThan(10);
    expect(indexes(await store.search('ISSUER', Buffer.from(issuer), { limit: 100 }))).toEqual(byIssuer);
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.search('ISSUER', Buffer.from(issuer), { limit: 4, ...(cursor ? { cursor } : {}) });
      pages.push(...indexes(page));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(pages).toEqual(byIssuer);
    const windowed = await store.search('ISSUER', Buffer.from(issuer), { limit: 100, since: 1_700_000_010, until: 1_700_000_041 });
    expect(indexes(windowed)).toEqual(byIssuer.filter((i) => i >= 10 && i <= 41));

    const email = entries.flatMap(sans).find((x) => x.includes('@'))!;
    expect(indexes(await store.search('SAN', Buffer.from(email), { limit: 100 }))).toEqual(newestFirst((e) => sans(e).includes(email)));
    const github = entries.flatMap(sans).find((x) => x.startsWith('https://github.com/'))!;
    const org = github.split('/').slice(0, 4).join('/') + '/';
    const byOrg = newestFirst((e) => sans(e).some((x) => x.startsWith(org)));
    const prefix = await store.search('SAN', Buffer.from(org), { prefix: true, limit: 100 });
    expect(indexes(prefix).sort((a, b) => a - b)).toEqual([...byOrg].sort((a, b) => a - b));
    const first = await store.search('SAN', Buffer.from(org), { prefix: true, limit: 2, since: 1_700_000_009 });
    // `next` is null when the first page already holds every match; a null cursor must not restart the scan.
    const rest = first.next ? await store.search('SAN', Buffer.from(org), { prefix: true, limit: 100, since: 1_700_000_009, cursor: first.next }) : { refs: [] };
    expect([...indexes(first), ...indexes(rest)].sort((a, b) => a - b)).toEqual(byOrg.filter((i) => i >= 9).sort((a, b) => a - b));

    const repo = entries.find((e) => e.signer?.fulcio?.sourceRepositoryURI)!.signer!.fulcio!.sourceRepositoryURI!;
    expect(indexes(await store.search('REPOSITORY', Buffer.from(repo), { limit: 100 }))).toEqual(newestFirst((e) => e.signer?.fulcio?.sourceRepositoryURI === repo));
    const owner = entries.find((e) => e.signer?.fulcio?.sourceRepositoryOwnerURI)!.signer!.fulcio!.sourceRepositoryOwnerURI!;
    expect(indexes(await store.search('OWNER', Buffer.from(owner), { limit: 100 }))).toEqual(newestFirst((e) => e.signer?.fulcio?.sourceRepositoryOwnerURI === owner));
    const builder = entries.find((e) => e.signer?.fulcio?.buildSignerURI)!.signer!.fulcio!.buildSignerURI!;
    expect(indexes(await store.search('BUILD_SIGNER', Buffer.from(builder), { limit: 100 }))).toEqual(newestFirst((e) => e.signer?.fulcio?.buildSignerURI === builder));
    const fp = entries[3]!.signer!.fingerprint;
    expect(indexes(await store.search('FINGERPRINT', Buffer.from(fp.slice(7), 'hex'), { limit: 100 }))).toEqual(newestFirst((e) => (e.signers ?? [e.signer]).some((x) => x?.fingerprint === fp)));
    expect(indexes(await store.search('TIME', new Uint8Array(0), { limit: 3 }))).toEqual([59, 58, 57]);

    const p1 = await store.search('ISSUER', Buffer.from(issuer), { limit: 2 });
    await expect(store.search('ISSUER', Buffer.from(issuer), { limit: 5, cursor: p1.next!.slice(0, 4) })).rejects.toThrow(/cursor/);
    await expect(store.search('SAN', Buffer.from('x'), { limit: 5, cursor: p1.next! })).rejects.toThrow(/cursor/);
    await store.close();
  });

  it('does not index a hostile identity that carries a NUL byte (it would break the key layout)', async () => {
    const store = await Store.open(tmp());
    const k = Array.from({ length: 64 }, (_, i) => i).find((i) => entryAt(i).signer?.issuer !== undefined)!;
    const e = entryAt(k);
    e.signer = { ...e.signer!, san: 'evil\u0000@acme.com' };
    await store.commitBatch({ entries: [{ record: { entry: e }, body: bodyAt(k) }], nodes: [], state: stateOf(CompactRange.empty()) });
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
    const { entries } = await fill(store, 20, { isWatched: (e) => watched(e.index) });
    for (const e of entries) {
      const san = normaliseIdentity(e.signer?.san ?? '');
      if (san === '') continue;
      const want = entries.filter((x) => watched(x.index) && normaliseIdentity(x.signer?.san ?? '') === san).map((x) => x.index).reverse();
      expect((await store.search('SAN', Buffer.from(san), { limit: 50 })).refs.map((r) => r.index)).toEqual(want);
      expect((await store.search('DIGEST', digestToBytes(e.digests[0]!), { limit: 50 })).refs.map((r) => r.index)).toContain(e.index);
    }
    // The time index (GET /v1/search with no selector) holds the fully indexed entries only.
    const byTime = (await store.search('TIME', new Uint8Array(0), { limit: 50 })).refs.map((r) => r.index);
    expect(byTime.sort((a, b) => a - b)).toEqual(entries.filter((x) => watched(x.index)).map((x) => x.index));
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
    await store.entryDb.del(entryKey(id, 4));
    const problems = (await checkLog(store, 'l')).problems.join('\n');
    expect(problems).toMatch(/index keys differ from what it implies \(expected (\d+), found (\d+)\)/);
    expect(problems).toMatch(/gap: entries 4\.\.4 missing/);
    expect(problems).toMatch(/\d+ index keys for entry 4, which is not stored/);
    expect(problems).toMatch(/another root than the state's frontier/);
    expect(problems).toMatch(/UUID key for entry 4/);
    expect(problems).toMatch(/state says 12 entries from 0, the store holds 11/);
    await store.close();
  });

  it('names the entries of the first runs whose key tallies differ, and summarises the runs after them', async () => {
    const store = await Store.open(tmp());
    await fill(store, 24);
    const id = await store.logId('l');
    // Runs of 4 entries (runBits 2): entries 1, 5, 9, 13, 17 and 21 each lose their UUID key, six runs.
    for (const i of [1, 5, 9, 13, 17, 21]) await store.db.del(uuidKey(Buffer.from((await store.getEntry('l', i))!.record.entry.leafHash, 'hex'), id, i));
    const progress: number[] = [];
    expect((await checkLog(store, 'l', () => true, { runBits: 2, progress: (n) => progress.push(n) })).problems).toEqual([
      'entry 1: no UUID key',
      'entry 5: no UUID key',
      'entry 9: no UUID key',
      'entry 13: no UUID key',
      expect.stringMatching(/^entries 16\.\.19: \d+ index and 3 UUID keys stored, \d+ and 4 implied, or other keys \(not listed entry by entry\)$/),
      expect.stringMatching(/^entries 20\.\.23: \d+ index and 3 UUID keys stored, \d+ and 4 implied/),
    ]);
    // Progress at the end of each run.
    expect(progress).toEqual([4, 8, 12, 16, 20, 24]);
    // With the default runs of 65,536 all six are in one run, gone over entry by entry.
    expect((await checkLog(store, 'l')).problems).toEqual([1, 5, 9, 13, 17, 21].map((i) => `entry ${i}: no UUID key`));
    await store.close();
  });

  it('finds a body swapped under another index', async () => {
    const store = await Store.open(tmp());
    await fill(store, 8);
    const id = await store.logId('l');
    await store.entryDb.put(entryKey(id, 5), (await store.entryDb.get(entryKey(id, 6))));
    const problems = (await checkLog(store, 'l')).problems.join('\n');
    expect(problems).toMatch(/UUID key for entry 5 has another leaf hash|entry 5: no UUID key/);
    expect(problems).toMatch(/another root/);
    await store.close();
  });

  it('a batch cut short between its two writes: its entry values are never served, and the next open removes them', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 10);
    await fill(store, 30, { start: 20, log: 'started-at-20' });
    const id = await store.logId('l');
    const value = (await store.entryDb.get(entryKey(id, 3)));
    // What a kill -9 after a batch's entry values and before its commit leaves behind: values past the
    // state's end, below a start that a backfill was lowering, and of a log that never committed at all.
    await store.entryDb.batch([10, 11, 12, 13].map((i) => ({ type: 'put' as const, key: entryKey(id, i), value })));
    const started = await store.logId('started-at-20');
    await store.entryDb.batch([5, 19].map((i) => ({ type: 'put' as const, key: entryKey(started, i), value })));
    const never = await store.logId('never-committed');
    await store.entryDb.put(entryKey(never, 0), value);

    expect(await store.getEntry('l', 10)).toBeUndefined();
    expect(await store.getBody('l', 13)).toBeUndefined();
    expect(await store.getEntry('started-at-20', 19)).toBeUndefined();
    expect(await store.getEntry('never-committed', 0)).toBeUndefined();
    const values = await store.getEntryValues([{ log: 'l', index: 9 }, { log: 'l', index: 10 }, { log: 'started-at-20', index: 5 }, { log: 'never-committed', index: 0 }]);
    expect(values.map((v) => v !== undefined)).toEqual([true, false, false, false]);
    expect((await checkLog(store, 'l')).problems.join('\n')).toMatch(/state says 10 entries from 0, the store holds 14 ending at 14/);
    await store.close();

    const again = await Store.open(dir);
    expect((await checkLog(again, 'l')).problems).toEqual([]);
    expect((await checkLog(again, 'started-at-20')).problems).toEqual([]);
    const keys = await again.entryDb.keys().all();
    // A log with no state keeps its values (nothing says they are not all there is of it: store.ts
    // dropUncommittedEntries), unserved; its first commit rewrites them, or the open after it drops them.
    expect(keys.map((k) => `${k[2]}:${readU64(k, 3)}`)).toEqual([...Array.from({ length: 10 }, (_, i) => `${id}:${i}`), ...Array.from({ length: 10 }, (_, i) => `${started}:${20 + i}`), `${never}:0`]);
    expect(await again.getEntry('never-committed', 0)).toBeUndefined();
    // The mirror then commits that batch again, from where the state is.
    const range = CompactRange.empty();
    for (let i = 0; i < 14; i++) range.append(leafHash(bodyAt(i)));
    await again.commitBatch({ entries: [10, 11, 12, 13].map((i) => ({ record: { entry: entryAt(i) }, body: bodyAt(i) })), nodes: [], state: stateOf(range) });
    expect((await checkLog(again, 'l')).problems).toEqual([]);
    expect((await again.getEntry('l', 13))?.record.entry.index).toBe(13);
    await again.close();
  });

  it('gives logs distinct ids when they first appear together, and the same ids after reopening', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    const names = Array.from({ length: 12 }, (_, i) => `log-${i}`);
    const ids = await Promise.all(names.map((n) => store.logId(n)));
    expect(new Set(ids).size).toBe(names.length);
    expect(await Promise.all(names.map((n) => store.logId(n)))).toEqual(ids);
    await store.close();
    const again = await Store.open(dir);
    expect(await Promise.all(names.map((n) => again.logId(n)))).toEqual(ids);
    expect(await again.logId('new')).toBe(Math.max(...ids) + 1);
    await again.close();
  });

  it('reports its size and compacts', async () => {
    const store = await Store.open(tmp());
    await fill(store, 300, { batch: 100 });
    await store.compact();
    expect(await store.approximateSize()).toBeGreaterThan(0);
    await store.close();
  });

  it('writes the main database without Snappy and the entries database with it, and reads a store written either way', async () => {
    const dir = tmp();
    // A store whose tables were all written with Snappy in 4 KB blocks (as before MAIN_DB_OPTIONS and
    // ENTRIES_DB_OPTIONS' block size): compacted that way.
    const store = await Store.open(dir);
    const { bodies } = await fill(store, 60, { batch: 13 });
    await store.close();
    for (const path of [dir, join(dir, ENTRIES_DIR)]) {
      const snappy = new Level<Uint8Array, Uint8Array>(path, { ...LEVEL_OPTIONS, compression: true, blockSize: 4096 });
      await compactAll(snappy);
      await snappy.close();
    }
    const reopened = await Store.open(dir);
    expect((await checkLog(reopened, 'l')).problems).toEqual([]);
    expect(Buffer.from((await reopened.getBody('l', 59))!).equals(Buffer.from(bodies[59]!))).toBe(true);
    expect((await reopened.search('SAN', Buffer.from(normaliseIdentity(entryAt(3).signer!.san!)), { limit: 100, prefix: false })).refs.length).toBeGreaterThan(0);

    // What each database does with a highly compressible 1 MB value, after a compaction writes it to a table.
    const zeros = new Uint8Array(1 << 20);
    await reopened.db.put(new Uint8Array([Bucket.RULE_STATE, 0x7a]), zeros);
    await reopened.entryDb.put(entryKey(0xfffe, 0), zeros);
    await reopened.compact();
    expect(tableBytes(dir)).toBeGreaterThan(1 << 20);
    expect(tableBytes(join(dir, ENTRIES_DIR))).toBeLessThan(1 << 19);
    await reopened.close();
  });

  it("writes each batch's entry values through one reused native batch of the entries database", async () => {
    const store = await Store.open(tmp());
    const { bodies } = await fill(store, 200, { batch: 20 });
    // Ten commits, one after the other: one native batch served them all (reused-batches.ts), so no op
    // object per entry and no chained batch was left for V8 to collect.
    expect(reusedBatches(store.entryDb)).toMatchObject({ created: 1, writes: 10 });
    expect((await checkLog(store, 'l')).problems).toEqual([]);
    for (const i of [0, 19, 20, 199]) expect(Buffer.from((await store.getBody('l', i))!).equals(Buffer.from(bodies[i]!))).toBe(true);
    await store.close();
  });

  it('writes the entries database in 16 KB blocks, so Snappy shares what neighbouring entries repeat', async () => {
    // 400 ~2 KB values that share a 1.5 KB certificate-like part, as an identity's entries do: a 4 KB
    // block holds two of them, a 16 KB block eight.
    const shared = randomBytes(1536);
    const compactedBytes = async (options: object) => {
      const path = tmp();
      const db = new Level<Uint8Array, Uint8Array>(path, options);
      await db.open();
      const batch = db.batch();
      for (let i = 0; i < 400; i++) batch.put(entryKey(0, i), Buffer.concat([shared, randomBytes(512)]));
      await batch.write();
      await compactAll(db);
      await db.close();
      return tableBytes(path);
    };
    const small = await compactedBytes({ ...LEVEL_OPTIONS, blockSize: 4096 });
    const store = await compactedBytes(ENTRIES_DB_OPTIONS);
    // 4 KB: ~1.3 KB per value (one of the pair's shared parts compressed away); 16 KB: ~0.7 KB.
    expect(store).toBeLessThan(small * 0.7);
  });

  it('refuses a store of another schema version and says what to do', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await store.db.put(new Uint8Array([0, ...Buffer.from('schema')]), new Uint8Array([0, 99]));
    await store.close();
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'STORE_SCHEMA_VERSION')).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`schema version 99, this tlogwatch uses ${SCHEMA_VERSION} and ${SCHEMA_EARLIER_TREES}.*move the directory away`));
  });

  it('reads a schema 4 store (one holding Rekor v1 trees before its start) as it is, and writes new stores as 3', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 20, { batch: 10 });
    const schema = new Uint8Array([0, ...Buffer.from('schema')]);
    expect([...(await store.db.get(schema))]).toEqual([0, SCHEMA_VERSION]);
    await store.writeOps(earlierTreesOps());
    await store.close();
    const again = await Store.open(dir, { createIfMissing: false, upgrade: false });
    expect([...(await again.db.get(schema))]).toEqual([0, SCHEMA_EARLIER_TREES]);
    expect((await checkLog(again, 'l')).problems).toEqual([]);
    await again.close();
    // Its entries database lost: refused as under schema 3.
    rmSync(join(dir, ENTRIES_DIR), { recursive: true });
    expect(await Store.open(dir).catch((e: unknown) => e)).toMatchObject({ code: 'STORE_CORRUPT', message: expect.stringContaining('has lost its entries database') as unknown });
  });

  it('never creates an empty database over one that lost its CURRENT file: the store is refused and its files kept', async () => {
    for (const part of ['', ENTRIES_DIR]) {
      const dir = tmp();
      const store = await Store.open(dir);
      await fill(store, 30, { batch: 10 });
      await compactAll(part === '' ? store.db : store.entryDb);
      await store.close();
      rmSync(join(dir, part, 'CURRENT'));
      const files = readdirSync(join(dir, part)).sort();
      const err = await Store.open(dir).catch((e: unknown) => e);
      expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
      expect((err as Error).message).toMatch(/is damaged: .* holds LevelDB tables or logs but no CURRENT file; .*Restore a backup/);
      expect(readdirSync(join(dir, part)).sort()).toEqual(files);
    }
  });

  it('refuses a database LevelDB cannot read, saying what to do, not suggesting another process', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 30, { batch: 10 });
    await store.close();
    const manifest = readdirSync(dir).find((f) => f.startsWith('MANIFEST-'))!;
    writeFileSync(join(dir, manifest), Buffer.alloc(200, 0x5a)); // a manifest of garbage: not a record LevelDB can read
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/^cannot open the store at \S+: LevelDB cannot read \S+: .*Restore a backup .*, or move \S+ away and let tlogwatch mirror again$/);
    expect((err as Error).message).not.toMatch(/another/);
  });

  it('refuses a store whose log state is damaged, saying whose it is and what to do', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 30, { batch: 10 });
    const stateKey = key(Bucket.LOG_STATE, u16(await store.logId('l')));
    const v = Buffer.from(await store.db.get(stateKey));
    v[1]! ^= 0x40; // the first property name's quote
    await store.writeOps([{ type: 'put', key: stateKey, value: v }]);
    await store.close();
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/^the state of log l in the store at \S+ is damaged \(unreadable stored record: .*\): restore a backup, or move the store away/);
  });

  it('a lost log name or log state costs no entry value: the store is refused, or check says the state was lost', async () => {
    for (const lost of ['name', 'state'] as const) {
      const dir = tmp();
      const store = await Store.open(dir);
      await fill(store, 30, { batch: 10 });
      const id = await store.logId('l');
      await store.writeOps([{ type: 'del', key: lost === 'name' ? key(Bucket.META, 'log:', 'l') : key(Bucket.LOG_STATE, u16(id)) }]);
      await store.close();
      if (lost === 'name') {
        const err = await Store.open(dir).catch((e: unknown) => e);
        expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
        expect((err as Error).message).toMatch(/holds the state of log id 1, which no log name maps to/);
      } else {
        const reopened = await Store.open(dir);
        expect((await checkLog(reopened, 'l')).problems).toEqual([expect.stringMatching(/^the store holds no state of this log, yet its entry values, tree hashes or verified checkpoints: its state was lost/)]);
        await reopened.close();
      }
      const values = new Level<Uint8Array, Uint8Array>(join(dir, ENTRIES_DIR), ENTRIES_DB_OPTIONS);
      expect(await values.keys().all()).toHaveLength(30);
      await values.close();
    }
  });

  it('refuses a store whose entries database is gone rather than holding its entries in an empty one', async () => {
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 30, { batch: 10 });
    await store.close();
    rmSync(join(dir, ENTRIES_DIR), { recursive: true });
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/has lost its entries database .*restore a backup/);
    expect(readdirSync(dir)).not.toContain(ENTRIES_DIR);
  });

  it('upgrades a schema 2 store (entry values in the main database) in place, and again after a cut-short upgrade', async () => {
    // A schema 2 store, made from a schema 3 one: the values back in the main database, no entries/.
    const dir = tmp();
    const store = await Store.open(dir);
    await fill(store, 40, { batch: 7 });
    const values = await store.entryDb.iterator().all();
    await store.close();
    rmSync(join(dir, ENTRIES_DIR), { recursive: true });
    const old = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await old.batch([...values.map(([key, value]) => ({ type: 'put' as const, key, value })), { type: 'put', key: new Uint8Array([0, ...Buffer.from('schema')]), value: new Uint8Array([0, 2]) }]);
    await old.close();
    // An earlier upgrade cut short before it wrote the new schema: part of the values already copied.
    const partial = new Level<Uint8Array, Uint8Array>(join(dir, ENTRIES_DIR), { keyEncoding: 'view', valueEncoding: 'view' });
    await partial.batch(values.slice(0, 10).map(([key, value]) => ({ type: 'put' as const, key, value })));
    await partial.close();

    const upgrades: Array<Record<string, unknown>> = [];
    const upgraded = await Store.open(dir, { onUpgrade: (_, data) => upgrades.push(data) });
    expect(upgrades).toEqual([expect.objectContaining({ entries: 40 })]);
    expect((await checkLog(upgraded, 'l')).problems).toEqual([]);
    expect(await upgraded.entryDb.keys().all()).toHaveLength(40);
    expect(await upgraded.db.keys({ gte: new Uint8Array([Bucket.ENTRY]), lt: new Uint8Array([Bucket.ENTRY + 1]) }).all()).toEqual([]);
    expect(readU16(await upgraded.db.get(new Uint8Array([0, ...Buffer.from('schema')])), 0)).toBe(3);
    // Cut short after the schema was written: values left in the main database are dropped at the next open.
    await upgraded.db.batch(values.slice(0, 5).map(([key, value]) => ({ type: 'put' as const, key, value })));
    await upgraded.close();
    const again = await Store.open(dir, { onUpgrade: (_, data) => upgrades.push(data) });
    expect(upgrades).toHaveLength(1);
    expect(await again.db.keys({ gte: new Uint8Array([Bucket.ENTRY]), lt: new Uint8Array([Bucket.ENTRY + 1]) }).all()).toEqual([]);
    expect((await checkLog(again, 'l')).problems).toEqual([]);
    await again.close();
  });
});

describe('prefix search over multi-signer entries', () => {
  it('returns an entry once even when several of its signers match the prefix', async () => {
    const { createCA, createLeaf } = await import('../../sim/certs.ts');
    const { decodeRekorV1Body } = await import('../../../src/entries/decode.ts');
    const ca = createCA('sigstore-intermediate', 1_700_000_000, 1_900_000_000);
    const pem = (der: Uint8Array) => Buffer.from(`-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`).toString('base64');
    const a = createLeaf(ca, { san: 'https://github.com/acme/a/.github/workflows/release.yml@refs/tags/v1', issuer: 'https://token.actions.githubusercontent.com' }, 1_790_000_000);
    const b = createLeaf(ca, { san: 'https://github.com/acme/b/.github/workflows/release.yml@refs/tags/v1', issuer: 'https://token.actions.githubusercontent.com' }, 1_790_000_000);
    const h = 'ab'.repeat(32);
    const body = new Uint8Array(
      Buffer.from(
        `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"${h}"},"payloadHash":{"algorithm":"sha256","value":"${'cd'.repeat(32)}"},"signatures":[{"signature":"AA==","verifier":"${pem(a.der)}"},{"signature":"AA==","verifier":"${pem(b.der)}"}]}}`,
      ),
    );
    const entry = { ...decodeRekorV1Body(body, { log: 'l', index: 0, integratedTime: 1_790_000_100 }) };
    expect(entry.signers?.map((s) => s.san)).toHaveLength(2);
    const store = await Store.open(tmp());
    const range = CompactRange.empty();
    range.append(leafHash(body));
    await store.commitBatch({ entries: [{ record: { entry }, body }], nodes: [], state: stateOf(range) });
    const page = await store.search('SAN', Buffer.from('https://github.com/acme/'), { prefix: true, limit: 10 });
    expect(page.refs.map((r) => r.index)).toEqual([0]);
    const small = await store.search('SAN', Buffer.from('https://github.com/acme/'), { prefix: true, limit: 1 });
    expect(small.refs.map((r) => r.index)).toEqual([0]);
    expect(small.next).toBeNull();
    await store.close();
  });
});
