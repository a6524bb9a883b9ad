/**
 * Entry bodies → Entry records (DESIGN.md "The Entry record"). Pure and total: a body that cannot be
 * understood still yields a record (leaf hash, kind, whatever digests and signers were found) with a
 * `problem` saying why, so the mirror stores and indexes it and nothing is skipped or crashes.
 *
 * Rekor v1 bodies: RFC 8785 JSON `{apiVersion, kind, spec}` (sigstore/rekor pkg/types/entries.go
 * CanonicalizeEntry; kinds in reference/rekor.md §2). Rekor v2 bodies: canonical protojson of the
 * rekor.v2 Entry (rekor-tiles internal/server/service.go; reference/rekor.md §3.2).
 * Leaf hash and UUID: RFC 6962 §2.1 SHA-256(0x00 || body) (reference/rekor.md §1.4, §1.6).
 */
import { leafHash } from '../merkle/rfc6962.ts';
import { toHex } from '../util/bytes.ts';
import { isRecord } from '../util/json.ts';
import { Facts } from './kinds/common.ts';
import { dsseV001 } from './kinds/dsse.ts';
import { hashedrekordV001 } from './kinds/hashedrekord.ts';
import { intotoV001, intotoV002 } from './kinds/intoto.ts';
import { coseV001, helmV001, jarV001, packageV001, rfc3161V001, tufV001, unknownKind } from './kinds/other.ts';
import { rekordV001 } from './kinds/rekord.ts';
import { dsseV002, hashedrekordV002 } from './kinds/v2.ts';
import { type CertificateReader, uncachedCertificates } from './signer.ts';
import type { DecodeProblem, Entry } from './types.ts';

export interface EntryMeta {
  log: string;
  index: number;
  integratedTime?: number;
  /** The RFC 6962 leaf hash when the caller already computed it (the mirror does, to check tiles). */
  leafHash?: Uint8Array;
}

export interface DecodeOptions {
  /** Where certificate claims come from. Pass a ClaimsCache the caller owns to reuse them across entries; default uncached. */
  certificates?: CertificateReader;
}

type SpecDecoder = (spec: Record<string, unknown>, f: Facts) => void;

/** `kind/apiVersion` → decoder. Rekor v1 serves every kind at these versions (pkg/types/<kind>/v*). */
const V1_DECODERS: ReadonlyMap<string, SpecDecoder> = new Map([
  ['hashedrekord/0.0.1', hashedrekordV001],
  ['rekord/0.0.1', rekordV001],
  ['dsse/0.0.1', dsseV001],
  ['intoto/0.0.1', intotoV001],
  ['intoto/0.0.2', intotoV002],
  ['helm/0.0.1', helmV001],
  ['jar/0.0.1', jarV001],
  ['rpm/0.0.1', packageV001],
  ['alpine/0.0.1', packageV001],
  ['cose/0.0.1', coseV001],
  ['rfc3161/0.0.1', rfc3161V001],
  ['tuf/0.0.1', tufV001],
]);

/** Rekor v2 writes hashedrekord and (until rekor-tiles#744) dsse, both at 0.0.2. */
const V2_DECODERS: ReadonlyMap<string, SpecDecoder> = new Map([
  ['hashedrekord/0.0.2', hashedrekordV002],
  ['dsse/0.0.2', dsseV002],
]);

/** Real bodies are at most a few hundred KB (rpm headers); anything larger is not parsed. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function problem(message: string): { problem: DecodeProblem } {
  return { problem: { code: 'ENTRY_MALFORMED', message } };
}

function parseBody(body: Uint8Array): { doc: Record<string, unknown> } | { problem: DecodeProblem } {
  if (body.length > MAX_BODY_BYTES) return problem(`body of ${body.length} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body)) as unknown;
  } catch (e) {
    // Invalid UTF-8, invalid JSON, or nesting deep enough to exhaust the parser's stack.
    return problem(`body is not UTF-8 JSON: ${e instanceof Error ? e.message.slice(0, 120) : 'unparseable'}`);
  }
  return isRecord(value) ? { doc: value } : problem('body is not a JSON object');
}

function decodeWith(body: Uint8Array, meta: EntryMeta, table: ReadonlyMap<string, SpecDecoder>, log: string, options: DecodeOptions): Entry {
  const hash = toHex(meta.leafHash ?? leafHash(body));
  const entry: Entry = { log: meta.log, index: meta.index, leafHash: hash, uuid: hash, kind: 'unknown', apiVersion: '', digests: [] };
  if (meta.integratedTime !== undefined) entry.integratedTime = meta.integratedTime;
  const parsed = parseBody(body);
  if ('problem' in parsed) {
    entry.problem = parsed.problem;
    return entry;
  }
  const { doc } = parsed;
  const { kind, apiVersion } = doc;
  if (typeof kind !== 'string' || typeof apiVersion !== 'string' || kind.length === 0 || kind.length > 64 || apiVersion.length > 32) {
    entry.problem = problem('body lacks a string kind and apiVersion').problem;
    return entry;
  }
  entry.kind = kind;
  entry.apiVersion = apiVersion;
  const spec = isRecord(doc['spec']) ? doc['spec'] : undefined;
  const f = new Facts(options.certificates ?? uncachedCertificates);
  const decode = table.get(`${kind}/${apiVersion}`);
  if (!decode) f.fail(`${log} has no ${JSON.stringify(kind)} entries at version ${JSON.stringify(apiVersion)}`, 'ENTRY_UNSUPPORTED_KIND');
  if (!spec) f.fail('body has no spec object');
  try {
    if (spec) (decode ?? unknownKind)(spec, f);
  } catch (e) {
    // Kind decoders validate as they go and do not throw; this is the last line that keeps a bad body from crashing the mirror.
    f.fail(`${kind} ${apiVersion}: ${e instanceof Error ? e.message.slice(0, 200) : 'unreadable'}`);
  }
  entry.digests = [...new Set(f.digests)].sort();
  if (f.signers.length > 0) {
    entry.signer = f.signers[0]!;
    if (f.signers.length > 1) entry.signers = f.signers;
  }
  if (f.problem) entry.problem = f.problem;
  return entry;
}

/** Rekor v1 canonical body (the base64-decoded `body`). Never throws. */
export function decodeRekorV1Body(body: Uint8Array, meta: EntryMeta, options: DecodeOptions = {}): Entry {
  return decodeWith(body, meta, V1_DECODERS, 'Rekor v1', options);
}

/** Rekor v2 entry (as stored in tile/entries bundles): hashedrekord 0.0.2, dsse 0.0.2. Never throws. */
export function decodeRekorV2Entry(body: Uint8Array, meta: EntryMeta, options: DecodeOptions = {}): Entry {
  return decodeWith(body, meta, V2_DECODERS, 'Rekor v2', options);
}

/** Every kind a decoder exists for, at any version: the names a bounded metric label may take. */
export const KNOWN_KINDS: ReadonlySet<string> = new Set([...V1_DECODERS.keys(), ...V2_DECODERS.keys()].map((k) => k.slice(0, k.indexOf('/'))));

/** True for the kind/versions only Rekor v2 writes; every other body is a Rekor v1 body. */
export function isRekorV2KindVersion(kind: string | undefined, version: string | undefined): boolean {
  return V2_DECODERS.has(`${kind}/${version}`);
}

/** A body whose log type is known only from its bundle's kindVersion. */
export function decodeAnyBody(body: Uint8Array, meta: EntryMeta, kind?: string, version?: string, options: DecodeOptions = {}): Entry {
  return isRekorV2KindVersion(kind, version) ? decodeRekorV2Entry(body, meta, options) : decodeRekorV1Body(body, meta, options);
}
