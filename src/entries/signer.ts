/**
 * Signer identity from the key material an entry body carries: a PEM or DER certificate (→ Fulcio claims),
 * a PEM/DER SubjectPublicKeyInfo, or another key format (PGP, SSH, minisign: fingerprint of its bytes).
 */
import { createHash } from 'node:crypto';
import { pem } from '@sigstore/core';
import { ClaimsCache } from './certificate.ts';
import type { Signer } from './types.ts';

const claimsCache = new ClaimsCache();
const sha256 = (b: Uint8Array): `sha256:${string}` => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const decoder = new TextDecoder('latin1');

function fromCertificate(der: Uint8Array): Signer {
  const c = claimsCache.get(der);
  const fulcio = Object.keys(c.fulcio).length > 0 ? { fulcio: c.fulcio } : {};
  return {
    type: 'x509',
    fingerprint: c.fingerprint,
    ...(c.san !== undefined ? { san: c.san } : {}),
    ...(c.issuer !== undefined ? { issuer: c.issuer } : {}),
    ...fulcio,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  };
}

/** Throws when the material is a certificate that cannot be parsed (the caller records a problem). */
export function signerFromKeyMaterial(material: Uint8Array): Signer {
  const head = decoder.decode(material.subarray(0, 64)).trimStart();
  if (head.startsWith('-----BEGIN CERTIFICATE-----')) {
    // A PEM may hold a chain; the first certificate is the signer's.
    const first = decoder.decode(material).split('-----END CERTIFICATE-----')[0]! + '-----END CERTIFICATE-----';
    return fromCertificate(new Uint8Array(pem.toDER(first)));
  }
  if (head.startsWith('-----BEGIN PUBLIC KEY-----')) {
    return { type: 'key', fingerprint: sha256(new Uint8Array(pem.toDER(decoder.decode(material)))) };
  }
  if (material[0] === 0x30) {
    try {
      return fromCertificate(material);
    } catch {
      // Not a certificate: a DER SubjectPublicKeyInfo (Rekor v2 publicKey.rawBytes).
    }
  }
  return { type: 'key', fingerprint: sha256(material) };
}

export function signerFromCertificateDer(der: Uint8Array): Signer {
  return fromCertificate(der);
}
