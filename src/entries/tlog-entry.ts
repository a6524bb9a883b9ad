/**
 * The transparency-log entries `tlogwatch verify` accepts, parsed into one shape (DESIGN.md "Stable
 * contracts", verify):
 *
 * - Sigstore bundles v0.1–v0.3 (bundle.ts), alone, in an array, or in npm's attestations response
 *   (`{attestations: [{predicateType, bundle}]}`);
 * - Rekor v1 LogEntry responses: `{ "<entry ID or UUID>": LogEntry }` or an array of them
 *   (reference/rekor.md §1.3; `verification.inclusionProof.logIndex` is shard-local, hashes hex);
 * - cosign's Rekor bundles `{SignedEntryTimestamp, Payload}`, also inside its legacy signature bundle
 *   `{base64Signature, cert, rekorBundle}` (Rekor v1 entries with a SET only);
 * - Rekor v2 TransparencyLogEntry JSON (the write response; reference/rekor.md §3.2);
 * - PyPI's PEP 740 attestation objects, alone or in a provenance object (pypi-attestation.ts).
 *
 * Input is narrowed from `unknown`; a rejection is a TlogwatchError ENTRY_MALFORMED naming the field.
 * Nothing is verified here.
 */
import type { Digest } from './types.ts';
import { fromBundle, fromTransparencyLogEntry } from './bundle.ts';
import { fromPypiAttestation, fromPypiProvenance, isPypiAttestation, isPypiProvenance } from './pypi-attestation.ts';
import { b64, bad, hex, int, list, obj, rec, str } from './tlog-input.ts';

export interface InclusionProofInput {
  /** Shard-local for Rekor v1 (rekor.md §1.5); equal to the entry's index on Rekor v2. */
  logIndex: bigint;
  treeSize: bigint;
  rootHash: Uint8Array;
  /** Leaf to root. */
  hashes: Uint8Array[];
  /** The signed note (checkpoint) the proof was made against, when the log gave one. */
  checkpoint?: string;
}

/** What the entry's body must match: the signed content and the signer, as the bundle states them. */
export interface BundleContent {
  /** Absent for cosign's legacy bundle. */
  mediaType?: string;
  messageDigest?: Digest;
  messageSignature?: Uint8Array;
  dsseEnvelope?: { payload: Uint8Array; payloadType: string; signatures: { sig: Uint8Array; keyid: string }[] };
  /** The leaf certificate (DER): v0.3 `certificate`, else the first of `x509CertificateChain`. */
  certificate?: Uint8Array;
  /** The whole `x509CertificateChain`, leaf first (v0.1/v0.2). */
  chain?: Uint8Array[];
  /** `verificationMaterial.publicKey.hint`. */
  publicKeyHint?: string;
  /**
   * `verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp`: DER RFC 3161
   * TimeStampResps over the signature, unverified here (verify/rfc3161.ts checks them).
   */
  timestamps?: Uint8Array[];
}

export interface TlogEntryInput {
  /** The input format: a bundle (or npm attestation), a Rekor v1 response (or cosign bundle), a Rekor v2 response. */
  source: 'bundle' | 'rekor-v1' | 'rekor-v2';
  /** Where in the document it was found, for messages, e.g. `verificationMaterial.tlogEntries[0]`. */
  where: string;
  /** The virtual (global) index for Rekor v1. */
  logIndex: bigint;
  /** The log's key ID: SHA-256 of its SPKI for Rekor v1 (`logID`), the C2SP key ID for Rekor v2. */
  logId: Uint8Array;
  /** From kindVersion, or read from the body for Rekor v1 responses (absent when the body is not JSON). */
  kind?: string;
  version?: string;
  /** Absent on Rekor v2, which reports 0. */
  integratedTime?: bigint;
  /** The canonical entry body (leaf data). */
  body: Uint8Array;
  /** Signed entry timestamp (inclusion promise), Rekor v1 only. */
  set?: Uint8Array;
  inclusionProof?: InclusionProofInput;
  bundleContent?: BundleContent;
  /** The key a Rekor v1 LogEntry response was filed under: 80-hex entry ID or 64-hex UUID (= the leaf hash). */
  entryId?: string;
}

const MAX_DOCUMENTS = 10_000;
const MAX_PROOF_HASHES = 64;
/** Rekor v1 EntryID (16-hex tree ID + 64-hex UUID) or bare UUID (rekor.md §1.4). */
const ENTRY_ID = /^(?:[0-9a-f]{16})?[0-9a-f]{64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `kind` and `apiVersion` of a Rekor v1 body, when it is JSON that has them. */
function peekKind(body: Uint8Array): { kind?: string; version?: string } {
  try {
    const doc = rec(JSON.parse(utf8.decode(body)) as unknown);
    const kind = doc?.['kind'];
    const version = doc?.['apiVersion'];
    return { ...(typeof kind === 'string' ? { kind } : {}), ...(typeof version === 'string' ? { version } : {}) };
  } catch {
    return {};
  }
}

function rekorV1Entry(id: string, v: Record<string, unknown>, where: string): TlogEntryInput {
  const ver = v['verification'] === undefined ? undefined : obj(v['verification'], `${where}.verification`);
  const p = ver?.['inclusionProof'] === undefined ? undefined : obj(ver['inclusionProof'], `${where}.verification.inclusionProof`);
  const at = `${where}.verification.inclusionProof`;
  const body = b64(v['body'], `${where}.body`);
  return {
    source: 'rekor-v1',
    where,
    logIndex: int(v['logIndex'], `${where}.logIndex`),
    logId: hex(v['logID'], `${where}.logID`, 32),
    ...peekKind(body),
    integratedTime: int(v['integratedTime'], `${where}.integratedTime`),
    body,
    ...(ver?.['signedEntryTimestamp'] !== undefined ? { set: b64(ver['signedEntryTimestamp'], `${where}.verification.signedEntryTimestamp`) } : {}),
    ...(p
      ? {
          inclusionProof: {
            logIndex: int(p['logIndex'], `${at}.logIndex`),
            treeSize: int(p['treeSize'], `${at}.treeSize`),
            rootHash: hex(p['rootHash'], `${at}.rootHash`, 32),
            hashes: list(p['hashes'], `${at}.hashes`, MAX_PROOF_HASHES).map((h, i) => hex(h, `${at}.hashes[${i}]`, 32)),
            ...(p['checkpoint'] !== undefined ? { checkpoint: str(p['checkpoint'], `${at}.checkpoint`) } : {}),
          },
        }
      : {}),
    entryId: id,
  };
}

/** cosign's Rekor bundle: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
function cosignRekorBundle(b: Record<string, unknown>, where: string, content?: BundleContent): TlogEntryInput {
  const p = obj(b['Payload'], `${where}Payload`);
  const body = b64(p['body'], `${where}Payload.body`);
  return {
    source: 'rekor-v1',
    where: where.replace(/\.$/, '') || 'rekorBundle',
    logIndex: int(p['logIndex'], `${where}Payload.logIndex`),
    logId: hex(p['logID'], `${where}Payload.logID`, 32),
    ...peekKind(body),
    integratedTime: int(p['integratedTime'], `${where}Payload.integratedTime`),
    body,
    set: b64(b['SignedEntryTimestamp'], `${where}SignedEntryTimestamp`),
    ...(content ? { bundleContent: content } : {}),
  };
}

/** cosign's legacy signature bundle: `{base64Signature, cert (base64 PEM), rekorBundle}`. */
function cosignLegacyBundle(o: Record<string, unknown>): TlogEntryInput {
  const content: BundleContent = { messageSignature: b64(o['base64Signature'], 'base64Signature') };
  if (o['cert'] !== undefined) {
    const pem = Buffer.from(b64(o['cert'], 'cert')).toString('latin1');
    const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw bad('cert', 'expected base64 of a PEM certificate');
    content.certificate = b64(m[1]!.replace(/\s/g, ''), 'cert (PEM body)');
  }
  return cosignRekorBundle(obj(o['rekorBundle'], 'rekorBundle'), 'rekorBundle.', content);
}

function parseDocument(o: Record<string, unknown>): TlogEntryInput[] {
  if (o['mediaType'] !== undefined) return fromBundle(o, '');
  if (o['attestations'] !== undefined) {
    return list(o['attestations'], 'attestations', MAX_DOCUMENTS).flatMap((a, i) => fromBundle(obj(obj(a, `attestations[${i}]`)['bundle'], `attestations[${i}].bundle`), `attestations[${i}].bundle.`));
  }
  if (o['rekorBundle'] !== undefined) return [cosignLegacyBundle(o)];
  if (o['SignedEntryTimestamp'] !== undefined) return [cosignRekorBundle(o, '')];
  if (o['canonicalizedBody'] !== undefined) return [fromTransparencyLogEntry(o, 'entry', 'rekor-v2')];
  if (isPypiAttestation(o)) return fromPypiAttestation(o, '');
  if (isPypiProvenance(o)) return fromPypiProvenance(o);
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k) => ENTRY_ID.test(k))) return keys.map((k) => rekorV1Entry(k, obj(o[k], `"${k}"`), `"${k}"`));
  const like = lookalike(o);
  if (like) throw bad('input', `this is ${like}, which holds no transparency-log entry`);
  throw bad('input', `not a Sigstore bundle, Rekor v1 LogEntry, cosign bundle, Rekor v2 TransparencyLogEntry or PEP 740 attestation (top-level keys: ${keys.slice(0, 5).join(', ') || 'none'})`);
}

/** Names the Rekor responses people most often pass by mistake. */
function lookalike(o: Record<string, unknown>): string | undefined {
  if (o['signedTreeHead'] !== undefined && o['treeSize'] !== undefined) return 'a Rekor v1 LogInfo (GET /api/v1/log)';
  if (Array.isArray(o['hashes']) && o['rootHash'] !== undefined) return 'a Rekor v1 consistency proof (GET /api/v1/log/proof)';
  return undefined;
}

/** Every tlog entry in a parsed JSON document. Throws TlogwatchError ENTRY_MALFORMED naming the bad field. */
export function parseTlogEntries(doc: unknown): TlogEntryInput[] {
  if (Array.isArray(doc)) {
    const docs = list(doc, 'input', MAX_DOCUMENTS);
    if (docs.length === 0) throw bad('input', 'an empty array');
    return docs.flatMap((d, i) => {
      const o = rec(d);
      if (!o) throw bad(`[${i}]`, 'expected an object');
      return parseDocument(o).map((e) => ({ ...e, where: `[${i}].${e.where}` }));
    });
  }
  const o = rec(doc);
  if (!o) throw bad('input', 'expected a JSON object or array');
  return parseDocument(o);
}
