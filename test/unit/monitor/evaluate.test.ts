/** Evaluation against real Sigstore entries (test/fixtures/realdata: GitHub Actions, GitLab CI/CD, email) and hand-built GitHub Actions entries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Signer } from '../../../src/entries/types.ts';
import { evaluate, isWatched } from '../../../src/monitor/eval/evaluate.ts';
import { entryTime } from '../../../src/monitor/eval/expect.ts';
import { readRuleFiles } from '../../../src/monitor/loader.ts';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { BUNDLES, EMAIL_GITHUB, EMAIL_GOOGLE, GH_ATTESTATION, ghaEntry, GITLAB_PYPI, realEntry, ruleSet, SIGSTORE_JS_V2 } from './helpers.ts';
import { evaluateEntry } from '../../../src/monitor/evaluate.ts';
import { CertificateAuthorities } from '../../../src/trust/certificate-authority.ts';
import { loadTrustedRootFile } from '../../../src/trust/tuf.ts';
import { REALDATA } from '../../helpers/realdata.ts';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { FULCIO_OIDS } from '../../../src/entries/types.ts';
import { certificate, extension, sanExtension, tlv, utf8 } from '../entries/der-builder.ts';
import { createCA, createLeaf } from '../../sim/certs.ts';

const SIGSTORE_JS = realEntry(SIGSTORE_JS_V2);
const GH = realEntry(GH_ATTESTATION);
const GOOGLE = realEntry(EMAIL_GOOGLE);
const GITHUB_EMAIL = realEntry(EMAIL_GITHUB);
const NOW = Date.parse('2026-11-26T12:00:00Z') / 1000;
const withClaims = (e: Entry, over: Record<string, string | undefined>): Entry => ({ ...e, signer: { ...e.signer!, fulcio: Object.fromEntries(Object.entries({ ...e.signer!.fulcio, ...over }).filter(([, v]) => v !== undefined)) } });
/** A Rekor v1 hashedrekord entry signed under certificate `der` (PEM in the body, as Rekor v1 stores it), decoded. */
function certificateEntry(der: Uint8Array, index: number, integratedTime: number): Entry {
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const body = JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: { data: { hash: { algorithm: 'sha256', value: '1'.repeat(64) } }, signature: { content: Buffer.from('sig').toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } } },
  });
  return decodeRekorV1Body(new Uint8Array(Buffer.from(body)), { log: 'rekor.sigstore.dev', index, integratedTime });
}
/** acme's reusable workflows may sign for acme's repositories only, and `expect` (one YAML line) besides. */
const acmeWorkflows = (expect: string) =>
  ruleSet(`
rules:
  - id: acme-workflows
    watch: { buildSigners: ['https://github.com/acme/workflows/.github/workflows/*@**'] }
    expect:
      repositories: ['github.com/acme/*']
      ${expect}
`);
const expectations = (e: Entry, rs = RELEASE) => evaluate(rs, e, NOW).map((f) => `${f.ruleId}:${f.expectation ?? f.kind}`);

const RELEASE = ruleSet(`
rules:
  - id: sigstore-release
    name: sigstore-js releases
    severity: critical
    owner: sigstore-js maintainers
    labels: { team: js }
    watch: { repositories: ['github.com/sigstore/*'] }
    expect:
      issuers: ['https://token.actions.githubusercontent.com']
      buildSigners: ['https://github.com/sigstore/*/.github/workflows/release.yml@refs/heads/main']
      sourceRefs: ['refs/heads/main', 'refs/tags/v*']
      triggers: [push]
      runnerEnvironment: [github-hosted]
      visibility: [public]
      kinds: [intoto, dsse, hashedrekord]
`);

describe('the sigstore-js release (real entry 31821305)', () => {
  it('is watched and breaks nothing', () => {
    expect(SIGSTORE_JS.signer?.fulcio?.sourceRepositoryURI).toBe('https://github.com/sigstore/sigstore-js');
    expect(isWatched(RELEASE, SIGSTORE_JS)).toBe(true);
    expect(evaluate(RELEASE, SIGSTORE_JS, NOW)).toEqual([]);
  });
  it('a rogue workflow on a self-hosted runner breaks exactly those expectations, each named, with expected and actual', () => {
    const rogue = withClaims(SIGSTORE_JS, { runnerEnvironment: 'self-hosted', buildSignerURI: 'https://github.com/sigstore/sigstore-js/.github/workflows/evil.yml@refs/heads/x' });
    const found = evaluate(RELEASE, rogue, NOW);
    expect(found.map((f) => f.expectation)).toEqual(['expect.buildSigners', 'expect.runnerEnvironment']);
    expect(found[0]).toMatchObject({
      ruleId: 'sigstore-release',
      ruleName: 'sigstore-js releases',
      kind: 'violation',
      severity: 'critical',
      owner: 'sigstore-js maintainers',
      labels: { team: 'js' },
      suppressed: false,
      details: {
        watchedBy: { selector: 'watch.repositories', pattern: 'github.com/sigstore/*', value: 'https://github.com/sigstore/sigstore-js' },
        expected: ['https://github.com/sigstore/*/.github/workflows/release.yml@refs/heads/main'],
        actual: 'https://github.com/sigstore/sigstore-js/.github/workflows/evil.yml@refs/heads/x',
        field: 'signer.fulcio.buildSignerURI (1.3.6.1.4.1.57264.1.9)',
      },
    });
    expect(found[1]!.message).toBe('runner environment self-hosted is not one of github-hosted');
  });
  it('a release from a feature branch, a private repo, a pull_request trigger', () => {
    const e = withClaims(SIGSTORE_JS, { sourceRepositoryRef: 'refs/heads/feature', sourceRepositoryVisibilityAtSigning: 'private', buildTrigger: 'pull_request' });
    expect(expectations(e)).toEqual(['sigstore-release:expect.sourceRefs', 'sigstore-release:expect.triggers', 'sigstore-release:expect.visibility']);
  });
  it('a claim an expectation needs but the certificate lacks breaks it, and the message says so', () => {
    const e = withClaims(SIGSTORE_JS, { runnerEnvironment: undefined, sourceRepositoryVisibilityAtSigning: undefined });
    const found = evaluate(RELEASE, e, NOW);
    expect(found.map((f) => f.expectation)).toEqual(['expect.runnerEnvironment', 'expect.visibility']);
    expect(found[0]!.message).toMatch(/^runner environment is missing: the entry has no signer\.fulcio\.runnerEnvironment \(1\.3\.6\.1\.4\.1\.57264\.1\.11\)/);
    expect(found[0]!.details.actual).toBeNull();
  });
  it('deprecated twins stand in for the same token claim (.6 ref, .2 trigger) and are named as the source', () => {
    const e = withClaims(SIGSTORE_JS, { sourceRepositoryRef: undefined, buildTrigger: undefined });
    expect(evaluate(RELEASE, e, NOW)).toEqual([]);
    const bad = withClaims(e, { githubWorkflowRef: 'refs/heads/dev' });
    expect(evaluate(RELEASE, bad, NOW)[0]!.details.field).toBe('signer.fulcio.githubWorkflowRef (1.3.6.1.4.1.57264.1.6)');
  });
  it('the issuer names the extension it was read from: .8, else .1 (older certificates have only .1)', () => {
    const issuerOnly = (fulcio: Record<string, string>, issuer: string): Entry => {
      const e = ghaEntry('sigstore', 'sigstore-js', 'release.yml', 'refs/heads/main');
      const { issuer: _, ...rest } = e.signer!.fulcio!;
      return { ...e, signer: { ...e.signer!, issuer, fulcio: { ...rest, ...fulcio } } };
    };
    const field = (e: Entry) => evaluate(RELEASE, e, NOW).find((f) => f.expectation === 'expect.issuers')?.details.field;
    expect(field(issuerOnly({ issuerV1: 'https://evil.example' }, 'https://evil.example'))).toBe('signer.fulcio.issuerV1 (1.3.6.1.4.1.57264.1.1)');
    expect(field(issuerOnly({ issuer: 'https://evil.example', issuerV1: 'https://evil.example' }, 'https://evil.example'))).toBe('signer.fulcio.issuer (1.3.6.1.4.1.57264.1.8)');
    expect(field(issuerOnly({ issuer: 'https://evil.example', issuerV1: 'https://token.actions.githubusercontent.com' }, 'https://evil.example'))).toBe('signer.fulcio.issuer (1.3.6.1.4.1.57264.1.8)');
    const none = withClaims(ghaEntry('sigstore', 'sigstore-js', 'release.yml', 'refs/heads/main'), { issuer: undefined });
    const missing = evaluate(RELEASE, { ...none, signer: { ...none.signer!, issuer: undefined } }, NOW).find((f) => f.expectation === 'expect.issuers');
    expect(missing?.message).toMatch(/^OIDC issuer is missing: the entry has no signer\.fulcio\.issuer \(1\.3\.6\.1\.4\.1\.57264\.1\.8\)/);
    expect(evaluate(RELEASE, issuerOnly({ issuerV1: 'https://token.actions.githubusercontent.com' }, 'https://token.actions.githubusercontent.com'), NOW)).toEqual([]);
  });
  it('an entry kind outside the allowed ones', () => {
    expect(expectations({ ...SIGSTORE_JS, kind: 'rekord' })).toEqual(['sigstore-release:expect.kinds']);
  });
});

describe('watch selectors', () => {
  const rs = ruleSet(`
rules:
  - { id: by-identity, notify: all, watch: { identities: ['https://github.com/bdehamer/workflows/.github/workflows/*@refs/heads/*'] } }
  - { id: by-owner, notify: all, watch: { owners: ['github.com/malancas'] } }
  - { id: by-build-signer, notify: all, watch: { buildSigners: ['https://github.com/bdehamer/**'] } }
  - { id: by-issuer, notify: all, watch: { issuers: ['https://github.com/login/oauth'] } }
  - { id: by-email-domain, notify: all, watch: { identities: ['*@google.com'] } }
  - { id: by-fingerprint, notify: all, watch: { fingerprints: ['0938CCE611A2723BF67A54B72BF4D083B47FBE010D5F698D9E296C69957151FA'] } }
  - { id: by-digest, notify: all, watch: { digests: ['sha256:A0CFC71271D6E278E57CD332FF957C3F7043FDDA354C4CBB190A30D56EFA01BF'] } }
  - { id: by-regex, notify: all, watch: { identities: [{ regex: 'brian@[a-z]+\\.com' }] } }
`);
  const fired = (e: Entry) => evaluate(rs, e, NOW).map((f) => f.ruleId);
  it('identity globs, owners and build signers on a real GitHub attestation (a shared workflow)', () => {
    expect(fired(GH)).toEqual(['by-identity', 'by-owner', 'by-build-signer']);
    expect(evaluate(rs, GH, NOW)[0]).toMatchObject({ kind: 'info', severity: 'info', details: { watchedBy: { selector: 'watch.identities' } } });
  });
  it('email domains, fingerprints (any hex case) and digests on a real Google-account signature', () => {
    expect(fired(GOOGLE)).toEqual(['by-email-domain', 'by-fingerprint', 'by-digest']);
  });
  it('issuers and anchored regexes on a real GitHub-account email signature', () => {
    expect(GITHUB_EMAIL.signer?.san).toBe('brian@dehamer.com');
    expect(fired(GITHUB_EMAIL)).toEqual(['by-issuer', 'by-regex']);
    expect(fired({ ...GITHUB_EMAIL, signer: { ...GITHUB_EMAIL.signer!, san: 'xbrian@dehamer.com' } })).toEqual(['by-issuer']);
  });
  it('provenance subject digests count as the entry digests', () => {
    const d = ruleSet(`rules: [{ id: d, notify: all, watch: { digests: ['sha512:${'ab'.repeat(64)}'] } }]`);
    expect(evaluate(d, GOOGLE, NOW)).toEqual([]);
    expect(evaluate(d, GOOGLE, NOW, { predicateType: 'x', subjects: [`sha512:${'ab'.repeat(64)}`] })).toHaveLength(1);
  });
  it('old GitHub certificates with only .5 (owner/repo) are still watched by repository and owner', () => {
    const old = withClaims(ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1'), { sourceRepositoryURI: undefined, sourceRepositoryOwnerURI: undefined, githubWorkflowRepository: 'acme/api' });
    const w = ruleSet(`rules: [{ id: r, notify: all, watch: { repositories: ['github.com/acme/*'] } }, { id: o, notify: all, watch: { owners: ['github.com/acme'] } }]`);
    expect(evaluate(w, old, NOW).map((f) => f.ruleId)).toEqual(['r', 'o']);
  });
  it('every signer of a multi-signer entry is looked at, and each must meet the expectations', () => {
    const a = ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1');
    const rogue: Signer = { ...a.signer!, fulcio: { ...a.signer!.fulcio, runnerEnvironment: 'self-hosted' } };
    const e: Entry = { ...a, signer: { type: 'key', fingerprint: `sha256:${'0'.repeat(64)}` }, signers: [{ type: 'key', fingerprint: `sha256:${'0'.repeat(64)}` }, rogue] };
    const r = ruleSet(`rules: [{ id: r, watch: { repositories: ['github.com/acme/*'] }, expect: { runnerEnvironment: [github-hosted] } }]`);
    const [f] = evaluate(r, e, NOW);
    expect(f).toMatchObject({ expectation: 'expect.runnerEnvironment', details: { signer: 0, actual: null } });
  });
});

describe('a certificate with a malformed Fulcio extension value (one no Fulcio issued, which Rekor accepts)', () => {
  const SAN = 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1';
  // .8 as a PrintableString: Go's x509 never reads the value, so Rekor v1 logs it like any other.
  const der = certificate({
    notBefore: 1764064800,
    notAfter: 1764065400,
    extensions: [
      sanExtension([{ type: 'uri', value: SAN }]),
      extension(FULCIO_OIDS.issuer, tlv(0x13, Buffer.from('https://token.actions.githubusercontent.com'))),
      extension(FULCIO_OIDS.issuerV1, new Uint8Array(Buffer.from('https://token.actions.githubusercontent.com'))),
      extension(FULCIO_OIDS.sourceRepositoryURI, utf8('https://github.com/acme/api')),
    ],
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const body = JSON.stringify({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: { data: { hash: { algorithm: 'sha256', value: '1'.repeat(64) } }, signature: { content: Buffer.from('sig').toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } } },
  });
  const e = decodeRekorV1Body(new Uint8Array(Buffer.from(body)), { log: 'rekor.sigstore.dev', index: 1, integratedTime: 1764064900 });

  it('is still watched by its SAN and repository, and breaks the issuer expectation as missing; the entry says why', () => {
    expect(e.problem?.message).toMatch(/^spec\.signature\.publicKey\.content: 1\.3\.6\.1\.4\.1\.57264\.1\.8 \(issuer\) is not a DER UTF8String .*: left out, and so is the deprecated \.1 \(issuerV1\)/);
    expect(e.signer).toMatchObject({ type: 'x509', san: SAN, fulcio: { sourceRepositoryURI: 'https://github.com/acme/api' } });
    expect(e.signer?.issuer).toBeUndefined();
    const rs = ruleSet(`
rules:
  - { id: by-identity, watch: { identities: ['https://github.com/acme/**'] }, expect: { issuers: ['https://token.actions.githubusercontent.com'] } }
  - { id: by-repository, watch: { repositories: ['github.com/acme/api'] }, expect: { runnerEnvironment: [github-hosted] } }
`);
    expect(expectations(e, rs)).toEqual(['by-identity:expect.issuers', 'by-repository:expect.runnerEnvironment']);
    expect(evaluate(rs, e, NOW)[0]!.message).toMatch(/OIDC issuer is missing/);
  });
});

describe('a real GitLab CI/CD entry (PyPI publish attestation 149945774)', () => {
  const GITLAB = realEntry(GITLAB_PYPI);
  const CONFIG = 'https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main';
  const rs = ruleSet(`
rules:
  - id: gitlab-publish
    severity: high
    watch: { repositories: ['gitlab.com/facutuesca/*'] }
    expect:
      issuers: ['https://gitlab.com']
      buildSigners: ['${CONFIG}']
      repositories: ['gitlab.com/facutuesca/gitlab-oidc-project']
      owners: ['gitlab.com/facutuesca']
      sourceRefs: ['refs/heads/main']
      triggers: [push]
      runnerEnvironment: [gitlab-hosted]
      visibility: [private]
      kinds: [dsse]
`);
  it('is watched by its repository and breaks nothing: GitLab\'s claims are full URLs, its identity the config file\'s with its //', () => {
    expect(GITLAB.signer?.san).toBe(CONFIG);
    expect(isWatched(rs, GITLAB)).toBe(true);
    expect(evaluate(rs, GITLAB, NOW)).toEqual([]);
  });
  it('other selectors find it too: identity glob across the //, owner, build signer, issuer, runner', () => {
    const w = ruleSet(`
rules:
  - { id: identity, notify: all, watch: { identities: ['https://gitlab.com/facutuesca/*//.gitlab-ci.yml@refs/heads/*'] } }
  - { id: identity-single-slash, notify: all, watch: { identities: ['https://gitlab.com/facutuesca/gitlab-oidc-project/.gitlab-ci.yml@refs/heads/main'] } }
  - { id: owner, notify: all, watch: { owners: ['gitlab.com/facutuesca'] } }
  - { id: build-signer, notify: all, watch: { buildSigners: ['https://gitlab.com/facutuesca/**'] } }
  - { id: issuer, notify: all, watch: { issuers: ['https://gitlab.com'] } }
  - { id: github-lookalike, notify: all, watch: { repositories: ['github.com/facutuesca/*'] } }
`);
    // The identity is GitLab's ci_config_ref_uri, project URL + '//' + path: one slash is another identity.
    expect(evaluate(w, GITLAB, NOW).map((f) => f.ruleId)).toEqual(['identity', 'owner', 'build-signer', 'issuer']);
  });
  it('the same project signing from a tag on its own runner, by a pipeline schedule, breaks exactly those, naming the claims', () => {
    const rogue = withClaims(GITLAB, { sourceRepositoryRef: 'refs/tags/v9', runnerEnvironment: 'self-hosted', buildTrigger: 'schedule' });
    const found = evaluate(rs, rogue, NOW);
    expect(found.map((f) => f.expectation)).toEqual(['expect.sourceRefs', 'expect.triggers', 'expect.runnerEnvironment']);
    expect(found[0]).toMatchObject({ ruleId: 'gitlab-publish', severity: 'high', details: { actual: 'refs/tags/v9', field: 'signer.fulcio.sourceRepositoryRef (1.3.6.1.4.1.57264.1.14)' } });
  });
  it('another GitLab project calling this project\'s config breaks the repository and owner expectations', () => {
    const other = withClaims(GITLAB, { sourceRepositoryURI: 'https://gitlab.com/evil/x', sourceRepositoryOwnerURI: 'https://gitlab.com/evil' });
    const w = ruleSet(`rules: [{ id: r, watch: { buildSigners: ['${CONFIG}'] }, expect: { repositories: ['gitlab.com/facutuesca/*'], owners: ['gitlab.com/facutuesca'] } }]`);
    expect(evaluate(w, other, NOW).map((f) => [f.expectation, f.details.actual])).toEqual([
      ['expect.repositories', 'https://gitlab.com/evil/x'],
      ['expect.owners', 'https://gitlab.com/evil'],
    ]);
  });
});

describe('expect.repositories and expect.owners: whose repository a workflow signed for', () => {
  // evil/x calls acme's reusable release workflow: the SAN and build signer (.9) are acme's workflow, the
  // source repository (.12) and its owner (.16) are evil's. Watching acme's build signers catches it;
  // only the repository can say it is not acme's.
  const ACME_WORKFLOW = 'https://github.com/acme/workflows/.github/workflows/release.yml@refs/tags/v1';
  const called = (org: string, repo: string, over: Record<string, string | undefined> = {}): Entry => {
    const e = ghaEntry(org, repo, 'release.yml', 'refs/tags/v1', { buildSignerURI: ACME_WORKFLOW });
    return withClaims({ ...e, signer: { ...e.signer!, san: ACME_WORKFLOW } }, over);
  };
  const rs = acmeWorkflows("owners: ['github.com/acme']");
  it('a foreign repository calling the watched reusable workflow breaks both, naming the claim read', () => {
    const found = evaluate(rs, called('evil', 'x'), NOW);
    expect(found.map((f) => f.expectation)).toEqual(['expect.repositories', 'expect.owners']);
    expect(found[0]).toMatchObject({
      message: 'source repository https://github.com/evil/x is not one of github.com/acme/*',
      details: { expected: ['github.com/acme/*'], actual: 'https://github.com/evil/x', field: 'signer.fulcio.sourceRepositoryURI (1.3.6.1.4.1.57264.1.12)' },
    });
    expect(found[1]!.details).toMatchObject({ actual: 'https://github.com/evil', field: 'signer.fulcio.sourceRepositoryOwnerURI (1.3.6.1.4.1.57264.1.16)' });
  });
  it('an acme repository calling it breaks nothing; patterns mean what they mean in watch (host case, `*` one segment)', () => {
    expect(evaluate(rs, called('acme', 'api'), NOW)).toEqual([]);
    expect(evaluate(rs, called('acme', 'api', { sourceRepositoryURI: 'https://GitHub.com/acme/api', sourceRepositoryOwnerURI: 'HTTPS://github.com/acme' }), NOW)).toEqual([]);
    expect(expectations(called('acme-evil', 'api'), rs)).toEqual(['acme-workflows:expect.repositories', 'acme-workflows:expect.owners']);
    expect(expectations(called('acme', 'api', { sourceRepositoryURI: 'https://github.com/acme/api/x' }), rs)).toEqual(['acme-workflows:expect.repositories']);
  });
  it('old certificates with only .5 are read as watch reads them, and the finding says it was derived', () => {
    const old = called('evil', 'x', { sourceRepositoryURI: undefined, sourceRepositoryOwnerURI: undefined, githubWorkflowRepository: 'evil/x' });
    const found = evaluate(rs, old, NOW);
    expect(found.map((f) => [f.details.actual, f.details.field])).toEqual([
      ['https://github.com/evil/x', 'derived from signer.fulcio.githubWorkflowRepository (1.3.6.1.4.1.57264.1.5)'],
      ['https://github.com/evil', 'derived from signer.fulcio.githubWorkflowRepository (1.3.6.1.4.1.57264.1.5)'],
    ]);
    expect(evaluate(rs, called('acme', 'api', { sourceRepositoryURI: undefined, sourceRepositoryOwnerURI: undefined, githubWorkflowRepository: 'acme/api' }), NOW)).toEqual([]);
  });
  it('the example monitor-rules/examples/acme-shared-workflows.yaml raises it, and only it', () => {
    const r = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!r.ok) throw new Error('examples invalid');
    expect(evaluate(r.ruleSet, called('evil', 'x'), NOW).map((f) => `${f.ruleId}:${f.expectation}`)).toEqual(['acme-shared-workflows:expect.repositories']);
    expect(evaluate(r.ruleSet, called('acme', 'api'), NOW)).toEqual([]);
  });
  it('a certificate without the claims breaks both as missing', () => {
    const found = evaluate(rs, called('acme', 'api', { sourceRepositoryURI: undefined, sourceRepositoryOwnerURI: undefined }), NOW);
    expect(found.map((f) => f.message)).toEqual([
      'source repository is missing: the entry has no signer.fulcio.sourceRepositoryURI (1.3.6.1.4.1.57264.1.12); expected one of github.com/acme/*',
      'source repository owner is missing: the entry has no signer.fulcio.sourceRepositoryOwnerURI (1.3.6.1.4.1.57264.1.16); expected one of github.com/acme',
    ]);
  });
});

describe('an organisation whose GitHub name has capitals (Fulcio writes it as GitHub spells it)', () => {
  // GitHub's owner and repository names are case-insensitive (github.com/azure is Azure), so a rule written
  // in lower case must watch them; the workflow file's path and the ref are git's, and exact.
  const azure = ghaEntry('Azure', 'Azure-SDK', 'release.yml', 'refs/tags/v1');
  const rs = ruleSet(`
rules:
  - id: azure-repos
    watch: { repositories: ['github.com/azure/*'] }
    expect: { owners: ['https://github.com/azure'], triggers: [release] }
  - id: azure-identities
    watch: { identities: ['https://github.com/azure/azure-sdk/.github/workflows/*@**'] }
    expect: { buildSigners: ['github.com/azure/*/.github/workflows/release.yml@refs/tags/*'], triggers: [release] }
`);
  it('is watched by lower-case repository and identity patterns, and passes lower-case expectations', () => {
    expect(azure.signer!.san).toBe('https://github.com/Azure/Azure-SDK/.github/workflows/release.yml@refs/tags/v1');
    expect(expectations(azure, rs)).toEqual(['azure-repos:expect.triggers', 'azure-identities:expect.triggers']);
  });
  it('not when the workflow file or the ref differs in case', () => {
    const other = ghaEntry('Azure', 'Azure-SDK', 'Release.yml', 'refs/tags/v1');
    expect(expectations(other, rs)).toEqual(['azure-repos:expect.triggers', 'azure-identities:expect.buildSigners', 'azure-identities:expect.triggers']);
  });
});

describe('GitHub Actions certificates from before Fulcio had .9 (2021 to early 2023)', () => {
  // Fulcio wrote only the deprecated .1–.6 then; the SAN has always been https://github.com/ + job_workflow_ref,
  // which is what .9 holds since. evil/x calling acme's reusable release workflow, as Fulcio issued it then.
  const T = Date.parse('2022-11-09T12:00:00Z') / 1000;
  const ca = createCA('sigstore-intermediate', T - 86400, T + 86400);
  const WORKFLOW = 'https://github.com/acme/workflows/.github/workflows/release.yml@refs/tags/v1';
  const { der } = createLeaf(ca, { san: WORKFLOW, extensions: { issuerV1: 'https://token.actions.githubusercontent.com', githubWorkflowTrigger: 'push', githubWorkflowSha: 'c'.repeat(40), githubWorkflowName: 'Release', githubWorkflowRepository: 'evil/x', githubWorkflowRef: 'refs/tags/v1' } }, T - 60);
  const old = certificateEntry(der, 6_000_000, T);
  const rs = acmeWorkflows("buildSigners: ['https://github.com/acme/workflows/.github/workflows/release.yml@refs/tags/*']");
  it('are watched by build signer (read from the SAN) and judged on it, saying so', () => {
    expect(old.signer!.fulcio!.buildSignerURI).toBeUndefined();
    const found = evaluate(rs, old, NOW);
    expect(found.map((f) => [f.expectation, f.details.actual])).toEqual([['expect.repositories', 'https://github.com/evil/x']]);
    expect(found[0]!.details.watchedBy).toEqual({ selector: 'watch.buildSigners', pattern: 'https://github.com/acme/workflows/.github/workflows/*@**', value: WORKFLOW });
    const strict = ruleSet("rules:\n  - id: x\n    watch: { identities: ['**'] }\n    expect: { buildSigners: ['https://github.com/acme/workflows/.github/workflows/release.yml@refs/heads/*'] }\n");
    expect(evaluate(strict, old, NOW)[0]!.details).toMatchObject({ actual: WORKFLOW, field: 'derived from the SAN (a GitHub Actions certificate older than 1.3.6.1.4.1.57264.1.9)' });
  });
  it('only GitHub Actions ones: another issuer\'s certificate without .9 has no build signer', () => {
    const other = { ...old.signer!, issuer: 'https://accounts.google.com', fulcio: { ...old.signer!.fulcio, issuerV1: 'https://accounts.google.com' } };
    expect(isWatched(rs, { ...old, signer: other, signers: undefined })).toBe(false);
  });
});

describe('expect.buildConfigs: which workflow of the repository ran a reusable one', () => {
  // The real entry 95781729: malancas/attest-demo's shared.yml, on main, called bdehamer/workflows' attest.yml.
  // Its SAN and build signer (.9) are the reusable workflow; only the build config (.18) names the caller's
  // file. A rule "only release.yml on a tag may sign through the shared workflow" can say so only there.
  const rs = (configs: string) =>
    ruleSet(`
rules:
  - id: shared-attest
    watch: { buildSigners: ['https://github.com/bdehamer/workflows/.github/workflows/*@**'] }
    expect:
      repositories: ['github.com/malancas/*']
      buildConfigs: [${configs}]
`);
  it('is read from .18, not the SAN or build signer, and names the caller workflow that broke it', () => {
    expect([GH.signer!.san, GH.signer!.fulcio!.buildSignerURI]).toEqual(['https://github.com/bdehamer/workflows/.github/workflows/attest.yml@refs/heads/main', 'https://github.com/bdehamer/workflows/.github/workflows/attest.yml@refs/heads/main']);
    const [f, ...more] = evaluate(rs("'github.com/malancas/*/.github/workflows/release.yml@refs/tags/*'"), GH, NOW);
    expect(more).toEqual([]);
    expect(f).toMatchObject({
      expectation: 'expect.buildConfigs',
      message: 'build config URI https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/main is not one of github.com/malancas/*/.github/workflows/release.yml@refs/tags/*',
      details: { field: 'signer.fulcio.buildConfigURI (1.3.6.1.4.1.57264.1.18)' },
    });
    expect(evaluate(rs("'https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/*'"), GH, NOW)).toEqual([]);
  });
  it('a certificate without .18 (older than it) breaks it as missing', () => {
    const { buildConfigURI: _, ...older } = GH.signer!.fulcio!;
    const [f] = evaluate(rs("'github.com/malancas/**'"), { ...GH, signer: { ...GH.signer!, fulcio: older }, signers: undefined }, NOW);
    expect(f!.message).toBe('build config URI is missing: the entry has no signer.fulcio.buildConfigURI (1.3.6.1.4.1.57264.1.18); expected one of github.com/malancas/**');
  });
  it('is a URL field: a pattern without a host is warned about', () => {
    const r = checkRules([{ name: 'r.yaml', text: "rules:\n  - id: x\n    watch: { owners: [github.com/acme] }\n    expect: { buildConfigs: ['acme/api/.github/workflows/release.yml@**'] }\n" }]);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/can never match a build config URI .*did you mean github\.com\/acme\/api/)]);
  });
});

describe('notify, severity, suppression', () => {
  const rs = ruleSet(`
rules:
  - id: acme-release
    severity: high
    notify: all
    watch: { repositories: ['github.com/acme/*'] }
    expect: { sourceRefs: ['refs/tags/v*'], runnerEnvironment: [github-hosted] }
    suppress:
      - digest: 'sha256:${'2'.repeat(64)}'
        reason: re-signed by hand during INC-7
      - identity: 'https://github.com/acme/docs/.github/workflows/*@**'
        until: '2027-01-31'
        reason: docs previews, SEC-118
      - expectations: [expect.runnerEnvironment]
        until: '2026-12-01T00:00:00Z'
        reason: runner migration window
`);
  it('notify: all records a legitimate watched entry as info', () => {
    const [f] = evaluate(rs, ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1.0.0'), NOW);
    expect(f).toMatchObject({ kind: 'info', severity: 'info', suppressed: false, message: expect.stringMatching(/^watched entry \(watch\.repositories github\.com\/acme\/\*/) });
    expect(f!.expectation).toBeUndefined();
  });
  it('a suppression by digest is returned, marked, with its reason', () => {
    const e = ghaEntry('acme', 'api', 'ci.yml', 'refs/heads/main', {}, { digests: [`sha256:${'2'.repeat(64)}`] });
    expect(evaluate(rs, e, NOW)).toMatchObject([{ expectation: 'expect.sourceRefs', suppressed: true, suppression: { reason: 're-signed by hand during INC-7', index: 0 } }]);
  });
  it('a suppression by identity holds until its date has passed (the whole day, UTC)', () => {
    const e = ghaEntry('acme', 'docs', 'ci.yml', 'refs/heads/main');
    const until = Date.parse('2027-02-01T00:00:00Z') / 1000;
    expect(evaluate(rs, e, until - 1)[0]).toMatchObject({ suppressed: true, suppression: { reason: 'docs previews, SEC-118', until } });
    expect(evaluate(rs, e, until)[0]).toMatchObject({ suppressed: false });
    expect(evaluate(rs, e, until)[0]!.suppression).toBeUndefined();
  });
  it('a suppression limited to one expectation leaves the others open', () => {
    const e = ghaEntry('acme', 'api', 'ci.yml', 'refs/heads/main', { runnerEnvironment: 'self-hosted' });
    const found = evaluate(rs, e, NOW);
    expect(found.map((f) => [f.expectation, f.suppressed])).toEqual([
      ['expect.sourceRefs', false],
      ['expect.runnerEnvironment', true],
    ]);
    expect(evaluate(rs, e, Date.parse('2026-12-01T00:00:00Z') / 1000).every((f) => !f.suppressed)).toBe(true);
  });
  it("the example's suppression (acme-release.yaml) hides the self-hosted runner its reason is about, and nothing else under that identity", () => {
    const r = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!r.ok) throw new Error('examples invalid');
    const docs = (over: Record<string, string>) => {
      const e = ghaEntry('acme', 'docs', 'ci.yml', 'refs/heads/main', over);
      if (over['issuer'] !== undefined) e.signer!.issuer = over['issuer'];
      return evaluate(r.ruleSet, e, NOW).map((f) => `${f.ruleId}:${f.expectation ?? f.kind}:${f.suppressed ? 'suppressed' : 'open'}`);
    };
    expect(docs({})).toEqual([]);
    expect(docs({ runnerEnvironment: 'self-hosted' })).toEqual(['acme-release:expect.runnerEnvironment:suppressed']);
    expect(docs({ buildTrigger: 'pull_request_target' })).toEqual(['acme-release:expect.triggers:open']);
    expect(docs({ issuer: 'https://evil.example' })).toEqual(['acme-release:expect.issuers:open']);
    expect(docs({ buildTrigger: 'pull_request_target', runnerEnvironment: 'self-hosted' })).toEqual(['acme-release:expect.triggers:open', 'acme-release:expect.runnerEnvironment:suppressed']);
    const after = Date.parse('2027-02-01T00:00:00Z') / 1000;
    expect(evaluate(r.ruleSet, ghaEntry('acme', 'docs', 'ci.yml', 'refs/heads/main', { runnerEnvironment: 'self-hosted' }), after).map((f) => f.suppressed)).toEqual([false]);
  });
});

describe('time windows on entries', () => {
  const rs = ruleSet(`
rules:
  - id: office-hours
    watch: { owners: ['github.com/acme'] }
    expect: { timeWindow: { timezone: Europe/Berlin, weekdays: [mon, tue, wed, thu, fri], hours: '08:00-20:00', holidays: ['2026-12-25'] } }
`);
  it('checks integratedTime in the zone', () => {
    expect(evaluate(rs, ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1'), NOW)).toEqual([]);
    const sunday = ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1', {}, { integratedTime: Date.parse('2026-11-15T02:00:00Z') / 1000 });
    expect(evaluate(rs, sunday, NOW)).toMatchObject([{ expectation: 'expect.timeWindow', details: { actual: '2026-11-15T02:00:00.000Z', timeSource: 'integratedTime' } }]);
  });
  it('without integratedTime (Rekor v2): the Fulcio certificate notBefore, else provenance times, else observedAt', () => {
    const base = ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1');
    delete base.integratedTime;
    const sat = Date.parse('2026-11-28T10:00:00Z') / 1000;
    const wed = Date.parse('2026-11-25T10:00:00Z') / 1000;
    const cert = { ...base, signer: { ...base.signer!, notBefore: sat, notAfter: sat + 600 }, observedAt: wed };
    expect(entryTime(cert, undefined)).toEqual({ t: sat, source: 'Fulcio certificate notBefore' });
    expect(evaluate(rs, cert, NOW)[0]?.details.timeSource).toBe('Fulcio certificate notBefore');
    const longLived = { ...cert, signer: { ...cert.signer, notAfter: sat + 86_400 * 365 } };
    expect(entryTime(longLived, { predicateType: 'p', finishedOn: sat })).toEqual({ t: sat, source: "provenance finishedOn (the signer's claim)" });
    expect(entryTime(longLived, { predicateType: 'p', startedOn: sat })).toEqual({ t: sat, source: "provenance startedOn (the signer's claim)" });
    expect(entryTime(longLived, undefined)).toEqual({ t: wed, source: 'observedAt (first seen by this mirror)' });
    const none = { ...longLived, observedAt: undefined } as Entry;
    expect(evaluate(rs, none, NOW)[0]?.message).toMatch(/no time to check/);
  });
  it('an entry observed live: observedAt before the provenance dates its signer wrote, after the log\'s and Fulcio\'s times', () => {
    const base = ghaEntry('acme', 'api', 'release.yml', 'refs/tags/v1');
    delete base.integratedTime;
    const sunday3am = Date.parse('2026-11-29T02:00:00Z') / 1000; // 03:00 in Berlin
    const wed = Date.parse('2026-11-25T10:00:00Z') / 1000;
    const claims = { predicateType: 'p', startedOn: wed - 600, finishedOn: wed };
    // Signed with a long-lived key at 03:00 on a Sunday, the statement claiming Wednesday morning.
    const stolen = { ...base, signer: { ...base.signer!, notBefore: wed - 86_400, notAfter: wed + 86_400 * 365 }, observedAt: sunday3am, observedLive: true } as Entry;
    expect(entryTime(stolen, claims)).toEqual({ t: sunday3am, source: 'observedAt (seen live by this mirror, within a poll interval of being logged)' });
    // Reached in a catch-up on Sunday night: observedAt is the catch-up's, so the claims are used, as before.
    const caughtUp = { ...stolen, observedLive: undefined } as Entry;
    expect(entryTime(caughtUp, claims)).toEqual({ t: wed, source: "provenance finishedOn (the signer's claim)" });
    expect(entryTime(caughtUp, { predicateType: 'p', startedOn: wed })).toEqual({ t: wed, source: "provenance startedOn (the signer's claim)" });
    // Still after integratedTime and a Fulcio certificate's notBefore.
    const fulcio = { ...stolen, signer: { ...stolen.signer!, notBefore: wed, notAfter: wed + 600 } } as Entry;
    expect(entryTime(fulcio, claims)).toEqual({ t: wed, source: 'Fulcio certificate notBefore' });
    expect(entryTime({ ...stolen, integratedTime: wed }, claims)).toEqual({ t: wed, source: 'integratedTime' });
    // Live without an observedAt (nothing writes that) falls through to the claims.
    expect(entryTime({ ...stolen, observedAt: undefined }, claims)?.source).toBe("provenance finishedOn (the signer's claim)");
  });
});

describe('robustness', () => {
  it('an empty rule set and unwatched entries cost nothing and return nothing', () => {
    expect(evaluate({ rules: [] }, SIGSTORE_JS, NOW)).toEqual([]);
    expect(evaluate(RELEASE, GOOGLE, NOW)).toEqual([]);
  });
  it('the index agrees with running every rule (hand-made sets get an index on first use)', () => {
    const r = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!r.ok) throw new Error('examples invalid');
    const unindexed = { rules: r.ruleSet.rules };
    for (const e of [SIGSTORE_JS, GH, GOOGLE, GITHUB_EMAIL, ghaEntry('acme', 'api', 'evil.yml', 'refs/heads/x'), ghaEntry('globex', 'api', 'release.yml', 'refs/tags/v1', { runnerEnvironment: 'self-hosted' })]) {
      expect(evaluate(unindexed, e, NOW)).toEqual(evaluate(r.ruleSet, e, NOW));
    }
  });
  it('never throws on arbitrary Entry-shaped input, and never reports an evaluation error', () => {
    const r = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!r.ok) throw new Error('examples invalid');
    const rs = r.ruleSet;
    const junk = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.double(), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    const url = fc.oneof(fc.constantFrom('https://github.com/acme/api', 'https://GITHUB.com/acme/x/.github/workflows/r.yml@refs/tags/v1', 'alice@ACME.com', 'github.com/acme/'), fc.webUrl(), fc.string());
    const signer = fc.record({ type: fc.oneof(fc.constantFrom('x509', 'key'), junk), fingerprint: fc.oneof(fc.constant(`sha256:${'f'.repeat(64)}`), junk), san: fc.oneof(url, junk), issuer: fc.oneof(url, junk), fulcio: fc.oneof(fc.dictionary(fc.constantFrom('sourceRepositoryURI', 'sourceRepositoryOwnerURI', 'buildSignerURI', 'runnerEnvironment', 'githubWorkflowRepository', 'sourceRepositoryRef', 'issuer'), fc.oneof(url, junk)), junk), notBefore: junk, notAfter: junk }, { requiredKeys: [] });
    const entry = fc.record({ log: junk, index: junk, kind: fc.oneof(fc.string(), junk), digests: fc.oneof(fc.array(fc.oneof(fc.string(), junk)), junk), integratedTime: fc.oneof(fc.integer({ min: -1e13, max: 1e13 }), junk), observedAt: junk, signer: fc.oneof(signer, junk), signers: fc.oneof(fc.array(fc.oneof(signer, junk), { maxLength: 3 }), junk), provenance: fc.oneof(junk, fc.record({ predicateType: fc.string(), startedOn: junk, builderId: junk, subjects: junk })) }, { requiredKeys: [] });
    fc.assert(
      fc.property(entry, fc.integer(), (e, now) => {
        const found = evaluate(rs, e as unknown as Entry, now);
        expect(found.filter((f) => f.expectation === 'evaluation')).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('several signers (DSSE): each is judged as itself', () => {
  const rs = ruleSet(`
rules:
  - id: acme-release
    severity: high
    watch: { repositories: ['github.com/acme/*'] }
    expect: { sourceRefs: ['refs/tags/v*'], runnerEnvironment: [github-hosted] }
    suppress:
      - identity: 'https://github.com/acme/docs/.github/workflows/*@**'
        reason: docs previews, SEC-118
`);
  const docs = ghaEntry('acme', 'docs', 'ci.yml', 'refs/heads/main');
  const evil = ghaEntry('acme', 'api', 'evil.yml', 'refs/heads/evil', { runnerEnvironment: 'self-hosted' });
  const both = (signers: Entry[]): Entry => ({ ...signers[0]!, signer: signers[0]!.signer!, signers: signers.map((s) => s.signer!) });
  const summary = (e: Entry, issuer?: (i: number) => string | null | undefined) => evaluate(rs, e, NOW, undefined, issuer).map((f) => [f.expectation, f.details.signer, f.suppressed]);

  it('reports every signer\'s break, not only the first signer\'s', () => {
    expect(summary(both([evil, ghaEntry('acme', 'web', 'ci.yml', 'refs/heads/dev')]))).toEqual([
      ['expect.sourceRefs', 0, false],
      ['expect.sourceRefs', 1, false],
      ['expect.runnerEnvironment', 0, false],
    ]);
  });
  it('an identity suppression covers the signer it names, never the co-signer beside it', () => {
    // The excepted identity first: it breaks sourceRefs (suppressed); the rogue signer's breaks stay open.
    expect(summary(both([docs, evil]))).toEqual([
      ['expect.sourceRefs', 0, true],
      ['expect.sourceRefs', 1, false],
      ['expect.runnerEnvironment', 1, false],
    ]);
  });
  it('a break of the whole entry is suppressed by identity only when every signer has that identity', () => {
    const hours = ruleSet(`
rules:
  - id: office-hours
    watch: { repositories: ['github.com/acme/*'] }
    expect: { timeWindow: { weekdays: [sat], hours: '00:00-01:00', timezone: UTC } }
    suppress:
      - identity: 'https://github.com/acme/docs/.github/workflows/*@**'
        reason: docs run any time
`);
    expect(evaluate(hours, docs, NOW).map((f) => f.suppressed)).toEqual([true]);
    expect(evaluate(hours, both([docs, evil]), NOW).map((f) => f.suppressed)).toEqual([false]);
  });
  it('an identity suppression never holds for a certificate no CA of the trusted root issued', () => {
    const trusted = () => 'sigstore-intermediate';
    const selfMade = (i: number) => (i === 0 ? null : 'sigstore-intermediate');
    expect(summary(docs, trusted)).toEqual([['expect.sourceRefs', undefined, true]]);
    expect(summary(docs, selfMade)).toEqual([['expect.sourceRefs', undefined, false]]);
    // Unknown (a key, or no certificate bytes): as without a trusted root.
    expect(summary(docs, () => undefined)).toEqual([['expect.sourceRefs', undefined, true]]);
  });
});

describe('several signers, one of them under a certificate the trusted root\'s CAs did not issue', () => {
  // The conformance beacon's identity, under production's Fulcio (genuine) and staging's (not a CA of production's root).
  const genuine = realEntry(`${BUNDLES}/155690847_dsse-0.0.1_v0.3_conformance.sigstore.json`);
  const foreign = realEntry(`${REALDATA}/bundles/staging-rekor-v1/11589473_hashedrekord-0.0.1_v0.1.sigstore.json`);
  const cas = new CertificateAuthorities(loadTrustedRootFile(`${REALDATA}/trust/prod/trusted_root.json`).certificateAuthorities);
  const entry: Entry = { ...genuine, signers: [foreign.signer!, genuine.signer!], signer: foreign.signer! };
  const rule = (keys: string, suppress = '') =>
    ruleSet(`
rules:
  - id: beacon
    watch: { identities: ['${genuine.signer!.san}'] }
    expect: { keys: ['${keys}'] }
${suppress}`);
  const SPOOF = ' (not issued by a certificate authority of the trusted root: Sigstore clients reject this signature)';

  it('the two signers have the same identity, and only one certificate is production Fulcio\'s', () => {
    expect(foreign.signer!.san).toBe(genuine.signer!.san);
    expect(evaluateEntry(rule(foreign.signer!.fingerprint), entry, NOW, { cas })[0]!.evidence).toMatchObject({ certificateIssuers: [null, 'sigstore-intermediate'] });
  });
  it('calls a break a spoof only when the signer behind it is the foreign certificate', () => {
    // Only the genuine signer breaks (its key is not the one allowed): its finding names it, not the co-signer.
    const [byGenuine] = evaluateEntry(rule(foreign.signer!.fingerprint), entry, NOW, { cas });
    expect(byGenuine!.message.endsWith(SPOOF)).toBe(false);
    expect(byGenuine).toMatchObject({ identity: genuine.signer!.san, evidence: { violations: [{ signer: 1 }] } });
    const [byForeign] = evaluateEntry(rule(genuine.signer!.fingerprint), entry, NOW, { cas });
    expect(byForeign!.message.endsWith(SPOOF)).toBe(true);
    expect(byForeign).toMatchObject({ evidence: { violations: [{ signer: 0 }] } });
  });
  it('does not let the foreign certificate\'s identity suppress its break', () => {
    const suppressed = rule(genuine.signer!.fingerprint, `    suppress:\n      - identity: '${genuine.signer!.san}'\n        reason: the beacon is known`);
    expect(evaluateEntry(suppressed, entry, NOW)[0]!.status).toBe('suppressed'); // no trusted root to say otherwise
    expect(evaluateEntry(suppressed, entry, NOW, { cas })[0]!.status).toBe('open');
    expect(evaluateEntry(suppressed, genuine, NOW, { cas })).toEqual([]);
  });
});

describe('the CA of a mirrored Rekor v2 entry (no integrated time) is judged when its certificate was issued', () => {
  // The staging root with its CAs retired at the end of 2025: valid when the certificate was issued (June 2025), not at NOW.
  const root = loadTrustedRootFile(`${REALDATA}/trust/staging/trusted_root.json`);
  const retired = new CertificateAuthorities(root.certificateAuthorities.map((ca) => ({ ...ca, validUntil: new Date('2025-12-31T23:59:59Z') })));
  const entry = realEntry(`${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json`);
  const rule = ruleSet(`
rules:
  - id: beacon
    watch: { identities: ['${entry.signer?.san ?? ''}'] }
    expect: { keys: ['sha256:0000000000000000000000000000000000000000000000000000000000000000'] }
`);

  it('at its certificate\'s notBefore, not now: a CA retired since still issued it', () => {
    expect(entry.integratedTime).toBeUndefined();
    expect(entry.signer?.notBefore).toBeLessThan(Date.parse('2026-01-01T00:00:00Z') / 1000);
    const [f] = evaluateEntry(rule, entry, NOW, { cas: retired });
    expect(f!.evidence).toMatchObject({ certificateIssuers: [expect.any(String)] });
    expect(f!.message).not.toMatch(/not issued by a certificate authority/);
    // Issued after the CA's end: no CA of the root issued it.
    const late = { ...entry.signer!, notBefore: Date.parse('2026-02-01T00:00:00Z') / 1000, notAfter: Date.parse('2026-02-01T00:10:00Z') / 1000 };
    const [g] = evaluateEntry(rule, { ...entry, signer: late, signers: [late] }, NOW, { cas: retired });
    expect(g!.evidence).toMatchObject({ certificateIssuers: [null] });
  });
});

describe('a certificate naming several identities (self-made: Fulcio never issues one, Rekor v1 logs it)', () => {
  const T = Date.parse('2026-11-25T10:00:00Z') / 1000;
  const ca = createCA('sigstore-intermediate', T - 86400, T + 86400);
  const ATTACKER = 'attacker@example.org';
  const VICTIM = 'victim@corp.example';
  /** A hashedrekord entry signed with a real certificate naming `san` and then `sans`. */
  const signedBy = (san: string, sans: string[] = []): Entry => certificateEntry(createLeaf(ca, { san, sans, issuer: 'https://accounts.google.com' }, T - 60).der, 9, T);
  const rogue = signedBy(ATTACKER, [VICTIM]);
  const CORP = ruleSet(`
rules:
  - id: corp-signers
    severity: high
    watch: { identities: ['victim@corp.example'] }
    expect: { issuers: ['https://accounts.corp.example'] }
  - id: corp-domain
    notify: all
    watch: { identities: ['*@corp.example'] }
`);

  it('is watched through its second SAN, evaluated as that watch\'s, and the finding names the watched identity and every identity', () => {
    expect(rogue.signer).toMatchObject({ san: ATTACKER, sans: [ATTACKER, VICTIM] });
    expect(isWatched(CORP, rogue)).toBe(true);
    const candidates = evaluate(CORP, rogue, NOW);
    expect(candidates.map((c) => `${c.ruleId}:${c.expectation ?? c.kind}`)).toEqual(['corp-signers:expect.issuers', 'corp-domain:info']);
    expect(candidates[0]!.details.watchedBy).toEqual({ selector: 'watch.identities', pattern: VICTIM, value: VICTIM });
    const [f, g] = evaluateEntry(CORP, rogue, NOW);
    expect(f).toMatchObject({ rule: 'corp-signers', identity: VICTIM, severity: 'high' });
    expect(f!.message).toBe(`corp-signers: OIDC issuer https://accounts.google.com is not one of https://accounts.corp.example (the certificate names 2 identities: ${ATTACKER}, ${VICTIM})`);
    expect(g).toMatchObject({ rule: 'corp-domain', identity: VICTIM });
    // One identity: the finding and its message are as they always were.
    const [own] = evaluateEntry(CORP, signedBy(VICTIM), NOW);
    expect(own).toMatchObject({ identity: VICTIM, message: 'corp-signers: OIDC issuer https://accounts.google.com is not one of https://accounts.corp.example' });
    expect(evaluate(CORP, signedBy(ATTACKER), NOW)).toEqual([]);
  });

  it('rekor-monitor identities match any SAN, as CertMatchesPolicy does', () => {
    const rm = ruleSet(`monitoredValues:\n  certIdentities:\n    - certSubject: victim@corp\\.example\n      issuers: ['accounts\\.google\\.com']\n  subjects: ['^victim@']\n`, 'rekor-monitor.yaml');
    expect(evaluate(rm, rogue, NOW).map((c) => c.details.watchedBy.value).sort()).toEqual([VICTIM, `${VICTIM} (issuer https://accounts.google.com)`]);
    expect(evaluate(rm, signedBy(ATTACKER), NOW)).toEqual([]);
  });

  it('an identity suppression holds only when every identity the certificate names is the excepted one', () => {
    const rs = ruleSet(`
rules:
  - id: corp
    watch: { identities: ['*@corp.example'] }
    expect: { issuers: ['https://accounts.corp.example'] }
    suppress: [{ identity: 'victim@corp.example', reason: 'the victim signs with Google' }]
`);
    expect(evaluate(rs, signedBy(VICTIM), NOW).map((c) => c.suppressed)).toEqual([true]);
    expect(evaluate(rs, signedBy(VICTIM, ['other@corp.example']), NOW).map((c) => c.suppressed)).toEqual([false]);
    expect(evaluate(rs, rogue, NOW).map((c) => c.suppressed)).toEqual([false]);
  });
});
