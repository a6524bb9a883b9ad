/**
 * Whether a bundle's DSSE envelope is the one its tlog entry logged, in what its payload hash and signatures
 * (bundle-content.ts) leave open: the payloadType. A DSSE signature is over PAE(payloadType, payload) (DSSE
 * protocol.md), so a client verifying the envelope with the bundle's certificate checks the type it was
 * given; one changed after logging is an envelope the log never saw. Pure.
 *
 * How each body binds the type (reference/rekor.md §2, §3.2):
 * - intoto 0.0.2 keeps it: `spec.content.envelope.payloadType` must be the envelope's.
 * - dsse 0.0.1 and 0.0.2 keep only hashes (the envelope hash of 0.0.1 is over the JSON the client sent,
 *   which a bundle does not carry), and signatures with their verifiers. Rekor logs a signature only when it
 *   verifies over the PAE with that verifier (rekor pkg/types/dsse/v0.0.1/entry.go verifyEnvelope;
 *   rekor-tiles the same for 0.0.2), so each of the bundle's signatures must verify over the PAE of the
 *   bundle's type and payload with the verifier logged beside it.
 * - hashedrekord over a DSSE envelope logs SHA-256 of the PAE itself (entries/dsse-pae.ts isEntryPayload).
 * - intoto 0.0.1 logs neither type nor signatures: nothing to compare.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { dssePae } from '../entries/dsse-pae.ts';
import type { BundleContent } from '../entries/tlog-entry.ts';
import { bytesEqual } from '../util/bytes.ts';
import { loggedDsseSignatures, loggedPayloadType, type LoggedVerifier } from './logged-signatures.ts';

type Envelope = NonNullable<BundleContent['dsseEnvelope']>;

function keyOf(v: LoggedVerifier): KeyObject {
  if ('pem' in v) return v.pem.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(v.pem).publicKey : createPublicKey(v.pem);
  const der = Buffer.from(v.der, 'base64');
  return v.form === 'certificate' ? new X509Certificate(der).publicKey : createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/**
 * Whether `sig` is the logged verifier's signature over `data`, as Rekor checked it: dsse 0.0.1 with
 * SHA-256 whatever the key (sigstore LoadVerifier(key, crypto.SHA256)); dsse 0.0.2 with the hash its
 * `keyDetails` names (protobuf-specs PublicKeyDetails); Ed25519 over the bytes themselves.
 */
function verifiesWith(v: LoggedVerifier, data: Uint8Array, sig: Uint8Array): boolean {
  const key = keyOf(v);
  if (key.asymmetricKeyType === 'ed25519') return verify(null, data, key, sig);
  const details = 'pem' in v ? '' : (v.keyDetails ?? '');
  const hash = /SHA_384/.test(details) ? 'sha384' : /SHA_512/.test(details) ? 'sha512' : 'sha256';
  if (key.asymmetricKeyType === 'ec') return verify(hash, data, { key, dsaEncoding: 'der' }, sig);
  if (key.asymmetricKeyType === 'rsa') return verify(hash, data, /PSS/.test(details) ? { key, padding: 2 /* RSA_PKCS1_PSS_PADDING */ } : key, sig);
  throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key`);
}

/** Why the envelope is not the one `body` (an entry of `kind` `version`) logged, or undefined when nothing says it is not. */
export function envelopeMismatch(env: Envelope, body: Uint8Array, kind: string, version: string): string | undefined {
  if (kind === 'intoto' && version === '0.0.2') {
    const logged = loggedPayloadType(body, kind, version);
    return logged === env.payloadType ? undefined : `the bundle's DSSE payloadType ${JSON.stringify(env.payloadType)} is not the ${JSON.stringify(logged ?? null)} its log entry records`;
  }
  const logged = loggedDsseSignatures(body, kind, version);
  if (!logged) return undefined;
  const pae = dssePae(env.payloadType, env.payload);
  for (const s of env.signatures) {
    const l = logged.find((x) => bytesEqual(Buffer.from(x.signature, 'base64'), s.sig));
    if (!l) return 'the bundle\'s DSSE signatures are not the ones the log entry records';
    let ok: boolean;
    try {
      ok = verifiesWith(l.verifier, pae, s.sig);
    } catch (e) {
      return `the verifier the log entry records for the bundle's DSSE signature cannot be used: ${e instanceof Error ? e.message.slice(0, 160) : 'unreadable'}`;
    }
    if (!ok) return `the bundle's DSSE signature does not verify over its payloadType ${JSON.stringify(env.payloadType)} and payload with the verifier its log entry records`;
  }
  return undefined;
}
