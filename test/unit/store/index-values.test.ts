/**
 * indexValues (src/store/store.ts) against the straightforward version it replaced, kept here as the
 * oracle: encode every value, drop those with a NUL byte, deduplicate the encoded bytes. Stores written by
 * either must hold the same index keys. A certificate naming several identities is filed under each.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Digest, Entry, Signer } from '../../../src/entries/types.ts';
import { digestToBytes, isIndexableDigest } from '../../../src/store/codec.ts';
import { Field } from '../../../src/store/keys.ts';
import { indexValues, normaliseIdentity } from '../../../src/store/index-values.ts';

function oracle(e: Entry, full: boolean): Array<[number, Uint8Array]> {
  const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const out: Array<[number, Uint8Array]> = e.digests.filter(isIndexableDigest).map((d) => [Field.DIGEST, digestToBytes(d)]);
  if (full) {
    for (const s of e.signers ?? (e.signer ? [e.signer] : [])) {
      // Every identity the certificate names (Signer.sans), else its one SAN.
      for (const san of s.sans ?? (s.san !== undefined ? [s.san] : [])) out.push([Field.SAN, enc(normaliseIdentity(san))]);
      if (s.issuer !== undefined) out.push([Field.ISSUER, enc(s.issuer)]);
      out.push([Field.FINGERPRINT, new Uint8Array(Buffer.from(s.fingerprint.slice(7), 'hex'))]);
      if (s.fulcio?.sourceRepositoryURI) out.push([Field.REPOSITORY, enc(s.fulcio.sourceRepositoryURI)]);
      if (s.fulcio?.sourceRepositoryOwnerURI) out.push([Field.OWNER, enc(s.fulcio.sourceRepositoryOwnerURI)]);
      if (s.fulcio?.buildSignerURI) out.push([Field.BUILD_SIGNER, enc(s.fulcio.buildSignerURI)]);
    }
    out.push([Field.TIME, new Uint8Array(0)]);
  }
  const seen = new Set<string>();
  return out.filter(([f, v]) => {
    const k = `${f}:${Buffer.from(v).toString('latin1')}`;
    if (seen.has(k) || (f !== Field.DIGEST && f !== Field.FINGERPRINT && v.includes(0))) return false;
    seen.add(k);
    return true;
  });
}

const keySet = (xs: Array<[number, Uint8Array]>) => xs.map(([f, v]) => `${f}:${Buffer.from(v).toString('hex')}`).sort();

const text = fc.oneof(fc.constantFrom('https://github.com/acme/a/.github/workflows/r.yml@refs/tags/v1', 'Alice@Example.com', 'https://token.actions.githubusercontent.com', 'a\u0000b', ''), fc.string({ maxLength: 12 }));
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const digest: fc.Arbitrary<Digest> = fc.oneof(hex64.map((h) => `sha256:${h}` as Digest), fc.constantFrom('sha256:zz' as Digest, 'sha1:abcd' as Digest));
const signer: fc.Arbitrary<Signer> = fc.record(
  {
    type: fc.constant('x509' as const),
    fingerprint: hex64.map((h) => `sha256:${h}` as Digest),
    san: text,
    // Several identities, some normalising alike (an email in two cases) or repeated.
    sans: fc.array(fc.oneof(text, fc.constantFrom('alice@example.com', 'ALICE@example.COM', 'victim@corp.example')), { minLength: 1, maxLength: 5 }),
    issuer: text,
    fulcio: fc.record({ sourceRepositoryURI: text, sourceRepositoryOwnerURI: text, buildSignerURI: text }, { requiredKeys: [] }),
  },
  { requiredKeys: ['type', 'fingerprint'] },
);

describe('indexValues', () => {
  it('gives the same keys as encoding, filtering and deduplicating every value', () => {
    fc.assert(
      fc.property(fc.array(digest, { maxLength: 4 }), fc.array(signer, { maxLength: 3 }), fc.boolean(), fc.boolean(), (digests, signers, several, full) => {
        const e: Entry = { log: 'l', index: 0, leafHash: '', uuid: '', kind: 'dsse', apiVersion: '0.0.1', digests, ...(several ? { signers } : signers[0] ? { signer: signers[0] } : {}) };
        const got = indexValues(e, full);
        expect(keySet(got)).toEqual(keySet(oracle(e, full)));
        expect(new Set(keySet(got)).size).toBe(got.length);
      }),
      { numRuns: 2000 },
    );
  });
  it('gives of one field (`only`, what a search checks) exactly that field\'s keys of the whole set', () => {
    fc.assert(
      fc.property(fc.array(digest, { maxLength: 4 }), fc.array(signer, { maxLength: 3 }), fc.boolean(), fc.constantFrom<number>(...Object.values(Field)), (digests, signers, full, field) => {
        const e: Entry = { log: 'l', index: 0, leafHash: '', uuid: '', kind: 'dsse', apiVersion: '0.0.1', digests, signers };
        expect(keySet(indexValues(e, full, field))).toEqual(keySet(indexValues(e, full).filter(([f]) => f === field)));
      }),
      { numRuns: 2000 },
    );
  });
  it('files a certificate naming several identities under each of them, once each', () => {
    const s: Signer = { type: 'x509', fingerprint: `sha256:${'ab'.repeat(32)}`, san: 'attacker@example.org', sans: ['attacker@example.org', 'Victim@Corp.example', 'victim@corp.example', 'https://github.com/Acme/x'] };
    const e: Entry = { log: 'l', index: 0, leafHash: '', uuid: '', kind: 'hashedrekord', apiVersion: '0.0.1', digests: [], signer: s };
    const sans = indexValues(e, true).filter(([f]) => f === Field.SAN).map(([, v]) => Buffer.from(v).toString());
    expect(sans).toEqual(['attacker@example.org', 'victim@corp.example', 'https://github.com/Acme/x']);
  });
});
