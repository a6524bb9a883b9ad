/**
 * What the rolled-back findings cost (src/store/rolled-back-findings.ts, rollback.ts markFindings), on a real
 * LevelDB store:
 *
 * - `rolledBackIn`, which the catch-up awaits once per batch before the rules run (catch-up.ts), when nothing
 *   is filed (the usual case), in a main database holding BENCH_ROLLED_BACK_KEYS other keys; against the
 *   main thread's share of a batch of the same size (BENCHMARKS.md "Ingest (catch-up)": CPU µs per entry of
 *   the mirror's main thread), which it delays.
 * - `markFindings` during a rollback of BENCH_ROLLED_BACK_ENTRIES entries (chunks of ROLLBACK_CHUNK): the
 *   whole rollBackTree with findings marked, against the same rollback without (`mark` absent), with F findings
 *   in the time index raised while those entries were observed (half on the rolled-back log, half on another),
 *   and the finding records it read: the work, which the machine's load does not change.
 *
 *   node test/bench/rolled-back.bench.ts
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClaimsCache } from '../../src/entries/certificate.ts';
import { decodeRekorV1Body } from '../../src/entries/decode.ts';
import { CompactRange } from '../../src/merkle/compact.ts';
import { leafHash } from '../../src/merkle/rfc6962.ts';
import { findingId, type Finding } from '../../src/monitor/finding.ts';
import type { LogState } from '../../src/store/codec.ts';
import { findingOps } from '../../src/store/findings.ts';
import { Bucket, key, MARKER } from '../../src/store/keys.ts';
import { ROLLBACK_CHUNK, rollBackTree } from '../../src/store/rollback.ts';
import { rolledBackIn } from '../../src/store/rolled-back-findings.ts';
import { Store } from '../../src/store/store.ts';
import { createCA } from '../sim/certs.ts';
import { EntryGenerator } from '../sim/generate.ts';
import { BASE_TIME } from '../sim/log.ts';
import { fmt, machine } from './machine.ts';

const OTHER_KEYS = Number(process.env['BENCH_ROLLED_BACK_KEYS'] ?? 1_000_000);
const ENTRIES = Number(process.env['BENCH_ROLLED_BACK_ENTRIES'] ?? 65_536);
const BATCH = 1024;
const CALLS = 20_000;
/** BENCHMARKS.md "Ingest (catch-up)", `index: all`, Node defaults: CPU µs per entry of the mirror's main thread. */
const MAIN_US_PER_ENTRY = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tlogwatch-rolled-back-bench-'));
}

/** Median µs of one rolledBackIn call over a batch's range, nothing filed, the store holding `others` keys. */
async function perBatchRead(others: number): Promise<number> {
  const dir = tmp();
  try {
    const store = await Store.open(dir);
    await store.logId('log');
    // Keys of other buckets around META's, in batches: index keys below it, findings above.
    for (let lo = 0; lo < others; lo += 10_000) {
      const ops = [];
      for (let i = lo; i < Math.min(others, lo + 10_000); i++) {
        const k = Buffer.alloc(24);
        k[0] = i % 2 ? Bucket.INDEX : Bucket.FINDING_BY_TIME;
        k.writeUInt32BE(i * 2654435761 >>> 0, 1);
        ops.push({ type: 'put' as const, key: k, value: MARKER });
      }
      await store.db.batch(ops);
    }
    // Other logs' keys of the same prefix, and other META records, on both sides of this log's.
    await store.db.put(key(Bucket.META, 'resumed:', 'log'), MARKER);
    await store.db.put(key(Bucket.META, 'history-trim:', 'log'), MARKER);
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const start = performance.now();
      for (let i = 0; i < CALLS; i++) {
        const from = BigInt(i * BATCH);
        await rolledBackIn(store, 'log', from, from + BigInt(BATCH));
      }
      runs.push(((performance.now() - start) * 1000) / CALLS);
    }
    await store.close();
    return median(runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A closed store holding ENTRIES committed entries of `log` (observed one second per batch from BASE_TIME), none verified. */
async function committedStore(): Promise<{ dir: string; state: LogState; uuids: string[] }> {
  const dir = tmp();
  const store = await Store.open(dir);
  const ca = createCA('bench-ca', BASE_TIME - 86400, BASE_TIME + 400 * 86400);
  const gen = new EntryGenerator('rolled-back-bench', 'v1', ca);
  const certificates = new ClaimsCache();
  const range = CompactRange.empty();
  const uuids: string[] = [];
  let state!: LogState;
  for (let lo = 0; lo < ENTRIES; lo += BATCH) {
    const observedAt = BASE_TIME + lo / BATCH;
    const entries = [];
    const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
    for (let i = lo; i < Math.min(ENTRIES, lo + BATCH); i++) {
      const body = Buffer.from(gen.generate(i, BASE_TIME + i).body, 'utf8');
      const entry = { ...decodeRekorV1Body(body, { log: 'log', index: i, integratedTime: BASE_TIME + i }, { certificates }), observedAt };
      range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
      uuids.push(entry.uuid);
      entries.push({ record: { entry }, body });
    }
    state = { name: 'log', type: 'rekor-v1', url: 'http://127.0.0.1:1', origin: 'log', status: 'following', frontier: range.serialize(), startIndex: 0n };
    await store.commitBatch({ entries, nodes, state });
  }
  await store.close();
  return { dir, state, uuids };
}

/** `f` findings raised while the entries were observed, every other one on `log` (on an entry), the rest on another log. */
function findings(f: number, uuids: readonly string[]): Finding[] {
  const seconds = ENTRIES / BATCH;
  return Array.from({ length: f }, (_, i) => {
    const index = Math.floor((i * ENTRIES) / f);
    const log = i % 2 ? 'other' : 'log';
    return { id: findingId('bench', log, String(index)), rule: 'bench', kind: 'violation', severity: 'high', message: 'x', log, index, uuid: uuids[index]!, firstSeen: BASE_TIME + Math.floor((index / ENTRIES) * seconds), status: 'open' } satisfies Finding;
  });
}

/**
 * Milliseconds of one rollback of everything to 0 on a copy of `base` with `raised` findings, marked or not,
 * the findings it marked, and how many finding records it read (the work, whatever the machine's load).
 */
async function rollback(base: { dir: string; state: LogState }, raised: Finding[], mark: boolean): Promise<{ ms: number; marked: number; reads: number }> {
  const dir = tmp();
  try {
    cpSync(base.dir, dir, { recursive: true });
    const store = await Store.open(dir);
    for (let lo = 0; lo < raised.length; lo += 10_000) await store.db.batch(raised.slice(lo, lo + 10_000).flatMap(findingOps));
    let reads = 0;
    const get = store.db.get.bind(store.db);
    store.db.get = ((k: Uint8Array, ...rest: []) => {
      if (k[0] === Bucket.FINDING) reads++;
      return get(k, ...rest);
    });
    const start = performance.now();
    await rollBackTree(store, base.state, { size: 0n, frontier: CompactRange.empty() }, mark ? { mark: { at: 1, reason: 'VERIFY_ROOT_MISMATCH' } } : {});
    const ms = performance.now() - start;
    const read = reads;
    let marked = 0;
    for await (const _ of store.db.keys({ gte: key(Bucket.META, 'rolled-back:'), lt: key(Bucket.META, 'rolled-back;') })) marked++;
    await store.close();
    return { ms, marked, reads: read };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const read = await perBatchRead(OTHER_KEYS);
const batchMainUs = MAIN_US_PER_ENTRY * BATCH;
const base = await committedStore();
const rows: string[] = [];
try {
  for (const f of [0, 1_000, 10_000, 50_000]) {
    const raised = findings(f, base.uuids);
    // Alternating, the fastest of each: the machine's other load only ever adds.
    const without: number[] = [];
    const withMarks: number[] = [];
    let m = { ms: 0, marked: 0, reads: 0 };
    for (let r = 0; r < 3; r++) {
      without.push((await rollback(base, raised, false)).ms);
      m = await rollback(base, raised, true);
      withMarks.push(m.ms);
    }
    const a = Math.min(...without);
    const b = Math.min(...withMarks);
    rows.push(`| ${fmt(f)} | ${fmt(m.marked)} | ${fmt(m.reads)} | ${fmt(a)} | ${fmt(b)} | ${fmt(b - a)} (${((100 * (b - a)) / a).toFixed(0)}%) |`);
  }
} finally {
  rmSync(base.dir, { recursive: true, force: true });
}

process.stdout.write(`## Rolled-back findings

Machine: ${machine()}.

**The catch-up's read per batch** (\`rolledBackIn\` over a batch of ${fmt(BATCH)} entries, nothing filed, the main
database holding ${fmt(OTHER_KEYS)} other keys; median of 5 runs of ${fmt(CALLS)} sequential calls): **${read.toFixed(1)} µs** a
batch, ${((100 * read) / batchMainUs).toFixed(2)}% of the main thread's ${fmt(batchMainUs / 1000)} ms for such a batch (${MAIN_US_PER_ENTRY} µs/entry, "Ingest (catch-up)" above).

**A rollback of ${fmt(ENTRIES)} entries** (chunks of ${fmt(Number(ROLLBACK_CHUNK))}, index keys, tree hashes and values dropped), with the
findings raised while they were observed marked, against the same rollback not marking any (the fastest of 3
each, alternating), and the finding records the marking rollback read:

| findings raised meanwhile (half on the log) | marked | finding records read | rollback, not marking (ms) | rollback, marking (ms) | marking costs (ms) |
|---|---|---|---|---|---|
${rows.join('\n')}
`);
