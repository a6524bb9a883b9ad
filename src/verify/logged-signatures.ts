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
 */
import { rec } from '../entries/kinds/common.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Base64 of each logged signature, as the body has it; undefined when this kind does not record them where we look, or the body is not that shape. */
export function loggedSignatures(body: Uint8Array, kind: string, version: string): string[] | undefined {
  let spec: Record<string, unknown>;
  try {
    // The entry decoders' reader: a missing or non-object field reads as {}, so every lookup below misses.
    spec = rec(rec(JSON.parse(utf8.decode(body)) as unknown)['spec']);
  } catch {
    return undefined;
  }
  const one = (sig: unknown, field: string) => {
    const s = rec(sig)[field];
    return typeof s === 'string' ? s : undefined;
  };
  const many = (sigs: unknown, field: string) => {
    if (!Array.isArray(sigs)) return undefined;
    const out = sigs.map((s) => one(s, field));
    return out.every((s) => s !== undefined) ? out : undefined;
  };
  const single = (s: string | undefined) => (s === undefined ? undefined : [s]);
  if (kind === 'hashedrekord' && version === '0.0.1') return single(one(spec['signature'], 'content'));
  if (kind === 'hashedrekord' && version === '0.0.2') return single(one(rec(spec['hashedRekordV002'])['signature'], 'content'));
  if (kind === 'dsse' && version === '0.0.1') return many(spec['signatures'], 'signature');
  if (kind === 'dsse' && version === '0.0.2') return many(rec(spec['dsseV002'])['signatures'], 'content');
  if (kind === 'intoto' && version === '0.0.2') {
    // Decoded as leniently as the comparison decodes every logged signature (bundle-content.ts): a spelling
    // Go's decoder took must not leave the signature uncompared.
    return many(rec(rec(spec['content'])['envelope'])['signatures'], 'sig')?.map((s) => Buffer.from(s, 'base64').toString('latin1'));
  }
  return undefined;
}
