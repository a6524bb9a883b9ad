/**
 * Each kind decoder on bodies shaped like Rekor's (pkg/types/<kind>/<version>/*_schema.json; rekor-tiles
 * protos), built from real key material: digests, signers in every encoding, and what counts as a problem.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClaimsCache, readCertificateClaims } from '../../../src/entries/certificate.ts';
import { decodeAnyBody, decodeRekorV1Body, decodeRekorV2Entry, type EntryMeta } from '../../../src/entries/decode.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const meta: EntryMeta = { log: 'rekor.sigstore.dev', index: 3_000_000_001, integratedTime: 1700000000 };
const body = (o: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(o)));
const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const H = (c: string, alg = 'sha256') => ({ algorithm: alg, value: c.repeat(alg === 'sha256' ? 64 : alg === 'sha384' ? 96 : 128) });

/** A real GitHub Actions Fulcio certificate and a real P-256 key. */
const fulcioDer = parseTlogEntries(readJson(`${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`))[0]!.bundleContent!.certificate!;
const fulcioPem = `-----BEGIN CERTIFICATE-----\n${b64(fulcioDer).replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
const keyPem = readFileSync(`${REALDATA}/trust/prod/rekor.pub`, 'utf8');
const keyDer = Buffer.from(keyPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
const PGP = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: test\n\nmQENBGF0ZXN0AQgA\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
const SSH = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Vfa2V5X2Zvcl90ZXN0aW5nX29ubHlfMDAwMDA= test@example';

describe('Rekor v1 kinds', () => {
  it('hashedrekord: artifact digest and a Fulcio identity, leaf hash and meta', () => {
    const b = body({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: H('a') }, signature: { content: 'AA==', publicKey: { content: b64(fulcioPem) } } } });
    const e = decodeRekorV1Body(b, meta);
    expect(e.problem).toBeUndefined();
    expect(e).toMatchObject({ log: meta.log, index: 3_000_000_001, integratedTime: 1700000000, kind: 'hashedrekord', apiVersion: '0.0.1', digests: [`sha256:${'a'.repeat(64)}`] });
    expect(e.leafHash).toBe(toHex(leafHash(b)));
    expect(e.uuid).toBe(e.leafHash);
    expect(e.signer).toMatchObject({
      type: 'x509',
      fingerprint: `sha256:${sha(fulcioDer)}`,
      san: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
      fulcio: { sourceRepositoryURI: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon', runnerEnvironment: 'github-hosted' },
    });
    expect(e.signers).toBeUndefined();
  });
  it('hashedrekord: sha384/sha512, upper-case hex lower-cased, the leaf hash the caller computed', () => {
    for (const alg of ['sha384', 'sha512']) {
      const e = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: H('B', alg) }, signature: { publicKey: { content: b64(keyPem) } } } }), meta);
      expect(e.digests).toEqual([`${alg}:${'b'.repeat(alg === 'sha384' ? 96 : 128)}`]);
    }
    const given = new Uint8Array(32).fill(7);
    expect(decodeRekorV1Body(body({}), { ...meta, leafHash: given }).leafHash).toBe('07'.repeat(32));
  });
  it('certificates and keys in every encoding a v1 body uses: PEM or DER, certificate or SPKI', () => {
    const signer = (material: Uint8Array | string) =>
      decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: H('a') }, signature: { publicKey: { content: b64(material) } } } }), meta);
    expect(signer(fulcioPem).signer?.fingerprint).toBe(`sha256:${sha(fulcioDer)}`);
    expect(signer(fulcioDer).signer).toEqual(signer(fulcioPem).signer);
    expect(signer(keyPem).signer).toEqual({ type: 'key', fingerprint: `sha256:${sha(keyDer)}` });
    expect(signer(keyDer).signer).toEqual({ type: 'key', fingerprint: `sha256:${sha(keyDer)}` });
    // A chain in one PEM: the leaf is the signer.
    expect(signer(fulcioPem + readFileSync(`${REALDATA}/trust/prod/fulcio_v1.crt.pem`, 'utf8')).signer?.fingerprint).toBe(`sha256:${sha(fulcioDer)}`);
  });
  it('a broken certificate is a problem, never silently a key', () => {
    const badTime = new Uint8Array(fulcioDer);
    badTime[Buffer.from(fulcioDer).indexOf(Buffer.from([0x17, 0x0d])) + 3] = 0x41; // a letter in notBefore
    const decoded = (material: Uint8Array | string) => decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: H('a') }, signature: { publicKey: { content: b64(material) } } } }), meta);
    for (const material of [fulcioDer.subarray(0, 300), '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nMIIB\n']) {
      const e = decoded(material);
      expect(e.problem?.code, String(material).slice(0, 30)).toBe('ENTRY_MALFORMED');
      expect(e.signer).toBeUndefined();
      expect(e.digests).toEqual([`sha256:${'a'.repeat(64)}`]);
    }
    // A certificate whose only fault is a time (Go's x509, Rekor's, reads some that RFC 5280 does not allow)
    // keeps its signer, less that time, and the problem says so.
    const e = decoded(badTime);
    expect(e.problem).toMatchObject({ code: 'ENTRY_MALFORMED', message: expect.stringMatching(/notBefore is not an RFC 5280 time/) as unknown });
    expect(e.signer).toMatchObject({ type: 'x509', fingerprint: `sha256:${sha(badTime)}`, san: decoded(fulcioDer).signer?.san });
    expect(e.signer?.notBefore).toBeUndefined();
  });
  it('rekord: PGP, SSH and minisign keys by their bytes; x509 like hashedrekord', () => {
    for (const [format, key] of [['pgp', PGP], ['ssh', SSH], ['minisign', 'untrusted comment: minisign public key\nRWQf6LRCGA9i5\n'], ['x509', keyPem]] as const) {
      const e = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'rekord', spec: { data: { hash: H('c') }, signature: { format, content: 'AA==', publicKey: { content: b64(key) } } } }), meta);
      expect(e.problem).toBeUndefined();
      expect(e.signer).toEqual({ type: 'key', fingerprint: `sha256:${format === 'x509' ? sha(keyDer) : sha(key)}` });
    }
  });
  it('dsse: payload and envelope hashes, every signer, certificate claims shared through a cache', () => {
    const cache = new ClaimsCache();
    const sigs = [b64(fulcioPem), b64(keyPem), b64(fulcioPem)].map((verifier, i) => ({ signature: `${i}AA=`, verifier }));
    const e = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'dsse', spec: { envelopeHash: H('e'), payloadHash: H('d'), signatures: sigs } }), meta, { certificates: cache });
    expect(e.problem).toBeUndefined();
    expect(e.digests).toEqual([`sha256:${'d'.repeat(64)}`, `sha256:${'e'.repeat(64)}`]);
    expect(e.signers?.map((s) => s.type)).toEqual(['x509', 'key', 'x509']);
    expect(e.signer).toBe(e.signers![0]);
    expect(e.signers![0]!.fulcio).toBe(e.signers![2]!.fulcio);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });
  it('intoto 0.0.1 and 0.0.2: hashes, keys, and statement subjects when the body still carries the payload', () => {
    const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'F'.repeat(64), gitCommit: '1'.repeat(40) } }, { name: 'b', digest: { sha512: '2'.repeat(128) } }], predicateType: 'x', predicate: {} };
    const envelope = { payloadType: 'application/vnd.in-toto+json', payload: b64(JSON.stringify(statement)), signatures: [{ sig: 'AA==', publicKey: b64(fulcioPem) }] };
    const subjects = [`sha256:${'f'.repeat(64)}`, `sha512:${'2'.repeat(128)}`];
    const v1 = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'intoto', spec: { content: { envelope: JSON.stringify(envelope), hash: H('1'), payloadHash: H('3') }, publicKey: b64(keyPem) } }), meta);
    expect(v1.problem).toBeUndefined();
    expect(v1.digests).toEqual([`sha256:${'1'.repeat(64)}`, `sha256:${'3'.repeat(64)}`, ...subjects].sort());
    expect(v1.signer?.type).toBe('key');
    const v2 = decodeRekorV1Body(body({ apiVersion: '0.0.2', kind: 'intoto', spec: { content: { envelope, hash: H('1'), payloadHash: H('3') } } }), meta);
    expect(v2.problem).toBeUndefined();
    expect(v2.digests).toEqual(v1.digests);
    expect(v2.signer?.type).toBe('x509');
    // As Rekor stores them: no payload, no subjects; old 0.0.1 entries have no payloadHash.
    const stored = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'intoto', spec: { content: { hash: H('1') }, publicKey: b64(keyPem) } }), meta);
    expect([stored.problem, stored.digests]).toEqual([undefined, [`sha256:${'1'.repeat(64)}`]]);
  });
  it('the other kinds, with the digests and keys their schemas carry', () => {
    const tsr = new Uint8Array([0x30, 3, 2, 1, 0]);
    const cases: [string, Record<string, unknown>, string[], 'x509' | 'key' | undefined][] = [
      ['helm', { chart: { hash: H('1'), provenance: { signature: { content: 'AA==' } } }, publicKey: { content: b64(PGP) } }, [`sha256:${'1'.repeat(64)}`], 'key'],
      ['jar', { archive: { hash: H('2') }, signature: { content: 'AA==', publicKey: { content: b64(fulcioPem) } } }, [`sha256:${'2'.repeat(64)}`], 'x509'],
      ['rpm', { package: { hash: H('3'), headers: { Name: 'x' } }, publicKey: { content: b64(PGP) } }, [`sha256:${'3'.repeat(64)}`], 'key'],
      ['alpine', { package: { hash: H('4'), pkginfo: {} }, publicKey: { content: b64(keyPem) } }, [`sha256:${'4'.repeat(64)}`], 'key'],
      ['cose', { data: { payloadHash: H('5'), envelopeHash: H('6') }, publicKey: b64(fulcioPem) }, [`sha256:${'5'.repeat(64)}`, `sha256:${'6'.repeat(64)}`], 'x509'],
      ['rfc3161', { tsr: { content: b64(tsr) } }, [`sha256:${sha(tsr)}`], undefined],
      ['tuf', { spec_version: '1.0', metadata: { content: { signed: {} } }, root: { content: { signed: {} } } }, [], undefined],
    ];
    for (const [kind, spec, digests, signer] of cases) {
      const e = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind, spec }), meta);
      expect(e.problem, kind).toBeUndefined();
      expect(e.digests, kind).toEqual(digests);
      expect(e.signer?.type, kind).toBe(signer);
    }
  });
  it('unknown kinds and versions are kept with what a bounded walk finds, and flagged', () => {
    const e = decodeRekorV1Body(body({ apiVersion: '0.0.1', kind: 'gitpush', spec: { x: [{ hash: H('9') }], publicKey: b64(keyPem) } }), meta);
    expect([e.kind, e.problem?.code, e.digests, e.signer?.type]).toEqual(['gitpush', 'ENTRY_UNSUPPORTED_KIND', [`sha256:${'9'.repeat(64)}`], 'key']);
    const later = decodeRekorV1Body(body({ apiVersion: '0.0.3', kind: 'intoto', spec: {} }), meta);
    expect(later.problem).toEqual({ code: 'ENTRY_UNSUPPORTED_KIND', message: 'Rekor v1 has no "intoto" entries at version "0.0.3"' });
  });
});

describe('Rekor v2 entries', () => {
  const digest = b64(new Uint8Array(32).fill(0xab));
  const hr = (member: string, verifier: unknown) => body({ apiVersion: '0.0.2', kind: 'hashedrekord', spec: { [member]: { data: { algorithm: 'SHA2_256', digest }, signature: { content: 'AA==', verifier } } } });
  it('hashedrekord in every JSON spelling, certificate or public key', () => {
    for (const member of ['hashedRekordV002', 'hashedRekordV0_0_2', 'hashed_rekord_v0_0_2']) {
      const e = decodeRekorV2Entry(hr(member, { keyDetails: 'PKIX_ECDSA_P256_SHA_256', x509Certificate: { rawBytes: b64(fulcioDer) } }), meta);
      expect(e.problem, member).toBeUndefined();
      expect(e.digests).toEqual([`sha256:${'ab'.repeat(32)}`]);
      expect(e.signer?.fingerprint).toBe(`sha256:${sha(fulcioDer)}`);
    }
    // The same key as in a v1 body has the same fingerprint.
    expect(decodeRekorV2Entry(hr('hashedRekordV002', { publicKey: { rawBytes: b64(keyDer) } }), meta).signer).toEqual({ type: 'key', fingerprint: `sha256:${sha(keyDer)}` });
  });
  it('a verifier must be exactly one well-formed certificate or key', () => {
    const broken = new Uint8Array(fulcioDer.subarray(0, 300));
    expect(decodeRekorV2Entry(hr('hashedRekordV002', { x509Certificate: { rawBytes: b64(broken) } }), meta).problem?.message).toMatch(/x509Certificate\.rawBytes: /);
    expect(decodeRekorV2Entry(hr('hashedRekordV002', { x509Certificate: { rawBytes: b64(fulcioDer) }, publicKey: { rawBytes: b64(keyDer) } }), meta).problem?.message).toMatch(/both/);
    expect(decodeRekorV2Entry(hr('hashedRekordV002', {}), meta).problem?.message).toMatch(/neither/);
    // A real certificate whose notBefore has a letter in it: the signer stays, less that time, with the problem.
    const badTime = new Uint8Array(fulcioDer);
    badTime[Buffer.from(fulcioDer).indexOf(Buffer.from([0x17, 0x0d])) + 3] = 0x41;
    const e = decodeRekorV2Entry(hr('hashedRekordV002', { x509Certificate: { rawBytes: b64(badTime) } }), meta);
    expect(e.problem?.message).toMatch(/^spec\.hashedRekordV002\.signature\.verifier\.x509Certificate\.rawBytes: notBefore is not an RFC 5280 time/);
    expect(e.signer).toMatchObject({ type: 'x509', fingerprint: `sha256:${sha(badTime)}`, issuer: 'https://token.actions.githubusercontent.com' });
  });
  it('dsse 0.0.2 in both spellings, with several signatures', () => {
    for (const member of ['dsseV002', 'dsseV0_0_2']) {
      const sigs = [{ content: 'AA==', verifier: { x509Certificate: { rawBytes: b64(fulcioDer) } } }, { content: 'AA==', verifier: { publicKey: { rawBytes: b64(keyDer) } } }];
      const e = decodeRekorV2Entry(body({ apiVersion: '0.0.2', kind: 'dsse', spec: { [member]: { payloadHash: { algorithm: 'SHA2_256', digest }, signatures: sigs } } }), meta);
      expect(e.problem).toBeUndefined();
      expect(e.signers?.map((s) => s.type)).toEqual(['x509', 'key']);
    }
  });
  it('a v1 body is not a v2 entry, and the other way round', () => {
    expect(decodeRekorV2Entry(body({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {} }), meta).problem?.code).toBe('ENTRY_UNSUPPORTED_KIND');
    expect(decodeRekorV1Body(hr('hashedRekordV002', {}), meta).problem?.code).toBe('ENTRY_UNSUPPORTED_KIND');
  });
});

/**
 * GitLab CI/CD certificates Fulcio issued (real, from public material: realdata/SOURCES.md). GitLab's
 * identity is its `ci_config_ref_uri`, `<project URL>//<config path>@<ref>` with a double slash, and every
 * claim is a full URL or a bare value as Fulcio's GitLab mapping (fulcio docs/oid-info.md) writes them.
 */
describe('real GitLab CI/CD identities', () => {
  const gitlab = (project: string, sha: string, over: Record<string, string>) => {
    const repo = `https://gitlab.com/${project}`;
    const config = `${repo}//.gitlab-ci.yml@refs/heads/main`;
    return {
      issuerV1: 'https://gitlab.com',
      issuer: 'https://gitlab.com',
      buildSignerURI: config,
      buildSignerDigest: sha,
      runnerEnvironment: 'gitlab-hosted',
      sourceRepositoryURI: repo,
      sourceRepositoryDigest: sha,
      sourceRepositoryRef: 'refs/heads/main',
      sourceRepositoryOwnerURI: `https://gitlab.com/${project.split('/')[0]!}`,
      buildConfigURI: config,
      buildConfigDigest: sha,
      buildTrigger: 'push',
      ...over,
    };
  };

  it('a PyPI publish attestation (dsse 0.0.1, prod Rekor 149945774): every claim a monitor rule can match', () => {
    const [t] = parseTlogEntries(readJson(`${REALDATA}/pypi-attestations/149945774_dsse-0.0.1_gitlab-ci_gitlab_oidc_project-0.0.3.publish.attestation.json`));
    const e = decodeAnyBody(t!.body, { log: 'rekor.sigstore.dev', index: Number(t!.logIndex), integratedTime: Number(t!.integratedTime) }, t!.kind, t!.version);
    expect(e.problem).toBeUndefined();
    expect(e.kind).toBe('dsse');
    expect(e.digests).toEqual(['sha256:3211b4626aa655ad446f3417e13e087118ca79bebed21795fb9cf32c8d28844a', 'sha256:35486a3f524c3b1595a6360b3484003ac4628823e4e21a574a9d88a676004690']);
    expect(e.signer).toMatchObject({
      type: 'x509',
      fingerprint: `sha256:${sha(t!.bundleContent!.certificate!)}`,
      san: 'https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main',
      issuer: 'https://gitlab.com',
      notBefore: Date.parse('2024-11-19T17:36:59Z') / 1000,
      notAfter: Date.parse('2024-11-19T17:46:59Z') / 1000,
    });
    expect(e.signer!.sans).toBeUndefined();
    // Every claim, and no other: what watch and expect rules read.
    expect(e.signer!.fulcio).toEqual(
      gitlab('facutuesca/gitlab-oidc-project', '72f7c63b75eb55ea80864962f0e645c93414da34', {
        sourceRepositoryIdentifier: '55235664',
        sourceRepositoryOwnerIdentifier: '12885801',
        runInvocationURI: 'https://gitlab.com/facutuesca/gitlab-oidc-project/-/jobs/8415754949',
        sourceRepositoryVisibilityAtSigning: 'private',
      }),
    );
    expect(e.signers).toBeUndefined();
  });
  it('GitLab\'s own SLSA provenance signing certificate (a public project, Oct 2025)', () => {
    const der = new Uint8Array(Buffer.from(readFileSync(`${REALDATA}/certs-ct/fulcio-leaf_2025-10_gitlab-ci_public.pem`, 'latin1').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
    const c = readCertificateClaims(der);
    expect(c.problem).toBeUndefined();
    expect(c.san).toBe('https://gitlab.com/sroque-worcel/test-slsa-worker//.gitlab-ci.yml@refs/heads/main');
    expect(c.issuer).toBe('https://gitlab.com');
    expect(c.fulcio).toEqual(
      gitlab('sroque-worcel/test-slsa-worker', 'eafa0a6820b778736cffdf6c70448b5647855352', {
        sourceRepositoryIdentifier: '72356192',
        sourceRepositoryOwnerIdentifier: '108199179',
        runInvocationURI: 'https://gitlab.com/sroque-worcel/test-slsa-worker/-/jobs/11637492236',
        sourceRepositoryVisibilityAtSigning: 'public',
      }),
    );
  });
});
