/**
 * dsse 0.0.1 (Rekor v1): sigstore/rekor pkg/types/dsse/v0.0.1/dsse_v0_0_1_schema.json.
 * `spec.payloadHash` and `spec.envelopeHash` (sha256, server-computed); `spec.signatures[]{signature,
 * verifier}` with `verifier` base64 of a PEM key or certificate. The envelope itself is not stored.
 */
import { type Facts, rec, signatureList, v1Hash } from './common.ts';

export function dsseV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(spec['payloadHash']), 'spec.payloadHash');
  f.digest(v1Hash(spec['envelopeHash']), 'spec.envelopeHash');
  const sigs = signatureList(spec['signatures'], 'spec.signatures', f);
  if (sigs.length === 0) f.fail('spec.signatures is missing or empty');
  sigs.forEach((s, i) => f.keyBase64(rec(s)['verifier'], `spec.signatures[${i}].verifier`));
}
