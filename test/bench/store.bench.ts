/**
 * Store write throughput and size (src/store): commitBatch with realistic Entry records (simulated
 * Fulcio-signed Rekor v1 bodies decoded by src/entries) in index modes `all` and `watched`, against a raw
 * `level` baseline in the same run (1 entry + 6 random index keys per entry, no encoding, no decoding).
 * Bytes per entry are measured on disk after a full compaction. Also sizes the entry-value codec against
 * the plain JSON record it replaced.
 *
 *   npx node test/bench/store.bench.ts          (BENCH_STORE_ENTRIES=50000 by default)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { ClaimsCache } from '../../src/entries/certificate.ts';
import { decodeRekorV1Body } from '../../src/entries/decode.ts';
import type { Entry } from '../../src/entries/types.ts';
import { CompactRange } from '../../src/merkle/compact.ts';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import type { LogState } from '../../src/store/codec.ts';
import { decodeEntryValue, encodeEntryValue } from '../../src/store/entry-value.ts';
import { Bucket, entryKey, MARKER } from '../../src/store/keys.ts';
import { Store } from '../../src/store/store.ts';
import { ENTRIES_DB_OPTIONS, writeBatch } from '../../src/store/level.ts';
import type { IndexMode } from '../../src/store/index-values.ts';
import { createCA } from '../sim/certs.ts';
import { EntryGenerator } from '../sim/generate.ts';
import { BASE_TIME } from '../sim/log.ts';

const N = Number(process.env['BENCH_STORE_ENTRIES'] ?? 50_000);
const BATCH = 1024;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Item {
  entry: Entry;
  body: Uint8Array;
}

function generate(n: number): Item[] {
  const ca = createCA('bench-ca', BASE_TIME - 86400, BASE_TIME + 400 * 86400);
  const gen = new EntryGenerator('store-bench', 'v1', ca);
  const certificates = new ClaimsCache();
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    // An entry every 30 s: each ten-minute certificate slot has its own signers, as on the public log.
    const t = BASE_TIME + i * 30;
    const body = Buffer.from(gen.generate(i, t).body, 'utf8');
    items.push({ entry: decodeRekorV1Body(body, { log: 'rekor', index: i, integratedTime: t }, { certificates }), body });
  }
  return items;
}

/** Bytes of the files under `dir`, subdirectories included (the store keeps its entries in `entries/`). */
function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).reduce((sum, f) => {
    const st = statSync(join(dir, f));
    return st.isFile() ? sum + st.size : sum;
  }, 0);
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-store-bench-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Result {
  rate: number;
  bytesPerEntry: number;
  keysPerEntry: number;
  /** Store.open on the uncompacted store right after the writes (LevelDB replays its log). */
  reopenMs?: number;
}

async function compactedBytes(db: Level<Uint8Array, Uint8Array>, dir: string): Promise<number> {
  // classic-level has compactRange; abstract-level's types do not declare it.
  await (db as unknown as { compactRange(a: Uint8Array, b: Uint8Array): Promise<void> }).compactRange(new Uint8Array([0]), new Uint8Array([0xff]));
  await db.close();
  return dirBytes(dir);
}

/**
 * Raw LevelDB: the entry's body under its key and 6 random 40-byte index keys, in batches of BATCH, as an
 * array (`db.batch(ops)`) or through a chained batch (level.ts `writeBatch`, what the store does). Also
 * times the synchronous part of each write call: the main thread's share, where classic-level converts
 * the ops.
 */
function baseline(items: Item[], form: 'array' | 'chained'): Promise<Result & { mainUsPerOp: number }> {
  return withDir(async (dir) => {
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const random = randomBytes(items.length * 6 * 40);
    let sync = 0;
    let count = 0;
    const start = performance.now();
    for (let lo = 0; lo < items.length; lo += BATCH) {
      const ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }> = [];
      for (let i = lo; i < Math.min(items.length, lo + BATCH); i++) {
        ops.push({ type: 'put', key: entryKey(1, i), value: items[i]!.body });
        for (let k = 0; k < 6; k++) {
          const key = Buffer.allocUnsafe(41);
          key[0] = Bucket.INDEX;
          random.copy(key, 1, (i * 6 + k) * 40, (i * 6 + k + 1) * 40);
          ops.push({ type: 'put', key, value: MARKER });
        }
      }
      const t = performance.now();
      const written = form === 'array' ? db.batch(ops) : writeBatch(db, ops);
      sync += performance.now() - t;
      await written;
      count += ops.length;
    }
    const rate = items.length / ((performance.now() - start) / 1000);
    return { rate, bytesPerEntry: (await compactedBytes(db, dir)) / items.length, keysPerEntry: 6, mainUsPerOp: (sync * 1000) / count };
  });
}

/** commitBatch as the mirror calls it: entries, tile-row nodes, frontier, state and a checkpoint per batch. */
function commits(items: Item[], indexMode: IndexMode, isWatched?: (e: Entry) => boolean): Promise<Result> {
  return withDir(async (dir) => {
    const store = await Store.open(dir, { indexMode });
    const range = CompactRange.empty();
    const start = performance.now();
    for (let lo = 0; lo < items.length; lo += BATCH) {
      const batch = items.slice(lo, lo + BATCH);
      const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
      for (const it of batch) range.append(leafHash(it.body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
      const state: LogState = { name: 'rekor', type: 'rekor-v1', url: 'http://127.0.0.1:1', origin: 'rekor', status: 'following', frontier: range.serialize(), startIndex: 0n };
      await store.commitBatch({
        entries: batch.map((it) => ({ record: { entry: it.entry }, body: it.body })),
        nodes,
        state,
        checkpoint: { size: range.size, rootHash: range.root(), note: 'rekor\n1\nAAAA\n\n— rekor sig\n', at: 1 },
        ...(isWatched ? { isWatched } : {}),
      });
    }
    const rate = items.length / ((performance.now() - start) / 1000);
    await store.close();
    const t = performance.now();
    const reopened = await Store.open(dir, { indexMode });
    const reopenMs = performance.now() - t;
    let indexKeys = 0;
    for await (const _ of reopened.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) })) indexKeys++;
    return { rate, bytesPerEntry: (await compactedBytes(reopened.db, dir)) / items.length, keysPerEntry: indexKeys / items.length, reopenMs };
  });
}

/** On-disk bytes per entry of entry values alone (no indexes) in a given encoding. */
function valueBytes(items: Item[], encode: (it: Item) => Uint8Array): Promise<{ raw: number; disk: number }> {
  return withDir(async (dir) => {
    // The entries database's options (16 KB blocks, Snappy), as the store writes its values.
    const db = new Level<Uint8Array, Uint8Array>(dir, ENTRIES_DB_OPTIONS);
    await db.open();
    let raw = 0;
    for (let lo = 0; lo < items.length; lo += BATCH) {
      const ops = items.slice(lo, lo + BATCH).map((it, k) => {
        const value = encode(it);
        raw += value.length;
        return { type: 'put' as const, key: entryKey(1, lo + k), value };
      });
      await db.batch(ops);
    }
    return { raw: raw / items.length, disk: (await compactedBytes(db, dir)) / items.length };
  });
}

/** The record format before this codec: u32 length | JSON of the whole record | body. */
function plainJson(it: Item): Uint8Array {
  const json = Buffer.from(JSON.stringify({ entry: it.entry }), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + it.body.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(it.body, 4 + json.length);
  return out;
}

const t0 = performance.now();
const items = generate(N);
process.stderr.write(`store bench: generated ${N} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
const watched = (e: Entry) => (e.signer?.san ?? '').includes('github.com/acme/');
const share = items.filter((it) => watched(it.entry)).length / N;
const base = await baseline(items, 'array');
const chained = await baseline(items, 'chained');
const all = await commits(items, 'all');
const wat = await commits(items, 'watched', watched);
const plain = await valueBytes(items, plainJson);
const facts = await valueBytes(items, (it) => encodeEntryValue({ entry: it.entry }, it.body, 'rekor-v1'));
const sample = items.slice(0, 5000);
const encoded = sample.map((it) => encodeEntryValue({ entry: it.entry }, it.body, 'rekor-v1'));
let t1 = performance.now();
encoded.forEach((v, i) => decodeEntryValue(v, 'rekor', i));
const decodeUs = ((performance.now() - t1) / sample.length) * 1000;
const plainValues = sample.map(plainJson);
t1 = performance.now();
for (const v of plainValues) JSON.parse(Buffer.from(v.buffer, v.byteOffset + 4, Buffer.from(v).readUInt32BE(0)).toString('utf8'));
const parseUs = ((performance.now() - t1) / sample.length) * 1000;
const body = items.reduce((s, it) => s + it.body.length, 0) / N;

const c = cpus();
console.log(`## Store

${N.toLocaleString('en-US')} simulated Rekor v1 entries (hashedrekord, dsse, intoto; Fulcio certificates with GitHub
claims, decoded by src/entries), batches of ${BATCH}, LevelDB via \`level\` on local disk, sizes after a full
compaction. Machine: ${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()},
Node ${process.version}, load ${loadavg()[0]!.toFixed(2)}; ${new Date().toISOString().slice(0, 10)}.

| run | entries/s | bytes/entry on disk | index keys/entry |
| --- | ---: | ---: | ---: |
| baseline: raw \`level\` batch, body + 6 random 40-byte keys, ops as an array (\`db.batch(ops)\`) | ${fmt(base.rate)} | ${fmt(base.bytesPerEntry)} | ${base.keysPerEntry} |
| the same through a chained batch (level.ts \`writeBatch\`, as the store writes) | ${fmt(chained.rate)} | ${fmt(chained.bytesPerEntry)} | ${chained.keysPerEntry} |
| commitBatch, index \`all\` | ${fmt(all.rate)} | ${fmt(all.bytesPerEntry)} | ${all.keysPerEntry.toFixed(1)} |
| commitBatch, index \`watched\` (${(share * 100).toFixed(1)}% watched) | ${fmt(wat.rate)} | ${fmt(wat.bytesPerEntry)} | ${wat.keysPerEntry.toFixed(1)} |

Main thread per op, the synchronous part of the write call (classic-level converting the ops through
N-API): ${base.mainUsPerOp.toFixed(2)} µs as an array, ${chained.mainUsPerOp.toFixed(2)} µs through a chained batch.

Entry values alone (average body ${fmt(body)} bytes):

| value encoding | bytes/entry written | bytes/entry on disk |
| --- | ---: | ---: |
| plain JSON record + body | ${fmt(plain.raw)} | ${fmt(plain.disk)} |
| store codec: body + facts not in the body (record decoded again on read) | ${fmt(facts.raw)} | ${fmt(facts.disk)} |

Reading an entry back: ${decodeUs.toFixed(0)} µs with the store codec (decoding the body and its certificate), ${parseUs.toFixed(0)} µs
with the plain JSON record (JSON.parse). Reopening the store right after the writes (no compaction):
${all.reopenMs!.toFixed(0)} ms for ${fmt(N)} entries in index mode \`all\`.

Notes: the baseline's index keys are random, so they land all over the key space and cost LevelDB more
compaction than the store's, which share prefixes (field, value) and sort by time; that is why
\`watched\` can beat it. Index keys are small on disk after LevelDB's prefix compression: full indexes
add ~${fmt(all.bytesPerEntry - wat.bytesPerEntry)} bytes per entry over \`watched\`. The body dominates; the store codec keeps it
and re-derives the Entry record on read instead of storing the ~1.5 KB of decoded certificate claims.
The crash test (test/integration/store/crash.test.ts) reopens a store of 100k+ entries after repeated
SIGKILLs in well under a second (it prints the time).
`);
