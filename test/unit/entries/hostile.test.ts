/**
 * Hostile bodies: the decoders are total. Whatever the bytes, they return an Entry with the right leaf
 * hash, and say why when they could not decode it; nothing throws, nothing runs away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRekorV1Body, decodeRekorV2Entry, MAX_BODY_BYTES } from '../../../src/entries/decode.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { MAX_SIGNATURES } from '../../../src/entries/kinds/common.ts';
import { filesUnder, inInputDir, readJson, REALDATA } from '../../helpers/realdata.ts';
import { replaceNode } from '../../helpers/replace-node.ts';

const meta = { log: 'l', index: 1 };
const enc = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

/** Both decoders; checks the invariants every returned Entry must satisfy. */
function decodeBoth(body: Uint8Array): Entry[] {
  return [decodeRekorV1Body, decodeRekorV2Entry].map((decode) => {
    const e = decode(body, meta);
    expect(e.leafHash).toBe(toHex(leafHash(body)));
    expect(e.uuid).toBe(e.leafHash);
    if (e.kind === 'unknown') expect(e.problem).toBeDefined();
    for (const d of e.digests) expect(d).toMatch(/^sha(256|384|512):[0-9a-f]+$/);
    expect([...e.digests].sort()).toEqual([...new Set(e.digests)].sort());
    return e;
  });
}

/** Every real body in the fixtures, as a base for mutations. */
const realBodies: Uint8Array[] = filesUnder(REALDATA, (f) => inInputDir(f)).flatMap((f) => {
  try {
    return parseTlogEntries(readJson(f)).map((e) => e.body);
  } catch {
    return [];
  }
});

describe('hostile entry bodies', () => {
  it('has real bodies to mutate', () => expect(realBodies.length).toBeGreaterThanOrEqual(70));
  it('random bytes and arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.json().map(enc), fc.jsonValue().map((v) => enc(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: v })))), (body) => {
        decodeBoth(body);
      }),
      { numRuns: 1000 },
    );
  });
  it('real bodies with one node replaced by any JSON value', () => {
    fc.assert(
      fc.property(fc.nat(realBodies.length - 1), fc.array(fc.nat(), { maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), (which, path, value) => {
        const doc = JSON.parse(Buffer.from(realBodies[which]!).toString('utf8')) as unknown;
        decodeBoth(enc(JSON.stringify(replaceNode(doc, path, value))));
      }),
      { numRuns: 1000 },
    );
  });
  it('every prefix of a real body (truncated JSON)', () => {
    const b = realBodies[0]!;
    for (let n = 0; n < b.length; n += 7) {
      const [v1] = decodeBoth(b.subarray(0, n));
      expect(v1!.problem?.code).toBe('ENTRY_MALFORMED');
    }
  });
  it('structurally plausible bodies with wrong types say what is wrong', () => {
    const bodies: [unknown, RegExp][] = [
      [{ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: { algorithm: 'sha256', value: 'zz' } } } }, /spec\.data\.hash is missing or not a supported hash/],
      [{ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: { algorithm: 'md5', value: 'ab'.repeat(16) } } } }, /spec\.data\.hash/],
      [{ apiVersion: '0.0.1', kind: 'dsse', spec: { payloadHash: 1, signatures: 'nope' } }, /spec\.payloadHash/],
      [{ apiVersion: '0.0.1', kind: 'dsse', spec: { payloadHash: { algorithm: 'sha256', value: 'a'.repeat(64) }, envelopeHash: { algorithm: 'sha256', value: 'b'.repeat(64) }, signatures: [{ verifier: 7 }] } }, /signatures\[0\]\.verifier is missing or not base64/],
      [{ apiVersion: '0.0.1', kind: 'hashedrekord', spec: 'x' }, /no spec object/],
      [{ apiVersion: 7, kind: 'hashedrekord' }, /string kind and apiVersion/],
      [{ apiVersion: '0.0.1', kind: 'x'.repeat(100) }, /string kind and apiVersion/],
      [[1, 2, 3], /not a JSON object/],
    ];
    for (const [b, message] of bodies) {
      const [e] = decodeBoth(enc(JSON.stringify(b)));
      expect(e!.problem?.message, JSON.stringify(b).slice(0, 80)).toMatch(message);
    }
    expect(decodeBoth(Uint8Array.of(0x7b, 0xff, 0x7d))[0]!.problem?.message).toMatch(/not UTF-8 JSON/);
  });
  it('10 MB bodies: junk, valid JSON and a huge key are refused or bounded, not parsed into memory blow-ups', () => {
    const junk = new Uint8Array(10 * 1024 * 1024).fill(0x5b);
    expect(decodeBoth(junk)[0]!.problem?.message).toMatch(/exceeds the 4194304-byte limit/);
    const bigJson = enc(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { pad: 'x'.repeat(10 * 1024 * 1024) } }));
    expect(decodeBoth(bigJson)[0]!.problem?.message).toMatch(/exceeds/);
    const hugeKey = enc(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: { algorithm: 'sha256', value: 'a'.repeat(64) } }, signature: { publicKey: { content: 'A'.repeat(MAX_BODY_BYTES - 400) } } } }));
    const [e] = decodeBoth(hugeKey);
    expect(e!.problem?.message).toMatch(/publicKey\.content is missing or not base64/);
    expect(e!.digests).toEqual([`sha256:${'a'.repeat(64)}`]);
  });
  it('deep nesting and huge arrays stay bounded', () => {
    decodeBoth(enc('['.repeat(1_000_000) + ']'.repeat(1_000_000)));
    decodeBoth(enc(`{"apiVersion":"0.0.1","kind":"future","spec":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`));
    const manySigs = Array.from({ length: 100_000 }, () => ({ verifier: 7 }));
    const [e] = decodeBoth(enc(JSON.stringify({ apiVersion: '0.0.1', kind: 'dsse', spec: { signatures: manySigs } })));
    expect(e!.problem).toBeDefined();
    const manyHashes = Array.from({ length: 100_000 }, (_, i) => ({ hash: { algorithm: 'sha256', value: i.toString(16).padStart(64, '0') } }));
    const [u] = decodeBoth(enc(JSON.stringify({ apiVersion: '0.0.1', kind: 'future', spec: { list: manyHashes } })));
    expect(u!.digests.length).toBeLessThanOrEqual(64);
  });
  it('reads every signer of a real DSSE entry with many, and says so when there are more than it reads', () => {
    const [t] = parseTlogEntries(readJson(`${REALDATA}/bundles/prod-rekor-v1/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json`));
    const body = JSON.parse(Buffer.from(t!.body).toString('utf8')) as { spec: { signatures: unknown[] } };
    const withSigs = (n: number) => decodeRekorV1Body(enc(JSON.stringify({ ...body, spec: { ...body.spec, signatures: Array.from({ length: n }, () => body.spec.signatures[0]) } })), meta);
    // Past the 64 it used to read without a word: a watched signer there was never looked at.
    const many = withSigs(65);
    expect(many.problem).toBeUndefined();
    expect(many.signers).toHaveLength(65);
    const tooMany = withSigs(MAX_SIGNATURES + 1);
    expect(tooMany.signers).toHaveLength(MAX_SIGNATURES);
    expect(tooMany.problem?.message).toBe(`spec.signatures has ${MAX_SIGNATURES + 1} signatures: only the first ${MAX_SIGNATURES} were read`);
  });
});
