/**
 * Signer identity from the key material an entry carries. Material is classified by its structure,
 * never by trial and error, so a malformed certificate is reported rather than mistaken for a key:
 *
 * - PEM (RFC 7468) `CERTIFICATE` → Fulcio claims; `PUBLIC KEY` → fingerprint of the DER SPKI;
 * - DER `Certificate` (SEQUENCE of three: SEQUENCE, SEQUENCE, BIT STRING; RFC 5280 §4.1) → claims;
 * - DER `SubjectPublicKeyInfo` (SEQUENCE of two: SEQUENCE, BIT STRING; RFC 5280 §4.1.2.7) → fingerprint;
 * - anything else (PGP, SSH, minisign, other PEM labels) → fingerprint of the bytes as given.
 */
import { sha256Hex } from '../util/sha256.ts';
import { parseBase64Canonical } from './base64.ts';
import { type CertificateClaims, readCertificateClaims } from './certificate.ts';
import { children, DerError, readTlv, TAG } from './der.ts';
import type { Digest, Signer } from './types.ts';

/** Where certificate claims come from: readCertificateClaims, or a ClaimsCache the caller owns. */
export interface CertificateReader {
  read(der: Uint8Array): CertificateClaims;
}

export const uncachedCertificates: CertificateReader = { read: readCertificateClaims };

const sha256 = (b: Uint8Array): Digest => `sha256:${sha256Hex(b)}`;

/**
 * The DER certificate a freshly decoded signer was read from, for the few entries whose issuer is checked
 * (monitor findings: trust/certificate-authority.ts). Under a symbol key, so JSON (findings, the API) and
 * the store's codec never see it, and the bytes go when the signer does. A WeakMap beside the signers cost
 * ~2.5 µs per decoded entry in GC (ephemerons), a third of reading the certificate's claims.
 */
const CERTIFICATE = Symbol('certificate DER');
type WithCertificate = Signer & { [CERTIFICATE]?: Uint8Array };
export const certificateOf = (s: Signer): Uint8Array | undefined => (s as WithCertificate)[CERTIFICATE];

/** Says what was wrong with a certificate whose signer is still read (CertificateClaims.problem). */
export type ProblemSink = (message: string) => void;

export function signerFromCertificate(der: Uint8Array, certs: CertificateReader, problem?: ProblemSink): Signer {
  const c = certs.read(der);
  if (c.problem !== undefined) problem?.(c.problem);
  const signer: WithCertificate = { type: 'x509', fingerprint: c.fingerprint, keyFingerprint: c.keyFingerprint, [CERTIFICATE]: der };
  if (c.san !== undefined) signer.san = c.san;
  if (c.sans !== undefined) signer.sans = c.sans;
  if (c.issuer !== undefined) signer.issuer = c.issuer;
  // The claims object is frozen (it may be shared through a cache); an empty one is left out.
  for (const _ in c.fulcio) {
    signer.fulcio = c.fulcio;
    break;
  }
  if (c.notBefore !== undefined) signer.notBefore = c.notBefore;
  if (c.notAfter !== undefined) signer.notAfter = c.notAfter;
  return signer;
}

/** A DER SubjectPublicKeyInfo, fingerprinted as is (Rekor v2 `publicKey.rawBytes`). */
export function signerFromSpki(der: Uint8Array): Signer {
  return { type: 'key', fingerprint: sha256(der) };
}

const PEM_BEGIN = '-----BEGIN ';
const latin1 = new TextDecoder('latin1');

/**
 * The DER inside the first PEM block when it is labelled CERTIFICATE or PUBLIC KEY (RFC 7468 §5, §13);
 * undefined for other text, including PGP armor, which looks like PEM but is not (RFC 4880 §6.2).
 */
function pemDer(material: Uint8Array): { label: 'CERTIFICATE' | 'PUBLIC KEY'; der: Uint8Array } | undefined {
  if (!latin1.decode(material.subarray(0, 64)).trimStart().startsWith(PEM_BEGIN)) return undefined;
  const text = latin1.decode(material);
  const begin = text.indexOf(PEM_BEGIN) + PEM_BEGIN.length;
  const label = text.startsWith('CERTIFICATE-----', begin) ? 'CERTIFICATE' : text.startsWith('PUBLIC KEY-----', begin) ? 'PUBLIC KEY' : undefined;
  if (!label) return undefined;
  const bodyStart = begin + label.length + 5;
  // A certificate PEM may hold a chain; the first block is the signer's.
  const end = text.indexOf(`-----END ${label}-----`, bodyStart);
  if (end < 0) throw new DerError(`PEM ${label} has no END line`);
  const der = parseBase64Canonical(text.slice(bodyStart, end).replace(/[ \t\r\n]/g, ''));
  if (!der) throw new DerError(`PEM ${label} is not base64`);
  return { label, der };
}

type DerShape = 'certificate' | 'spki' | 'other' | 'malformed';

/**
 * Top-level shape of DER bytes, without parsing deeper than the first level. No key format in Rekor
 * starts with a SEQUENCE tag unless it is DER, so bytes that start like DER but do not parse are
 * `malformed` (a truncated certificate must not pass for an opaque key).
 */
function derShape(b: Uint8Array): DerShape {
  if (b[0] !== TAG.SEQUENCE) return 'other';
  let kids;
  try {
    const top = readTlv(b, 0, b.length);
    if (top.end !== b.length) return 'malformed';
    kids = children(b, top);
  } catch {
    return 'malformed';
  }
  const tags = kids.map((k) => k.tag).join(',');
  if (tags === `${TAG.SEQUENCE},${TAG.SEQUENCE},${TAG.BIT_STRING}`) return 'certificate';
  if (tags === `${TAG.SEQUENCE},${TAG.BIT_STRING}`) return 'spki';
  return 'other';
}

/**
 * Signer from key material as Rekor v1 bodies carry it (after their base64): PEM or DER certificate or
 * public key, or another key format. Throws DerError when certificate-shaped material is malformed; a
 * certificate with a value the walker leaves out (CertificateClaims.problem) still gives its signer, and
 * `problem` says so.
 */
export function signerFromKeyMaterial(material: Uint8Array, certs: CertificateReader, problem?: ProblemSink): Signer {
  const pem = material[0] === TAG.SEQUENCE ? undefined : pemDer(material);
  const der = pem?.der ?? material;
  const shape = derShape(der);
  if (pem?.label === 'CERTIFICATE' || shape === 'certificate') return signerFromCertificate(der, certs, problem);
  if (pem?.label === 'PUBLIC KEY' && shape !== 'spki') throw new DerError('PEM PUBLIC KEY is not a SubjectPublicKeyInfo');
  if (shape === 'malformed') throw new DerError('key material starts like DER but is not well-formed DER');
  // A DER SPKI is fingerprinted as is; PGP, SSH and minisign keys by their bytes as the body gives them.
  return { type: 'key', fingerprint: sha256(der) };
}
