/** What the kind decoders share: digest normalisation, key material and the facts they accumulate. */
import { isRecord } from '../../util/json.ts';
import { parseBase64Canonical, parseBase64CanonicalTransient } from '../base64.ts';
import { type CertificateReader, type ProblemSink, signerFromCertificate, signerFromKeyMaterial, signerFromSpki } from '../signer.ts';
import type { DecodeProblem, Digest, DigestAlgorithm, Signer } from '../types.ts';

const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
const V1_ALG: Readonly<Record<string, DigestAlgorithm>> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
/** protobuf-specs HashAlgorithm names (sigstore_common.proto). */
const V2_ALG: Readonly<Record<string, DigestAlgorithm>> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const HEX_RE = /^[0-9a-fA-F]+$/;
/** No legitimate key or certificate comes near this; bigger values are not decoded. */
const MAX_KEY_BYTES = 256 * 1024;

/**
 * `{algorithm: "sha256", value: "<hex>"}` (Rekor v1 schemas) → `sha256:<hex>`. Rekor's patterns admit
 * upper-case hex; the index is lower-case so that a search finds it either way.
 */
export function v1Hash(o: unknown): Digest | undefined {
  if (!isRecord(o)) return undefined;
  const alg = typeof o['algorithm'] === 'string' ? V1_ALG[o['algorithm']] : undefined;
  const value = o['value'];
  if (!alg || typeof value !== 'string' || value.length !== HEX_LEN[alg] || !HEX_RE.test(value)) return undefined;
  return `${alg}:${value.toLowerCase()}`;
}

/** `{algorithm: "SHA2_256", digest: "<base64>"}` (protobuf-specs HashOutput) → `sha256:<hex>`. */
export function v2Hash(o: unknown): Digest | undefined {
  if (!isRecord(o)) return undefined;
  const alg = typeof o['algorithm'] === 'string' ? V2_ALG[o['algorithm']] : undefined;
  const digest = typeof o['digest'] === 'string' ? parseBase64CanonicalTransient(o['digest']) : undefined;
  if (!alg || !digest || digest.length * 2 !== HEX_LEN[alg]) return undefined;
  return `${alg}:${Buffer.from(digest.buffer, digest.byteOffset, digest.length).toString('hex')}`;
}

/** A string short enough to encode at most `max` bytes in base64. */
const base64Within = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= Math.ceil(max / 3) * 4;

/** Base64 (`format: byte`) of at most `max` decoded bytes, or undefined. */
export function b64(v: unknown, max = MAX_KEY_BYTES): Uint8Array | undefined {
  return base64Within(v, max) ? parseBase64Canonical(v) : undefined;
}

/** Digests and signers found in one `spec`, and the first thing that was wrong with it. */
export class Facts {
  readonly digests: Digest[] = [];
  readonly signers: Signer[] = [];
  problem?: DecodeProblem;
  readonly #certs: CertificateReader;

  constructor(certs: CertificateReader) {
    this.#certs = certs;
  }

  /** A digest the schema requires: its absence is a problem. */
  digest(d: Digest | undefined, what: string): void {
    if (d) this.digests.push(d);
    else this.fail(`${what} is missing or not a supported hash`);
  }

  /** A digest the schema makes optional (e.g. payloadHash on old intoto entries). */
  optionalDigest(d: Digest | undefined): void {
    if (d) this.digests.push(d);
  }

  /** Key material as Rekor v1 bodies carry it: base64 of a PEM or DER certificate or key, or of another key format. */
  keyBase64(v: unknown, what: string): void {
    const bytes = b64(v);
    if (!bytes || bytes.length === 0) return this.fail(`${what} is missing or not base64`);
    this.#guard(what, (problem) => signerFromKeyMaterial(bytes, this.#certs, problem));
  }

  /** protobuf-specs PublicKey.rawBytes / X509Certificate.rawBytes (Rekor v2): the field says which it is. */
  rawKey(v: unknown, form: 'certificate' | 'spki', what: string): void {
    // A certificate signer keeps its DER (signer.ts certificateOf: the monitor checks its issuer after the
    // whole chunk is decoded), so it gets bytes of its own; a key's signer keeps only its fingerprint, so
    // its DER may be the decoder's reused buffer, overwritten by the next entry.
    const der = !base64Within(v, MAX_KEY_BYTES) ? undefined : form === 'certificate' ? parseBase64Canonical(v) : parseBase64CanonicalTransient(v);
    if (!der || der.length === 0) return this.fail(`${what} is missing or not base64`);
    this.#guard(what, (problem) => (form === 'certificate' ? signerFromCertificate(der, this.#certs, problem) : signerFromSpki(der)));
  }

  fail(message: string, code: DecodeProblem['code'] = 'ENTRY_MALFORMED'): void {
    this.problem ??= { code, message };
  }

  /** `f` gets where to say what was wrong with a signer it still returns. */
  #guard(what: string, f: (problem: ProblemSink) => Signer): void {
    try {
      this.signers.push(f((message) => this.fail(`${what}: ${message.slice(0, 400)}`)));
    } catch (e) {
      this.fail(`${what}: ${e instanceof Error ? e.message.slice(0, 160) : 'unreadable'}`);
    }
  }
}

export const rec = (o: unknown): Record<string, unknown> => (isRecord(o) ? o : {});
/**
 * Signatures read per entry. No real entry has more than a handful, and each costs a certificate's parse,
 * so a body's list is bounded; but never silently: a signer past the bound could be the one a rule
 * watches, so an entry with more records a problem that says so (its first signers are still read).
 */
export const MAX_SIGNATURES = 1024;
export function signatureList(o: unknown, what: string, f: Facts): unknown[] {
  if (!Array.isArray(o)) return [];
  if (o.length > MAX_SIGNATURES) f.fail(`${what} has ${o.length} signatures: only the first ${MAX_SIGNATURES} were read`);
  return o.slice(0, MAX_SIGNATURES);
}
