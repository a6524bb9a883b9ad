/**
 * The store's LevelDB handles: how its two databases are opened (options, and errors that say what to
 * do), and the two bulk writes everything else is built on: one atomic batch, and a copy between
 * databases (the schema upgrade, backup and restore).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { TlogwatchError } from '../errors.ts';
import { PackedPuts } from './packed-puts.ts';
import { MARKER } from './keys.ts';
import { emptyValue, reusedBatches } from './reused-batches.ts';

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** How the store opens its LevelDB databases (raw bytes in and out); backup/restore open them the same way. */
export const LEVEL_OPTIONS = { keyEncoding: 'view', valueEncoding: 'view' } as const;
/**
 * How many tables each database keeps open (`maxOpenFiles`; LevelDB's table cache holds that less 10).
 * An open table keeps its index and Bloom-filter blocks in memory, so with classic-level's default of
 * 1,000 per database a catch-up's peak grew with the store until both caches were full: 293 MB at 1M
 * entries, 361 at 4M, 412 at 8M, 422 at 12M (`index: all`, the image's runtime). Two limits set the
 * numbers here:
 * - The process maps at most 1,000 tables at once (LevelDB 1.20 util/env_posix.cc `MaxMmaps`, shared by
 *   both databases); a table opened past that is read with pread and its blocks are copied onto the heap,
 *   which is where most of that growth was. 250 + 650 stay under it, so every open table is mapped: its
 *   filter, and the uncompressed main database's index, are read in place from page cache the kernel can
 *   reclaim (the entries database's Snappy-compressed index blocks are inflated onto the heap either way).
 * - A lookup that misses the cache opens the table again. At 1M entries the main database has ~135
 *   tables and the entries database ~440, and LevelDB splits its cache into 16 shards by a hash of the
 *   table number, so a cap just above those counts still evicts from the fuller shards: 200 and 500 cost
 *   digest lookups on the API bench's 1M store ~7% (and moved its mapped pages, so tables were being
 *   reopened); 250 and 650 left both unchanged.
 * Measured (docs/architecture.md "Peak RSS", BENCHMARKS.md "Ingest"): with 250/650 the peak was
 * 312–328 MB at 4M, 326 MB at 8M and 324 MB at 12M, against 359–362, 412 and 422 MB with the default;
 * catch-ups that large were 1–10% slower (compactions reopen evicted tables). Past ~1.5M entries lookups
 * reopen tables, as they did with the default past ~2M. With `index: all` batching 1,024 entries
 * (config/schema.ts `defaultBatchSize`) the peak is 275–281 MB from 4M to 12M.
 */
export const TABLES_OPEN = { main: 250, entries: 650 } as const;
/**
 * The main database's tables are written without Snappy. Its index keys arrive in random order, so
 * LevelDB's single compaction thread rewrites each byte many times on the way down the levels, and
 * compressing and decompressing every block of every rewrite was most of that thread's work: a 1M-entry
 * catch-up with `index: all` waited 24–25 s on commits, 12 s with this (BENCHMARKS.md "Ingest"). The
 * cost is ~75 bytes per entry on disk (4.5% of the store; keys still share prefixes within a block). The
 * entries database keeps Snappy: its values are appended in key order and move down the levels without
 * being rewritten. Each block records its own compression, so a store written either way reads both.
 */
export const MAIN_DB_OPTIONS = { ...LEVEL_OPTIONS, compression: false, maxOpenFiles: TABLES_OPEN.main } as const;
/**
 * The entries database's tables have 16 KB blocks, not LevelDB's 4 KB. Its values are ~2 KB bodies, so a
 * 4 KB block held two of them: Snappy found little to share, and the index of every table (one key per
 * block, read into memory and kept while the table is open, since the blocks are compressed) grew with
 * the log. At 1M entries (`index: all`, the image's runtime; BENCHMARKS.md "Ingest", 2026-11-28 A/B): the
 * store 1,746 → 1,151 bytes per entry, the catch-up's peak RSS 305–308 → 270 MB and its RSS after it
 * 241–243 → 198–209 MB, at the same speed. A read decompresses the 16 KB block holding the entry. 16 KB
 * blocks in the main database too (uncompressed, read by key ranges) changed nothing measurable, so it
 * keeps 4 KB. Block size is per table, so stores written with 4 KB blocks read the same.
 */
export const ENTRIES_DB_OPTIONS = { ...LEVEL_OPTIONS, blockSize: 16 * 1024, maxOpenFiles: TABLES_OPEN.entries } as const;

/** LevelDB's message of an I/O error (`IO error: <file>: No space left on device`) in `e` or its causes, if any. */
export function ioErrorMessage(e: unknown): string | undefined {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const m = (x as { message?: unknown }).message;
    if ((x as { code?: unknown }).code === 'LEVEL_IO_ERROR' && typeof m === 'string') return m.slice(0, 300);
  }
  return undefined;
}

/**
 * What to do about a store its volume or permissions keep tlogwatch from opening: a directory it may not
 * write (the store, its files, or `dataDir` made by another user: the container runs as uid 10001), a
 * read-only volume, or a file where a directory should be. `message` is the system's or LevelDB's (`EACCES:
 * permission denied, mkdir '…'`, `IO error: …/LOCK: Permission denied`); undefined when it is none of these.
 */
export function accessHint(message: string): string | undefined {
  const uid = process.getuid?.();
  const as = uid === undefined ? 'the user tlogwatch runs as' : `the user tlogwatch runs as (uid ${uid})`;
  if (/EACCES|EPERM|Permission denied|Operation not permitted/.test(message)) return `${as} cannot write there: give it the directory (chown -R), or choose another dataDir (--data-dir)`;
  if (/EROFS|Read-only file system/.test(message)) return 'the volume is read-only: mount it writable, or choose another dataDir (--data-dir)';
  if (/ENOTDIR|EEXIST|Not a directory|File exists/.test(message)) return 'a file is in the way where a directory should be: move it, or choose another dataDir (--data-dir)';
  return undefined;
}

/** The files of a LevelDB directory that hold its records: tables and write-ahead logs (not `LOG`, its text log). */
const DATA_FILE = /^\d+\.(ldb|sst|log)$/;

/**
 * What `dir` holds: a LevelDB database (its `CURRENT` file names the manifest to read), nothing (absent, or
 * only what a creation cut short leaves: `LOCK`, `LOG`, a first manifest), or a database's tables or logs
 * without its `CURRENT` (deleted, or lost with the filesystem's metadata). LevelDB told to create a missing
 * database takes the last for nothing: it writes a new empty one there and deletes the tables as obsolete.
 */
export function levelDirState(dir: string): 'database' | 'none' | 'damaged' {
  if (existsSync(join(dir, 'CURRENT'))) return 'database';
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return 'none';
  }
  return files.some((f) => DATA_FILE.test(f)) ? 'damaged' : 'none';
}

/** The message for a database directory levelDirState calls `damaged`. */
export function damagedStoreMessage(dir: string, store: string): string {
  return `the store at ${store} is damaged: ${dir} holds LevelDB tables or logs but no CURRENT file; tlogwatch will not create an empty store over them. Restore a backup, or move ${store} away and let tlogwatch mirror again`;
}

/**
 * Opens one of the store's LevelDB databases, turning LevelDB's errors into ones that say what to do.
 * Never creates a database where one lost its `CURRENT` (levelDirState): that would delete its records.
 */
export async function openLevel(dir: string, store: string, options: typeof MAIN_DB_OPTIONS | typeof ENTRIES_DB_OPTIONS, open: { createIfMissing?: boolean } = {}): Promise<Level<Uint8Array, Uint8Array>> {
  if (levelDirState(dir) === 'damaged') throw new TlogwatchError('STORE_CORRUPT', damagedStoreMessage(dir, store), { kind: 'fatal' });
  const db = new Level<Uint8Array, Uint8Array>(dir, options);
  try {
    await db.open({ createIfMissing: open.createIfMissing ?? true });
  } catch (e) {
    // LevelDB's LOCK file: another process (a running `tlogwatch serve`) has the store open.
    if ((e as { cause?: { code?: unknown } }).cause?.code === 'LEVEL_LOCKED') {
      throw new TlogwatchError('STORE_LOCKED', `the store at ${store} is in use by another process (a running tlogwatch serve?)`, { kind: 'fatal', cause: e });
    }
    // An I/O error (LevelDB writes when it opens: the recovered log becomes a table, a new manifest): say
    // which, and what to do, rather than suggesting corruption.
    const io = ioErrorMessage(e);
    if (io !== undefined) {
      const hint = /No space left on device|Disk quota exceeded/.test(io) ? 'free space on its volume and start again' : (accessHint(io) ?? 'check the volume it is on');
      throw new TlogwatchError('STORE_UNAVAILABLE', `cannot open the store at ${store}: ${io}: ${hint}`, { kind: 'fatal', cause: e });
    }
    // classic-level makes the directory itself before LevelDB opens it: a mkdir refused by the system
    // (permissions, a read-only volume, a file in the way) is about the volume, not a damaged database,
    // and restoring a backup would not help.
    const sys = (e as { cause?: { syscall?: unknown; message?: unknown } }).cause;
    if (typeof sys?.syscall === 'string' && typeof sys.message === 'string') {
      throw new TlogwatchError('STORE_UNAVAILABLE', `cannot open the store at ${store}: ${sys.message}: ${accessHint(sys.message) ?? 'check the volume it is on'}`, { kind: 'fatal', cause: e });
    }
    // abstract-level says "Database failed to open"; LevelDB's reason is its cause.
    const why = [(e as Error).message, ((e as Error).cause as Error | undefined)?.message].filter(Boolean).join(': ');
    // (Another process holding it is LEVEL_LOCKED, above: this is the database itself.)
    throw new TlogwatchError('STORE_CORRUPT', `cannot open the store at ${store}: LevelDB cannot read ${dir}: ${why}. Restore a backup (docs/operations.md "Backup and restore"), or move ${store} away and let tlogwatch mirror again`, { kind: 'fatal', cause: e });
  }
  return db;
}

/**
 * Visits an iterator's items a chunk at a time (`nextv`), much cheaper than one await per item, and closes
 * it however the visit ends. For visits that need no await of their own.
 */
export async function scanChunks<T>(it: { nextv(size: number): Promise<T[]>; close(): Promise<void> }, visit: (item: T) => void, size = 1024): Promise<void> {
  try {
    for (let chunk = await it.nextv(size); chunk.length > 0; chunk = await it.nextv(size)) chunk.forEach(visit);
  } finally {
    await it.close();
  }
}

/**
 * Copies the records in `range` (all by default) from one database into another, read from one snapshot
 * and written in array batches of 4,096 (each synced with `sync`; `writeArrayBatch`: a store's worth of
 * chained batches would wait for V8 to free them). Returns how many it copied. Used by the
 * schema upgrade (store.ts) and by backup/restore.
 */
export async function copyRecords(
  src: Level<Uint8Array, Uint8Array>,
  dst: Level<Uint8Array, Uint8Array>,
  range: { gte?: Uint8Array; lt?: Uint8Array } = {},
  opts: { sync?: boolean } = {},
): Promise<number> {
  let copied = 0;
  let ops: BatchOp[] = [];
  const it = src.iterator(range);
  try {
    for (let chunk = await it.nextv(1024); chunk.length > 0; chunk = await it.nextv(1024)) {
      // A store written before MARKER has empty values, which classic-level would leak (keys.ts MARKER).
      for (const [k, value] of chunk) ops.push({ type: 'put', key: k, value: value.length === 0 ? MARKER : value });
      copied += chunk.length;
      if (ops.length >= 4096) {
        await writeArrayBatch(dst, ops, opts);
        ops = [];
      }
    }
  } finally {
    await it.close();
  }
  if (ops.length > 0) await writeArrayBatch(dst, ops, opts);
  return copied;
}

/**
 * One atomic LevelDB write of `ops`, through a native write batch filled put by put: for many small ops
 * (index keys). `db.batch(array)` is just as atomic, but its native side reads every op object's type, key
 * and value through N-API property lookups on the main thread, where a batch put takes key and value as
 * arguments: 1.75 against 1.21 µs per op with entry bodies in the mix (BENCHMARKS.md "Store"), 2.3
 * against 0.8 µs for index keys alone. A catch-up writes 5 to 11 ops per entry; at 300k entries this took
 * 11–22% off its main thread.
 *
 * The native batch is one of the database's reused ones (reused-batches.ts): a chained batch's would be
 * freed only when V8 collects its JS object, long after its write. Where classic-level's internals are not
 * as reused-batches.ts expects, a chained batch it is.
 */
export async function writeBatch(db: Level<Uint8Array, Uint8Array>, ops: PackedPuts | readonly BatchOp[], opts: { sync?: boolean } = {}, more: readonly BatchOp[] = []): Promise<void> {
  const reused = reusedBatches(db);
  if (reused) return reused.write(ops, more, opts.sync ?? false);
  const batch = db.batch();
  try {
    // The chained batch copies each key and value into LevelDB's write batch at once, so PackedPuts' views
    // need not outlive the call.
    const put = (k: Uint8Array, v: Uint8Array) => {
      if (v.length === 0) throw emptyValue();
      batch.put(k, v);
    };
    if (ops instanceof PackedPuts) ops.forEach(put);
    for (const list of ops instanceof PackedPuts ? [more] : [ops, more]) {
      for (const op of list) {
        if (op.type === 'put') put(op.key, op.value);
        else batch.del(op.key);
      }
    }
  } catch (e) {
    await batch.close();
    throw e;
  }
  await batch.write({ sync: opts.sync ?? false });
}

/**
 * One atomic LevelDB write of `ops` as an array batch, for bulk copies (copyRecords) and small one-off
 * writes: its native WriteBatch belongs to the write itself and is freed the moment the write completes,
 * where a chained batch's waits for V8's next full collection (`writeBatch`'s fallback). abstract-level
 * copies every op into an object of its own and keeps them until the write ends, so a catch-up's entry
 * values, ~2,000 ops a batch, go through `writeBatch`'s reused batches instead: their op objects were
 * promoted, and the catch-up with them ran 10–20% slower (2026-11-28, 1M, `watched`).
 */
export async function writeArrayBatch(db: Level<Uint8Array, Uint8Array>, ops: readonly BatchOp[], opts: { sync?: boolean } = {}): Promise<void> {
  for (const op of ops) if (op.type === 'put' && op.value.length === 0) throw emptyValue();
  await db.batch(ops as BatchOp[], { sync: opts.sync ?? false });
}
