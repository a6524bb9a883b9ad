/**
 * A long-lived signing key watched by its fingerprint (`watch.fingerprints`, `expect.keys`): the SHA-256 of
 * its DER SubjectPublicKeyInfo, as `openssl pkey -pubin -outform DER | sha256sum` prints it. Whoever holds
 * the key (a thief of it included) can log a signature under a certificate made around it; Rekor v1 takes
 * any certificate, and Rekor verifies the signature with the certificate's key. Such an entry is a
 * signature by the watched key, and must be watched as one.
 */
import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluate, isWatched } from '../../../src/monitor/eval/evaluate.ts';
import { certSigner, dsseV1, hashedrekordV1, hashedrekordV2, keySigner, type Built } from '../../sim/bodies.ts';
import { createCA, createLeaf } from '../../sim/certs.ts';
import { ecdsaKey, ecdsaScalarKey, spkiOf } from '../../sim/keys.ts';
import { BUNDLES, realEntry, ruleSet } from './helpers.ts';

const T = Date.parse('2026-11-25T10:00:00Z') / 1000;
const NOW = T + 3600;
const DIGEST = 'ab'.repeat(32);

function entry(b: Built, kind: string, version: string, index: number): Entry {
  return decodeAnyBody(new TextEncoder().encode(b.body), { log: 'rekor.sigstore.dev', index, integratedTime: T }, kind, version);
}

// ACME's release key, and a certificate someone made around it under a CA of their own.
const release = ecdsaKey('acme-release-key');
const keyFp = `sha256:${hash('sha256', spkiOf(release.publicKey))}`;
const rogueCa = createCA('not-fulcio', T - 86_400, T + 86_400);
const wrapped = createLeaf(rogueCa, { san: 'builder@evil.example' }, T - 60, ecdsaScalarKey('acme-release-key'));

const byKeyV1 = entry(hashedrekordV1(keySigner(release.privateKey, 'ecdsa'), undefined, DIGEST), 'hashedrekord', '0.0.1', 1);
const byKeyV2 = entry(hashedrekordV2(keySigner(release.privateKey, 'ecdsa'), undefined, DIGEST), 'hashedrekord', '0.0.2', 2);
const byCert = entry(hashedrekordV1(certSigner(wrapped), undefined, DIGEST), 'hashedrekord', '0.0.1', 3);
const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: DIGEST } }], predicateType: 'https://example.com/p', predicate: {} }));
const dsseByCert = entry(dsseV1(certSigner(wrapped), statement), 'dsse', '0.0.1', 4);

describe('a watched key, logged under a certificate made around it', () => {
  it('is the same key: the certificate signer carries the key fingerprint a key signer has (PEM in Rekor v1, DER in v2)', () => {
    expect([byKeyV1.signer!.fingerprint, byKeyV2.signer!.fingerprint]).toEqual([keyFp, keyFp]);
    expect(byCert.signer).toMatchObject({ type: 'x509', san: 'builder@evil.example', keyFingerprint: keyFp });
    expect(byCert.signer!.fingerprint).not.toBe(keyFp);
  });

  const watch = ruleSet(`
rules:
  - id: release-key
    watch: { fingerprints: ['${keyFp.slice('sha256:'.length).toUpperCase()}'] }
    expect: { kinds: [hashedrekord] }
`);
  it('is watched by watch.fingerprints, as the key itself is', () => {
    for (const e of [byKeyV1, byKeyV2, byCert, dsseByCert]) expect(isWatched(watch, e), `${e.kind} #${e.index}`).toBe(true);
    const [f] = evaluate(watch, dsseByCert, NOW);
    expect(f).toMatchObject({ expectation: 'expect.kinds', details: { watchedBy: { selector: 'watch.fingerprints', value: keyFp } } });
  });

  it('passes expect.keys naming the key, and a certificate for another key breaks it, naming both', () => {
    const allowed = ruleSet(`
rules:
  - id: only-release-key
    watch: { identities: ['builder@evil.example'] }
    expect: { keys: ['${keyFp}'] }
`);
    expect(evaluate(allowed, byCert, NOW)).toEqual([]);
    const other = entry(hashedrekordV1(certSigner(createLeaf(rogueCa, { san: 'builder@evil.example' }, T - 60, ecdsaScalarKey('another key'))), undefined, DIGEST), 'hashedrekord', '0.0.1', 5);
    const [f] = evaluate(allowed, other, NOW);
    expect(f).toMatchObject({ expectation: 'expect.keys', details: { actual: other.signer!.fingerprint } });
    expect(f!.message).toBe(`signer ${other.signer!.fingerprint} (a certificate for key ${other.signer!.keyFingerprint!}) is not an allowed key`);
  });

  it('real Fulcio certificates carry the fingerprint of their key (the ephemeral one), never the certificate\'s', () => {
    const e = realEntry(`${BUNDLES}/41958702_hashedrekord-0.0.1_v0.1_sigstore-java.sigstore`);
    expect(e.signer!.keyFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(e.signer!.keyFingerprint).not.toBe(e.signer!.fingerprint);
  });
});
