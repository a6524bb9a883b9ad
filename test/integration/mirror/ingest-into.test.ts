/**
 * ingestInto (a batch decoded a chunk at a time, each entry's writes packed as soon as it is decoded) against
 * the plain path it replaces in the follower: one ingestBatch over the whole batch, then commitBatch. Both
 * stores must end up byte for byte the same, and a bad leaf in a later chunk must fail the same way.
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { afterIngestCommitted, INGEST_CHUNK, ingestBatch, ingestInto, storedEntries, type IngestedEntry } from '../../../src/mirror/ingest.ts';
import { createMetrics } from '../../../src/metrics.ts';
import type { EntriesOutcome } from '../../../src/mirror/types.ts';
import type { FetchedLeaf, LeafRun } from '../../../src/sources/types.ts';
import { Bucket } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import type { BatchOp } from '../../../src/store/level.ts';
import type { IndexMode } from '../../../src/store/index-values.ts';
import { bodyAt, stateOf, tempDirs } from '../store/fixtures.ts';

const tmp = tempDirs('tlogwatch-ingest-into-');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const NOW = 1_790_000_000;

/** Leaves [from, from + n) of a Rekor v1 log of simulator bodies, with their leaf hashes as the "tile". */
function batchOf(from: number, n: number): LeafRun {
  const leaves: FetchedLeaf[] = [];
  for (let i = from; i < from + n; i++) leaves.push({ treeIndex: BigInt(i), logIndex: BigInt(i), body: bodyAt(i), integratedTime: 1_700_000_000 + i });
  return { leaves, tileHashes: leaves.map((l) => leafHash(l.body)) };
}

async function dump(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const db of [store.db, store.entryDb]) for await (const [k, v] of db.iterator()) out.push(`${hex(k)}=${hex(v)}`);
  return out;
}

/** A stand-in for the monitor: one op per entry whose SAN mentions "acme", and a record of what was committed. */
function monitor(log: string[]) {
  return (_log: string, entries: readonly IngestedEntry[]): EntriesOutcome => {
    const hits = entries.filter((e) => (e.entry.signer?.san ?? '').includes('acme'));
    const ops: BatchOp[] = hits.map((e) => ({ type: 'put', key: Buffer.from(`finding/${e.entry.index}`), value: Buffer.from(e.entry.uuid) }));
    return { ops, committed: () => log.push(...hits.map((e) => String(e.entry.index))) };
  };
}
const watched = (e: Entry) => (e.signer?.san ?? '').includes('acme') || e.index % 7 === 0;

describe('ingestInto', () => {
  for (const [mode, tree] of [['all', undefined], ['watched', 2]] as Array<[IndexMode, number | undefined]>) {
    it(`writes exactly what ingestBatch + commitBatch write (index ${mode}, tree ${tree ?? 'current'}, batches that do not end on a chunk)`, async () => {
      const plain = await Store.open(tmp(), { indexMode: mode });
      const chunked = await Store.open(tmp(), { indexMode: mode });
      let a = CompactRange.empty();
      let b = CompactRange.empty();
      const committedPlain: string[] = [];
      const committedChunked: string[] = [];
      for (const [from, n] of [[0, 3 * INGEST_CHUNK + 37], [3 * INGEST_CHUNK + 37, 5], [3 * INGEST_CHUNK + 42, 0], [3 * INGEST_CHUNK + 42, 600]] as const) {
        const batch = batchOf(from, n);
        const r = ingestBatch('l', 'rekor-v1', a, batch, NOW);
        const outcome = monitor(committedPlain)('l', r.entries);
        a = r.frontier;
        const cp = { size: a.size, rootHash: a.root(), note: `n ${a.size}`, at: 1 };
        await plain.commitBatch({ entries: storedEntries(r.entries), nodes: r.nodes, state: stateOf(a), checkpoint: cp, extraOps: outcome.ops, isWatched: watched, ...(tree !== undefined ? { tree } : {}) });
        outcome.committed?.();

        const builder = await chunked.builder(stateOf(b), { isWatched: watched, ...(tree !== undefined ? { tree } : {}) });
        const got = ingestInto('l', 'rekor-v1', b, batch, NOW, builder, { onEntries: monitor(committedChunked) });
        b = got.frontier;
        expect(hex(b.root())).toBe(hex(a.root()));
        expect([...got.kinds.values()].reduce((s, k) => s + k, 0)).toBe(n);
        expect(got.outcomes).toHaveLength(Math.ceil(n / INGEST_CHUNK));
        await chunked.commitPrepared(builder, { nodes: [], state: stateOf(b), checkpoint: cp, extraOps: got.outcomes.flatMap((o) => o.ops) });
        for (const o of got.outcomes) o.committed?.();
      }
      expect(committedChunked).toEqual(committedPlain);
      expect(committedPlain.length).toBeGreaterThan(0);
      const stored = await dump(plain);
      // Among what both wrote: a level-0 node of the tree for every leaf (keys.ts nodeKey: bucket, log, tree, level, index).
      const leafNodes = stored.filter((kv) => kv.startsWith(hex(Uint8Array.of(Bucket.NODE))) && kv.slice(6, 12) === hex(Uint8Array.of(0, tree ?? 0, 0)));
      expect(leafNodes).toHaveLength(3 * INGEST_CHUNK + 42 + 600);
      expect(await dump(chunked)).toEqual(stored);
      await Promise.all([plain.close(), chunked.close()]);
    });
  }

  it('fails a bad leaf in a later chunk exactly as ingestBatch does, having run the monitor on no entry past it', () => {
    const batch = batchOf(0, 2 * INGEST_CHUNK + 10);
    const at = INGEST_CHUNK + 17;
    batch.tileHashes![at] = leafHash(Uint8Array.of(1));
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    const seen: number[] = [];
    const builder = { addEntry: () => undefined, addNode: () => undefined } as unknown as Parameters<typeof ingestInto>[5];
    const want = error(() => ingestBatch('l', 'rekor-v1', CompactRange.empty(), batch, NOW));
    expect(want).toMatch(/^VERIFY_TILE_MISMATCH: entry 273 /);
    expect(error(() => ingestInto('l', 'rekor-v1', CompactRange.empty(), batch, NOW, builder, { onEntries: (_log, es) => (seen.push(...es.map((e) => e.entry.index)), { ops: [] }) }))).toBe(want);
    expect(Math.max(...seen)).toBeLessThan(at);
    // A gap in the leaves (a log that skipped one) is caught across a chunk boundary too.
    const gap = batchOf(0, 2 * INGEST_CHUNK);
    gap.leaves.splice(INGEST_CHUNK, 1);
    gap.tileHashes!.splice(INGEST_CHUNK, 1);
    expect(error(() => ingestInto('l', 'rekor-v1', CompactRange.empty(), gap, NOW, builder))).toBe(error(() => ingestBatch('l', 'rekor-v1', CompactRange.empty(), gap, NOW)));
  });

  it('counts entries, and those it did not fully decode, by a bounded kind label, whatever kinds a log writes in its bodies', async () => {
    // A misbehaving log's bodies, each of its own kind: as labels they would be a series per entry.
    const hostile = (i: number) => new Uint8Array(Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: `k${i}`, spec: {} })));
    const leaves: FetchedLeaf[] = [];
    for (let i = 0; i < 600; i++) leaves.push({ treeIndex: BigInt(i), logIndex: BigInt(i), body: i % 3 === 0 ? bodyAt(i) : i % 3 === 1 ? hostile(i) : Uint8Array.of(0x7b), integratedTime: 1_700_000_000 + i });
    const batch: LeafRun = { leaves, tileHashes: leaves.map((l) => leafHash(l.body)) };
    const store = await Store.open(tmp());
    const builder = await store.builder(stateOf(CompactRange.empty()));
    const got = ingestInto('l', 'rekor-v1', CompactRange.empty(), batch, NOW, builder);
    const metrics = createMetrics({ defaultMetrics: false });
    afterIngestCommitted('l', got, performance.now(), metrics);
    const series = new Map((await metrics.entriesIngested.get()).values.map((v) => [String(v.labels['kind']), v.value]));
    // The simulator's bodies are of kinds tlogwatch decodes (Rekor's dozen), the unparseable ones have none.
    const decoded = [...series.keys()].filter((k) => k !== 'other' && k !== 'unknown');
    expect(decoded.length).toBeGreaterThan(0);
    for (const k of decoded) expect(['hashedrekord', 'rekord', 'dsse', 'intoto', 'helm', 'jar', 'rpm', 'alpine', 'cose', 'rfc3161', 'tuf']).toContain(k);
    expect([series.get('other'), series.get('unknown')]).toEqual([200, 200]);
    expect([...series.values()].reduce((a, b) => a + b)).toBe(600);
    // Both hostile kinds have a problem (no decoder; no JSON), the simulator's bodies none.
    const undecoded = new Map((await metrics.entriesUndecoded.get()).values.map((v) => [String(v.labels['kind']), v.value]));
    expect(Object.fromEntries(undecoded)).toEqual({ other: 200, unknown: 200 });
    await store.close();
  });
});

