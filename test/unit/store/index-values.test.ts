/**
 * indexValues (src/store/store.ts) against the straightforward version it replaced, kept here as the
 * oracle: encode every value, drop those with a NUL byte, deduplicate the encoded bytes. Stores written by
 * either must hold the same index keys. A certificate naming several identities is filed under each.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import type { Digest, Entry, Signer } from '../../../src/entries/types.ts';
import { watchValue } from '../../../src/monitor/eval/values.ts';
import { normalise } from '../../../src/monitor/rules/pattern.ts';
import { digestToBytes, isIndexableDigest } from '../../../src/store/codec.ts';
import { Field } from '../../../src/store/keys.ts';
import { indexValues, normaliseIdentity } from '../../../src/store/index-values.ts';
import { REALDATA } from '../../helpers/realdata.ts';
import { EMAIL_GOOGLE, realEntry } from '../monitor/helpers.ts';

function oracle(e: Entry, full: boolean): Array<[number, Uint8Array]> {
  const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const out: Array<[number, Uint8Array]> = e.digests.filter(isIndexableDigest).map((d) => [Field.DIGEST, digestToBytes(d)]);
  if (full) {
    for (const s of e.signers ?? (e.signer ? [e.signer] : [])) {
      // Every identity the certificate names (Signer.sans), else its one SAN.
      for (const san of s.sans ?? (s.san !== undefined ? [s.san] : [])) out.push([Field.SAN, enc(normaliseIdentity(san))]);
      if (s.issuer !== undefined) out.push([Field.ISSUER, enc(s.issuer)]);
      out.push([Field.FINGERPRINT, new Uint8Array(Buffer.from(s.fingerprint.slice(7), 'hex'))]);
      if (s.keyFingerprint) out.push([Field.FINGERPRINT, new Uint8Array(Buffer.from(s.keyFingerprint.slice(7), 'hex'))]);
      // The value a watch compares, normalised as it compares it.
      for (const [field, name] of [[Field.REPOSITORY, 'repository'], [Field.OWNER, 'owner'], [Field.BUILD_SIGNER, 'buildSigner']] as const) {
        const v = watchValue(s, name);
        if (v) out.push([field, enc(normalise('url', v))]);
      }
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

const text = fc.oneof(
  fc.constantFrom('https://github.com/acme/a/.github/workflows/r.yml@refs/tags/v1', 'https://GitHub.com/Acme/A/.github/workflows/r.yml@refs/tags/V1', 'https://github.com/acme', 'Alice@Example.com', 'https://token.actions.githubusercontent.com', 'a\u0000b', ''),
  fc.string({ maxLength: 12 }),
);
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const digest: fc.Arbitrary<Digest> = fc.oneof(hex64.map((h) => `sha256:${h}` as Digest), fc.constantFrom('sha256:zz' as Digest, 'sha1:abcd' as Digest));
const signer: fc.Arbitrary<Signer> = fc.record(
  {
    type: fc.constant('x509' as const),
    fingerprint: hex64.map((h) => `sha256:${h}` as Digest),
    keyFingerprint: hex64.map((h) => `sha256:${h}` as Digest),
    san: text,
    // Several identities, some normalising alike (an email in two cases) or repeated.
    sans: fc.array(fc.oneof(text, fc.constantFrom('alice@example.com', 'ALICE@example.COM', 'victim@corp.example')), { minLength: 1, maxLength: 5 }),
    issuer: fc.oneof(text, fc.constant('https://token.actions.githubusercontent.com')),
    // githubWorkflowRepository: an old GitHub Actions certificate's .5, from which the rules derive the rest.
    fulcio: fc.record({ sourceRepositoryURI: text, sourceRepositoryOwnerURI: text, buildSignerURI: text, githubWorkflowRepository: fc.constantFrom('Acme/A', 'acme/a', 'not a repo') }, { requiredKeys: [] }),
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

/** The tuf-js v1.0.0 npm provenance (2023-02-09): a real GitHub Actions certificate from before Fulcio's .9, .12 and .16. */
function tufJsProvenance(): Entry {
  const npm = JSON.parse(readFileSync(`${REALDATA}/npm-attestations/tuf-js-npm-attestations_12987347_12987349.json`, 'utf8')) as { attestations: Array<{ predicateType: string; bundle: unknown }> };
  const [t] = parseTlogEntries(npm.attestations.find((a) => a.predicateType === 'https://slsa.dev/provenance/v0.2')!.bundle);
  return decodeAnyBody(t!.body, { log: 'rekor.sigstore.dev', index: Number(t!.logIndex) }, t!.kind, t!.version);
}

const valuesOf = (e: Entry, field: number) => indexValues(e, true, field).map(([, v]) => Buffer.from(v));

describe('indexValues files what the rules see', () => {
  it('a real certificate under its own fingerprint and its key\'s', () => {
    const e = realEntry(EMAIL_GOOGLE);
    expect(valuesOf(e, Field.FINGERPRINT).map((v) => `sha256:${v.toString('hex')}`)).toEqual([e.signer!.fingerprint, e.signer!.keyFingerprint]);
  });

  it('a real GitHub Actions certificate older than .9: the build signer from its SAN, the repository and owner from .5, as the rules derive them', () => {
    const e = tufJsProvenance();
    const s = e.signer!;
    expect(s.fulcio?.buildSignerURI).toBeUndefined();
    expect(s.san).toBe('https://github.com/theupdateframework/tuf-js/.github/workflows/publish.yml@refs/tags/v1.0.0');
    const text = (field: number) => valuesOf(e, field).map((v) => v.toString());
    expect(text(Field.BUILD_SIGNER)).toEqual([s.san]);
    expect(text(Field.REPOSITORY)).toEqual(['https://github.com/theupdateframework/tuf-js']);
    expect(text(Field.OWNER)).toEqual(['https://github.com/theupdateframework']);
    for (const [field, name] of [[Field.BUILD_SIGNER, 'buildSigner'], [Field.REPOSITORY, 'repository'], [Field.OWNER, 'owner']] as const) expect(text(field)).toEqual([watchValue(s, name)]);
  });

  it('a github.com owner and repository in lower case, the workflow path and ref as signed', () => {
    const s: Signer = {
      type: 'x509',
      fingerprint: `sha256:${'ab'.repeat(32)}`,
      issuer: 'https://token.actions.githubusercontent.com',
      fulcio: { sourceRepositoryURI: 'https://github.com/Azure/Azure-SDK', sourceRepositoryOwnerURI: 'https://github.com/Azure', buildSignerURI: 'https://GitHub.com/Azure/Azure-SDK/.github/workflows/Release.yml@refs/tags/V1' },
    };
    const e: Entry = { log: 'l', index: 0, leafHash: '', uuid: '', kind: 'hashedrekord', apiVersion: '0.0.1', digests: [], signer: s };
    expect(valuesOf(e, Field.REPOSITORY).map(String)).toEqual(['https://github.com/azure/azure-sdk']);
    expect(valuesOf(e, Field.OWNER).map(String)).toEqual(['https://github.com/azure']);
    expect(valuesOf(e, Field.BUILD_SIGNER).map(String)).toEqual(['https://github.com/azure/azure-sdk/.github/workflows/Release.yml@refs/tags/V1']);
  });
});
