/**
 * The LevelDB key space, in one place (STYLE.md habit 7; lodestar db/buckets.ts). Every key starts with a
 * one-byte bucket. Integers are fixed-width big-endian so iteration order is numeric order. Log names are
 * mapped once to a 2-byte id (bucket META, `log:<name>`), keeping per-entry keys short.
 *
 * Adding a repository (e.g. store/findings.ts, store/outbox.ts):
 * 1. Use the bucket reserved for it below, or take the next unused byte and add a line with its
 *    `key → value` shape. Never reuse a byte listed in RETIRED; retire a bucket by moving it there.
 * 2. In the repository file, build keys with `key()`/`u64()` from here (fixed-width big-endian integers
 *    first where order matters) and own the value codec (`encodeJson`/`decodeJson` from codec.ts for small
 *    records, binary where a value is written per entry).
 * 3. Expose writes as functions that return `BatchOp[]` (store.ts) so they can join the atomic
 *    `commitBatch(... extraOps)` or `putLogState(state, ops)`, or go alone through `store.writeOps(ops)`
 *    (never `store.db.put/batch`: store writes note I/O faults, write-fault.ts); reads go through
 *    `store.db` iterators (`store.entryDb` holds the ENTRY bucket alone).
 * 4. A change to the layout or to a value format that old code cannot read bumps SCHEMA_VERSION.
 */

/**
 * 1: first layout. 2: entry values keep the body and the facts outside it (entry-value.ts). 3: entry values
 * live in their own database (store.ts `entryDb`, the store's `entries/` directory); Store.open upgrades a
 * schema 2 store in place. New stores are written as 3.
 */
export const SCHEMA_VERSION = 3;
/**
 * 4: as 3, and the store holds a Rekor v1 tree before the one the mirror started in (tree sequence numbers
 * −1, −2, …, treeSeq below), which a tlogwatch that reads only schema 3 would take for the trees after it.
 * Written by `backfill` with the first batch of such a tree, in the same atomic write, so a store says 4
 * exactly when it holds one; a store that never does stays readable by the tlogwatch that made it.
 */
export const SCHEMA_EARLIER_TREES = 4;
/** The schemas this tlogwatch reads and writes as they are (2 is upgraded in place, Store.open). */
export const READABLE_SCHEMAS: readonly number[] = [SCHEMA_VERSION, SCHEMA_EARLIER_TREES];

/**
 * The value of a key that says everything itself (UUID, INDEX, FINDING_BY_TIME: "marker" below): one zero
 * byte, never zero bytes. classic-level 3.0 copies each key and value it is handed into a `new char[n]`
 * and frees the copy only when n > 0 (binding.cc `DisposeSliceBuffer`), so every empty value leaked one
 * allocation: ~8 bytes under jemalloc, ~30 under glibc, for each of an entry's 5 to 11 index keys. Over a
 * 1M-entry catch-up that was the "LevelDB memory that grows with the store" (BENCHMARKS.md "Ingest").
 * Readers never look at it (they iterate keys), so stores written before, with empty values, read the same;
 * the write paths refuse an empty value (reused-batches.ts, level.ts) and copies replace one with this.
 */
export const MARKER: Uint8Array = Uint8Array.of(0);

export const Bucket = {
  /** META 'schema' → u16 schema version; META 'log:' name → u16 log id; META 'nextLogId' → u16; META 'reverify:' name → JSON ReverifySweep (where the reverify job's sweep stands, and when the last one ended clean); META 'job:' task → JSON {lastSuccessAt} (unix seconds a scheduled job last succeeded, jobs.ts); META 'source-kept:' source 0x00 log → UTF-8 signed note (a checkpoint source's tree head kept until the mirror verifies that far, monitor/checkpoint-sources.ts); META 'indexMode' → UTF-8 `all` | `watched`, the index mode the entries were written with (store.ts recordedIndexMode); META 'decoderEpoch' → u16, the decoder epoch every entry's index keys were written at (entries/decoder-epoch.ts; absent: 0); META 'reindex:' name → JSON {epoch, next, implied, swept} (where re-indexing a log for that epoch stands, store/reindex-progress.ts; deleted once the epoch is recorded); META 'rolled-back:' logId(2) index(8) findingId(16) → MARKER (a finding a rollback marked, until its entry is ingested again, store/rolled-back-findings.ts); META 'resumed:' name → JSON ResumeRecord[] (the halts `tlogwatch resume` lifted, store/resume.ts); META 'history-trim:' name → JSON HistoryTrimProgress (where trimming the log's checkpoint history kept before 3e6fdec stands, store/history-trim.ts; kept once done, so later starts skip the log) */
  META: 0x00,
  /** LOG_STATE logId(2) → JSON LogState (codec.ts) */
  LOG_STATE: 0x01,
  /** ENTRY logId(2) index(8) → format(1) decoder(1) u32 factsLength | JSON facts | canonical body (entry-value.ts); in `entryDb` only, every other bucket in `db` */
  ENTRY: 0x02,
  /** UUID leafHash(32) logId(2) index(8) → marker */
  UUID: 0x03,
  /** INDEX field(1) value 0x00 time(8) logId(2) index(8) → marker (time = integratedTime, else observedAt; Field below) */
  INDEX: 0x04,
  /** NODE logId(2) tree(2) level(1) index(8) → 32-byte subtree hash: tile rows (level % 8 == 0), and frontier nodes left of the mirror's start; tree = treeKey(seq) */
  NODE: 0x05,
  /** CHECKPOINT logId(2) tree(2) size(8) → JSON VerifiedHead (codec.ts; the signed note kept as evidence, its verified lines only), append-only; tree = treeKey(seq) */
  CHECKPOINT: 0x06,
  /** FINDING id(16) → JSON Finding (store/findings.ts) */
  FINDING: 0x07,
  /** FINDING_BY_TIME time(8) id(16) → marker */
  FINDING_BY_TIME: 0x08,
  /** OUTBOX channel(1) findingId(16) → JSON {attempts, nextAt, lastError?} (notify/outbox.ts) */
  OUTBOX: 0x09,
  /** BUNDLE logId(2) index(8) → the Sigstore bundle JSON posted by a user (POST /v1/bundles) */
  BUNDLE: 0x0a,
  /** RULE_STATE name → JSON (monitor bookkeeping, e.g. last stall alert) */
  RULE_STATE: 0x0b,
  /** OUTBOX_DUE channel(1) nextAt(8, unix ms) findingId(16) → marker: the OUTBOX rows by when they are due (notify/outbox.ts) */
  OUTBOX_DUE: 0x0c,
} as const;

/** Bucket bytes that were used once and must never be reused. */
export const RETIRED: readonly number[] = [];

/** Secondary index fields (the byte after Bucket.INDEX). */
export const Field = {
  /** alg(1: sha256, 2: sha384, 3: sha512) + raw digest: artifact, payload, envelope, subjects */
  DIGEST: 0x01,
  /** UTF-8 identity; emails lower-cased (normaliseIdentity), URIs as signed; prefix-searchable */
  SAN: 0x02,
  /** UTF-8 OIDC issuer */
  ISSUER: 0x03,
  /** UTF-8 Fulcio sourceRepositoryURI */
  REPOSITORY: 0x04,
  /** UTF-8 Fulcio sourceRepositoryOwnerURI */
  OWNER: 0x05,
  /** UTF-8 Fulcio buildSignerURI */
  BUILD_SIGNER: 0x06,
  /** 32-byte SHA-256 of the certificate or public key */
  FINGERPRINT: 0x07,
  /** empty value: every fully indexed entry, by time (the "everything, newest first" listing) */
  TIME: 0x08,
  /** reserved for an index by entry kind; not written yet */
  KIND: 0x09,
} as const;
export type FieldName = keyof typeof Field;

const TWO32 = 0x1_0000_0000;

/** Writes a u64 big-endian without 32-bit bitwise operators (indexes pass 2^32; STYLE.md, DESIGN.md principle 4). */
function writeU64(b: Buffer, off: number, n: bigint | number): void {
  if (typeof n === 'bigint') {
    b.writeBigUInt64BE(n, off);
    return;
  }
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 out of range: ${n}`);
  b.writeUInt32BE(Math.floor(n / TWO32), off);
  b.writeUInt32BE(n % TWO32, off + 4);
}

/**
 * A tree's sequence in this mirror (Rekor v1; tiles logs have one tree, 0) as its 2-byte key field, two's
 * complement: 0 is the tree the mirror started in, 1, 2, … the trees it followed after it, and −1, −2, …
 * (0xffff, 0xfffe, …) the trees before it that `backfill` fills (LogState.priorTrees, newest first). Stores
 * from before backfill reached earlier trees hold only 0 and up, which keep their keys.
 */
export function treeKey(seq: number): number {
  if (!Number.isInteger(seq) || seq < -0x8000 || seq > 0x7fff) throw new RangeError(`tree sequence out of range: ${seq}`);
  return seq < 0 ? seq + 0x10000 : seq;
}

/** The tree sequence a key's 2-byte tree field holds (treeKey's inverse). */
export function treeSeq(field: number): number {
  return field >= 0x8000 ? field - 0x10000 : field;
}

export function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`u16 out of range: ${n}`);
  return new Uint8Array([Math.floor(n / 256), n % 256]);
}

export function u64(n: bigint | number): Uint8Array {
  const b = Buffer.allocUnsafe(8);
  writeU64(b, 0, n);
  return b;
}

export function readU64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off);
}

export function readU16(b: Uint8Array, off: number): number {
  return b[off]! * 256 + b[off + 1]!;
}

/** A key from parts: a number is one byte, a string its UTF-8. For rare keys; the hot ones below write in place. */
export function key(...parts: Array<Uint8Array | number | string>): Uint8Array {
  const bufs = parts.map((p) => (typeof p === 'number' ? Buffer.of(p) : typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return Buffer.concat(bufs);
}

/** The smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]!++;
      return out.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff]);
}

// Hot-path keys (several per entry): one pooled allocation each, integers written in place.
function header(size: number, bucket: number, logId: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  b[0] = bucket;
  b.writeUInt16BE(logId, 1);
  return b;
}

export function entryKey(logId: number, index: bigint | number): Uint8Array {
  const b = header(11, Bucket.ENTRY, logId);
  writeU64(b, 3, index);
  return b;
}

/** `tree`: the tree's sequence (treeKey). */
export function nodeKey(logId: number, tree: number, level: number, index: bigint): Uint8Array {
  const b = header(14, Bucket.NODE, logId);
  b.writeUInt16BE(treeKey(tree), 3);
  b[5] = level;
  writeU64(b, 6, index);
  return b;
}

/** `tree`: the tree's sequence (treeKey). */
export function checkpointKey(logId: number, tree: number, size: bigint): Uint8Array {
  const b = header(13, Bucket.CHECKPOINT, logId);
  b.writeUInt16BE(treeKey(tree), 3);
  writeU64(b, 5, size);
  return b;
}

export function uuidKey(leafHash: Uint8Array, logId: number, index: bigint | number): Uint8Array {
  const b = Buffer.allocUnsafe(43);
  b[0] = Bucket.UUID;
  b.set(leafHash, 1);
  b.writeUInt16BE(logId, 33);
  writeU64(b, 35, index);
  return b;
}

/** Index key: values must not contain 0x00 (the separator); strings are UTF-8 and never do in practice. */
export function indexKey(field: number, value: Uint8Array, time: number, logId: number, index: bigint | number): Uint8Array {
  const n = value.length;
  const b = Buffer.allocUnsafe(2 + n + 1 + 8 + 2 + 8);
  b[0] = Bucket.INDEX;
  b[1] = field;
  b.set(value, 2);
  b[2 + n] = 0x00;
  writeU64(b, 3 + n, Math.max(0, Math.floor(time)));
  b.writeUInt16BE(logId, 11 + n);
  writeU64(b, 13 + n, index);
  return b;
}

/** An index key read back (indexKey's inverse), less its value (indexKeyValue): the field, and the time and entry it files. */
export interface IndexKeyParts {
  field: number;
  /** Seconds (keys.ts INDEX time). */
  time: number;
  logId: number;
  /** The entry's index in its log, as a number: indexes stay below 2^53. */
  index: number;
}

/**
 * A u64 big-endian as a number, exact below 2^53 and rounded as Number(readU64) rounds above: whole-index
 * scans (check, the re-index sweep) read millions of keys, and BigInt would allocate for each.
 */
function readU64Number(b: Uint8Array, off: number): number {
  return (b[off]! * 0x1000000 + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!)) * 0x1_0000_0000 + (b[off + 4]! * 0x1000000 + ((b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!));
}

/** What an index key says, read from its fixed-width tail: time(8) logId(2) index(8) (indexKey). */
export function parseIndexKey(k: Uint8Array): IndexKeyParts {
  const n = k.length;
  return { field: k[1]!, time: readU64Number(k, n - 18), logId: k[n - 10]! * 256 + k[n - 9]!, index: readU64Number(k, n - 8) };
}

/** An index key's value: the bytes between its field and the 0x00 before its time (indexKey). */
export function indexKeyValue(k: Uint8Array): Uint8Array {
  return k.subarray(2, k.length - 19);
}
