import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { proveInclusionAsync, treeRootAsync } from '../../../src/merkle/prove.ts';
import { leafHash, rootFromLeafHashes } from '../../../src/merkle/rfc6962.ts';
import type { LogState } from '../../../src/store/codec.ts';
import { Store } from '../../../src/store/store.ts';
import { verifyInclusion } from '../../../src/merkle/proof.ts';
import { isTlogwatchError } from '../../../src/errors.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tlogwatch-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function entryAt(i: number, body: Uint8Array): Entry {
  return {
    log: 'l',
    index: i,
    leafHash: hex(leafHash(body)),
    uuid: hex(leafHash(body)),
    integratedTime: 1_700_000_000 + i,
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    digests: [`sha256:${(i % 3).toString(16).padStart(64, '0')}`],
    signer: {
      type: 'x509',
      fingerprint: `sha256:${'f'.repeat(64)}`,
      san: i % 2 ? `https://github.com/acme/repo${i % 4}/.github/workflows/release.yml@refs/tags/v1` : `Dev${i}@Acme.com`,
      issuer: 'https://token.actions.githubusercontent.com',
      fulcio: { sourceRepositoryURI: `https://github.com/acme/repo${i % 4}` },
    },
  };
}

async function fill(store: Store, n: number, batch = 10) {
  const range = CompactRange.empty();
  const bodies: Uint8Array[] = [];
  for (let start = 0; start < n; start += batch) {
    const entries = [];
    const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const body = new Uint8Array(Buffer.from(`{"entry":${i}}`));
      bodies.push(body);
      range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
      entries.push({ record: { entry: entryAt(i, body) }, body });
    }
    const state: LogState = { name: 'l', type: 'tiles', url: 'http://x', origin: 'o', status: 'following', frontier: range.serialize(), startIndex: 0n };
    await store.commitBatch({ entries, nodes, state, checkpoint: { size: range.size, rootHash: range.root(), note: 'n', at: 1 } });
  }
  return { range, bodies };
}

describe('Store', () => {
  it('commits, reads back and finds entries by uuid', async () => {
    const store = await Store.open(tmp());
    const { bodies, range } = await fill(store, 25);
    const got = await store.getEntry('l', 7);
    expect(Buffer.from(got!.body).toString()).toBe('{"entry":7}');
    expect(got!.record.entry.index).toBe(7);
    expect(await store.getByUuid(hex(leafHash(bodies[7]!)))).toEqual([{ log: 'l', index: 7 }]);
    const state = await store.getLogState('l');
    expect(CompactRange.deserialize(state!.frontier).size).toBe(25n);
    expect(hex(CompactRange.deserialize(state!.frontier).root())).toBe(hex(range.root()));
    const cps = await store.listCheckpoints('l', { limit: 2 });
    expect(cps.checkpoints.map((c) => c.size)).toEqual([25n, 20n]);
    const page2 = await store.listCheckpoints('l', { limit: 10, cursor: cps.next! });
    expect(page2.checkpoints.map((c) => c.size)).toEqual([10n]);
    expect(page2.next).toBeNull();
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
    const repo = await store.search('REPOSITORY', Buffer.from('https://github.com/acme/repo3'), { limit: 3 });
    expect(repo.refs.map((r) => r.index)).toEqual([39, 35, 31]);
    await expect(store.search('DIGEST', d0, { limit: 5, cursor: p1.next!.slice(0, 4) })).rejects.toThrow(/cursor/);
    await store.close();
  });

  it('serves proofs from stored tile rows that verify against the root', async () => {
    const store = await Store.open(tmp());
    const n = 700;
    const { range, bodies } = await fill(store, n, 97);
    const read = store.hashReader('l');
    expect(hex(await treeRootAsync(BigInt(n), read))).toBe(hex(rootFromLeafHashes(bodies.map(leafHash))));
    for (const i of [0, 255, 256, 511, 699]) {
      const proof = await proveInclusionAsync(BigInt(i), BigInt(n), read);
      verifyInclusion(BigInt(i), BigInt(n), leafHash(bodies[i]!), proof, range.root());
    }
    await store.close();
  });

  it('indexes only digests of unwatched entries in watched mode', async () => {
    const store = await Store.open(tmp(), { indexMode: 'watched' });
    const body = new Uint8Array([1]);
    const e = entryAt(3, body);
    const state: LogState = { name: 'l', type: 'tiles', url: 'u', origin: 'o', status: 'following', frontier: CompactRange.empty().serialize(), startIndex: 0n };
    await store.commitBatch({ entries: [{ record: { entry: e }, body }], nodes: [], state, isWatched: () => false });
    expect((await store.search('SAN', Buffer.from(e.signer!.san!), { limit: 5 })).refs).toEqual([]);
    const dig = Buffer.concat([Buffer.from([1]), Buffer.from(e.digests[0]!.slice(7), 'hex')]);
    expect((await store.search('DIGEST', dig, { limit: 5 })).refs.map((r) => r.index)).toEqual([3]);
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
