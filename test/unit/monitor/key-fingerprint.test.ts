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
import { evaluateEntry } from '../../../src/monitor/evaluate.ts';
import { CertificateAuthorities } from '../../../src/trust/certificate-authority.ts';
import { loadTrustedRootFile } from '../../../src/trust/tuf.ts';
import { REALDATA } from '../../helpers/realdata.ts';
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

describe('the time a Rekor v2 entry under a certificate no trusted CA issued is judged at', () => {
  // Rekor v2 records no integrated time. A certificate Fulcio issued says when (its notBefore, minutes before
  // the signature); one made around a stolen key says whatever its maker wrote: here Wednesday 11:00 in
  // Berlin, for a signature the mirror first saw on Sunday at 03:00.
  const office = Date.parse('2026-11-25T10:00:00Z') / 1000;
  const sunday = Date.parse('2026-11-29T02:00:00Z') / 1000;
  const made = createLeaf(rogueCa, { san: 'builder@evil.example', issuer: 'https://accounts.google.com' }, office, ecdsaScalarKey('acme-release-key'));
  const b = hashedrekordV2(certSigner(made), undefined, DIGEST);
  // The mirror stamps when it first fetched an entry (observedAt) as it ingests it.
  const e: Entry = { ...decodeAnyBody(new TextEncoder().encode(b.body), { log: 'log2025-1', index: 9 }, 'hashedrekord', '0.0.2'), observedAt: sunday };
  const rules = ruleSet(`
rules:
  - id: release-key-hours
    watch: { fingerprints: ['${keyFp}'] }
    expect:
      timeWindow: { timezone: Europe/Berlin, weekdays: [mon, tue, wed, thu, fri], hours: '08:00-20:00' }
`);
  const cas = new CertificateAuthorities(loadTrustedRootFile(`${REALDATA}/trust/prod/trusted_root.json`).certificateAuthorities);

  it('is when the mirror saw it, not the notBefore its maker wrote', () => {
    expect([e.integratedTime, e.signer!.notBefore]).toEqual([undefined, office]);
    const [f, ...more] = evaluateEntry(rules, e, sunday + 60, { cas });
    expect(more).toEqual([]);
    expect(f).toMatchObject({ expectation: 'expect.timeWindow', evidence: { certificateIssuers: [null], violations: [{ timeSource: 'observedAt (first seen by this mirror)' }] } });
    expect(f!.message).toMatch(/sun 2026-11-29 03:00 Europe\/Berlin is not an allowed weekday/);
  });
  it('where no trusted root says who issued it (no CAs given), the notBefore still counts, as documented', () => {
    expect(evaluateEntry(rules, e, sunday + 60)).toEqual([]);
  });
});
