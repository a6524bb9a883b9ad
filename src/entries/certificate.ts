/**
 * Fulcio identity claims straight from certificate DER (RFC 5280 §4.1; Fulcio OIDs in reference/rekor.md §6).
 *
 * Why not @sigstore/core: its X509Certificate builds a full ASN.1 tree and measures ~3.9k certs/s here,
 * far below the mirror's 15k entries/s; this walker reads only validity, SAN and 1.3.6.1.4.1.57264.1.*
 * and is checked for equality against @sigstore/core on every real certificate in the test fixtures.
 */
import { createHash } from 'node:crypto';
import { children, decodeOid, decodeString, decodeTime, DerError, expectTag, readTlv, type Tlv } from './der.ts';
import { FULCIO_OIDS, type FulcioClaimName, type FulcioClaims } from './types.ts';

export interface CertificateClaims {
  /** `sha256:<hex>` of the DER certificate. */
  fingerprint: `sha256:${string}`;
  san?: string;
  issuer?: string;
  fulcio: FulcioClaims;
  notBefore: number;
  notAfter: number;
}

const SAN_OID = '2.5.29.17';
const FULCIO_PREFIX = '1.3.6.1.4.1.57264.1.';
const OTHERNAME_OID = FULCIO_OIDS.otherNameSan;
const NAME_BY_ARC = new Map<number, FulcioClaimName>(
  Object.entries(FULCIO_OIDS).map(([name, oid]) => [Number(oid.slice(FULCIO_PREFIX.length)), name as FulcioClaimName]),
);

/** SubjectAltName: the URI, else the email, else the Fulcio OtherName (the order @sigstore/core uses for URI/email). */
function readSan(b: Uint8Array, value: Tlv): string | undefined {
  const names = children(b, expectTag(readTlv(b, value.start, value.end), 0x30, 'GeneralNames'));
  let uri: string | undefined;
  let email: string | undefined;
  let other: string | undefined;
  for (const n of names) {
    if (n.tag === 0x86 && uri === undefined) uri = decodeString(b, n, 'latin1');
    else if (n.tag === 0x81 && email === undefined) email = decodeString(b, n, 'latin1');
    else if (n.tag === 0xa0 && other === undefined) {
      const [oid, wrapped] = children(b, n);
      if (oid?.tag === 0x06 && decodeOid(b, oid) === OTHERNAME_OID && wrapped?.tag === 0xa0) {
        const inner = readTlv(b, wrapped.start, wrapped.end);
        other = decodeString(b, inner);
      }
    }
  }
  return uri ?? email ?? other;
}

export function readCertificateClaims(der: Uint8Array): CertificateClaims {
  const cert = expectTag(readTlv(der, 0), 0x30, 'Certificate');
  if (cert.next !== der.length) throw new DerError('trailing bytes after the certificate');
  const tbs = expectTag(readTlv(der, cert.start, cert.end), 0x30, 'TBSCertificate');
  const f = children(der, tbs);
  let i = 0;
  if (f[0]?.tag === 0xa0) i++; // [0] EXPLICIT version
  i += 3; // serialNumber, signature, issuer
  const validity = children(der, expectTag(f[i++], 0x30, 'Validity'));
  if (validity.length !== 2) throw new DerError('Validity must hold two times');
  i += 2; // subject, subjectPublicKeyInfo
  const claims: CertificateClaims = {
    fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`,
    fulcio: {},
    notBefore: decodeTime(der, validity[0]!),
    notAfter: decodeTime(der, validity[1]!),
  };
  const extsWrapper = f.slice(i).find((t) => t.tag === 0xa3);
  if (!extsWrapper) return claims;
  const exts = children(der, expectTag(readTlv(der, extsWrapper.start, extsWrapper.end), 0x30, 'Extensions'));
  for (const ext of exts) {
    const parts = children(der, expectTag(ext, 0x30, 'Extension'));
    const oid = decodeOid(der, expectTag(parts[0], 0x06, 'extnID'));
    const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue');
    if (oid === SAN_OID) {
      const san = readSan(der, value);
      if (san !== undefined) claims.san = san;
    } else if (oid.startsWith(FULCIO_PREFIX)) {
      const arc = Number(oid.slice(FULCIO_PREFIX.length));
      const name = NAME_BY_ARC.get(arc);
      if (!name || name === 'otherNameSan') continue;
      // .1–.6 are raw strings; .8 onwards are DER UTF8String (Fulcio docs/oid-info.md).
      claims.fulcio[name] = arc <= 6 ? decodeString(der, value) : decodeString(der, expectTag(readTlv(der, value.start, value.end), 0x0c, `Fulcio extension .${arc}`));
    }
  }
  const issuer = claims.fulcio.issuer ?? claims.fulcio.issuerV1;
  if (issuer !== undefined) claims.issuer = issuer;
  return claims;
}

/** A small LRU of claims by certificate bytes' fingerprint: DSSE multi-signature entries and busy
 *  signers repeat certificates, and the DER walk is the dominant cost of decoding. */
export class ClaimsCache {
  readonly #max: number;
  readonly #map = new Map<string, CertificateClaims>();
  constructor(max = 4096) {
    this.#max = max;
  }
  get(der: Uint8Array): CertificateClaims {
    const key = createHash('sha256').update(der).digest('base64');
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
      return hit;
    }
    const claims = readCertificateClaims(der);
    this.#map.set(key, claims);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
    return claims;
  }
}
