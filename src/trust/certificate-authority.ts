/**
 * Which certificate authority of the trusted root issued a signing certificate, if any. Rekor v1 logs a
 * hashedrekord, dsse or intoto entry with whatever certificate it is given: it checks the signature with the
 * certificate's key, not the certificate's issuer, so anyone can log a signature under a certificate they
 * made themselves with any SAN and Fulcio extensions (rekor.md §2). Sigstore clients reject those (the
 * chain must end in a Fulcio CA of the trusted root), so a finding on one is a spoof that fools no
 * verifier, and one on a certificate Fulcio issued is a real credential at work. This tells them apart.
 *
 * Issued means: the certificate names a CA certificate of the trusted root as its issuer (RFC 5280
 * §4.1.2.4, and the key identifiers where both have them) and that certificate's key verifies its
 * signature, while that CA was valid (`validFor`) at the entry's time. The trusted root's chains are trust
 * anchors as listed (sigstore clients trust every certificate of them), so one verified link is enough.
 * Costly (an X.509 parse and a signature check), so only for certificates behind a finding; cached by
 * fingerprint.
 */
import { X509Certificate } from 'node:crypto';
import { validAt, type CertificateAuthority } from './trusted-root.ts';

interface Anchor {
  cert: X509Certificate;
  name: string;
  validFrom?: Date;
  validUntil?: Date;
}

/**
 * A name for people: the issuing certificate's common name (Fulcio's `sigstore-intermediate` and `sigstore`
 * root differ there, where the trusted root calls both CAs `sigstore`), else the CA's, else its URI.
 */
function nameOf(ca: CertificateAuthority, cert: X509Certificate): string {
  return /^CN=(.+)$/m.exec(cert.subject)?.[1] ?? ca.commonName ?? ca.organization ?? ca.uri ?? cert.subject;
}

export class CertificateAuthorities {
  private readonly anchors: Anchor[] = [];
  /** Fingerprint → the anchors that issued it, whatever the time (validity is checked per call). */
  private readonly cache = new Map<string, Anchor[]>();

  constructor(cas: readonly CertificateAuthority[]) {
    for (const ca of cas) {
      for (const der of ca.chain) {
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(Buffer.from(der));
        } catch {
          continue; // the trusted root's parser accepted the bytes; node's did not: not an anchor
        }
        this.anchors.push({ cert, name: nameOf(ca, cert), ...(ca.validFrom ? { validFrom: ca.validFrom } : {}), ...(ca.validUntil ? { validUntil: ca.validUntil } : {}) });
      }
    }
  }

  /**
   * The name of the trusted root's CA that issued `der` and was valid at `at` (Unix seconds), or null when
   * none did (or the bytes are not a certificate node can read). `fingerprint` keys the cache.
   */
  issuerOf(der: Uint8Array, fingerprint: string, at: number): string | null {
    let issuers = this.cache.get(fingerprint);
    if (!issuers) {
      issuers = this.issuers(der);
      if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(fingerprint, issuers);
    }
    const when = new Date(at * 1000);
    return issuers.find((a) => validAt(a, when))?.name ?? null;
  }

  private issuers(der: Uint8Array): Anchor[] {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(Buffer.from(der));
    } catch {
      return [];
    }
    // checkIssued compares the issuer and subject names and key identifiers; verify checks the signature.
    // The certificate is whatever someone logged: a check node cannot make (an odd algorithm, a key it
    // refuses) is no issuance, never an exception that would stop the mirror at this entry.
    return this.anchors.filter((a) => {
      try {
        return leaf.checkIssued(a.cert) && leaf.verify(a.cert.publicKey);
      } catch {
        return false;
      }
    });
  }
}
