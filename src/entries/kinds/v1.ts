/**
 * Rekor v1 entry kinds (sigstore/rekor pkg/types/*; reference/rekor.md §2). Each reads the digests its
 * schema carries and the signers' key material. Kinds without a dedicated reader (helm, jar, rpm, tuf,
 * alpine, cose, rfc3161) go through a bounded walk that collects every `{algorithm, value}` hash and every
 * `publicKey.content`, so they are still indexed by digest and key.
 */
import type { SpecFacts } from '../decode.ts';
import { arr, Facts, rec, v1Hash } from './common.ts';

function hashedrekord(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['data'])['hash'])), 'spec.data.hash');
  f.keyBase64(rec(rec(spec['signature'])['publicKey'])['content'], 'spec.signature.publicKey.content');
}

function dsse(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(spec['payloadHash']), 'spec.payloadHash');
  f.digest(v1Hash(spec['envelopeHash']), 'spec.envelopeHash');
  const sigs = arr(spec['signatures']);
  if (sigs.length === 0) f.fail('spec.signatures is empty');
  sigs.forEach((s, i) => f.keyBase64(rec(s)['verifier'], `spec.signatures[${i}].verifier`));
}

function intoto(spec: Record<string, unknown>, version: string, f: Facts): void {
  const content = rec(spec['content']);
  f.digest(v1Hash(content['hash']), 'spec.content.hash');
  const payloadHash = v1Hash(content['payloadHash']);
  if (payloadHash) f.digests.push(payloadHash);
  if (version === '0.0.1') {
    f.keyBase64(spec['publicKey'], 'spec.publicKey');
    return;
  }
  const sigs = arr(rec(content['envelope'])['signatures']);
  if (sigs.length === 0) f.fail('spec.content.envelope.signatures is empty');
  sigs.forEach((s, i) => f.keyBase64(rec(s)['publicKey'], `spec.content.envelope.signatures[${i}].publicKey`));
}

function rekord(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['data'])['hash'])), 'spec.data.hash');
  f.keyBase64(rec(rec(spec['signature'])['publicKey'])['content'], 'spec.signature.publicKey.content');
}

/** Depth- and count-bounded walk for the other kinds. */
function generic(spec: unknown, f: Facts): void {
  let budget = 2000;
  const walk = (o: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 12 || o === null || typeof o !== 'object') return;
    if (Array.isArray(o)) return o.slice(0, 64).forEach((x) => walk(x, depth + 1));
    const r = o as Record<string, unknown>;
    const h = v1Hash(r);
    if (h) f.digests.push(h);
    for (const [k, v] of Object.entries(r)) {
      if (k === 'publicKey' && typeof rec(v)['content'] === 'string') f.keyBase64(rec(v)['content'], 'publicKey.content');
      else walk(v, depth + 1);
    }
  };
  walk(spec, 0);
}

export function decodeV1Spec(kind: string, version: string, specIn: unknown): SpecFacts {
  const f = new Facts();
  const spec = rec(specIn);
  switch (kind) {
    case 'hashedrekord':
      hashedrekord(spec, f);
      break;
    case 'dsse':
      dsse(spec, f);
      break;
    case 'intoto':
      intoto(spec, version, f);
      break;
    case 'rekord':
      rekord(spec, f);
      break;
    case 'helm':
    case 'jar':
    case 'rpm':
    case 'tuf':
    case 'alpine':
    case 'cose':
    case 'rfc3161':
      generic(spec, f);
      break;
    default:
      generic(spec, f);
      f.problem ??= { code: 'ENTRY_UNSUPPORTED_KIND', message: `unknown Rekor v1 kind ${JSON.stringify(kind)} ${version}` };
  }
  return f;
}
