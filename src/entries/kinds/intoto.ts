/**
 * intoto 0.0.1 and 0.0.2 (Rekor v1): sigstore/rekor pkg/types/intoto/v0.0.{1,2}/intoto_v0_0_{1,2}_schema.json.
 *
 * - 0.0.1: `spec.content.hash` (whole envelope), `spec.content.payloadHash` (absent on old entries),
 *   `spec.publicKey` (base64 PEM key or certificate); `spec.content.envelope` (a JSON string) is write-only.
 * - 0.0.2: the same hashes, `spec.content.envelope{payloadType, payload?, signatures[]{sig, publicKey}}`;
 *   `payload` is write-only and dropped from the canonical body.
 *
 * When a body does carry the envelope payload, the in-toto statement's subject digests are indexed too.
 */
import { statementSubjectDigests } from '../intoto-statement.ts';
import { b64, type Facts, rec, signatureList, v1Hash } from './common.ts';

const MAX_ENVELOPE_CHARS = 4 * 1024 * 1024;

function subjects(envelope: Record<string, unknown>, f: Facts): void {
  const payloadType = envelope['payloadType'];
  const payload = b64(envelope['payload'], MAX_ENVELOPE_CHARS);
  if (typeof payloadType === 'string' && payload) f.digests.push(...statementSubjectDigests(payloadType, payload));
}

export function intotoV001(spec: Record<string, unknown>, f: Facts): void {
  const content = rec(spec['content']);
  f.digest(v1Hash(content['hash']), 'spec.content.hash');
  f.optionalDigest(v1Hash(content['payloadHash']));
  f.keyBase64(spec['publicKey'], 'spec.publicKey');
  const envelope = content['envelope'];
  if (typeof envelope === 'string' && envelope.length <= MAX_ENVELOPE_CHARS) {
    try {
      subjects(rec(JSON.parse(envelope) as unknown), f);
    } catch {
      f.fail('spec.content.envelope is not a JSON DSSE envelope');
    }
  }
}

export function intotoV002(spec: Record<string, unknown>, f: Facts): void {
  const content = rec(spec['content']);
  f.digest(v1Hash(content['hash']), 'spec.content.hash');
  f.optionalDigest(v1Hash(content['payloadHash']));
  const envelope = rec(content['envelope']);
  const sigs = signatureList(envelope['signatures'], 'spec.content.envelope.signatures', f);
  if (sigs.length === 0) f.fail('spec.content.envelope.signatures is missing or empty');
  sigs.forEach((s, i) => f.keyBase64(rec(s)['publicKey'], `spec.content.envelope.signatures[${i}].publicKey`));
  subjects(envelope, f);
}
