/**
 * The LevelDB key space, in one place (STYLE.md habit 7; lodestar db/buckets.ts). Every key starts with a
 * one-byte bucket. Integers are fixed-width big-endian so iteration order is numeric order. Log names are
 * mapped once to a 2-byte id (bucket META, `log:<name>`), keeping per-entry keys short.
 *
 * To add a bucket: take the next unused byte, add a line below with its `key → value` shape, and write a
 * typed repository that owns its codec. Retired bucket bytes are never reused (list them under RETIRED).
 */

export const SCHEMA_VERSION = 1;

export const Bucket = {
  /** META 'schema' → u32 schema version; META 'log:' name → u16 log id; META 'nextLogId' → u16 */
  META: 0x00,
  /** LOG_STATE logId(2) → JSON LogState (codec.ts) */
  LOG_STATE: 0x01,
  /** ENTRY logId(2) index(8) → u32 recordLength | JSON StoredRecord | body bytes */
  ENTRY: 0x02,
  /** UUID leafHash(32) logId(2) index(8) → empty */
  UUID: 0x03,
  /** INDEX field(1) value bytes 0x00 time(8) logId(2) index(8) → empty (time = integratedTime, else observedAt) */
  INDEX: 0x04,
  /** NODE logId(2) tree(2) level(1) index(8) → 32-byte hash of a complete subtree at a tile row (level % 8 == 0) */
  NODE: 0x05,
  /** CHECKPOINT logId(2) tree(2) size(8) → JSON VerifiedCheckpoint (the signed note kept as evidence) */
  CHECKPOINT: 0x06,
  /** FINDING id(16) → JSON Finding (store/findings.ts) */
  FINDING: 0x07,
  /** FINDING_BY_TIME time(8) id(16) → empty */
  FINDING_BY_TIME: 0x08,
  /** OUTBOX channel(1..) 0x00 seq(8) → JSON Notification (store/outbox.ts) */
  OUTBOX: 0x09,
  /** BUNDLE logId(2) index(8) → the Sigstore bundle JSON posted by a user (POST /v1/bundles) */
  BUNDLE: 0x0a,
  /** RULE_STATE name → JSON (monitor bookkeeping, e.g. last stall alert) */
  RULE_STATE: 0x0b,
} as const;

/** Bucket bytes that were used once and must never be reused. */
export const RETIRED: readonly number[] = [];

/** Secondary index fields (the byte after Bucket.INDEX). */
export const Field = {
  DIGEST: 0x01,
  SAN: 0x02,
  ISSUER: 0x03,
  REPOSITORY: 0x04,
  OWNER: 0x05,
  BUILD_SIGNER: 0x06,
  FINGERPRINT: 0x07,
  TIME: 0x08,
  KIND: 0x09,
} as const;
export type FieldName = keyof typeof Field;

export function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`u16 out of range: ${n}`);
  return new Uint8Array([n >> 8, n & 0xff]);
}

export function u64(n: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

export function readU64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off);
}

export function readU16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function key(...parts: Array<Uint8Array | number | string>): Uint8Array {
  const bufs = parts.map((p) => (typeof p === 'number' ? new Uint8Array([p]) : typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return new Uint8Array(Buffer.concat(bufs));
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

export const entryKey = (logId: number, index: bigint | number) => key(Bucket.ENTRY, u16(logId), u64(index));
export const nodeKey = (logId: number, tree: number, level: number, index: bigint) => key(Bucket.NODE, u16(logId), u16(tree), level, u64(index));
export const checkpointKey = (logId: number, tree: number, size: bigint) => key(Bucket.CHECKPOINT, u16(logId), u16(tree), u64(size));
export const uuidKey = (leafHash: Uint8Array, logId: number, index: bigint | number) => key(Bucket.UUID, leafHash, u16(logId), u64(index));

/** Index key: values must not contain 0x00 (the separator); strings are UTF-8 and never do in practice. */
export function indexKey(field: number, value: Uint8Array, time: number, logId: number, index: bigint | number): Uint8Array {
  return key(Bucket.INDEX, field, value, 0x00, u64(Math.max(0, Math.floor(time))), u16(logId), u64(index));
}
