/**
 * The LevelDB store (`level`): entries with their raw bodies, secondary indexes, tile-row tree hashes,
 * verified checkpoints and per-log state, in two LevelDB databases:
 * - `entryDb` (the `entries/` directory inside the store): entry values by (log, index), nothing else.
 *   Each log only appends to its own key range there, so LevelDB moves its tables down the levels
 *   without rewriting them: the ~1.5 KB bodies stay out of the compactions that the randomly ordered
 *   index keys cause (WiscKey's key-value separation, geth's "freezer"; BENCHMARKS.md "Ingest").
 * - `db` (the store directory itself): everything else, with the per-log state.
 *
 * DESIGN.md principle 2, a batch is all or nothing: commitBatch writes the batch's entry values first,
 * then its indexes, tree hashes, frontier and cursor in one `db.batch()`, which is the commit point. A
 * kill -9 between the two leaves entry values beyond the cursor: readers never see them (an entry is
 * held only in the state's [startIndex, fetched) range), the next open deletes them, and the follower
 * fetches that batch again. So the state still describes exactly the entries held. The follower writes a
 * batch's values while the previous batch's commit is still in flight (`writeValues`), so a crash can
 * leave two batches' values beyond the cursor; they go the same way.
 *
 * A write that fails with an I/O error (a full disk) leaves LevelDB failing every later write until it
 * is reopened; the store notes the fault and `recover` reopens both databases (write-fault.ts says when).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Level } from 'level';
import { TlogwatchError } from '../errors.ts';
import { DECODER_EPOCH } from '../entries/decoder-epoch.ts';
import type { Entry } from '../entries/types.ts';
import type { AsyncHashReader, NodeId } from '../merkle/prove.ts';
import { decodeEntryValue, entryValueBody } from './entry-value.ts';
import { CommitBuilder } from './commit-builder.ts';
import { indexValues, type IndexMode } from './index-values.ts';
import { ReverseKeyCursors } from './key-cursors.ts';
import { NodeCache } from './node-cache.ts';
import { copyRecords, ENTRIES_DB_OPTIONS, ioErrorMessage, levelDirState, MAIN_DB_OPTIONS, openLevel, writeArrayBatch, writeBatch, type BatchOp } from './level.ts';
import { PackedPuts } from './packed-puts.ts';
import { formatReindexProgress, parseReindexProgress, progressEpoch, type ReindexProgress } from './reindex-progress.ts';
import type { HistoryTrimProgress } from './history-trim.ts';
import { REOPEN_MIN_FREE_BYTES, volumeOf, writeFailedError, type WriteFault } from './write-fault.ts';
import { preStartNodes, readNodes } from './tree-hashes.ts';
import {
  decodeJson,
  heldRange,
  holdsEntry,
  encodeJson,
  type LogState,
  type StoredRecord,
  type VerifiedHead,
} from './codec.ts';
import {
  Bucket,
  checkpointKey,
  entryKey,
  Field,
  indexKeyValue,
  key,
  parseIndexKey,
  prefixEnd,
  readU16,
  readU64,
  READABLE_SCHEMAS,
  SCHEMA_EARLIER_TREES,
  SCHEMA_VERSION,
  treeKey,
  u16,
  u64,
  type FieldName,
} from './keys.ts';

/** The entries database's directory, inside the store's. */
export const ENTRIES_DIR = 'entries';
/**
 * A file in a store's directory while `tlogwatch backup` or `restore` copies into it (commands/backup.ts):
 * a store that has it holds part of a copy, and is refused. LevelDB leaves files it did not name alone.
 */
export const COPY_INCOMPLETE = 'TLOGWATCH-COPY-INCOMPLETE';

/** The reverify job's place in its sweep of a log: the next window's first entry, where the sweep began, and whether it has found nothing so far. */
export interface ReverifySweep {
  next: number;
  from: number;
  clean: boolean;
  /** Unix seconds the last sweep of every held entry finished with nothing found (kept across sweeps and restarts). */
  cleanAt?: number;
}

export interface EntryRef {
  log: string;
  index: number;
}

export interface CommitInput {
  entries: Array<{ record: StoredRecord; body: Uint8Array }>;
  /** Complete-subtree hashes at tile rows (level % 8 == 0) of the current tree. */
  nodes: Array<{ level: number; index: bigint; hash: Uint8Array }>;
  state: LogState;
  /**
   * The tree (Rekor v1 shard sequence) the entries and nodes belong to; default the state's current one.
   * `backfill` fills the tree the mirror started in, which may be a retired shard by then.
   */
  tree?: number;
  /** Appended to the verified-checkpoint history when this batch verified one. */
  checkpoint?: VerifiedHead;
  /** Records other repositories (findings, outbox) want in the same atomic batch. */
  extraOps?: BatchOp[];
  /** Index mode `watched`: full indexes only where this says true. */
  isWatched?: (e: Entry) => boolean;
}

export interface SearchOptions {
  prefix?: boolean;
  /** Unix seconds, inclusive. */
  since?: number;
  until?: number;
  limit: number;
  /** Opaque, from a previous page's `next`. */
  cursor?: string;
}

/** Pages of up to this many entries are read synchronously (getEntryValues). */
const SYNC_READS = 4;
const SCHEMA_KEY = key(Bucket.META, 'schema');

/**
 * The write that marks the store as holding a Rekor v1 tree before the one the mirror started in
 * (keys.ts SCHEMA_EARLIER_TREES): `backfill` joins it to each batch of such a tree, so the mark and the
 * tree's first entries are written together or not at all.
 */
export function earlierTreesOps(): BatchOp[] {
  return [{ type: 'put', key: SCHEMA_KEY, value: u16(SCHEMA_EARLIER_TREES) }];
}
const NEXT_LOG_KEY = key(Bucket.META, 'nextLogId');
/** The index mode the store's entries were written with (Store.recordedIndexMode). */
const INDEX_MODE_KEY = key(Bucket.META, 'indexMode');
const INDEX_MODES: readonly IndexMode[] = ['all', 'watched'];
/** The decoder epoch the store's index keys were written at (Store.indexedEpoch, entries/decoder-epoch.ts). */
const DECODER_EPOCH_KEY = key(Bucket.META, 'decoderEpoch');
/** META key of where re-indexing a log stands (Store.getReindexProgress). */
const reindexKey = (log: string) => key(Bucket.META, 'reindex:', log);
/** The highest epoch a re-index under way is for (its logs' progress, store/reindex-progress.ts), 0 if none. */
async function reindexingTo(db: Level<Uint8Array, Uint8Array>): Promise<number> {
  let max = 0;
  const prefix = key(Bucket.META, 'reindex:');
  for await (const v of db.values({ gte: prefix, lt: prefixEnd(prefix) })) max = Math.max(max, progressEpoch(v));
  return max;
}
function deepFreeze<T>(v: T): Readonly<T> {
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** META key of where trimming a log's checkpoint history stands (Store.getHistoryTrim, history-trim.ts). */
const historyTrimKey = (log: string) => key(Bucket.META, 'history-trim:', log);
/** META key of a scheduled job's last success (Store.getJobLastSuccess). */
const jobKey = (task: string) => key(Bucket.META, 'job:', task);
/** META key of a checkpoint source's kept tree head for a log (Store.getKeptCheckpoint). */
const keptKey = (source: string, log: string) => key(Bucket.META, 'source-kept:', source, 0, log);

export class Store {
  #db: Level<Uint8Array, Uint8Array>;
  #entryDb: Level<Uint8Array, Uint8Array>;
  readonly #dir: string;
  #fault: WriteFault | undefined;
  #recovering: Promise<boolean> | undefined;
  #reopens = 0;
  readonly indexMode: IndexMode;
  #indexRecord: IndexMode | undefined;
  #indexedEpoch = 0;
  /** What the next commit records as the index mode (indexRecordToWrite), if anything. */
  #indexRecordPending: IndexMode | undefined;
  private readonly logIds = new Map<string, number>();
  private readonly logNames = new Map<number, string>();
  private allocation: Promise<unknown> = Promise.resolve();
  private readonly stateCache = new Map<string, Readonly<LogState>>();
  private stateGeneration = 0;
  #findingsGeneration = 0;
  /** Open iterators for index scans, closed on every state write (key-cursors.ts). */
  private cursors: ReverseKeyCursors;
  /** Upper tree nodes computed for proofs, forgotten on every state write (node-cache.ts). */
  readonly #nodeCache = new NodeCache();
  /** The reopen count when each builder was made (#checkBuiltSinceReopen). */
  private readonly builtAt = new WeakMap<CommitBuilder, number>();
  /** Each builder's entry values' write, once writeValues has started it. */
  private readonly valuesWrites = new WeakMap<CommitBuilder, Promise<void>>();

  private constructor(dir: string, db: Level<Uint8Array, Uint8Array>, entryDb: Level<Uint8Array, Uint8Array>, indexMode: IndexMode) {
    this.#dir = dir;
    this.#db = db;
    this.#entryDb = entryDb;
    this.indexMode = indexMode;
    this.cursors = new ReverseKeyCursors(db);
  }

  /** Everything but entry values (see the file comment). Read it for each use: `recover` replaces it. */
  get db(): Level<Uint8Array, Uint8Array> {
    return this.#db;
  }

  /**
   * Bumped before and after every write that puts or deletes a finding (Bucket.FINDING), so a reader can
   * keep what it counted from them until the next such write (FindingsRepo.openBySeverity): a count read
   * while one was under way sees a different number afterwards. Findings reach the store only as BatchOp
   * arrays (writeOps, a commit's or a state's extraOps), never in a CommitBuilder's packed puts.
   */
  get findingsGeneration(): number {
    return this.#findingsGeneration;
  }

  /** Runs a write, bumping findingsGeneration around it when it touches a finding. */
  async #writingFindings(ops: ReadonlyArray<readonly BatchOp[] | PackedPuts>, f: () => Promise<void>): Promise<void> {
    const touches = ops.some((o) => Array.isArray(o) && (o as readonly BatchOp[]).some((op) => op.key[0] === Bucket.FINDING));
    if (!touches) return f();
    this.#findingsGeneration++;
    try {
      await f();
    } finally {
      this.#findingsGeneration++;
    }
  }

  /** Entry values (Bucket.ENTRY keys) only; may hold an uncommitted batch's beyond a log's state until the next open. */
  get entryDb(): Level<Uint8Array, Uint8Array> {
    return this.#entryDb;
  }

  /**
   * `createIfMissing: false`: only an existing store (readers such as `tlogwatch rules test` and `check`); a
   * new one is created by default. `upgrade: false` refuses a schema 2 store rather than upgrading it in
   * place (for readers that promise to change nothing: the upgrade cannot be undone, and the tlogwatch that
   * wrote the store no longer reads it).
   */
  static async open(dir: string, opts: { indexMode?: IndexMode; createIfMissing?: boolean; upgrade?: boolean; onUpgrade?: (message: string, data: Record<string, unknown>) => void } = {}): Promise<Store> {
    if (existsSync(join(dir, COPY_INCOMPLETE))) {
      throw new TlogwatchError('STORE_CORRUPT', `the store at ${dir} is an incomplete copy: the tlogwatch backup or restore that made it was cut short; run it again (it starts the copy over)`, { kind: 'fatal' });
    }
    // The main database first: it holds the schema version, and a store of another version must be
    // refused before anything is created inside it.
    const db = await openLevel(dir, dir, MAIN_DB_OPTIONS, { createIfMissing: opts.createIfMissing ?? true });
    const v = await db.get(SCHEMA_KEY);
    const found = v === undefined ? undefined : readU16(v, 0);
    if (found === 2 && opts.upgrade === false) {
      await db.close();
      throw new TlogwatchError(
        'STORE_SCHEMA_VERSION',
        `the store at ${dir} has schema version 2, this tlogwatch uses ${SCHEMA_VERSION}: tlogwatch serve or backfill upgrades it in place when it first opens it (back it up first to keep a way back); this command does not change the store`,
        { kind: 'fatal', data: { found, expected: SCHEMA_VERSION } },
      );
    }
    if (found !== undefined && !READABLE_SCHEMAS.includes(found) && found !== 2) {
      await db.close();
      throw new TlogwatchError(
        'STORE_SCHEMA_VERSION',
        `the store at ${dir} has schema version ${found}, this tlogwatch uses ${READABLE_SCHEMAS.join(' and ')}: run the tlogwatch version that wrote it, or move the directory away (or restore a backup) and let tlogwatch mirror again`,
        { kind: 'fatal', data: { found, expected: SCHEMA_VERSION } },
      );
    }
    let entryDb: Level<Uint8Array, Uint8Array> | undefined;
    try {
      // The entries database is created with a new store (before its schema is written) or by the schema
      // 2 → 3 upgrade. Missing under a schema 3 store, it was lost (deleted, not restored with the rest):
      // an empty one in its place would leave every log's state holding entries that are not there, and
      // the daemon serving and following on as if nothing were wrong.
      const entriesDir = join(dir, ENTRIES_DIR);
      if (found !== undefined && READABLE_SCHEMAS.includes(found) && levelDirState(entriesDir) === 'none') {
        throw new TlogwatchError(
          'STORE_CORRUPT',
          `the store at ${dir} has lost its entries database (${entriesDir} has no LevelDB database): restore a backup, or move ${dir} away and let tlogwatch mirror again`,
          { kind: 'fatal' },
        );
      }
      entryDb = await openLevel(entriesDir, dir, ENTRIES_DB_OPTIONS);
      // A new store holds nothing indexed at an older epoch.
      if (found === undefined) await db.batch([
        { type: 'put', key: SCHEMA_KEY, value: u16(SCHEMA_VERSION) },
        { type: 'put', key: DECODER_EPOCH_KEY, value: u16(DECODER_EPOCH) },
      ]);
      if (found === 2) {
        const t = performance.now();
        const moved = await moveEntryValues(db, entryDb);
        opts.onUpgrade?.('store upgraded from schema 2 to 3: entry values moved to their own database', { store: dir, entries: moved, ms: Math.round(performance.now() - t) });
      }
      // An upgrade cut short after it wrote the new schema leaves values in the main database: drop them
      // (a seek when there are none).
      await db.clear({ gte: key(Bucket.ENTRY), lt: prefixEnd(key(Bucket.ENTRY)) });
    } catch (e) {
      await entryDb?.close();
      await db.close();
      throw e;
    }
    const store = new Store(dir, db, entryDb, opts.indexMode ?? 'all');
    const recorded = await db.get(INDEX_MODE_KEY).then((v) => v && Buffer.from(v).toString('utf8'));
    store.#indexRecord = INDEX_MODES.find((m) => m === recorded);
    const epoch = await db.get(DECODER_EPOCH_KEY);
    store.#indexedEpoch = epoch === undefined || epoch.length !== 2 ? 0 : readU16(epoch, 0);
    // A downgrade: the store was indexed, or is being re-indexed, by a newer decoder. This one's commits
    // would write keys of the older derivation that nothing records: the newer tlogwatch, back, would take
    // them for its own (the epoch it recorded, or a log its re-index had finished) and never re-index them,
    // so its searches would miss those entries; and this one's check would take the newer keys for damage.
    const newer = Math.max(store.#indexedEpoch, await reindexingTo(db));
    if (newer > DECODER_EPOCH) {
      await store.close();
      throw new TlogwatchError(
        'STORE_DECODER_EPOCH',
        `the store at ${dir} was ${newer > store.#indexedEpoch ? 'being re-indexed' : 'indexed'} by a newer tlogwatch (decoder epoch ${newer}, this one's is ${DECODER_EPOCH}): run a tlogwatch of that decoder epoch or later, or restore the backup taken before the upgrade (docs/operations.md "Upgrades")`,
        { kind: 'fatal', data: { found: newer, expected: DECODER_EPOCH } },
      );
    }
    for await (const [k, val] of db.iterator({ gte: key(Bucket.META, 'log:'), lt: prefixEnd(key(Bucket.META, 'log:')) })) {
      const name = Buffer.from(k.subarray(5)).toString('utf8');
      store.logIds.set(name, readU16(val, 0));
      store.logNames.set(readU16(val, 0), name);
    }
    try {
      // A state no name maps to: the log's META key was lost. Opened anyway, the log would be mirrored
      // again under a new id beside everything the store holds of it.
      for await (const k of db.keys({ gte: key(Bucket.LOG_STATE), lt: prefixEnd(key(Bucket.LOG_STATE)) })) {
        if (!store.logNames.has(readU16(k, 1))) {
          throw new TlogwatchError('STORE_CORRUPT', `the store at ${dir} holds the state of log id ${readU16(k, 1)}, which no log name maps to (its name record was lost): restore a backup, or move the store away and let tlogwatch mirror again`, { kind: 'fatal' });
        }
      }
      const holdsEntries = await store.dropUncommittedEntries(db, entryDb);
      store.#indexRecordPending = indexRecordToWrite(store.#indexRecord, store.indexMode, holdsEntries);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  /**
   * The index mode the store's entries were written with, as its commits record it: `all` when every
   * entry got its full indexes, `watched` once any was written with `index: watched` (some may then have
   * their digests alone). Undefined for a store written before tlogwatch recorded it, whose mode nothing
   * tells. `tlogwatch check` takes it as the index keys each entry should have.
   */
  get recordedIndexMode(): IndexMode | undefined {
    return this.#indexRecord;
  }

  /**
   * The decoder epoch (entries/decoder-epoch.ts) the store's index keys were all written at: 0 for a store
   * from before epochs were recorded. Below DECODER_EPOCH, entries may lack keys the decoder now implies
   * until the re-index (store/reindex.ts) has gone over them and recorded the epoch.
   */
  get indexedEpoch(): number {
    return this.#indexedEpoch;
  }

  /**
   * Where re-indexing `log` for `epoch` stands (store/reindex.ts ReindexProgress). Anything unreadable, or
   * kept for another epoch, counts as not begun.
   */
  async getReindexProgress(log: string, epoch: number): Promise<ReindexProgress | undefined> {
    const v = await this.db.get(reindexKey(log));
    return v === undefined ? undefined : parseReindexProgress(v, epoch);
  }

  /**
   * Index key changes of the re-index (store/reindex.ts), with where the re-index of `log` stands, in one
   * atomic batch: a restart resumes after the last batch written. Through the store's write path (faults
   * noted, as writeOps). It puts keys the entries imply and deletes keys of entries before `progress.next`
   * that none implies; a commit writes the keys of later entries only, so it cannot conflict. The index
   * scans' open iterators are closed, as after a commit, so searches see the change.
   */
  async writeReindexed(log: string, epoch: number, progress: Readonly<ReindexProgress>, ops: readonly BatchOp[]): Promise<void> {
    try {
      await this.writeOps([...ops, { type: 'put', key: reindexKey(log), value: formatReindexProgress(epoch, progress) }]);
    } finally {
      this.cursors.invalidate();
    }
  }

  /** Where trimming `log`'s checkpoint history stands (history-trim.ts); undefined before it began. */
  async getHistoryTrim(log: string): Promise<HistoryTrimProgress | undefined> {
    const v = await this.db.get(historyTrimKey(log));
    return v === undefined ? undefined : decodeJson<HistoryTrimProgress>(v);
  }

  /** Rewritten checkpoint records of `log` with where trimming its history stands, in one atomic batch (a restart resumes after it). */
  async writeHistoryTrim(log: string, progress: Readonly<HistoryTrimProgress>, ops: readonly BatchOp[]): Promise<void> {
    await this.writeOps([...ops, { type: 'put', key: historyTrimKey(log), value: encodeJson(progress) }]);
  }

  /** Up to `limit` checkpoint records of `log`, every tree, in key order, after the key whose hex is `after`. */
  async checkpointRecords(log: string, after: string | undefined, limit: number): Promise<Array<{ key: Uint8Array; value: Uint8Array }>> {
    const id = this.logIds.get(log);
    if (id === undefined) return [];
    const prefix = key(Bucket.CHECKPOINT, u16(id));
    const range = after === undefined ? { gte: prefix } : { gt: Buffer.from(after, 'hex') };
    const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    for await (const [k, value] of this.db.iterator({ ...range, lt: prefixEnd(prefix), limit })) out.push({ key: k, value });
    return out;
  }

  /** Which of `indexes` of `log` have a bundle posted to POST /v1/bundles stored (whose subjects may be indexed as the entry's digests). */
  async postedBundles(log: string, indexes: ReadonlyArray<bigint | number>): Promise<boolean[]> {
    const id = this.logIds.get(log);
    if (id === undefined || indexes.length === 0) return indexes.map(() => false);
    return this.db.hasMany(indexes.map((i) => key(Bucket.BUNDLE, u16(id), u64(i))));
  }

  /** Records that every entry's index keys are those `epoch`'s decoder implies, and forgets the logs' re-index progress. */
  async recordIndexedEpoch(epoch: number, logs: readonly string[]): Promise<void> {
    await this.writeOps([{ type: 'put', key: DECODER_EPOCH_KEY, value: u16(epoch) }, ...logs.map((log): BatchOp => ({ type: 'del', key: reindexKey(log) }))], { sync: true });
    this.#indexedEpoch = epoch;
  }

  /**
   * Deletes the entry values a log's state does not account for: those of a batch whose commit a crash cut
   * short (written to entryDb, its state never written). Normally nothing, or one or two batches per log;
   * two seeks per log when there is nothing to delete.
   *
   * Only within the range of a log whose state it read. Values of a log with no state, or of a log id no
   * name maps to, are left: invisible to readers (heldEntryKey), rewritten by the log's first commits, and
   * all there is of a log whose state or name a damaged store lost. Deleting them made one lost key cost
   * every entry of its log, at the next open, even `tlogwatch check`'s.
   */
  private async dropUncommittedEntries(db: Level<Uint8Array, Uint8Array>, entryDb: Level<Uint8Array, Uint8Array>): Promise<boolean> {
    let holdsEntries = false;
    for (const [name, id] of this.logIds) {
      const v = await db.get(key(Bucket.LOG_STATE, u16(id)));
      if (v === undefined) continue;
      const h = heldRange(decodeState(name, this.#dir, v));
      const end = h.end > h.start ? h.end : 0n;
      if (h.end > h.start) {
        holdsEntries = true;
        await entryDb.clear({ gte: entryKey(id, 0), lt: entryKey(id, h.start) });
      }
      await entryDb.clear({ gte: entryKey(id, end), lt: prefixEnd(key(Bucket.ENTRY, u16(id))) });
    }
    return holdsEntries;
  }

  async close(): Promise<void> {
    await this.#recovering;
    await this.cursors.close();
    await this.#entryDb.close();
    await this.#db.close();
  }

  /** The filesystem the store is on (its size and what is available), for the metrics; undefined where the platform cannot say. */
  volume(): Promise<{ size: number; available: number } | undefined> {
    return volumeOf(this.#dir);
  }

  /** Both databases are open (false after close, and while a reopen after a write fault has not succeeded). */
  get isOpen(): boolean {
    return this.#db.status === 'open' && this.#entryDb.status === 'open';
  }

  /**
   * Whether reads made since this was called all met the same open store, with no write fault: checks that
   * read a lot (re-verification) use it to tell a store that changed under them from one that is damaged.
   */
  steadySince(): () => boolean {
    const reopens = this.#reopens;
    return () => this.#reopens === reopens && this.#fault === undefined && this.isOpen;
  }

  /** Set from the first write that failed with an I/O error until `recover` has reopened the store (write-fault.ts). */
  get writeFault(): Readonly<WriteFault> | undefined {
    return this.#fault;
  }

  /**
   * Reopens both databases if a write has failed with an I/O error; true when the store can be written
   * (again). Concurrent callers (one follower per log) share one attempt. Tried only once the filesystem
   * has room (write-fault.ts): while an attempt fails the databases stay closed, reads included.
   */
  recover(): Promise<boolean> {
    if (!this.#fault) return Promise.resolve(true);
    this.#recovering ??= this.#reopen(this.#fault).finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async #reopen(fault: WriteFault): Promise<boolean> {
    fault.attempts++;
    const free = (await volumeOf(this.#dir))?.available;
    if (free !== undefined && free < REOPEN_MIN_FREE_BYTES) {
      fault.lastAttempt = `waiting for room: ${mib(free)} available at ${this.#dir}, reopening at ${mib(REOPEN_MIN_FREE_BYTES)}`;
      return false;
    }
    // LevelDB's LOCK allows one handle per directory, so the old ones go first. Close waits for the
    // writes in flight (they fail: the fault is sticky) and ends open iterators.
    await this.cursors.close();
    await this.#entryDb.close().catch(() => undefined);
    await this.#db.close().catch(() => undefined);
    let db: Level<Uint8Array, Uint8Array> | undefined;
    let entryDb: Level<Uint8Array, Uint8Array> | undefined;
    try {
      // The same store again, never a new empty one where it was (a directory removed under the daemon).
      db = await openLevel(this.#dir, this.#dir, MAIN_DB_OPTIONS, { createIfMissing: false });
      entryDb = await openLevel(join(this.#dir, ENTRIES_DIR), this.#dir, ENTRIES_DB_OPTIONS, { createIfMissing: false });
      // Values written beyond a state before the fault: dropped, as at open, before any writer sees the new handles.
      await this.dropUncommittedEntries(db, entryDb);
    } catch (e) {
      await entryDb?.close().catch(() => undefined);
      await db?.close().catch(() => undefined);
      fault.lastAttempt = `reopening failed: ${ioMessage(e)}`;
      return false;
    }
    this.#db = db;
    this.#entryDb = entryDb;
    this.#reopens++;
    this.cursors = new ReverseKeyCursors(db);
    this.#nodeCache.invalidate();
    this.stateGeneration++;
    this.#findingsGeneration += 2;
    this.stateCache.clear();
    this.#fault = undefined;
    return true;
  }

  /**
   * Writes besides a log's commit (findings, the notification outbox, bundles posted to the API), as one
   * atomic batch on the main database. Like every store write it fails at once while the store has a write
   * fault, and notes one (write-fault.ts). `sync`: on disk before this resolves (a power loss keeps it),
   * for a person's decision such as an acknowledgement.
   */
  async writeOps(ops: readonly BatchOp[], opts: { sync?: boolean } = {}): Promise<void> {
    if (ops.length > 0) await this.#writingFindings([ops], () => this.#write(() => writeArrayBatch(this.#db, ops, opts)));
  }

  /** A store write: while the store has a write fault it fails at once; an I/O error sets that fault. */
  async #write(f: () => Promise<void>): Promise<void> {
    if (this.#fault) throw writeFailedError(this.#fault);
    try {
      await f();
    } catch (e) {
      if (ioErrorMessage(e) === undefined) throw e;
      this.#fault ??= { message: ioMessage(e), at: Math.floor(Date.now() / 1000), attempts: 0 };
      throw writeFailedError(this.#fault, e);
    }
  }

  /** The 2-byte id of a log name, allocated on first use (allocations are serialised: followers start together). */
  logId(name: string): Promise<number> {
    const known = this.logIds.get(name);
    if (known !== undefined) return Promise.resolve(known);
    const allocated = this.allocation.then(async () => {
      const again = this.logIds.get(name);
      if (again !== undefined) return again;
      const next = await this.db.get(NEXT_LOG_KEY);
      const id = next ? readU16(next, 0) : 1;
      if (id >= 0xffff) throw new TlogwatchError('STORE_CORRUPT', 'no log ids left (65534 logs)', { kind: 'fatal' });
      await this.writeOps([
        { type: 'put', key: key(Bucket.META, 'log:', name), value: u16(id) },
        { type: 'put', key: NEXT_LOG_KEY, value: u16(id + 1) },
      ]);
      this.logIds.set(name, id);
      this.logNames.set(id, name);
      return id;
    });
    this.allocation = allocated.catch(() => undefined);
    return allocated;
  }

  logNameOf(id: number): string | undefined {
    return this.logNames.get(id);
  }

  logNamesKnown(): string[] {
    return [...this.logIds.keys()];
  }

  /**
   * Where the reverify job's sweep of a log stands (jobs.ts), kept so that a restart carries on with the
   * sweep rather than starting over: on a large store a sweep spans many runs, and daemons restart more
   * often than that. Anything unreadable counts as no sweep begun.
   */
  async getReverifySweep(name: string): Promise<ReverifySweep | undefined> {
    const v = await this.db.get(key(Bucket.META, 'reverify:', name));
    if (v === undefined) return undefined;
    try {
      const s = JSON.parse(Buffer.from(v).toString('utf8')) as Partial<ReverifySweep>;
      const index = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
      if (!(index(s.next) && index(s.from) && typeof s.clean === 'boolean')) return undefined;
      return { next: s.next, from: s.from, clean: s.clean, ...(index(s.cleanAt) ? { cleanAt: s.cleanAt } : {}) };
    } catch {
      return undefined;
    }
  }

  async putReverifySweep(name: string, sweep: ReverifySweep): Promise<void> {
    await this.writeOps([{ type: 'put', key: key(Bucket.META, 'reverify:', name), value: Buffer.from(JSON.stringify(sweep)) }]);
  }

  /**
   * When a scheduled job (jobs.ts, by its `task` name) last succeeded, in unix seconds, kept so that a
   * restarted daemon publishes it before the job runs again (hours for some). A store written before
   * this was kept, or a value no tlogwatch wrote, has none.
   */
  async getJobLastSuccess(task: string): Promise<number | undefined> {
    const v = await this.db.get(jobKey(task));
    if (v === undefined) return undefined;
    try {
      const at = (JSON.parse(Buffer.from(v).toString('utf8')) as { lastSuccessAt?: unknown }).lastSuccessAt;
      return Number.isSafeInteger(at) && (at as number) >= 0 ? (at as number) : undefined;
    } catch {
      return undefined;
    }
  }

  async putJobLastSuccess(task: string, at: number): Promise<void> {
    await this.writeOps([{ type: 'put', key: jobKey(task), value: Buffer.from(JSON.stringify({ lastSuccessAt: at })) }]);
  }

  /**
   * A checkpoint source's tree head kept until the mirror verifies that far (monitor/checkpoint-sources.ts),
   * as the signed note it came as: kept across restarts, so a forked head seen just before one is still judged.
   */
  async getKeptCheckpoint(source: string, log: string): Promise<string | undefined> {
    const v = await this.db.get(keptKey(source, log));
    return v === undefined ? undefined : Buffer.from(v).toString('utf8');
  }

  /** Keeps `note` for the source and log, or forgets what was kept (`undefined`). */
  async putKeptCheckpoint(source: string, log: string, note: string | undefined): Promise<void> {
    const k = keptKey(source, log);
    await this.writeOps([note === undefined ? { type: 'del', key: k } : { type: 'put', key: k, value: Buffer.from(note, 'utf8') }]);
  }

  /** Never allocates an id: names can come from API requests. A fresh copy, the caller's to change. */
  async getLogState(name: string): Promise<LogState | undefined> {
    const id = this.logIds.get(name);
    if (id === undefined) return undefined;
    const v = await this.db.get(key(Bucket.LOG_STATE, u16(id)));
    return v === undefined ? undefined : decodeState(name, this.#dir, v);
  }

  /**
   * The same, for readers that only look (the API, once per request): kept decoded and frozen until the
   * next write of any log state. A read that overlapped a write is not kept (`stateGeneration`).
   */
  async readLogState(name: string): Promise<Readonly<LogState> | undefined> {
    const cached = this.stateCache.get(name);
    if (cached) return cached;
    const generation = this.stateGeneration;
    const state = await this.getLogState(name);
    if (state && generation === this.stateGeneration) this.stateCache.set(name, deepFreeze(state));
    return state;
  }

  /**
   * Every write that touches a log state goes here, as one atomic batch (`writeBatch`: one of the main
   * database's reused native write batches, filled put by put). Array batches here instead (2026-11-27,
   * 300k): peak RSS 417 → 469–474 MB and 15–25% slower (~40k op objects per batch for V8). Chained batches,
   * before the reused ones (reused-batches.ts), each held a few MB until V8's next full collection. The entry
   * values go the same way, to the entries database (writeValues). Watch peak RSS when this changes.
   */
  private async writeState(ops: PackedPuts | readonly BatchOp[], more: readonly BatchOp[] = []): Promise<void> {
    this.stateGeneration++;
    this.stateCache.clear();
    this.#nodeCache.invalidate();
    try {
      await this.#writingFindings([ops, more], () => this.#write(() => writeBatch(this.#db, ops, {}, more)));
    } finally {
      this.stateGeneration++;
      this.stateCache.clear();
      this.#nodeCache.invalidate();
      this.cursors.invalidate();
    }
  }

  /** State-only updates (upstream size, halts) that carry no entries. */
  /**
   * Deletes `log`'s state with `extraOps` in one atomic batch: the next round starts it as new (a halted log
   * that never stored anything, resumed: resume.ts). Its name keeps its log id.
   */
  async forgetLogState(log: string, extraOps: BatchOp[] = []): Promise<void> {
    const id = await this.logId(log);
    await this.writeState([{ type: 'del', key: key(Bucket.LOG_STATE, u16(id)) }, ...extraOps]);
  }

  async putLogState(state: LogState, extraOps: BatchOp[] = []): Promise<void> {
    const id = await this.logId(state.name);
    await this.writeState([{ type: 'put', key: key(Bucket.LOG_STATE, u16(id)), value: encodeJson(state) }, ...extraOps]);
  }

  /**
   * A step of a rollback (rollback.ts): `state`, whose frontier moved back to the entry at virtual index
   * `from`, with `ops` (the deletions of the index keys, UUID keys and tree hashes of entries from there on)
   * in one atomic batch, the commit point; then the values of the entries [from, to), which the state no
   * longer holds (a crash before leaves them to the next open, as an uncommitted batch's: the file comment).
   */
  async writeRollback(state: LogState, ops: BatchOp[], from: bigint, to: bigint): Promise<void> {
    const id = await this.logId(state.name);
    await this.putLogState(state, ops);
    await this.#write(() => this.#entryDb.clear({ gte: entryKey(id, from), lt: entryKey(id, to) }));
  }

  /** A batch's write: its entry values, then everything else in one atomic batch, the commit point (see the file comment). */
  async commitBatch(input: CommitInput): Promise<void> {
    const b = await this.builder(input.state, { ...(input.isWatched ? { isWatched: input.isWatched } : {}), ...(input.tree !== undefined ? { tree: input.tree } : {}) });
    for (const { record, body } of input.entries) b.addEntry(record, body);
    await this.commitPrepared(b, input);
  }

  /**
   * A builder for one batch of `state`'s log, for callers that turn each entry into its writes as soon as
   * it is decoded (the follower), so no decoded entry waits for the commit (packed-puts.ts says why).
   * `values` and `ops` are reset and filled; they must not be reused until `commitPrepared` has returned.
   * `tree` is the tree its entries and nodes go to (CommitInput's), by default the state's current one.
   */
  async builder(state: Readonly<LogState>, opts: { values?: PackedPuts; ops?: PackedPuts; isWatched?: (e: Entry) => boolean; tree?: number } = {}): Promise<CommitBuilder> {
    const id = await this.logId(state.name);
    const b = new CommitBuilder(state.name, id, state.type, opts.tree ?? state.shard?.seq ?? 0, this.indexMode, opts.values ?? new PackedPuts(), opts.ops ?? new PackedPuts(), opts.isWatched);
    this.builtAt.set(b, this.#reopens);
    return b;
  }

  /**
   * A batch prepared before the store was reopened must not commit after it: its values may have been
   * written to the old databases, and the reopen dropped them as uncommitted (dropUncommittedEntries), so
   * its commit would advance the state over entries that are not there. Another log's follower can be
   * between its values and its commit when one follower's round reopens the store.
   */
  #checkBuiltSinceReopen(b: CommitBuilder): void {
    if (this.builtAt.get(b) !== this.#reopens) {
      throw new TlogwatchError('STORE_UNAVAILABLE', `the store was reopened after a write fault while a batch of ${b.log} was being written; the batch is fetched again`, { kind: 'transient' });
    }
  }

  /**
   * Starts writing `b`'s entry values (synced), or returns the write already started. A caller may start it
   * while the previous batch's commit is still being written, so the two databases' writes overlap: values
   * beyond a log's state are invisible and dropped at the next open (the file comment), so writing them
   * early cannot expose them. commitPrepared waits for it before the commit point.
   */
  writeValues(b: CommitBuilder): Promise<void> {
    let written = this.valuesWrites.get(b);
    if (!written) {
      this.#checkBuiltSinceReopen(b);
      // One of the entries database's reused native batches (level.ts writeBatch), filled put by put from
      // the arena: no op object per entry that would live until the write ends (an array batch's did, and
      // was promoted: ~16% of what a 1M catch-up promoted), and no chained batch to wait for V8.
      written = b.values.length > 0 ? this.#write(() => writeBatch(this.#entryDb, b.values, { sync: true })) : Promise.resolve();
      written.catch(() => undefined); // awaited by commitPrepared; not unhandled meanwhile
      this.valuesWrites.set(b, written);
    }
    return written;
  }

  /**
   * commitBatch for a batch whose entries (and nodes) are already in `b` (once per builder): the rest of its
   * writes join them, then the two writes. `input.nodes` are more nodes of the builder's tree.
   */
  async commitPrepared(b: CommitBuilder, input: Omit<CommitInput, 'entries' | 'isWatched' | 'tree'>): Promise<void> {
    const { state } = input;
    if (b.log !== state.name || b.type !== state.type) throw new TlogwatchError('STORE_CORRUPT', `a batch built for ${b.log} (${b.type}) was committed as ${state.name} (${state.type})`, { kind: 'fatal' });
    const current = state.shard?.seq ?? 0;
    const { ops, tree } = b;
    for (const n of input.nodes) b.addNode(n.level, n.index, n.hash);
    if (tree === current) for (const n of preStartNodes(state)) b.addNode(n.level, n.index, n.hash);
    if (input.checkpoint) ops.put(checkpointKey(b.id, tree, input.checkpoint.size), encodeJson(input.checkpoint));
    ops.put(key(Bucket.LOG_STATE, u16(b.id)), encodeJson(state));
    const record = this.#indexRecordPending;
    if (record) ops.put(INDEX_MODE_KEY, Buffer.from(record, 'utf8'));
    await this.writeValues(b);
    this.#checkBuiltSinceReopen(b);
    await this.writeState(ops, input.extraOps);
    if (record) {
      this.#indexRecord = record;
      this.#indexRecordPending = undefined;
    }
  }

  /** The key of a held entry's value, or undefined when the log's state does not account for it (file comment). */
  private heldEntryKey(log: string, index: number | bigint, state: Readonly<LogState> | undefined): Uint8Array | undefined {
    const id = this.logIds.get(log);
    if (id === undefined || index < 0 || index > Number.MAX_SAFE_INTEGER || !state || !holdsEntry(state, index)) return undefined;
    return entryKey(id, index);
  }

  async getEntry(log: string, index: number | bigint): Promise<{ record: StoredRecord; body: Uint8Array } | undefined> {
    const k = this.heldEntryKey(log, index, await this.readLogState(log));
    const v = k && (await this.entryDb.get(k));
    return v === undefined ? undefined : decodeEntryValue(v, log, Number(index));
  }

  /** Stored values of many entries in one LevelDB call (undefined where absent), for readers that take them apart (entry-value.ts). */
  async getEntryValues(refs: readonly EntryRef[]): Promise<Array<Uint8Array | undefined>> {
    const keys: Uint8Array[] = [];
    const at: number[] = [];
    const states = new Map<string, Readonly<LogState> | undefined>();
    for (let i = 0; i < refs.length; i++) {
      const { log, index } = refs[i]!;
      if (!states.has(log)) states.set(log, await this.readLogState(log));
      const k = this.heldEntryKey(log, index, states.get(log));
      if (k === undefined) continue;
      keys.push(k);
      at.push(i);
    }
    const out: Array<Uint8Array | undefined> = refs.map(() => undefined);
    if (keys.length === 0) return out;
    // A few keys are read on this thread: a trip to LevelDB's worker thread costs ~40 µs of CPU against
    // ~15 µs for the read itself (measured on a 100k-entry store). A page of many keys goes as one
    // getMany, which spreads that cost and keeps a long read off the event loop.
    const values = keys.length <= SYNC_READS ? keys.map((k) => this.entryDb.getSync(k)) : await this.entryDb.getMany(keys);
    values.forEach((v, j) => (out[at[j]!] = v));
    return out;
  }

  /** The raw canonical body as the log served it. */
  async getBody(log: string, index: number | bigint): Promise<Uint8Array | undefined> {
    const k = this.heldEntryKey(log, index, await this.readLogState(log));
    const v = k && (await this.entryDb.get(k));
    return v === undefined ? undefined : entryValueBody(v);
  }

  /**
   * All (log, index) holding an entry with this leaf hash (a body can be logged more than once).
   * Accepts a 64-hex UUID or an 80-hex Rekor v1 entry ID (16-hex tree ID + UUID, rekor.md §1.5); the tree
   * ID only says which shard, and the leaf hash alone identifies the body, so it is not matched.
   */
  async getByUuid(uuid: string): Promise<EntryRef[]> {
    if (!/^([0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(uuid)) return [];
    const lh = Buffer.from(uuid.slice(-64), 'hex');
    const out: EntryRef[] = [];
    for await (const k of this.db.keys({ gte: key(Bucket.UUID, lh), lt: prefixEnd(key(Bucket.UUID, lh)), limit: 100 })) {
      const name = this.logNames.get(readU16(k, 33));
      if (name !== undefined) out.push({ log: name, index: Number(readU64(k, 35)) });
    }
    return out;
  }

  /** Newest first (by integrated time, else observed time), `limit` per page, with an opaque cursor. */
  async search(field: FieldName, value: Uint8Array, opts: SearchOptions): Promise<{ refs: Array<EntryRef & { time: number }>; next: string | null }> {
    const f = Field[field];
    const base = opts.prefix ? key(Bucket.INDEX, f, value) : key(Bucket.INDEX, f, value, 0x00);
    let gte = opts.prefix || opts.since === undefined ? base : key(base, u64(Math.max(0, opts.since)));
    let lt = opts.prefix || opts.until === undefined ? prefixEnd(base) : key(base, u64(Math.max(0, opts.until) + 1));
    if (opts.cursor) {
      const c = new Uint8Array(Buffer.from(opts.cursor, 'base64url'));
      if (c.length < base.length + 18 || !Buffer.from(c.subarray(0, base.length)).equals(Buffer.from(base))) {
        throw new TlogwatchError('API_BAD_REQUEST', 'cursor does not belong to this query');
      }
      // A cursor only moves the top of the range down: it never widens what `until` bounds.
      if (Buffer.compare(Buffer.from(c), Buffer.from(lt)) < 0) lt = c;
      if (Buffer.compare(Buffer.from(gte), Buffer.from(lt)) > 0) gte = lt;
    }
    const refs: Array<EntryRef & { time: number }> = [];
    let last: Uint8Array | undefined;
    let more = false;
    // The iterator is unbounded, so every key read past the range is wasted work. A digest or fingerprint
    // usually has one entry: two keys say so in one trip to LevelDB's thread. Other exact values read a
    // page and one more; a prefix scan skips keys, so it reads in larger chunks.
    const first = opts.prefix ? Math.max(64, opts.limit + 1) : field === 'DIGEST' || field === 'FINGERPRINT' ? Math.min(2, opts.limit + 1) : opts.limit + 1;
    await this.cursors.scan(gte, lt, first, async (chunk) => {
      for (const k of chunk) {
        const { time, logId, index } = parseIndexKey(k);
        if (opts.prefix && ((opts.since !== undefined && time < opts.since) || (opts.until !== undefined && time > opts.until))) continue;
        const name = this.logNames.get(logId);
        if (name === undefined) continue;
        // A prefix can match several values of one entry (one per signer): emit the entry only at its
        // greatest matching value, so it appears once across all pages.
        if (opts.prefix && !(await this.isCanonicalPrefixKey(f, value, indexKeyValue(k), name, index))) continue;
        if (refs.length === opts.limit) {
          more = true;
          return false;
        }
        refs.push({ log: name, index, time });
        last = k;
      }
      return true;
    });
    return { refs, next: more && last ? Buffer.from(last).toString('base64url') : null };
  }

  private async isCanonicalPrefixKey(field: number, prefix: Uint8Array, keyValue: Uint8Array, log: string, index: number): Promise<boolean> {
    const got = await this.getEntry(log, index);
    if (!got) return true;
    let greatest: Buffer | undefined;
    for (const [f, v] of indexValues(got.record.entry, true)) {
      const b = Buffer.from(v);
      if (f === field && b.subarray(0, prefix.length).equals(Buffer.from(prefix)) && (!greatest || Buffer.compare(b, greatest) > 0)) greatest = b;
    }
    return !greatest || greatest.equals(Buffer.from(keyValue));
  }

  /**
   * Any complete-subtree node of a log's tree (`tree` = Rekor v1 shard sequence), from the stored hashes
   * (tree-hashes.ts), upper nodes through the node cache (node-cache.ts). `uncached`: every hash read from
   * the store, for checks of what it holds (check-tree.ts, check-range.ts), which a kept node would hide.
   */
  hashReader(log: string, tree = 0, opts: { uncached?: boolean } = {}): AsyncHashReader {
    return async (nodes: readonly NodeId[]) => {
      const id = this.logIds.get(log);
      if (id === undefined) throw new TlogwatchError('API_NOT_FOUND', `no log named ${log}`);
      return readNodes(this.db, { id, name: log, tree }, nodes, opts.uncached ? undefined : this.#nodeCache);
    };
  }

  async listCheckpoints(log: string, opts: { limit: number; cursor?: string; tree?: number }): Promise<{ checkpoints: VerifiedHead[]; next: string | null }> {
    const id = this.logIds.get(log);
    if (id === undefined) return { checkpoints: [], next: null };
    const prefix = key(Bucket.CHECKPOINT, u16(id), u16(treeKey(opts.tree ?? 0)));
    if (opts.cursor !== undefined && !(/^(0|[1-9]\d{0,19})$/.test(opts.cursor) && BigInt(opts.cursor) < 1n << 64n)) {
      throw new TlogwatchError('API_BAD_REQUEST', 'cursor is not one this API returned');
    }
    const lt = opts.cursor !== undefined ? key(prefix, u64(BigInt(opts.cursor))) : prefixEnd(prefix);
    const out: VerifiedHead[] = [];
    for await (const v of this.db.values({ gte: prefix, lt, reverse: true, limit: opts.limit + 1 })) out.push(decodeJson<VerifiedHead>(v));
    const more = out.length > opts.limit;
    if (more) out.pop();
    return { checkpoints: out, next: more ? out[out.length - 1]!.size.toString() : null };
  }

  /** Bytes on disk of both databases, as LevelDB estimates them. */
  async approximateSize(): Promise<number> {
    let total = 0;
    for (const db of [this.db, this.entryDb]) {
      total += (await (db as unknown as { approximateSize?: (a: Uint8Array, b: Uint8Array) => Promise<number> }).approximateSize?.(new Uint8Array([0]), new Uint8Array([0xff]))) ?? 0;
    }
    return total;
  }

  async compact(): Promise<void> {
    for (const db of [this.db, this.entryDb]) {
      await (db as unknown as { compactRange?: (a: Uint8Array, b: Uint8Array) => Promise<void> }).compactRange?.(new Uint8Array([0]), new Uint8Array([0xff]));
    }
  }
}

/**
 * Schema 2 → 3: the entry values move from the main database to the entries database, then the schema
 * says 3. Each copied batch is synced, so the schema never says 3 before the values are on disk; a move
 * cut short before that starts again at the next open (the copies are the same puts again).
 */
async function moveEntryValues(db: Level<Uint8Array, Uint8Array>, entryDb: Level<Uint8Array, Uint8Array>): Promise<number> {
  const moved = await copyRecords(db, entryDb, { gte: key(Bucket.ENTRY), lt: prefixEnd(key(Bucket.ENTRY)) }, { sync: true });
  await db.put(SCHEMA_KEY, u16(SCHEMA_VERSION), { sync: true });
  return moved;
}

/**
 * The index mode a writer in `mode` records with its first commit, if any (Store.recordedIndexMode):
 * a store's first entries record the mode they are written with; `watched` replaces `all` (some entries
 * may now have their digests alone) and is never replaced, since entries written so stay that way. A store
 * that holds entries from before the record gets one only from a `watched` writer: `all` would claim
 * what nothing tells.
 */
export function indexRecordToWrite(recorded: IndexMode | undefined, mode: IndexMode, holdsEntries: boolean): IndexMode | undefined {
  if (recorded === 'watched' || recorded === mode) return undefined;
  if (mode === 'watched') return 'watched';
  return recorded === undefined && !holdsEntries ? 'all' : undefined;
}

/**
 * A log's stored state. One that does not read back (a bit flipped on disk) says whose it is and what to
 * do: the daemon refuses to open the store with it, as nothing tells which entries it holds.
 */
function decodeState(name: string, dir: string, v: Uint8Array): LogState {
  try {
    return decodeJson<LogState>(v);
  } catch (e) {
    throw new TlogwatchError('STORE_CORRUPT', `the state of log ${name} in the store at ${dir} is damaged (${e instanceof Error ? e.message : String(e)}): restore a backup, or move the store away and let tlogwatch mirror again`, { kind: 'fatal', cause: e });
  }
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

/** LevelDB's own message (`IO error: <file>: No space left on device`), else the error's. */
function ioMessage(e: unknown): string {
  return ioErrorMessage(e) ?? (e instanceof Error ? e.message : String(e)).slice(0, 300);
}

export function openStore(dir: string, opts: { indexMode?: IndexMode } = {}): Promise<Store> {
  return Store.open(dir, opts);
}
