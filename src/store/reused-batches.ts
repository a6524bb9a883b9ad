/**
 * LevelDB write batches that are kept and reused, for the store's many-small-op writes (level.ts
 * `writeBatch`: a catch-up's index commits, ~20k ops and ~1 MB per 2,048-entry batch).
 *
 * Why: classic-level 3.0 frees a chained batch's native WriteBatch (a copy of every key and value) only
 * when V8 collects the batch's JS object (its `_close` is a TODO). That object outlives its write, is
 * promoted, and waits for a full mark-compact, so a 1M-entry catch-up carried ~55 MB of written index
 * commits at its peak (a jemalloc heap profile, 2026-11-27: `batch_init`/`batch_put`, a third of all
 * malloc'd memory). LevelDB's `WriteBatch::Clear` keeps its buffer's capacity, so one native batch
 * cleared and refilled for every write holds one commit's worth, allocated once.
 *
 * How: through classic-level's own native binding (`batch_init`, `batch_put`, `batch_del`,
 * `batch_clear`, `batch_write`, the calls its ChainedBatch makes), given the database's native context.
 * That context is a private field of classic-level's `ClassicLevel`; `reusedBatches` finds it by its
 * symbol's description and returns undefined when this classic-level is not shaped that way, and
 * `writeBatch` then falls back to a chained batch (a unit test fails if the installed classic-level
 * takes the fallback). Everything abstract-level does around a chained batch that the store relies on is
 * done here too: writes only to an open database (checked in the same tick as the write is queued, and
 * classic-level's native close waits for queued writes), errors as LevelDB reports them (the same
 * `LEVEL_*` codes). Its hooks and `write` events are not used by the store.
 */
import { createRequire } from 'node:module';
import type { Level } from 'level';
import type { BatchOp } from './level.ts';
import { PackedPuts } from './packed-puts.ts';

type NativeBatch = object;

interface Binding {
  batch_init(dbContext: unknown): NativeBatch;
  batch_put(batch: NativeBatch, key: Uint8Array, value: Uint8Array): void;
  batch_del(batch: NativeBatch, key: Uint8Array): void;
  batch_clear(batch: NativeBatch): void;
  batch_write(batch: NativeBatch, options: { sync: boolean }): Promise<void>;
}

/** Idle native batches kept per database: a catch-up's commit, and one writer beside it (findings, jobs). */
const MAX_IDLE = 2;
/** A batch that held more than this (a one-off bulk write) is not kept: its buffer would stay that size. */
const MAX_KEPT_BYTES = 32 << 20;

/** The native batches of one open database. */
export class ReusedBatches {
  readonly #free: NativeBatch[];
  readonly #db: Level<Uint8Array, Uint8Array>;
  readonly #binding: Binding;
  readonly #context: unknown;
  /** Native batches created so far, and writes made with them (a test's view of the reuse). */
  created = 1;
  writes = 0;

  constructor(db: Level<Uint8Array, Uint8Array>, binding: Binding, context: unknown, first: NativeBatch) {
    this.#db = db;
    this.#binding = binding;
    this.#context = context;
    this.#free = [first];
  }

  /**
   * One atomic write of `ops` then `more`. Everything up to the write being queued runs before this
   * returns its promise (an async function runs synchronously to its first await): the open check and
   * the queueing are one tick, and PackedPuts' views and the op arrays need not outlive the call.
   */
  async write(ops: PackedPuts | readonly BatchOp[], more: readonly BatchOp[], sync: boolean): Promise<void> {
    // abstract-level's check, in the same tick as the write is queued: a close() begun later waits for it.
    if (this.#db.status !== 'open') throw notOpen();
    const binding = this.#binding;
    const batch = this.#free.pop() ?? this.#create();
    this.writes++;
    let bytes = 0;
    try {
      // Cleared on the way in, not out: a batch whose filling threw half-way is clean for its next use.
      binding.batch_clear(batch);
      const put = (key: Uint8Array, value: Uint8Array) => {
        // classic-level's native put would take anything else as an empty key or value, silently.
        if (!(key instanceof Uint8Array) || !(value instanceof Uint8Array)) throw notBytes();
        if (value.length === 0) throw emptyValue();
        binding.batch_put(batch, key, value);
        bytes += key.length + value.length;
      };
      const add = (list: readonly BatchOp[]) => {
        for (const op of list) {
          if (op.type === 'put') put(op.key, op.value);
          else if (op.key instanceof Uint8Array) binding.batch_del(batch, op.key);
          else throw notBytes();
        }
      };
      if (ops instanceof PackedPuts) ops.forEach(put);
      else add(ops);
      add(more);
      await binding.batch_write(batch, { sync });
    } finally {
      this.#release(batch, bytes);
    }
  }

  #create(): NativeBatch {
    this.created++;
    return this.#binding.batch_init(this.#context);
  }

  #release(batch: NativeBatch, bytes: number): void {
    if (this.#free.length < MAX_IDLE && bytes <= MAX_KEPT_BYTES) this.#free.push(batch);
  }
}

/** classic-level leaks the copy of an empty value (keys.ts MARKER); a programming error, so loud. */
export function emptyValue(): Error {
  return new TypeError('an empty LevelDB value (classic-level leaks its copy): write MARKER instead');
}

function notBytes(): Error {
  return new TypeError('a LevelDB key or value that is not a Uint8Array');
}

function notOpen(): Error {
  return Object.assign(new Error('Database is not open'), { code: 'LEVEL_DATABASE_NOT_OPEN' });
}

let binding: Binding | null | undefined;

function loadBinding(): Binding | null {
  if (binding === undefined) {
    try {
      // The same module instance classic-level itself loaded (require's cache, one dlopen).
      const b = createRequire(import.meta.url)('classic-level/binding.js') as Partial<Binding>;
      const names = ['batch_init', 'batch_put', 'batch_del', 'batch_clear', 'batch_write'] as const;
      binding = names.every((n) => typeof b[n] === 'function') ? (b as Binding) : null;
    } catch {
      binding = null;
    }
  }
  return binding;
}

const byDb = new WeakMap<object, ReusedBatches | null>();

/** The reusable batches of `db`, or undefined where this classic-level's internals are not as expected. */
export function reusedBatches(db: Level<Uint8Array, Uint8Array>): ReusedBatches | undefined {
  let pool = byDb.get(db);
  if (pool === undefined) {
    pool = null;
    const b = loadBinding();
    const symbol = Object.getOwnPropertySymbols(db).find((s) => s.description === 'context');
    const context = symbol === undefined ? undefined : (db as unknown as Record<symbol, unknown>)[symbol];
    if (b && context !== undefined && context !== null) {
      try {
        // batch_init throws unless `context` is classic-level's native database.
        pool = new ReusedBatches(db, b, context, b.batch_init(context));
      } catch {
        pool = null;
      }
    }
    byDb.set(db, pool);
  }
  return pool ?? undefined;
}
