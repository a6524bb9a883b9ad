/**
 * A simulated Fulcio: a root and an intermediate CA (ECDSA P-256: sigstore's are P-384, but P-256 signs
 * ~20x faster, which keeps building a million-entry log under a minute) and short-lived
 * ECDSA P-256 leaf certificates carrying the real Fulcio extensions, encoded as Fulcio does
 * (reference/rekor.md §6: .1–.6 raw bytes, .8–.24 DER UTF8String, SAN URI or email).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { FULCIO_OIDS, type FulcioClaimName } from '../../src/entries/types.ts';
import { bitString, bool, explicit, ia5, integer, octet, oid, seq, set, time, tlv, utf8 } from './der.ts';

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function name(cn: string): Uint8Array {
  return seq(set(seq(oid('2.5.4.10'), utf8('sigstore.dev'))), set(seq(oid('2.5.4.3'), utf8(cn))));
}

function ext(id: string, value: Uint8Array, critical = false): Uint8Array {
  return critical ? seq(oid(id), bool(true), octet(value)) : seq(oid(id), octet(value));
}

export interface CertKey {
  der: Uint8Array;
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Uint8Array;
}

function spkiOf(k: KeyObject): Uint8Array {
  return new Uint8Array(k.export({ format: 'der', type: 'spki' }));
}

function keyId(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spki).digest());
}

function signCert(tbs: Uint8Array, alg: Uint8Array, issuerKey: KeyObject, hash: string): Uint8Array {
  return seq(tbs, alg, bitString(new Uint8Array(sign(hash, tbs, { key: issuerKey, dsaEncoding: 'der' }))));
}

let serialCounter = 1n;
function serial(): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(serialCounter++, 8);
  b[0] = 0x4a;
  return integer(b);
}

export function createCA(cn: string, notBefore: number, notAfter: number, issuer?: CertKey & { cn: string }): CertKey & { cn: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = spkiOf(publicKey);
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    serial(),
    ECDSA_SHA256,
    name(issuer ? issuer.cn : cn),
    seq(time(notBefore), time(notAfter)),
    name(cn),
    spki,
    explicit(
      3,
      seq(
        ext('2.5.29.15', bitString(new Uint8Array([0x06])), true), // keyCertSign | cRLSign
        ext('2.5.29.19', seq(bool(true), integer(new Uint8Array([issuer ? 0 : 1]))), true),
        ext('2.5.29.14', octet(keyId(spki))),
      ),
    ),
  );
  const der = signCert(tbs, ECDSA_SHA256, issuer ? issuer.privateKey : privateKey, 'sha256');
  return { der, privateKey, publicKey, spki, cn };
}

export interface LeafClaims {
  san: string;
  issuer?: string;
  extensions?: Partial<Record<FulcioClaimName, string>> & Record<string, string>;
}

/** Fulcio claim names and dotted OIDs are both accepted as extension keys. */
function extensionOid(k: string): { oid: string; arc: number } | undefined {
  const dotted = (FULCIO_OIDS as Record<string, string>)[k] ?? (/^\d+(\.\d+)+$/.test(k) ? k : undefined);
  if (!dotted) return undefined;
  const arc = dotted.startsWith('1.3.6.1.4.1.57264.1.') ? Number(dotted.split('.').pop()) : 99;
  return { oid: dotted, arc };
}

export function createLeaf(ca: CertKey & { cn: string }, claims: LeafClaims, notBefore: number, keyType: 'P-256' = 'P-256'): CertKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: keyType });
  const spki = spkiOf(publicKey);
  const isUri = claims.san.includes('://');
  const exts: Uint8Array[] = [
    ext('2.5.29.15', bitString(new Uint8Array([0x80])), true), // digitalSignature
    ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.3'))), // codeSigning
    ext('2.5.29.14', octet(keyId(spki))),
    ext('2.5.29.35', seq(tlv(0x80, keyId(ca.spki)))),
    ext('2.5.29.17', seq(isUri ? ia5(claims.san, 0x86) : ia5(claims.san, 0x81)), true),
  ];
  const values: Record<string, string> = { ...(claims.extensions ?? {}) };
  if (claims.issuer !== undefined) {
    values['issuerV1'] ??= claims.issuer;
    values['issuer'] ??= claims.issuer;
  }
  for (const [k, v] of Object.entries(values)) {
    const o = extensionOid(k);
    if (!o) throw new Error(`unknown certificate extension ${JSON.stringify(k)}: use a Fulcio claim name or a dotted OID`);
    exts.push(ext(o.oid, o.arc <= 6 ? new Uint8Array(Buffer.from(v, 'utf8')) : utf8(v)));
  }
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    serial(),
    ECDSA_SHA256,
    name(ca.cn),
    seq(time(notBefore), time(notBefore + 600)), // Fulcio certificates live 10 minutes
    seq(),
    spki,
    explicit(3, seq(...exts)),
  );
  return { der: signCert(tbs, ECDSA_SHA256, ca.privateKey, 'sha256'), privateKey, publicKey, spki };
}

