/**
 * The signatures a Rekor entry body records, for checking that a bundle carries the very signatures the
 * log holds (sigstore-conformance `dsse-mismatch-sig_fail`: a second valid signature swapped into the
 * envelope is not the logged one, so nothing in the log shows it was ever made). Pure.
 *
 * Body shapes (reference/rekor.md §2, §3.2): hashedrekord 0.0.1 `spec.signature.content`; hashedrekord
 * 0.0.2 `spec.hashedRekordV002.signature.content`; dsse 0.0.1 `spec.signatures[].signature`; dsse 0.0.2
 * `spec.dsseV002.signatures[].content`, all base64; intoto 0.0.2 `spec.content.envelope.signatures[].sig`,
 * base64 of the envelope's base64 (Rekor's `format: byte` over the envelope's text; sigstore-js
 * tlog/intoto.ts decodes it twice). Other kinds and versions: undefined (not compared).
 *
 * Also what binds a DSSE envelope's payloadType (logged-envelope.ts): dsse entries' verifiers beside their
 * signatures, intoto 0.0.2's `spec.content.envelope.payloadType`.
 */
import { rec } from '../entries/kinds/common.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body's `spec`; a missing or non-object field reads as {} (the entry decoders' reader), so every lookup misses. */
function specOf(body: Uint8Array): Record<string, unknown> | undefined {
  try {
    return rec(rec(JSON.parse(utf8.decode(body)) as unknown)['spec']);
  } catch {
    return undefined;
  }
}

const field = (o: unknown, k: string) => {
  const s = rec(o)[k];
  return typeof s === 'string' ? s : undefined;
};

/** `read` of each item when it reads every one; undefined when `sigs` is not a list or an item does not read. */
function each<T>(sigs: unknown, read: (sig: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(sigs)) return undefined;
  const out = sigs.map(read);
  return out.every((s): s is T => s !== undefined) ? out : undefined;
}

/** Base64 of each logged signature, as the body has it; undefined when this kind does not record them where we look, or the body is not that shape. */
export function loggedSignatures(body: Uint8Array, kind: string, version: string): string[] | undefined {
  const spec = specOf(body);
  if (!spec) return undefined;
  const many = (sigs: unknown, k: string) => each(sigs, (s) => field(s, k));
  const single = (s: string | undefined) => (s === undefined ? undefined : [s]);
  if (kind === 'hashedrekord' && version === '0.0.1') return single(field(spec['signature'], 'content'));
  if (kind === 'hashedrekord' && version === '0.0.2') return single(field(rec(spec['hashedRekordV002'])['signature'], 'content'));
  if (kind === 'dsse' && version === '0.0.1') return many(spec['signatures'], 'signature');
  if (kind === 'dsse' && version === '0.0.2') return many(rec(spec['dsseV002'])['signatures'], 'content');
  if (kind === 'intoto' && version === '0.0.2') {
    // Decoded as leniently as the comparison decodes every logged signature (bundle-content.ts): a spelling
    // Go's decoder took must not leave the signature uncompared.
    return many(rec(rec(spec['content'])['envelope'])['signatures'], 'sig')?.map((s) => Buffer.from(s, 'base64').toString('latin1'));
  }
  return undefined;
}

/**
 * The key a logged DSSE signature verifies with: dsse 0.0.1 `verifier` is base64 of a PEM key or certificate
 * (Rekor's x509 canonical value); dsse 0.0.2 `verifier` is a protobuf-specs PublicKeyDetails with the DER of
 * a certificate or SPKI, and `keyDetails` names the signature algorithm.
 */
export type LoggedVerifier = { pem: string } | { der: string; form: 'certificate' | 'spki'; keyDetails: string | undefined };

/** A signature a dsse entry records (base64, as the body has it) with the verifier Rekor checked it with. */
export interface LoggedDsseSignature {
  signature: string;
  verifier: LoggedVerifier;
}

function v2Verifier(v: unknown): LoggedVerifier | undefined {
  const cert = field(rec(v)['x509Certificate'], 'rawBytes');
  const spki = field(rec(v)['publicKey'], 'rawBytes');
  const keyDetails = field(v, 'keyDetails');
  if (cert !== undefined) return { der: cert, form: 'certificate', keyDetails };
  return spki === undefined ? undefined : { der: spki, form: 'spki', keyDetails };
}

/**
 * The signatures and verifiers of a dsse entry (0.0.1, 0.0.2), which bind the envelope's payloadType: the body
 * keeps no type, but Rekor logged only signatures that verify over the DSSE PAE of type and payload with the
 * verifier beside them (rekor pkg/types/dsse/v0.0.1/entry.go verifyEnvelope). Undefined for other kinds, or
 * a body not of that shape.
 */
export function loggedDsseSignatures(body: Uint8Array, kind: string, version: string): LoggedDsseSignature[] | undefined {
  if (kind !== 'dsse' || (version !== '0.0.1' && version !== '0.0.2')) return undefined;
  const spec = specOf(body);
  if (!spec) return undefined;
  if (version === '0.0.1') {
    return each(spec['signatures'], (s) => {
      const [signature, pem] = [field(s, 'signature'), field(s, 'verifier')];
      return signature === undefined || pem === undefined ? undefined : { signature, verifier: { pem: Buffer.from(pem, 'base64').toString('latin1') } };
    });
  }
  return each(rec(spec['dsseV002'])['signatures'], (s) => {
    const [signature, verifier] = [field(s, 'content'), v2Verifier(rec(s)['verifier'])];
    return signature === undefined || verifier === undefined ? undefined : { signature, verifier };
  });
}

/** The payloadType an intoto 0.0.2 body keeps of its envelope (`spec.content.envelope.payloadType`); undefined for other kinds or when absent. */
export function loggedPayloadType(body: Uint8Array, kind: string, version: string): string | undefined {
  if (kind !== 'intoto' || version !== '0.0.2') return undefined;
  return field(rec(rec(specOf(body))['content'])['envelope'], 'payloadType');
}
