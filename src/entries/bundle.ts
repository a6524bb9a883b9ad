/**
 * Sigstore bundles v0.1–v0.3: https://github.com/sigstore/protobuf-specs protos/sigstore_bundle.proto
 * (Bundle, VerificationMaterial), sigstore_rekor.proto (TransparencyLogEntry), in their protobuf JSON form.
 * Media types: `application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3` and, from v0.3,
 * `application/vnd.dev.sigstore.bundle.v0.3+json` (protobuf-specs docs/bundle.md "Media types").
 *
 * Only what verifying the transparency-log entries needs is read: the tlog entries, the content (message
 * signature or DSSE envelope) and signer material the log entry's body must match, and the RFC 3161
 * timestamps over the signature (`timestampVerificationData`, sigstore_bundle.proto).
 */
import type { Digest, DigestAlgorithm } from './types.ts';
import { b64, bad, int, list, obj, rec, str } from './tlog-input.ts';
import type { BundleContent, InclusionProofInput, TlogEntryInput } from './tlog-entry.ts';

const BUNDLE_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(?:\+json;version=0\.[123]|\.v0\.3\+json)$/;
const HASH_ALG: Readonly<Record<string, DigestAlgorithm>> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const MAX_TLOG_ENTRIES = 64;
const MAX_PROOF_HASHES = 64;
const MAX_CHAIN = 16;
const MAX_SIGNATURES = 64;
/** sigstore-go's limit (internal/limits MaxAllowedTimestamps): more is no bundle a client made. */
const MAX_TIMESTAMPS = 32;

/** protobuf-specs InclusionProof: base64 hashes, int64 strings, `checkpoint.envelope` (a signed note). */
function inclusionProof(p: Record<string, unknown>, where: string): InclusionProofInput {
  const cp = p['checkpoint'] === undefined ? undefined : obj(p['checkpoint'], `${where}.checkpoint`)['envelope'];
  return {
    logIndex: int(p['logIndex'], `${where}.logIndex`),
    treeSize: int(p['treeSize'], `${where}.treeSize`),
    rootHash: b64(p['rootHash'], `${where}.rootHash`, 32),
    hashes: list(p['hashes'] ?? [], `${where}.hashes`, MAX_PROOF_HASHES).map((h, i) => b64(h, `${where}.hashes[${i}]`, 32)),
    ...(cp === undefined ? {} : { checkpoint: str(cp, `${where}.checkpoint.envelope`) }),
  };
}

/** protobuf-specs TransparencyLogEntry: inside bundles, and Rekor v2's write response on its own. */
export function fromTransparencyLogEntry(e: Record<string, unknown>, where: string, source: 'bundle' | 'rekor-v2', content?: BundleContent): TlogEntryInput {
  const kv = obj(e['kindVersion'], `${where}.kindVersion`);
  const promise = e['inclusionPromise'] === null ? undefined : rec(e['inclusionPromise']);
  const proof = e['inclusionProof'] === null || e['inclusionProof'] === undefined ? undefined : obj(e['inclusionProof'], `${where}.inclusionProof`);
  // Rekor v2 reports integratedTime 0 (it has none); proto3 JSON omits zero values altogether.
  const it = e['integratedTime'] === undefined ? 0n : int(e['integratedTime'], `${where}.integratedTime`);
  if (e['canonicalizedBody'] === undefined) {
    throw bad(`${where}.canonicalizedBody`, 'missing (bundles may omit it before v0.2; without the body the entry cannot be verified)');
  }
  return {
    source,
    where,
    logIndex: int(e['logIndex'], `${where}.logIndex`),
    logId: b64(obj(e['logId'], `${where}.logId`)['keyId'], `${where}.logId.keyId`),
    kind: str(kv['kind'], `${where}.kindVersion.kind`),
    version: str(kv['version'], `${where}.kindVersion.version`),
    ...(it !== 0n ? { integratedTime: it } : {}),
    body: b64(e['canonicalizedBody'], `${where}.canonicalizedBody`),
    ...(promise ? { set: b64(promise['signedEntryTimestamp'], `${where}.inclusionPromise.signedEntryTimestamp`) } : {}),
    ...(proof ? { inclusionProof: inclusionProof(proof, `${where}.inclusionProof`) } : {}),
    ...(content ? { bundleContent: content } : {}),
  };
}

function messageDigest(md: Record<string, unknown>, where: string): Digest {
  const alg = HASH_ALG[str(md['algorithm'], `${where}.algorithm`)];
  if (!alg) throw bad(`${where}.algorithm`, `unsupported hash algorithm ${JSON.stringify(md['algorithm'])}`);
  const digest = b64(md['digest'], `${where}.digest`, { sha256: 32, sha384: 48, sha512: 64 }[alg]);
  return `${alg}:${Buffer.from(digest).toString('hex')}`;
}

/** What a bundle signs and who signed it, for matching against the log entry's body. */
function bundleContent(b: Record<string, unknown>, mediaType: string, where: string): BundleContent {
  const vm = obj(b['verificationMaterial'], `${where}verificationMaterial`);
  const out: BundleContent = { mediaType };
  if (vm['certificate'] !== undefined) {
    out.certificate = b64(obj(vm['certificate'], `${where}verificationMaterial.certificate`)['rawBytes'], `${where}verificationMaterial.certificate.rawBytes`);
  } else if (vm['x509CertificateChain'] !== undefined) {
    const at = `${where}verificationMaterial.x509CertificateChain.certificates`;
    const certs = list(obj(vm['x509CertificateChain'], at)['certificates'], at, MAX_CHAIN);
    out.chain = certs.map((c, i) => b64(obj(c, `${at}[${i}]`)['rawBytes'], `${at}[${i}].rawBytes`));
    if (out.chain[0]) out.certificate = out.chain[0];
  } else if (vm['publicKey'] !== undefined) {
    const hint = obj(vm['publicKey'], `${where}verificationMaterial.publicKey`)['hint'];
    if (hint !== undefined) out.publicKeyHint = str(hint, `${where}verificationMaterial.publicKey.hint`);
  }
  // proto3 JSON writes an unset message as null or leaves it out, and an empty list likewise (npm's
  // v0.1 bundles have `timestampVerificationData: null`).
  if (vm['timestampVerificationData'] !== undefined && vm['timestampVerificationData'] !== null) {
    const at = `${where}verificationMaterial.timestampVerificationData.rfc3161Timestamps`;
    const tvd = obj(vm['timestampVerificationData'], `${where}verificationMaterial.timestampVerificationData`);
    if (tvd['rfc3161Timestamps'] !== undefined && tvd['rfc3161Timestamps'] !== null) {
      out.timestamps = list(tvd['rfc3161Timestamps'], at, MAX_TIMESTAMPS).map((t, i) => b64(obj(t, `${at}[${i}]`)['signedTimestamp'], `${at}[${i}].signedTimestamp`));
    }
  }
  if (b['messageSignature'] !== undefined) {
    const ms = obj(b['messageSignature'], `${where}messageSignature`);
    if (ms['messageDigest'] !== undefined) out.messageDigest = messageDigest(obj(ms['messageDigest'], `${where}messageSignature.messageDigest`), `${where}messageSignature.messageDigest`);
    out.messageSignature = b64(ms['signature'], `${where}messageSignature.signature`);
  } else if (b['dsseEnvelope'] !== undefined) {
    const at = `${where}dsseEnvelope`;
    const env = obj(b['dsseEnvelope'], at);
    out.dsseEnvelope = {
      payload: b64(env['payload'], `${at}.payload`),
      payloadType: str(env['payloadType'], `${at}.payloadType`),
      signatures: list(env['signatures'], `${at}.signatures`, MAX_SIGNATURES).map((s, i) => {
        const sig = obj(s, `${at}.signatures[${i}]`);
        return { sig: b64(sig['sig'], `${at}.signatures[${i}].sig`), keyid: typeof sig['keyid'] === 'string' ? sig['keyid'] : '' };
      }),
    };
  } else throw bad(where || 'bundle', 'has neither messageSignature nor dsseEnvelope');
  return out;
}

/** Every tlog entry of one bundle; `where` prefixes paths in messages (e.g. `attestations[1].bundle.`). */
export function fromBundle(b: Record<string, unknown>, where: string): TlogEntryInput[] {
  const mediaType = b['mediaType'];
  if (typeof mediaType !== 'string' || !BUNDLE_MEDIA_TYPE.test(mediaType)) {
    throw bad(`${where}mediaType`, `unsupported bundle mediaType ${JSON.stringify(mediaType)?.slice(0, 80)} (expected application/vnd.dev.sigstore.bundle v0.1–v0.3)`);
  }
  const at = `${where}verificationMaterial.tlogEntries`;
  const entries = list(obj(b['verificationMaterial'], `${where}verificationMaterial`)['tlogEntries'], at, MAX_TLOG_ENTRIES);
  if (entries.length === 0) throw bad(at, 'empty: the bundle has no transparency-log entry');
  const content = bundleContent(b, mediaType, where);
  return entries.map((e, i) => fromTransparencyLogEntry(obj(e, `${at}[${i}]`), `${at}[${i}]`, 'bundle', content));
}
