/**
 * RFC 3161 timestamps in Sigstore bundles, verified as Sigstore clients verify them. Pure.
 *
 * A bundle carries them in `verificationMaterial.timestampVerificationData.rfc3161Timestamps[]`, each a DER
 * TimeStampResp (protobuf-specs sigstore_common.proto RFC3161SignedTimestamp; RFC 3161 §2.4.2). The Sigstore
 * client spec (architecture-docs client-spec.md §4.2.1) has the verifier check the response with the
 * timestamp authority's key material from the trusted root, over the raw bytes of the signature (the
 * message signature, or the DSSE envelope's first signature, as sigstore-js and sigstore-go take it), and
 * abort when it does not verify. A verified timestamp is a signed time at which the signing certificate
 * must have been valid (§4.3); Rekor v2 entries have no integrated time, so it is the only one they get.
 *
 * What is checked, each with its own reason when it fails:
 * - the response granted a token (PKIStatus granted or grantedWithMods, RFC 3161 §2.4.2);
 * - its signer (SignerInfo sid: issuer and serial number, RFC 5652 §5.3) is the leaf certificate of a
 *   timestamp authority in the trusted root. Certificates embedded in the token are not trusted, only
 *   the root's (a token can embed whatever chain it likes);
 * - the time it states (TSTInfo genTime) is inside that authority's `validFor` in the trusted root, both
 *   ends included (sigstore-conformance `trust-root-tsa-validity-end-inclusive`), and inside the validity of
 *   every certificate of its chain: an authority's key counts only for the times it was trusted;
 * - each certificate of the chain is signed by the next, those above the leaf are CAs, and the leaf is for
 *   timestamping (extended key usage id-kp-timeStamping, RFC 3161 §2.3);
 * - its message imprint is the hash of the signature bytes (RFC 3161 §2.4.2 TSTInfo.messageImprint);
 * - its signed attributes commit to its TSTInfo and the leaf's key verifies their signature (RFC 5652
 *   §5.4, §5.6), by @sigstore/core's RFC3161Timestamp.
 *
 * @sigstore/verify does the same inside its Verifier, but does not export it on its own (its public API
 * verifies a whole bundle with the artifact, which `tlogwatch verify` does not have) and names no reason
 * beyond "timestamp could not be verified"; the parsing and the token's own checks are @sigstore/core's.
 */
import { RFC3161Timestamp, X509Certificate, crypto } from '@sigstore/core';
import { TlogwatchError } from '../errors.ts';
import { validAt, type CertificateAuthority } from '../trust/trusted-root.ts';

/** A time a timestamp authority of the trusted root signed. */
export interface TimestampAuthorityTime {
  time: Date;
  /** The authority as the trusted root names it: its URI, else its subject. */
  tsa: string;
}

/** id-kp-timeStamping (RFC 3161 §2.3), in the extended key usage extension (RFC 5280 §4.2.1.12). */
const ID_KP_TIMESTAMPING = '1.3.6.1.5.5.7.3.8';
const EXT_KEY_USAGE = '2.5.29.37';

const bad = (why: string, data: Record<string, unknown> = {}) => new TlogwatchError('TIMESTAMP_INVALID', why, { data });
const iso = (d: Date | undefined) => (d ? d.toISOString() : '…');

function nameOfAuthority(ca: CertificateAuthority): string {
  return ca.uri ?? ca.commonName ?? ca.organization ?? 'a timestamp authority without a name';
}

/** The parts of the token read before anything is trusted; hostile DER throws from any of these getters. */
function parseResponse(der: Uint8Array): { ts: RFC3161Timestamp; time: Date; issuer: Buffer; serial: Buffer } {
  try {
    const ts = RFC3161Timestamp.parse(Buffer.from(der));
    const status = ts.status;
    if (status !== 0n && status !== 1n) throw bad(`the timestamp authority did not grant it (PKIStatus ${status}, RFC 3161 §2.4.2)`);
    const time = ts.signingTime;
    if (!Number.isFinite(time.getTime())) throw bad('its genTime is not a time (RFC 3161 §2.4.2 GeneralizedTime)');
    return { ts, time, issuer: ts.signerIssuer, serial: ts.signerSerialNumber };
  } catch (e) {
    if (e instanceof TlogwatchError) throw e;
    throw bad(`not a DER RFC 3161 TimeStampResp with a signed token (${e instanceof Error ? e.message : String(e)})`);
  }
}

interface Authority {
  ca: CertificateAuthority;
  chain: X509Certificate[];
}

/** The trusted root's authorities whose leaf certificate is the token's signer (issuer and serial number). */
function signersOf(issuer: Buffer, serial: Buffer, tsas: readonly CertificateAuthority[]): Authority[] {
  const out: Authority[] = [];
  for (const ca of tsas) {
    let chain: X509Certificate[];
    try {
      chain = ca.chain.map((c) => X509Certificate.parse(Buffer.from(c)));
    } catch {
      continue; // a chain @sigstore/core cannot read signs nothing here
    }
    const leaf = chain[0];
    if (leaf && crypto.bufferEqual(leaf.serialNumber, serial) && crypto.bufferEqual(leaf.issuer, issuer)) out.push({ ca, chain });
  }
  return out;
}

/** The extended key usage OIDs: the extension's OCTET STRING holds a SEQUENCE of them (RFC 5280 §4.2.1.12). */
const ekuOf = (cert: X509Certificate): string[] | undefined => cert.extension(EXT_KEY_USAGE)?.valueObj.subs[0]?.subs.map((s) => s.toOID());

/** Why the authority's key cannot vouch for `time`, or undefined when its chain is valid then. */
function chainProblem({ ca, chain }: Authority, time: Date): string | undefined {
  const name = nameOfAuthority(ca);
  if (!validAt(ca, time)) {
    return `it is dated ${time.toISOString()}, outside the validity the trusted root gives timestamp authority ${name} (${iso(ca.validFrom)}–${iso(ca.validUntil)})`;
  }
  // The root's certificates are read lazily: one @sigstore/core cannot check fails this authority, never the run.
  try {
    for (const [i, cert] of chain.entries()) {
      const which = i === 0 ? 'its signing certificate' : `certificate ${i + 1} of its chain`;
      if (!cert.validForDate(time)) {
        return `it is dated ${time.toISOString()}, when ${which} (timestamp authority ${name}) was not valid (${iso(cert.notBefore)}–${iso(cert.notAfter)})`;
      }
      const issuer = chain[i + 1];
      if (issuer && !cert.verify(issuer)) return `${which} (timestamp authority ${name}) is not signed by the next certificate of the chain the trusted root gives`;
      if (i > 0 && !cert.isCA) return `${which} (timestamp authority ${name}) is not a CA certificate`;
      if (i === 0 && !(ekuOf(cert) ?? []).includes(ID_KP_TIMESTAMPING)) {
        return `the signing certificate of timestamp authority ${name} is not for timestamping (no id-kp-timeStamping extended key usage, RFC 3161 §2.3)`;
      }
    }
  } catch (e) {
    return `the certificate chain of timestamp authority ${name} cannot be checked (${e instanceof Error ? e.message : String(e)})`;
  }
  return undefined;
}

/** Why the token does not verify with the authority's key over `signature`, or undefined when it does. */
function tokenProblem(ts: RFC3161Timestamp, { ca, chain }: Authority, signature: Buffer): string | undefined {
  try {
    // The imprint first, with its own reason: a valid token over something else is the likeliest mistake.
    ts.tstInfo.verify(signature);
  } catch (e) {
    return `its message imprint is not the hash of the bundle's signature: it timestamps something else (${e instanceof Error ? e.message : String(e)})`;
  }
  try {
    ts.verify(signature, crypto.createPublicKey(chain[0]!.publicKey));
    return undefined;
  } catch (e) {
    return `it does not verify with the key of timestamp authority ${nameOfAuthority(ca)} (${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * The time a timestamp response signs over `signature`, when a timestamp authority of the trusted root
 * signed it then; throws TlogwatchError TIMESTAMP_INVALID saying why not.
 */
export function verifyRfc3161Timestamp(der: Uint8Array, signature: Uint8Array, tsas: readonly CertificateAuthority[]): TimestampAuthorityTime {
  const { ts, time, issuer, serial } = parseResponse(der);
  const candidates = signersOf(issuer, serial, tsas);
  if (candidates.length === 0) {
    throw bad(`it is signed by a timestamp authority the trusted root does not list (signer serial number ${serial.toString('hex')})`, { serial: serial.toString('hex') });
  }
  const problems: string[] = [];
  for (const a of candidates) {
    const problem = chainProblem(a, time) ?? tokenProblem(ts, a, Buffer.from(signature));
    if (!problem) return { time, tsa: nameOfAuthority(a.ca) };
    if (!problems.includes(problem)) problems.push(problem);
  }
  throw bad(problems.join('; '));
}
