/** `--inject`: lines are checked strictly, entries land where asked with the certificate or key asked for. */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readCertificateClaims } from '../../../src/entries/certificate.ts';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../../../src/entries/decode.ts';
import { entriesPath } from '../../../src/merkle/tiles.ts';
import { parseEntryBundle } from '../../../src/sources/tiles.ts';
import { parseInjectFile, type InjectSpec } from '../../sim/inject.ts';
import { bytes, getJson, manifest, sim, stopAll } from './helpers.ts';

afterAll(stopAll);

const gha = {
  san: 'https://github.com/acme/api/.github/workflows/evil.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
  extensions: {
    sourceRepositoryURI: 'https://github.com/acme/api',
    '1.3.6.1.4.1.57264.1.9': 'https://github.com/acme/api/.github/workflows/evil.yml@refs/heads/main',
    runnerEnvironment: 'self-hosted',
    githubWorkflowTrigger: 'workflow_dispatch',
    '1.2.3.4.5': 'custom',
  },
};
const D = `sha256:${'d'.repeat(64)}`;

describe('parseInjectFile', () => {
  it('reads the documented line format and normalises Fulcio OIDs to claim names', () => {
    const specs = parseInjectFile(
      [
        JSON.stringify({ at: 3, integratedTime: '2026-11-15T02:00:00Z', kind: 'dsse', digest: D, cert: gha }),
        '',
        JSON.stringify({ at: 'next', key: 'ed25519' }),
      ].join('\n'),
    );
    expect(specs).toHaveLength(2);
    expect(specs[0]!.cert!.extensions).toEqual({ sourceRepositoryURI: gha.extensions.sourceRepositoryURI, buildSignerURI: gha.extensions['1.3.6.1.4.1.57264.1.9'], runnerEnvironment: 'self-hosted', githubWorkflowTrigger: 'workflow_dispatch', '1.2.3.4.5': 'custom' });
    expect(specs[1]).toEqual({ at: 'next', key: 'ed25519' });
  });

  it.each([
    ['not JSON', '{', /f:1: not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no at', '{"key":"ecdsa"}', /"at"/],
    ['negative at', '{"at":-1,"key":"ecdsa"}', /"at"/],
    ['neither cert nor key', '{"at":1}', /exactly one of "cert", "key" and "rekord"/],
    ['both', '{"at":1,"key":"ecdsa","cert":{"san":"a@b.c"}}', /exactly one/],
    ['a bad key type', '{"at":1,"key":"rsa"}', /"key"/],
    ['a bad kind', '{"at":1,"key":"ecdsa","kind":"rekord"}', /"kind"/],
    ['a bad digest', '{"at":1,"key":"ecdsa","digest":"sha256:XYZ"}', /"digest"/],
    ['a time without zone', '{"at":1,"key":"ecdsa","integratedTime":"2026-11-15T02:00:00"}', /integratedTime/],
    ['an unknown key', '{"at":1,"key":"ecdsa","colour":"red"}', /unknown key "colour"/],
    ['an unknown extension name', '{"at":1,"cert":{"san":"a@b.c","extensions":{"repoo":"x"}}}', /neither a Fulcio extension name/],
    ['raw extension bytes that are not hex', '{"at":1,"cert":{"san":"a@b.c","rawExtensions":{"buildTrigger":"0G"}}}', /rawExtensions\.buildTrigger must be lower-case hex/],
    ['a raw extension with an unknown name', '{"at":1,"cert":{"san":"a@b.c","rawExtensions":{"trigger":"0c00"}}}', /neither a Fulcio extension name/],
    ['a missing san', '{"at":1,"cert":{"issuer":"x"}}', /cert\.san/],
    ['a repeated index', '{"at":1,"key":"ecdsa"}\n{"at":1,"key":"ed25519"}', /f:2: index 1 is already injected/],
  ])('refuses %s', (_what, text, err) => {
    expect(() => parseInjectFile(text, 'f')).toThrow(err);
  });
});

describe('injected entries', () => {
  it('land at their index on a v1 log with the given time, digest, certificate claims or key; "next" follows the build', async () => {
    const inject: InjectSpec[] = [
      { at: 5, integratedTime: '2026-11-15T02:00:00Z', digest: D, cert: parseInjectFile(JSON.stringify({ at: 5, cert: gha }))[0]!.cert! },
      { at: 6, kind: 'intoto', digest: D, cert: { san: 'mallory@example.com', issuer: 'https://accounts.google.com' } },
      { at: 7, key: 'ecdsa', digest: D },
      { at: 8, key: 'ed25519' },
      { at: 'next', kind: 'dsse', key: 'ecdsa' },
      { at: 25, key: 'ecdsa' }, // beyond the initial entries: placed when the log grows to it
    ];
    const s = await sim({ api: 'v1', entries: 20, seed: 'inject', inject });
    let m = manifest(s);
    expect(m).toHaveLength(21);
    const entry = async (i: number) => Object.values((await getJson(`${s.url}/api/v1/log/entries?logIndex=${i}`)) as Record<string, any>)[0];
    const decoded = async (i: number) => decodeRekorV1Body(new Uint8Array(Buffer.from((await entry(i)).body, 'base64')), { log: 's', index: i });

    const e5 = await decoded(5);
    expect((await entry(5)).integratedTime).toBe(Date.parse('2026-11-15T02:00:00Z') / 1000);
    expect(e5.digests).toEqual([D]);
    expect(e5.signer?.san).toBe(gha.san);
    expect(e5.signer?.issuer).toBe(gha.issuer);
    expect(e5.signer?.fulcio).toMatchObject({ sourceRepositoryURI: 'https://github.com/acme/api', buildSignerURI: gha.san, runnerEnvironment: 'self-hosted', githubWorkflowTrigger: 'workflow_dispatch', issuerV1: gha.issuer });
    expect(m[5]).toMatchObject({ kind: 'hashedrekord', digests: [D], san: gha.san, issuer: gha.issuer, repository: 'https://github.com/acme/api', buildSigner: gha.san, integratedTime: Date.parse('2026-11-15T02:00:00Z') / 1000 });

    const e6 = await decoded(6);
    expect(e6.kind).toBe('intoto');
    expect(e6.signer?.san).toBe('mallory@example.com');
    const statement = JSON.parse(Buffer.from((await entry(6)).attestation.data, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe('d'.repeat(64)); // the attestation is about the injected digest
    expect(m[6]).toMatchObject({ kind: 'intoto', san: 'mallory@example.com', issuer: 'https://accounts.google.com', repository: null });

    const [e7, e8] = [await decoded(7), await decoded(8)];
    expect(e7.signer?.type).toBe('key');
    expect(e8.signer?.type).toBe('key');
    expect(e7.signer?.fingerprint).not.toBe(e8.signer?.fingerprint);
    expect(m[7]).toMatchObject({ san: null, issuer: null, digests: [D] });
    expect(m[20]).toMatchObject({ index: 20, kind: 'dsse', san: null });
    expect((await decoded(20)).signer?.fingerprint).toBe(e7.signer?.fingerprint); // one "ecdsa" key for the whole file

    s.append(10);
    m = manifest(s);
    expect(m).toHaveLength(31);
    expect((await decoded(25)).signer?.fingerprint).toBe(e7.signer?.fingerprint);
  });

  it('land in a tiles log as Rekor v2 entries, and intoto is refused there', async () => {
    const s = await sim({ api: 'tiles', entries: 10, seed: 'inject-tiles', inject: [{ at: 2, kind: 'dsse', digest: D, cert: { san: 'eve@example.org', issuer: 'https://github.com/login/oauth', extensions: { sourceRepositoryURI: 'https://github.com/eve/x' } } }] });
    const body = parseEntryBundle(await bytes(`${s.url}/${entriesPath(0n, 10)}`))[2]!;
    const e = decodeRekorV2Entry(body, { log: 's', index: 2 });
    expect(e.kind).toBe('dsse');
    expect(e.signer?.san).toBe('eve@example.org');
    expect(e.signer?.fulcio?.sourceRepositoryURI).toBe('https://github.com/eve/x');
    const cert = JSON.parse(Buffer.from(body).toString()).spec.dsseV002.signatures[0].verifier.x509Certificate.rawBytes as string;
    expect(readCertificateClaims(new Uint8Array(Buffer.from(cert, 'base64'))).issuer).toBe('https://github.com/login/oauth');
    expect(manifest(s)[2]).toMatchObject({ san: 'eve@example.org', repository: 'https://github.com/eve/x' });
    await expect(sim({ api: 'tiles', entries: 3, seed: 'x', inject: [{ at: 1, kind: 'intoto', key: 'ecdsa' }] })).rejects.toThrow(/no intoto/);
  });

  it('with a rate, "next" entries wait for the first tick', { timeout: 20_000 }, async () => {
    const s = await sim({ api: 'tiles', entries: 5, seed: 'inject-rate', rate: 2, inject: [{ at: 'next', key: 'ed25519', digest: D }] });
    expect(manifest(s)).toHaveLength(5);
    while (manifest(s).length < 8) await new Promise((r) => setTimeout(r, 100));
    expect(manifest(s)[5]).toMatchObject({ index: 5, digests: [D], san: null });
    expect(readFileSync(s.manifestPath, 'utf8').split('\n').filter(Boolean)).toHaveLength(manifest(s).length);
  });
});
