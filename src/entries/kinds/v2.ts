/**
 * Rekor v2 entries (rekor-tiles api/proto/rekor/v2; reference/rekor.md §3.2): canonical protojson of
 * `Entry{kind, apiVersion, spec{hashedRekordV002 | dsseV002}}`. protojson accepts both the JSON name and
 * the proto field name, and CLIENTS.md still shows the pre-rename `hashedRekordV0_0_2`, so both are read.
 */
import { parseBase64 } from '../../util/bytes.ts';
import type { SpecFacts } from '../decode.ts';
import { arr, Facts, rec, v2Hash } from './common.ts';

/** protobuf-specs Verifier: `publicKey.rawBytes` (DER SPKI) or `x509Certificate.rawBytes` (DER). */
function verifier(v: unknown, what: string, f: Facts): void {
  const r = rec(v);
  const raw = rec(r['x509Certificate'])['rawBytes'] ?? rec(r['publicKey'])['rawBytes'];
  const bytes = typeof raw === 'string' ? parseBase64(raw) : undefined;
  if (!bytes) return f.fail(`${what}: no publicKey.rawBytes or x509Certificate.rawBytes`);
  f.key(bytes, what);
}

export function decodeV2Spec(kind: string, version: string, specIn: unknown): SpecFacts {
  const f = new Facts();
  const spec = rec(specIn);
  if (kind === 'hashedrekord') {
    const h = rec(spec['hashedRekordV002'] ?? spec['hashedRekordV0_0_2'] ?? spec['hashed_rekord_v0_0_2']);
    f.digest(v2Hash(h['data']), 'spec.hashedRekordV002.data');
    verifier(rec(h['signature'])['verifier'], 'spec.hashedRekordV002.signature.verifier', f);
  } else if (kind === 'dsse') {
    const d = rec(spec['dsseV002'] ?? spec['dsseV0_0_2'] ?? spec['dsse_v0_0_2']);
    f.digest(v2Hash(d['payloadHash']), 'spec.dsseV002.payloadHash');
    const sigs = arr(d['signatures']);
    if (sigs.length === 0) f.fail('spec.dsseV002.signatures is empty');
    sigs.forEach((s, i) => verifier(rec(s)['verifier'], `spec.dsseV002.signatures[${i}].verifier`, f));
  } else {
    f.problem = { code: 'ENTRY_UNSUPPORTED_KIND', message: `unknown Rekor v2 kind ${JSON.stringify(kind)} ${version}` };
  }
  return f;
}
