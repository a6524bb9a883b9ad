/**
 * The transparency-log entries `tlogwatch verify` accepts, parsed into one shape:
 *
 * - Sigstore bundles v0.1–v0.3 (`application/vnd.dev.sigstore.bundle+json;version=0.N` and
 *   `application/vnd.dev.sigstore.bundle.v0.3+json`): `verificationMaterial.tlogEntries[]`;
 * - Rekor v1 LogEntry responses: `{ "<uuid or entry ID>": LogEntry }` or an array of them, and cosign's
 *   `{SignedEntryTimestamp, Payload}` Rekor bundles (also nested as `rekorBundle`);
 * - Rekor v2 TransparencyLogEntry JSON (protobuf-specs, the write response);
 * - npm's attestations endpoint (`{attestations: [{bundle}]}`), a list of bundles.
 *
 * Input is narrowed from `unknown`; each rejection names what is wrong.
 */
import { TlogwatchError } from '../errors.ts';
import { isRecord } from '../util/json.ts';
import { parseBase64, parseHex } from '../util/bytes.ts';

export interface InclusionProofInput {
  /** Shard-local for Rekor v1 (rekor.md §1.3). */
  logIndex: bigint;
  treeSize: bigint;
  rootHash: Uint8Array;
  hashes: Uint8Array[];
  checkpoint?: string;
}

export interface BundleContent {
  /** messageSignature.messageDigest as `sha256:<hex>`, when present. */
  messageDigest?: string;
  messageSignature?: Uint8Array;
  dsseEnvelope?: { payload: Uint8Array; payloadType: string; signatures: Uint8Array[] };
  /** The verification material's leaf certificate (DER) or public key hint. */
  certificate?: Uint8Array;
  publicKeyHint?: string;
}

export interface TlogEntryInput {
  source: 'bundle' | 'rekor-v1' | 'rekor-v2';
  /** Where in the input it was found, e.g. `tlogEntries[0]`. */
  where: string;
  /** The virtual index for Rekor v1. */
  logIndex: bigint;
  /** The log's key ID (Rekor v1: SHA-256 of SPKI). */
  logId: Uint8Array;
  kind?: string;
  version?: string;
  /** Rekor v2 reports 0: treated as absent. */
  integratedTime?: bigint;
  body: Uint8Array;
  set?: Uint8Array;
  inclusionProof?: InclusionProofInput;
  bundle?: BundleContent;
}

function bad(where: string, what: string): TlogwatchError {
  return new TlogwatchError('ENTRY_MALFORMED', `${where}: ${what}`);
}

const rec = (o: unknown): Record<string, unknown> | undefined => (isRecord(o) ? o : undefined);

function int(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,18})$/.test(v)) return BigInt(v);
  throw bad(where, `expected a non-negative integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

function b64(v: unknown, where: string, len?: number): Uint8Array {
  const b = typeof v === 'string' ? parseBase64(v, len) : undefined;
  if (!b) throw bad(where, len ? `expected ${len} bytes of standard base64` : 'expected standard base64');
  return b;
}

function hex(v: unknown, where: string, len?: number): Uint8Array {
  const b = typeof v === 'string' ? parseHex(v, len) : undefined;
  if (!b) throw bad(where, len ? `expected ${len} bytes of lower-case hex` : 'expected lower-case hex');
  return b;
}

function proofFrom(p: Record<string, unknown>, where: string, enc: 'base64' | 'hex'): InclusionProofInput {
  const dec = enc === 'hex' ? hex : b64;
  const hashes = p['hashes'];
  if (!Array.isArray(hashes) || hashes.length > 128) throw bad(`${where}.hashes`, 'expected an array of at most 128 hashes');
  const cp = enc === 'hex' ? p['checkpoint'] : rec(p['checkpoint'])?.['envelope'];
  return {
    logIndex: int(p['logIndex'], `${where}.logIndex`),
    treeSize: int(p['treeSize'], `${where}.treeSize`),
    rootHash: dec(p['rootHash'], `${where}.rootHash`, 32),
    hashes: hashes.map((h, i) => dec(h, `${where}.hashes[${i}]`, 32)),
    ...(typeof cp === 'string' ? { checkpoint: cp } : {}),
  };
}

/** protobuf-specs TransparencyLogEntry (bundles and the Rekor v2 write response). */
function fromTransparencyLogEntry(e: Record<string, unknown>, where: string, source: 'bundle' | 'rekor-v2', content?: BundleContent): TlogEntryInput {
  const kv = rec(e['kindVersion']);
  const proof = rec(e['inclusionProof']);
  const promise = rec(e['inclusionPromise']);
  const it = e['integratedTime'] === undefined ? undefined : int(e['integratedTime'], `${where}.integratedTime`);
  if (e['canonicalizedBody'] === undefined) throw bad(where, 'no canonicalizedBody (bundles before v0.2 may omit it; this one cannot be verified offline)');
  return {
    source,
    where,
    logIndex: int(e['logIndex'], `${where}.logIndex`),
    logId: b64(rec(e['logId'])?.['keyId'], `${where}.logId.keyId`),
    ...(typeof kv?.['kind'] === 'string' ? { kind: kv['kind'] } : {}),
    ...(typeof kv?.['version'] === 'string' ? { version: kv['version'] } : {}),
    ...(it !== undefined && it !== 0n ? { integratedTime: it } : {}),
    body: b64(e['canonicalizedBody'], `${where}.canonicalizedBody`),
    ...(promise?.['signedEntryTimestamp'] !== undefined ? { set: b64(promise['signedEntryTimestamp'], `${where}.inclusionPromise.signedEntryTimestamp`) } : {}),
    ...(proof ? { inclusionProof: proofFrom(proof, `${where}.inclusionProof`, 'base64') } : {}),
    ...(content ? { bundle: content } : {}),
  };
}

function bundleContent(b: Record<string, unknown>): BundleContent {
  const vm = rec(b['verificationMaterial']) ?? {};
  const cert = rec(vm['certificate'])?.['rawBytes'] ?? (rec(vm['x509CertificateChain'])?.['certificates'] as unknown[] | undefined)?.map(rec)[0]?.['rawBytes'];
  const hint = rec(vm['publicKey'])?.['hint'];
  const ms = rec(b['messageSignature']);
  const md = rec(ms?.['messageDigest']);
  const env = rec(b['dsseEnvelope']);
  const out: BundleContent = {};
  if (typeof cert === 'string') out.certificate = b64(cert, 'verificationMaterial.certificate');
  if (typeof hint === 'string') out.publicKeyHint = hint;
  if (md && md['algorithm'] === 'SHA2_256' && typeof md['digest'] === 'string') out.messageDigest = `sha256:${Buffer.from(b64(md['digest'], 'messageSignature.messageDigest.digest')).toString('hex')}`;
  if (ms && typeof ms['signature'] === 'string') out.messageSignature = b64(ms['signature'], 'messageSignature.signature');
  if (env) {
    const sigs = Array.isArray(env['signatures']) ? env['signatures'] : [];
    out.dsseEnvelope = {
      payload: b64(env['payload'], 'dsseEnvelope.payload'),
      payloadType: typeof env['payloadType'] === 'string' ? env['payloadType'] : '',
      signatures: sigs.map((s, i) => b64(rec(s)?.['sig'], `dsseEnvelope.signatures[${i}].sig`)),
    };
  }
  return out;
}

const BUNDLE_MEDIA = /^application\/vnd\.dev\.sigstore\.bundle(\+json;version=0\.[123]|\.v0\.3\+json)$/;

function fromBundle(b: Record<string, unknown>, where: string): TlogEntryInput[] {
  const mt = b['mediaType'];
  if (typeof mt !== 'string' || !BUNDLE_MEDIA.test(mt)) throw bad(where, `unsupported bundle mediaType ${JSON.stringify(mt)}`);
  const entries = rec(b['verificationMaterial'])?.['tlogEntries'];
  if (!Array.isArray(entries) || entries.length === 0) throw bad(where, 'bundle has no verificationMaterial.tlogEntries');
  const content = bundleContent(b);
  return entries.map((e, i) => {
    const r = rec(e);
    if (!r) throw bad(`${where}tlogEntries[${i}]`, 'not an object');
    return fromTransparencyLogEntry(r, `${where}tlogEntries[${i}]`, 'bundle', content);
  });
}

function fromLogEntry(id: string, v: Record<string, unknown>, where: string): TlogEntryInput {
  const ver = rec(v['verification']);
  const proof = rec(ver?.['inclusionProof']);
  return {
    source: 'rekor-v1',
    where,
    logIndex: int(v['logIndex'], `${where}.logIndex`),
    logId: hex(v['logID'], `${where}.logID`, 32),
    integratedTime: int(v['integratedTime'], `${where}.integratedTime`),
    body: b64(v['body'], `${where}.body`),
    ...(ver?.['signedEntryTimestamp'] !== undefined ? { set: b64(ver['signedEntryTimestamp'], `${where}.verification.signedEntryTimestamp`) } : {}),
    ...(proof ? { inclusionProof: proofFrom(proof, `${where}.verification.inclusionProof`, 'hex') } : {}),
  };
}

/** cosign's Rekor bundle: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
function fromCosignBundle(b: Record<string, unknown>, where: string): TlogEntryInput {
  const p = rec(b['Payload']) ?? {};
  return {
    source: 'rekor-v1',
    where,
    logIndex: int(p['logIndex'], `${where}.Payload.logIndex`),
    logId: hex(p['logID'], `${where}.Payload.logID`, 32),
    integratedTime: int(p['integratedTime'], `${where}.Payload.integratedTime`),
    body: b64(p['body'], `${where}.Payload.body`),
    set: b64(b['SignedEntryTimestamp'], `${where}.SignedEntryTimestamp`),
  };
}

const ENTRY_ID = /^([0-9a-f]{16})?[0-9a-f]{64}$/;

/** Every tlog entry in a parsed JSON document. Throws a one-line error when the document is none of the formats. */
export function parseTlogEntries(doc: unknown): TlogEntryInput[] {
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw bad('input', 'empty array');
    return doc.flatMap((d, i) => parseTlogEntries(d).map((e) => ({ ...e, where: `[${i}].${e.where}` })));
  }
  const o = rec(doc);
  if (!o) throw bad('input', 'expected a JSON object or array');
  if (typeof o['mediaType'] === 'string') return fromBundle(o, '');
  if (Array.isArray(o['attestations'])) {
    return o['attestations'].flatMap((a, i) => fromBundle(rec(rec(a)?.['bundle']) ?? {}, `attestations[${i}].bundle.`));
  }
  if (rec(o['rekorBundle'])) return [fromCosignBundle(rec(o['rekorBundle'])!, 'rekorBundle')];
  if (o['SignedEntryTimestamp'] !== undefined && rec(o['Payload'])) return [fromCosignBundle(o, '')];
  if (o['canonicalizedBody'] !== undefined && o['logIndex'] !== undefined) return [fromTransparencyLogEntry(o, 'entry', 'rekor-v2')];
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k) => ENTRY_ID.test(k))) {
    return keys.map((k) => {
      const v = rec(o[k]);
      if (!v) throw bad(k.slice(0, 16), 'LogEntry is not an object');
      return fromLogEntry(k, v, k.length === 80 ? k.slice(16, 32) : k.slice(0, 16));
    });
  }
  throw bad('input', 'not a Sigstore bundle, Rekor v1 LogEntry or Rekor v2 TransparencyLogEntry');
}
