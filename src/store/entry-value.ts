/**
 * Entry values: the raw canonical body plus only the facts that did not come from it (integrated time,
 * first-seen time and whether it was seen live, the Rekor v1 SET and tree position, the attestation). The Entry record is derived
 * again on read by the decoder the mirror used (src/entries, pure and deterministic), so the store never
 * keeps a second copy of what the body already says. For Fulcio-signed entries that copy is ~1.6 KB of
 * certificate claims, about a third of the store (BENCHMARKS.md "Store"), against ~45 µs to decode on read.
 *
 * Layout: format(1) = 2 | decoder(1): 1 Rekor v1, 2 Rekor v2 | u32 facts length | facts JSON | body.
 * Contract for writers: the entry handed to commitBatch is the decoder's output for that body (the mirror's
 * ingest step), plus observedAt and observedLive.
 */
import { ClaimsCache } from '../entries/certificate.ts';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../entries/decode.ts';
import type { Entry } from '../entries/types.ts';
import { TlogwatchError } from '../errors.ts';
import type { LogType, StoredRecord } from './codec.ts';

const FORMAT = 2;
const DECODER = { 'rekor-v1': 1, tiles: 2 } as const;
const HEADER = 6;

/** Short keys: this JSON is written once per entry. */
interface Facts {
  /** integratedTime */
  t?: number;
  /** observedAt */
  o?: number;
  /** observedLive; absent (every value written before it existed too) = not observed live */
  l?: 1;
  /** uuid, only when it is not the leaf hash */
  u?: string;
  v1?: StoredRecord['v1'];
  /** attestation */
  a?: string;
}

/** Certificates repeat across the entries of a page; reads share one bounded cache. */
const readCache = new ClaimsCache();

/**
 * The value's bytes before the body: format, decoder and the facts JSON. The value is this followed by the
 * body; the commit builder packs the two straight into its batch (PackedPuts.put's tail) rather than
 * joining them here first.
 */
export function entryValueHead(record: StoredRecord, decoder: LogType): Buffer {
  const e = record.entry;
  const facts: Facts = {};
  if (e.integratedTime !== undefined) facts.t = e.integratedTime;
  if (e.observedAt !== undefined) facts.o = e.observedAt;
  if (e.observedLive) facts.l = 1;
  if (e.uuid !== e.leafHash) facts.u = e.uuid;
  if (record.v1) facts.v1 = record.v1;
  if (record.attestation !== undefined) facts.a = record.attestation;
  const json = JSON.stringify(facts);
  const n = Buffer.byteLength(json, 'utf8');
  const head = Buffer.allocUnsafe(HEADER + n);
  head[0] = FORMAT;
  head[1] = DECODER[decoder];
  head.writeUInt32BE(n, 2);
  head.write(json, HEADER, 'utf8');
  return head;
}

/** The whole value: `entryValueHead` then the body. */
export function encodeEntryValue(record: StoredRecord, body: Uint8Array, decoder: LogType): Uint8Array {
  return Buffer.concat([entryValueHead(record, decoder), body]);
}

/**
 * The body is a view of `v`, not a copy: classic-level hands each value read its own buffer, so the view
 * pins only that value's few header bytes more. Copying it cost ~3 µs of a ~18 µs derivation (measured
 * on the API bench's store), paid once per entry of every page served.
 */
function split(v: Uint8Array, where: string): { decoder: number; facts: Buffer; body: Uint8Array } {
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (b.length < HEADER || b[0] !== FORMAT || (b[1] !== 1 && b[1] !== 2)) throw new TlogwatchError('STORE_CORRUPT', `entry ${where}: unknown value format or too short`, { kind: 'fatal' });
  const n = b.readUInt32BE(2);
  if (HEADER + n > b.length) throw new TlogwatchError('STORE_CORRUPT', `entry ${where}: facts length overruns the value`, { kind: 'fatal' });
  return { decoder: b[1], facts: b.subarray(HEADER, HEADER + n), body: new Uint8Array(b.buffer, b.byteOffset + HEADER + n, b.length - HEADER - n) };
}

export function decodeEntryValue(v: Uint8Array, log: string, index: number): { record: StoredRecord; body: Uint8Array } {
  const { decoder, facts: raw, body } = split(v, `${log}/${index}`);
  let facts: Facts;
  try {
    facts = JSON.parse(raw.toString('utf8')) as Facts;
  } catch (e) {
    throw new TlogwatchError('STORE_CORRUPT', `entry ${log}/${index}: unreadable facts`, { kind: 'fatal', cause: e });
  }
  const meta = { log, index, ...(facts.t !== undefined ? { integratedTime: facts.t } : {}) };
  const entry: Entry = decoder === DECODER.tiles ? decodeRekorV2Entry(body, meta, { certificates: readCache }) : decodeRekorV1Body(body, meta, { certificates: readCache });
  if (facts.o !== undefined) entry.observedAt = facts.o;
  if (facts.l === 1) entry.observedLive = true;
  if (facts.u !== undefined) entry.uuid = facts.u;
  const record: StoredRecord = { entry };
  if (facts.v1) record.v1 = facts.v1;
  if (facts.a !== undefined) record.attestation = facts.a;
  return { record, body };
}

/** Just the body, without decoding (the Rekor-compatible API serves bodies verbatim). */
export function entryValueBody(v: Uint8Array): Uint8Array {
  return split(v, 'value').body;
}
