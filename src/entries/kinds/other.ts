/**
 * The remaining Rekor v1 kinds, each at 0.0.1 (sigstore/rekor pkg/types/<kind>/v0.0.1/*_schema.json;
 * reference/rekor.md §2), read for the digests their schema carries and their signer's key, plus a
 * bounded walk for kinds this mirror does not know.
 */
import { hash } from 'node:crypto';
import { b64, type Facts, rec, v1Hash } from './common.ts';

/** helm: `spec.chart.hash` (sha256, RO); `spec.publicKey.content` (PGP). */
export function helmV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['chart'])['hash'])), 'spec.chart.hash');
  f.keyBase64(rec(spec['publicKey'])['content'], 'spec.publicKey.content');
}

/** jar: `spec.archive.hash` (sha256); `spec.signature.publicKey.content` (PEM certificate from the PKCS #7). */
export function jarV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['archive'])['hash'])), 'spec.archive.hash');
  f.keyBase64(rec(rec(spec['signature'])['publicKey'])['content'], 'spec.signature.publicKey.content');
}

/** rpm and alpine: `spec.package.hash` (sha256); `spec.publicKey.content` (PGP for rpm, PKIX for alpine). */
export function packageV001(spec: Record<string, unknown>, f: Facts): void {
  f.digest(v1Hash(rec(rec(spec['package'])['hash'])), 'spec.package.hash');
  f.keyBase64(rec(spec['publicKey'])['content'], 'spec.publicKey.content');
}

/** cose: `spec.data.payloadHash`, `spec.data.envelopeHash` (sha256, RO); `spec.publicKey` (base64 PEM, a string). */
export function coseV001(spec: Record<string, unknown>, f: Facts): void {
  const data = rec(spec['data']);
  f.digest(v1Hash(data['payloadHash']), 'spec.data.payloadHash');
  f.digest(v1Hash(data['envelopeHash']), 'spec.data.envelopeHash');
  f.keyBase64(spec['publicKey'], 'spec.publicKey');
}

/** Timestamp responses up to this size are hashed; real ones are a few KB. */
const MAX_TSR_BYTES = 1024 * 1024;

/** rfc3161: no signer in Rekor's sense; the artifact digest Rekor indexes is sha256 of the TSR (`IndexKeys`). */
export function rfc3161V001(spec: Record<string, unknown>, f: Facts): void {
  const tsr = b64(rec(spec['tsr'])['content'], MAX_TSR_BYTES);
  if (!tsr || tsr.length === 0) return f.fail('spec.tsr.content is missing or not base64');
  f.digests.push(`sha256:${hash('sha256', tsr, 'hex')}`);
}

/**
 * tuf: the body holds signed metadata and root.json as JSON objects and no digest field. Rekor indexes a
 * hash of the metadata's OLPC canonical form, which is not RFC 8785, so none is invented here.
 */
export function tufV001(spec: Record<string, unknown>, f: Facts): void {
  if (!rec(spec['metadata'])['content'] || !rec(spec['root'])['content']) f.fail('spec.metadata.content or spec.root.content is missing');
}

/** Unknown kinds: every `{algorithm, value}` hash and every `publicKey`, within a depth and node budget. */
export function unknownKind(spec: unknown, f: Facts): void {
  let budget = 2000;
  const walk = (o: unknown, depth: number): void => {
    if (budget-- <= 0 || depth > 12 || o === null || typeof o !== 'object') return;
    if (Array.isArray(o)) {
      for (const x of o.slice(0, 64)) walk(x, depth + 1);
      return;
    }
    const r = o as Record<string, unknown>;
    f.optionalDigest(v1Hash(r));
    for (const [k, v] of Object.entries(r)) {
      if (k === 'publicKey' && typeof v === 'string') f.keyBase64(v, 'publicKey');
      else if (k === 'publicKey' && typeof rec(v)['content'] === 'string') f.keyBase64(rec(v)['content'], 'publicKey.content');
      else walk(v, depth + 1);
    }
  };
  walk(spec, 0);
}
