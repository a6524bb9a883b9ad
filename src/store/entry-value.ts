/**
 * Entry values: the raw canonical body, the Entry record the mirror derived from it (as JSON), and the facts
 * that come from neither (the Rekor v1 SET and tree position, the attestation).
 *
 * Layout (format 3): format(1) = 3 | decoder(1): 1 Rekor v1, 2 Rekor v2 | u32 facts length | facts JSON
 *                    | u32 entry length | entry JSON | body.
 *
 * Why the Entry is kept although the body implies it: reads are the API's hot path. Re-deriving an entry
 * costs ~35 µs (JSON body, base64, the certificate's DER walk, two hashes); the stored JSON is spliced into
 * responses without being parsed at all (`entryJson`). It costs ~40% more disk (BENCHMARKS.md "Store").
 * The copy is checked: `tlogwatch` store checks (check.ts) derive every entry again from its body and
 * compare (`rederiveEntry`), so a stored record that disagrees with its verified body is found.
 *
 * Format 2 (schema 2: body + facts, the record derived again on every read) is still read.
 * Contract for writers: the entry handed to commitBatch is the decoder's output for that body (the
 * mirror's ingest step), plus observedAt and what the attestation adds (provenance, subject digests).
 */
import { ClaimsCache } from '../entries/certificate.ts';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../entries/decode.ts';
import type { Entry } from '../entries/types.ts';
import { TlogwatchError } from '../errors.ts';
import type { LogType, StoredRecord } from './codec.ts';

const FORMAT = 3;
const FORMAT_2 = 2;
const DECODER = { 'rekor-v1': 1, tiles: 2 } as const;
const HEADER = 6;

/** Short keys: this JSON is written once per entry. Format 2 also kept t, o and u here. */
interface Facts {
  /** integratedTime (format 2) */
  t?: number;
  /** observedAt (format 2) */
  o?: number;
  /** uuid, only when it is not the leaf hash (format 2) */
  u?: string;
  v1?: StoredRecord['v1'];
  /** attestation */
  a?: string;
}

/** Certificates repeat across the entries of a page; format-2 reads share one bounded cache. */
const readCache = new ClaimsCache();

export function encodeEntryValue(record: StoredRecord, body: Uint8Array, decoder: LogType): Uint8Array {
  const facts: Facts = {};
  if (record.v1) facts.v1 = record.v1;
  if (record.attestation !== undefined) facts.a = record.attestation;
  const factsJson = Buffer.from(JSON.stringify(facts), 'utf8');
  const entryJson = Buffer.from(JSON.stringify(record.entry), 'utf8');
  const out = Buffer.allocUnsafe(HEADER + factsJson.length + 4 + entryJson.length + body.length);
  out[0] = FORMAT;
  out[1] = DECODER[decoder];
  out.writeUInt32BE(factsJson.length, 2);
  let at = HEADER;
  at += factsJson.copy(out, at);
  out.writeUInt32BE(entryJson.length, at);
  at += 4;
  at += entryJson.copy(out, at);
  out.set(body, at);
  return out;
}

/** The parts of a stored value, as views into it (no copies). */
export interface EntryValueParts {
  decoder: number;
  facts: Buffer;
  /** The Entry record as JSON; absent in format-2 values. */
  entry?: Buffer;
  body: Buffer;
}

export function entryValueParts(v: Uint8Array, where: string): EntryValueParts {
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const corrupt = (why: string) => new TlogwatchError('STORE_CORRUPT', `entry ${where}: ${why}`, { kind: 'fatal' });
  if (b.length < HEADER || (b[0] !== FORMAT && b[0] !== FORMAT_2) || (b[1] !== 1 && b[1] !== 2)) throw corrupt('unknown value format or too short');
  const n = b.readUInt32BE(2);
  if (HEADER + n > b.length) throw corrupt('facts length overruns the value');
  const facts = b.subarray(HEADER, HEADER + n);
  if (b[0] === FORMAT_2) return { decoder: b[1], facts, body: b.subarray(HEADER + n) };
  const at = HEADER + n;
  if (at + 4 > b.length) throw corrupt('entry length missing');
  const m = b.readUInt32BE(at);
  if (at + 4 + m > b.length) throw corrupt('entry length overruns the value');
  return { decoder: b[1], facts, entry: b.subarray(at + 4, at + 4 + m), body: b.subarray(at + 4 + m) };
}

function parse<T>(json: Buffer, where: string, what: string): T {
  try {
    return JSON.parse(json.toString('utf8')) as T;
  } catch (e) {
    throw new TlogwatchError('STORE_CORRUPT', `entry ${where}: unreadable ${what}`, { kind: 'fatal', cause: e });
  }
}

export function parseFacts(p: EntryValueParts, where: string): Pick<StoredRecord, 'v1' | 'attestation'> {
  const facts = parse<Facts>(p.facts, where, 'facts');
  return { ...(facts.v1 ? { v1: facts.v1 } : {}), ...(facts.a !== undefined ? { attestation: facts.a } : {}) };
}

/** The Entry its body implies (the decoder the mirror used), plus the format-2 facts that were not in it. */
function derive(p: EntryValueParts, log: string, index: number, facts: Facts): Entry {
  const meta = { log, index, ...(facts.t !== undefined ? { integratedTime: facts.t } : {}) };
  const entry = p.decoder === DECODER.tiles ? decodeRekorV2Entry(p.body, meta, { certificates: readCache }) : decodeRekorV1Body(p.body, meta, { certificates: readCache });
  if (facts.o !== undefined) entry.observedAt = facts.o;
  if (facts.u !== undefined) entry.uuid = facts.u;
  return entry;
}

/** The returned body is a copy, so it never pins or aliases LevelDB's buffer. */
export function decodeEntryValue(v: Uint8Array, log: string, index: number): { record: StoredRecord; body: Uint8Array } {
  const where = `${log}/${index}`;
  const p = entryValueParts(v, where);
  const facts = parse<Facts>(p.facts, where, 'facts');
  const entry = p.entry ? parse<Entry>(p.entry, where, 'entry record') : derive(p, log, index, facts);
  const record: StoredRecord = { entry };
  if (facts.v1) record.v1 = facts.v1;
  if (facts.a !== undefined) record.attestation = facts.a;
  return { record, body: new Uint8Array(p.body) };
}

/**
 * The stored record next to the one its body implies, for integrity checks: the body-derived fields
 * (kind, version, leaf hash, signers, decode problem) must be equal, and every digest the body names must
 * be among the stored ones (an attestation adds its subjects). `stored` is undefined for format 2.
 */
export function rederiveEntry(v: Uint8Array, log: string, index: number): { stored?: Entry; derived: Entry } {
  const where = `${log}/${index}`;
  const p = entryValueParts(v, where);
  const stored = p.entry ? parse<Entry>(p.entry, where, 'entry record') : undefined;
  const facts = parse<Facts>(p.facts, where, 'facts');
  const meta: Facts = stored ? { ...(stored.integratedTime !== undefined ? { t: stored.integratedTime } : {}) } : facts;
  return { ...(stored ? { stored } : {}), derived: derive(p, log, index, meta) };
}

/** Why a stored record disagrees with the one its body implies, or undefined when it does not. */
export function recordMismatch(stored: Entry, derived: Entry): string | undefined {
  // As JSON: the stored record went through JSON, so an `undefined` field is absent there.
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const k of ['leafHash', 'kind', 'apiVersion', 'signer', 'signers', 'problem', 'integratedTime'] as const) {
    if (!same(stored[k], derived[k])) return `stored ${k} differs from what the body implies`;
  }
  const digests = new Set(stored.digests);
  const missing = derived.digests.find((d) => !digests.has(d));
  return missing ? `stored digests lack ${missing}, which the body names` : undefined;
}

/** Just the body, without decoding (the Rekor-compatible API serves bodies verbatim). */
export function entryValueBody(v: Uint8Array): Uint8Array {
  return new Uint8Array(entryValueParts(v, 'value').body);
}
