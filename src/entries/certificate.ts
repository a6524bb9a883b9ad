/**
 * Fulcio identity claims read straight from certificate DER.
 * RFC 5280 §4.1 (Certificate, TBSCertificate), §4.2 (extensions), §4.2.1.6 (SubjectAltName);
 * Fulcio OIDs: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md (reference/rekor.md §6).
 *
 * Why not @sigstore/core or node:crypto: @sigstore/core's X509Certificate builds a whole ASN.1 tree
 * (~4k certs/s here) and node's exposes no custom extensions; the mirror decodes ≥15k entries/s. This
 * walker visits only validity, SAN and 1.3.6.1.4.1.57264.1.*, and a test checks it claim-for-claim
 * against @sigstore/core on every real certificate in the fixtures and on generated ones.
 *
 * It does NOT verify anything: claims are what the certificate says, for indexing and monitoring. Chain
 * and signature verification belong to `tlogwatch verify`. Its strictness stops at the certificate's
 * structure: anyone can log a certificate Go parses, and one with a garbled value must still be seen by
 * the watches on its SAN and fingerprint, so such a value costs only itself (readClaims' problems).
 */
import { sha256Hex } from '../util/sha256.ts';
import { checkOid, children, decodeTime, decodeUtf8, DerError, encodeOid, expectTag, oidEquals, only, readTlv, TAG, type Tlv } from './der.ts';
import { readSubjectAltNames } from './subject-alt-name.ts';
import { FULCIO_OIDS, type FulcioClaimName, type FulcioClaims } from './types.ts';

export interface CertificateClaims {
  /** `sha256:<hex>` of the DER certificate. */
  readonly fingerprint: `sha256:${string}`;
  /**
   * `sha256:<hex>` of the certificate's DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): the fingerprint the
   * same key has as a key signer (signer.ts), so a watch on a long-lived key also sees a certificate made
   * around it.
   */
  readonly keyFingerprint: `sha256:${string}`;
  /** The primary SAN: the first URI SAN, else the first email, else the Fulcio OtherName (.7) username. */
  readonly san?: string;
  /**
   * Every identity the SubjectAltName names (URIs, emails, DNS names, IP addresses, Fulcio usernames), `san`
   * first, each once: absent when it would be `[san]` or empty (subject-alt-name.ts).
   */
  readonly sans?: readonly string[];
  /** OIDC issuer: extension .8, else the deprecated .1. */
  readonly issuer?: string;
  readonly fulcio: Readonly<FulcioClaims>;
  /** Validity, seconds since the epoch; absent when not an RFC 5280 time (then `problem` says so). */
  readonly notBefore?: number;
  readonly notAfter?: number;
  /**
   * What was left out and why (a Fulcio extension value, an otherName, a validity time): absent when
   * nothing was. The decoder makes it the entry's problem; the signer keeps its fingerprint and the rest.
   */
  readonly problem?: string;
}

const SAN_OID = encodeOid('2.5.29.17');
/** 1.3.6.1.4.1.57264.1 (9 content octets); every Fulcio extension is this plus one single-byte arc. */
const FULCIO_PREFIX = encodeOid('1.3.6.1.4.1.57264.1');
const FULCIO_NAME_BY_ARC: (FulcioClaimName | undefined)[] = [];
for (const [name, oid] of Object.entries(FULCIO_OIDS) as [FulcioClaimName, string][]) {
  if (name !== 'otherNameSan') FULCIO_NAME_BY_ARC[Number(oid.slice(oid.lastIndexOf('.') + 1))] = name;
}

/**
 * The deprecated extension that carries the same token claim as a newer one, which eval/values.ts reads
 * when the newer one is absent: .1 issuer, .2 trigger, .3 commit, .5 `owner/repo` (repository and owner
 * URIs are derived from it), .6 ref (reference/rekor.md §6).
 */
const DEPRECATED_TWIN: readonly (number | undefined)[] = Object.assign([], { 8: 1, 20: 2, 13: 3, 12: 5, 16: 5, 14: 6 });

/** The Fulcio arc (1–127) of an extension OID, or 0 when it is not 1.3.6.1.4.1.57264.1.<n>. */
function fulcioArc(b: Uint8Array, oid: Tlv): number {
  if (oid.end - oid.start !== FULCIO_PREFIX.length + 1) return 0;
  for (let i = 0; i < FULCIO_PREFIX.length; i++) if (b[oid.start + i] !== FULCIO_PREFIX[i]) return 0;
  const arc = b[oid.end - 1]!;
  return arc < 0x80 ? arc : 0;
}

/**
 * TBSCertificate fields up to and including subjectPublicKeyInfo; returns validity, the extensions TLV and
 * where the whole subjectPublicKeyInfo TLV lies (its header starts where the subject ends).
 */
function walkTbs(b: Uint8Array, tbs: Tlv): { validity: Tlv; spki: { start: number; end: number }; extensions?: Tlv } {
  const f = children(b, tbs);
  let i = 0;
  if (f[0]?.tag === 0xa0) expectTag(only(b, f[i++]!, 'version'), TAG.INTEGER, 'version');
  expectTag(f[i++], TAG.INTEGER, 'serialNumber');
  expectTag(f[i++], TAG.SEQUENCE, 'signature');
  expectTag(f[i++], TAG.SEQUENCE, 'issuer');
  const validity = expectTag(f[i++], TAG.SEQUENCE, 'validity');
  const subject = expectTag(f[i++], TAG.SEQUENCE, 'subject');
  const spki = { start: subject.end, end: expectTag(f[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo').end };
  if (f[i]?.tag === 0x81) i++; // issuerUniqueID
  if (f[i]?.tag === 0x82) i++; // subjectUniqueID
  const extensions = f[i]?.tag === 0xa3 ? f[i++] : undefined;
  if (i !== f.length) throw new DerError(`unexpected field with tag 0x${f[i]!.tag.toString(16)} in TBSCertificate`);
  return extensions ? { validity, spki, extensions } : { validity, spki };
}

interface MutableClaims {
  fingerprint: `sha256:${string}`;
  keyFingerprint: `sha256:${string}`;
  san?: string;
  sans?: readonly string[];
  issuer?: string;
  fulcio: FulcioClaims;
  notBefore?: number;
  notAfter?: number;
  problem?: string;
}

/** A Fulcio extension's value as oid-info.md "Extension values" encodes it: .1–.6 raw UTF-8, .8 onwards a DER UTF8String. */
function readFulcioValue(b: Uint8Array, arc: number, value: Tlv): string {
  return arc <= 6 ? decodeUtf8(b, value) : decodeUtf8(b, utf8StringIn(b, value, arc));
}

/**
 * The UTF8String that must fill extension `arc`'s extnValue. As `expectTag(only(…))`, with the same
 * errors, but the `extension .N` label is built only when there is an error: building it for every
 * extension of every certificate cost more than the check.
 */
function utf8StringIn(b: Uint8Array, value: Tlv, arc: number): Tlv {
  const t = readTlv(b, value.start, value.end);
  if (t.end === value.end && t.tag === TAG.UTF8_STRING) return t;
  return expectTag(only(b, value, `extension .${arc}`), TAG.UTF8_STRING, `extension .${arc}`);
}

function readExtensions(b: Uint8Array, wrapper: Tlv, claims: MutableClaims, problems: string[]): void {
  const exts = children(b, expectTag(only(b, wrapper, 'extensions'), TAG.SEQUENCE, 'Extensions'));
  if (exts.length === 0) throw new DerError('Extensions must not be empty');
  let sawSan = false;
  // Values by arc, turned into an object in arc order at the end: a fixed key order keeps V8's hidden
  // classes shared across certificates (keyed stores in arbitrary order were the walker's main cost).
  const byArc: (string | undefined)[] = [];
  const seen: boolean[] = [];
  let malformed: string[] | undefined;
  for (const ext of exts) {
    const parts = children(b, expectTag(ext, TAG.SEQUENCE, 'Extension'));
    const oid = expectTag(parts[0], TAG.OID, 'extnID');
    checkOid(b, oid);
    if (parts.length === 3) {
      const critical = expectTag(parts[1], TAG.BOOLEAN, 'critical');
      if (critical.end - critical.start !== 1) throw new DerError('critical must be one byte');
    } else if (parts.length !== 2) throw new DerError('Extension must have 2 or 3 fields');
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue');
    // RFC 5280 §4.2: at most one instance of an extension. Enforced for the ones read here, where a
    // duplicate would let two parsers disagree about the identity.
    if (oidEquals(b, oid, SAN_OID)) {
      if (sawSan) throw new DerError('duplicate SubjectAltName extension');
      sawSan = true;
      const { san, sans } = readSubjectAltNames(b, value, problems);
      if (san !== undefined) claims.san = san;
      if (sans !== undefined) claims.sans = sans;
      continue;
    }
    const arc = fulcioArc(b, oid);
    const name = FULCIO_NAME_BY_ARC[arc];
    if (name === undefined) continue;
    if (seen[arc]) throw new DerError(`duplicate Fulcio extension .${arc}`);
    seen[arc] = true;
    // A malformed value costs that claim, not the certificate: Go's x509 (Rekor's) never reads these
    // values, so a log accepts any bytes there, and dropping the whole signer would hide its SAN and
    // fingerprint from every watch. Only a certificate Fulcio did not issue can carry one.
    try {
      byArc[arc] = readFulcioValue(b, arc, value);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
      (malformed ??= []).push(`${FULCIO_OIDS[name]} (${name}) is not ${arc <= 6 ? 'a raw UTF-8 string' : 'a DER UTF8String'} (${e.message})`);
    }
  }
  if (malformed) problems.push(`${malformed.join('; ')}: left out${dropTwins(byArc, seen)}`);
  for (let arc = 1; arc < byArc.length; arc++) {
    const v = byArc[arc];
    if (v !== undefined) claims.fulcio[FULCIO_NAME_BY_ARC[arc]!] = v;
  }
}

/**
 * Leaves out the deprecated twin of each malformed extension, so that eval/values.ts's fallback cannot read
 * a claim the newer extension, had it parsed, would have overridden (a readable .1 beside a garbled .8 is
 * not the issuer: sigstore-go rejects such a certificate outright). Returns the words for the problem.
 */
function dropTwins(byArc: (string | undefined)[], seen: readonly boolean[]): string {
  const dropped: string[] = [];
  for (const [arc, twin] of DEPRECATED_TWIN.entries()) {
    if (twin === undefined || !seen[arc] || byArc[arc] !== undefined || byArc[twin] === undefined) continue;
    byArc[twin] = undefined;
    dropped.push(`.${twin} (${FULCIO_NAME_BY_ARC[twin]!})`);
  }
  return dropped.length ? `, and so is the deprecated ${dropped.join(', ')} that would stand in for it` : '';
}

/**
 * Claims of one DER certificate. Throws DerError when it is not a well-formed X.509 certificate; a value
 * Go's x509 (and so Rekor) accepts or never reads but this walker cannot read (a Fulcio extension, an
 * otherName, a validity time outside RFC 5280's profile) is left out instead, and `problem` says so.
 */
export function readCertificateClaims(der: Uint8Array): CertificateClaims {
  return readClaims(der, sha256Hex(der));
}

/**
 * A validity time as RFC 5280 §4.1.2.5 profiles it, else undefined and a problem. Go's x509 (Rekor's) also
 * takes UTCTime without seconds, time-zone offsets and fractional seconds, so a log holds certificates with
 * them; they are left out rather than read, and the signer is kept (a time check then has no time).
 */
function validityTime(b: Uint8Array, t: Tlv, which: string, problems: string[]): number | undefined {
  try {
    return decodeTime(b, t);
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    problems.push(`${which} is not an RFC 5280 time (${e.message}): left out`);
    return undefined;
  }
}

function readClaims(bytes: Uint8Array, fingerprintHex: string): CertificateClaims {
  // One Buffer view for the whole walk, so that string values are sliced from it (der.ts asciiText).
  const der = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cert = expectTag(readTlv(der, 0, der.length), TAG.SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new DerError('trailing bytes after the certificate');
  const [tbs, sigAlg, sigValue, extra] = children(der, cert);
  expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate');
  expectTag(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm');
  expectTag(sigValue, TAG.BIT_STRING, 'signatureValue');
  if (extra) throw new DerError('Certificate has more than three fields');
  const { validity, spki, extensions } = walkTbs(der, tbs!);
  const times = children(der, validity);
  if (times.length !== 2) throw new DerError('Validity must hold exactly two times');
  const problems: string[] = [];
  const notBefore = validityTime(der, times[0]!, 'notBefore', problems);
  const notAfter = validityTime(der, times[1]!, 'notAfter', problems);
  const claims: MutableClaims = { fingerprint: `sha256:${fingerprintHex}`, keyFingerprint: `sha256:${sha256Hex(der.subarray(spki.start, spki.end))}`, fulcio: {} };
  if (notBefore !== undefined) claims.notBefore = notBefore;
  if (notAfter !== undefined) claims.notAfter = notAfter;
  if (extensions) readExtensions(der, extensions, claims, problems);
  if (problems.length) claims.problem = problems.join('; ');
  const issuer = claims.fulcio.issuer ?? claims.fulcio.issuerV1;
  if (issuer !== undefined) claims.issuer = issuer;
  // A copy: up to ~20 claims added by computed key turn an object into a V8 dictionary (~1.3 KB, slow to
  // read); the spread makes a fast-mode object, and the mirror's claims cache keeps thousands of them.
  claims.fulcio = Object.freeze({ ...claims.fulcio });
  return Object.freeze(claims);
}

/**
 * An LRU of claims by certificate fingerprint, owned by the caller (the mirror keeps one per pipeline):
 * DSSE multi-signature entries and busy CI identities repeat certificates, and simulators reuse them.
 * Claims are frozen, so entries may share them safely.
 *
 * Bounded by count and by the heap its claims hold. Claims keep every SubjectAltName
 * (subject-alt-name.ts), each a string of ~30 bytes of heap beyond its characters, so a certificate packed
 * with short names holds ~3× its size in claims (715 KB for 229 KB of 16,384 names, measured with
 * `process.memoryUsage` after GC), and 4096 of the worst a Rekor v1 body carries would hold ~5 GB. Its
 * weight, `claimsWeight`, is its DER's size plus 32 bytes a name: every character of the claims came from
 * a byte of the DER, so this bounds what they hold. Real certificates (at most ~2.1 KB,
 * test/fixtures/realdata) meet the count bound first; hostile ones, the 16 MiB bound on weight: at most
 * ~16 MiB of claims per cache (it was bounded by DER bytes alone, ~115 MB of claims at worst).
 */
/** Heap a name's string holds beyond its characters (V8's string header and the array's slot, rounded up). */
const NAME_OVERHEAD = 32;

/** What ClaimsCache counts against its byte bound for one certificate (see there). */
export function claimsWeight(der: Uint8Array, claims: CertificateClaims): number {
  return der.length + NAME_OVERHEAD * (claims.sans?.length ?? 1);
}

export class ClaimsCache {
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #map = new Map<string, { claims: CertificateClaims; bytes: number }>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(max = 4096, maxBytes = 16 * 1024 * 1024) {
    this.#max = max;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Lookups answered from the cache and lookups that parsed, for metrics. */
  get hits(): number {
    return this.#hits;
  }

  get misses(): number {
    return this.#misses;
  }

  /** Like readCertificateClaims; failures are not cached (they are rare and cheap to repeat). */
  read(der: Uint8Array): CertificateClaims {
    const fp = sha256Hex(der);
    const hit = this.#map.get(fp);
    if (hit) {
      this.#hits++;
      this.#map.delete(fp);
      this.#map.set(fp, hit);
      return hit.claims;
    }
    this.#misses++;
    const claims = readClaims(der, fp);
    const bytes = claimsWeight(der, claims);
    this.#map.set(fp, { claims, bytes });
    this.#bytes += bytes;
    while (this.#map.size > this.#max || (this.#bytes > this.#maxBytes && this.#map.size > 1)) {
      const [oldest, { bytes }] = this.#map.entries().next().value!;
      this.#map.delete(oldest);
      this.#bytes -= bytes;
    }
    return claims;
  }
}
