/**
 * A simulated Fulcio: a root and an intermediate CA and short-lived leaf certificates carrying the real
 * Fulcio extensions, encoded as Fulcio does (reference/rekor.md §6, sigstore/fulcio docs/oid-info.md):
 * .1–.6 raw bytes, .8–.24 DER UTF8String, the identity in a critical SubjectAlternativeName (email or
 * URI) with an empty subject, 10-minute validity, KeyUsage digitalSignature, EKU codeSigning.
 * The CAs use P-256 (Sigstore's are P-384): it signs several times faster, which matters little here
 * (a few thousand leaf certificates per million entries) but costs nothing in realism for a verifier.
 */
import { createHash, hash, type KeyObject } from 'node:crypto';
import { FULCIO_OIDS, type FulcioClaimName } from '../../src/entries/types.ts';
import { bitString, bool, explicit, ia5, integer, namedBits, octet, oid, seq, set, time, tlv, utf8 } from './der.ts';
import { p256, type P256PrivateKey } from './ecdsa.ts';
import { ecdsaKey, ecdsaScalarKey, spkiOf, type KeyPair, type ScalarKey } from './keys.ts';

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function name(cn: string): Uint8Array {
  return seq(set(seq(oid('2.5.4.10'), utf8('sigstore.dev'))), set(seq(oid('2.5.4.3'), utf8(cn))));
}

function ext(id: string, value: Uint8Array, critical = false): Uint8Array {
  return critical ? seq(oid(id), bool(true), octet(value)) : seq(oid(id), octet(value));
}

/** A certificate and its key (the private key as a KeyObject or, for leaves, its P-256 scalar). */
export interface CertKey {
  der: Uint8Array;
  privateKey: P256PrivateKey;
  spki: Uint8Array;
}
export interface CA {
  der: Uint8Array;
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Uint8Array;
  cn: string;
}

const keyId = (spki: Uint8Array) => new Uint8Array(createHash('sha1').update(spki).digest());

/** ecdsa-with-SHA256 by the issuer's P-256 key, with the batched signer (a build makes thousands of leaves). */
function signCert(tbs: Uint8Array, issuerKey: P256PrivateKey): Uint8Array {
  return seq(tbs, ECDSA_SHA256, bitString(new Uint8Array(p256.signHex(issuerKey, hash('sha256', tbs)))));
}

/** 20 positive bytes as Fulcio uses, derived from the key and start so a rebuilt log reuses them. */
function serial(spki: Uint8Array, notBefore: number): Uint8Array {
  const b = createHash('sha256').update(spki).update(String(notBefore)).digest().subarray(0, 20);
  b[0] = (b[0]! % 0x40) + 0x10;
  return integer(b);
}

export function createCA(cn: string, notBefore: number, notAfter: number, issuer?: CA, key: KeyPair = ecdsaKey('ca', cn, notBefore)): CA {
  const spki = spkiOf(key.publicKey);
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    serial(spki, notBefore),
    ECDSA_SHA256,
    name(issuer ? issuer.cn : cn),
    seq(time(notBefore), time(notAfter)),
    name(cn),
    spki,
    explicit(
      3,
      seq(
        ext('2.5.29.15', namedBits(0x06), true), // keyCertSign | cRLSign
        ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.3'))), // codeSigning, as Fulcio's CAs carry
        ext('2.5.29.19', seq(bool(true), ...(issuer ? [integer(new Uint8Array([0]))] : [])), true),
        ext('2.5.29.14', octet(keyId(spki))),
        ...(issuer ? [ext('2.5.29.35', seq(tlv(0x80, keyId(issuer.spki))))] : []),
      ),
    ),
  );
  return { der: signCert(tbs, issuer ? issuer.privateKey : key.privateKey), ...key, spki, cn };
}

export interface LeafClaims {
  san: string;
  /**
   * Further SANs, after `san` in the certificate, each a URI when it has a scheme, else an email: as a
   * self-made certificate may name several identities (Fulcio's name one), and Rekor v1 accepts it.
   */
  sans?: readonly string[];
  issuer?: string;
  /** Fulcio claim names (FULCIO_OIDS) or dotted OIDs → value. */
  extensions?: Partial<Record<FulcioClaimName, string>> & Record<string, string>;
  /**
   * Claim names or dotted OIDs → the extension value's bytes exactly (no encoding), for values no Fulcio
   * writes (a PrintableString, invalid UTF-8, a cut TLV). Written before `extensions`, so they win.
   */
  rawExtensions?: Record<string, Uint8Array>;
}

/** A claim name or dotted OID → the OID and whether Fulcio writes it raw (.1–.6) or as a UTF8String. */
export function extensionOid(k: string): { oid: string; raw: boolean } | undefined {
  const dotted = (FULCIO_OIDS as Record<string, string>)[k] ?? (/^\d+(\.\d+)+$/.test(k) ? k : undefined);
  if (!dotted) return undefined;
  const arc = dotted.startsWith('1.3.6.1.4.1.57264.1.') ? Number(dotted.slice('1.3.6.1.4.1.57264.1.'.length)) : 99;
  return { oid: dotted, raw: arc >= 1 && arc <= 6 };
}

const isUri = (san: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(san);

/** The SANs in order: each a URI when it has a scheme, else an email address (rfc822Name). */
function subjectAltName(sans: readonly string[]): Uint8Array {
  return seq(...sans.map((san) => (isUri(san) ? ia5(san, 0x86) : ia5(san, 0x81))));
}

/** The SAN a reader takes as the certificate's identity (entries/subject-alt-name.ts): the first URI, else the first email. */
export function primarySan(sans: readonly string[]): string {
  return sans.find(isUri) ?? sans[0]!;
}

export function createLeaf(ca: CA, claims: LeafClaims, notBefore: number, key: ScalarKey = ecdsaScalarKey('leaf', claims.san, notBefore)): CertKey {
  const spki = key.spki;
  const exts: Uint8Array[] = [
    ext('2.5.29.15', namedBits(0x80), true), // digitalSignature
    ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.3'))), // codeSigning
    ext('2.5.29.14', octet(keyId(spki))),
    ext('2.5.29.35', seq(tlv(0x80, keyId(ca.spki)))),
    ext('2.5.29.17', subjectAltName([claims.san, ...(claims.sans ?? [])]), true),
  ];
  const values: Array<[string, string]> = Object.entries(claims.extensions ?? {});
  // Fulcio writes the issuer twice: deprecated raw .1 and UTF8String .8 (explicit extensions win).
  if (claims.issuer !== undefined) values.push(['issuerV1', claims.issuer], ['issuer', claims.issuer]);
  const seen = new Set<string>();
  for (const [k, bytes] of Object.entries(claims.rawExtensions ?? {})) {
    const o = extensionOid(k);
    if (!o) throw new Error(`unknown certificate extension ${JSON.stringify(k)}: use a Fulcio claim name or a dotted OID`);
    if (seen.has(o.oid)) continue;
    seen.add(o.oid);
    exts.push(ext(o.oid, bytes));
  }
  for (const [k, v] of values) {
    const o = extensionOid(k);
    if (!o) throw new Error(`unknown certificate extension ${JSON.stringify(k)}: use a Fulcio claim name or a dotted OID`);
    if (seen.has(o.oid)) continue; // a name and its OID both given: the first wins: one extension per OID (RFC 5280 §4.2)
    seen.add(o.oid);
    exts.push(ext(o.oid, o.raw ? new Uint8Array(Buffer.from(v, 'utf8')) : utf8(v)));
  }
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    serial(spki, notBefore),
    ECDSA_SHA256,
    name(ca.cn),
    seq(time(notBefore), time(notBefore + 600)), // Fulcio certificates live 10 minutes
    seq(),
    spki,
    explicit(3, seq(...exts)),
  );
  return { der: signCert(tbs, ca.privateKey), privateKey: key.privateKey, spki };
}
