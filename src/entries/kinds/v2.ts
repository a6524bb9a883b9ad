/**
 * Rekor v2 entries: sigstore/rekor-tiles api/proto/rekor/v2/{entry,hashedrekord,dsse,verifier}.proto
 * (reference/rekor.md §3.2). The body is canonical protojson of `Entry{kind, apiVersion, spec}` with
 * `spec.hashedRekordV002{data: HashOutput, signature{content, verifier}}` or
 * `spec.dsseV002{payloadHash: HashOutput, signatures[]{content, verifier}}`.
 *
 * protojson accepts a field's JSON name or its proto name, and rekor-tiles' CLIENTS.md still shows the
 * pre-rename `hashedRekordV0_0_2` (renamed in rekor-tiles#329), so every spelling is read.
 */
import { type Facts, rec, signatureList, v2Hash } from './common.ts';

/** The first present spelling of a oneof member, and its name for messages. */
function member(spec: Record<string, unknown>, names: readonly string[]): [Record<string, unknown>, string] {
  for (const n of names) if (spec[n] !== undefined) return [rec(spec[n]), `spec.${n}`];
  return [{}, `spec.${names[0]}`];
}

/** protobuf-specs Verifier: exactly one of `publicKey.rawBytes` (DER SPKI) or `x509Certificate.rawBytes` (DER). */
function verifier(v: unknown, what: string, f: Facts): void {
  const r = rec(v);
  const cert = r['x509Certificate'];
  const key = r['publicKey'];
  if (cert !== undefined && key !== undefined) return f.fail(`${what} has both x509Certificate and publicKey`);
  if (cert !== undefined) return f.rawKey(rec(cert)['rawBytes'], 'certificate', `${what}.x509Certificate.rawBytes`);
  if (key !== undefined) return f.rawKey(rec(key)['rawBytes'], 'spki', `${what}.publicKey.rawBytes`);
  f.fail(`${what} has neither x509Certificate nor publicKey`);
}

export function hashedrekordV002(spec: Record<string, unknown>, f: Facts): void {
  const [h, at] = member(spec, ['hashedRekordV002', 'hashedRekordV0_0_2', 'hashed_rekord_v0_0_2']);
  f.digest(v2Hash(h['data']), `${at}.data`);
  verifier(rec(h['signature'])['verifier'], `${at}.signature.verifier`, f);
}

export function dsseV002(spec: Record<string, unknown>, f: Facts): void {
  const [d, at] = member(spec, ['dsseV002', 'dsseV0_0_2', 'dsse_v0_0_2']);
  f.digest(v2Hash(d['payloadHash']), `${at}.payloadHash`);
  const sigs = signatureList(d['signatures'], `${at}.signatures`, f);
  if (sigs.length === 0) f.fail(`${at}.signatures is missing or empty`);
  sigs.forEach((s, i) => verifier(rec(s)['verifier'], `${at}.signatures[${i}].verifier`, f));
}
