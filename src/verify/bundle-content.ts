/**
 * Whether a bundle carries what its tlog entry's body records, pure: the digest it signed, the DSSE
 * payload and its type (logged-envelope.ts), the signatures (logged-signatures.ts) and the certificate. The log holds only the body; the
 * rest of a bundle is whoever made it, and a client checks the bundle's signature with the bundle's
 * certificate, so a signature or certificate the log never saw makes the bundle a claim nothing
 * transparent backs (sigstore-conformance `dsse-mismatch-sig_fail`, CVE-2022-36056). Client spec §4.4:
 * the signature and the key or certificate of the parsed body are the ones provided.
 *
 * `tlogwatch verify` fails its `body` check on a mismatch (offline.ts); `POST /v1/bundles` refuses the
 * bundle (api/bundles-post.ts).
 */
import { isEntryPayload } from '../entries/dsse-pae.ts';
import type { BundleContent, TlogEntryInput } from '../entries/tlog-entry.ts';
import type { Entry } from '../entries/types.ts';
import { signersOf } from '../monitor/eval/values.ts';
import { bytesEqual } from '../util/bytes.ts';
import { sha256Hex } from '../util/sha256.ts';
import { envelopeMismatch } from './logged-envelope.ts';
import { loggedSignatures } from './logged-signatures.ts';

/**
 * Why the kind and version the entry claims (a bundle's `kindVersion`, or what a Rekor v1 response's body
 * says) are not the body's, or undefined when they are or the body names none. The claim picks the decoder
 * (entries/decode.ts `decodeAnyBody`), so a false one makes a readable body undecodable, and an undecodable
 * body has nothing to compare (`bundleContentMismatch` is not asked): it must not pass unchecked.
 */
export function kindVersionMismatch(t: Pick<TlogEntryInput, 'kind' | 'version'>, entry: Entry): string | undefined {
  if (t.kind !== undefined && (t.kind !== entry.kind || (t.version !== undefined && t.version !== entry.apiVersion))) {
    return `body is ${entry.kind} ${entry.apiVersion} but the entry says ${t.kind} ${t.version ?? ''}`;
  }
  return undefined;
}

/** Why the bundle's content is not what `body` (decoded as `entry`) records, or undefined when it is. */
export function bundleContentMismatch(b: BundleContent, body: Uint8Array, entry: Entry): string | undefined {
  if (b.messageDigest && !entry.digests.includes(b.messageDigest)) return `body logs ${entry.digests.join(', ')} but the bundle signed ${b.messageDigest}`;
  // The payload's hash for dsse and intoto, the PAE's (type and payload) for a hashedrekord over an envelope.
  if (b.dsseEnvelope && !isEntryPayload(entry, b.dsseEnvelope.payload, b.dsseEnvelope.payloadType)) return 'body does not log the hash of the bundle\'s DSSE payload';
  const logged = loggedSignatures(body, entry.kind, entry.apiVersion);
  if (logged) {
    const same = (a: Uint8Array) => logged.some((l) => bytesEqual(Buffer.from(l, 'base64'), a));
    if (b.messageSignature && !same(b.messageSignature)) return 'the bundle\'s signature is not the one the log entry records';
    const sigs = b.dsseEnvelope?.signatures;
    if (sigs && (sigs.length !== logged.length || !sigs.every((s) => same(s.sig)))) return 'the bundle\'s DSSE signatures are not the ones the log entry records';
  }
  // The envelope's payloadType, which the payload hash and the signatures compared above leave open.
  const envelope = b.dsseEnvelope && envelopeMismatch(b.dsseEnvelope, body, entry.kind, entry.apiVersion);
  if (envelope) return envelope;
  if (b.certificate) {
    const fp = `sha256:${sha256Hex(b.certificate)}`;
    if (!signersOf(entry).some((s) => s.fingerprint === fp)) return 'the bundle\'s certificate is not the one the log entry records';
  }
  return undefined;
}
