/** Shared by the monitor tests: real Entry records from test/fixtures/realdata, rule sets from YAML. */
import { readFileSync } from 'node:fs';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import type { Entry } from '../../../src/entries/types.ts';
import type { RuleSet } from '../../../src/monitor/rules/compiled.ts';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { REALDATA } from '../../helpers/realdata.ts';

export const BUNDLES = `${REALDATA}/bundles/prod-rekor-v1`;
export const SIGSTORE_JS_V2 = `${BUNDLES}/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json`;
export const GH_ATTESTATION = `${BUNDLES}/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json`;
export const NPM_PROVENANCE = `${BUNDLES}/18300934_intoto-0.0.2_v0.1_npm-provenance_sigstore-go.sigstore.json`;
export const NPM_PUBLISH = `${BUNDLES}/18300940_intoto-0.0.2_v0.1_npm-publish_sigstore-go.sigstore.json`;
export const EMAIL_GOOGLE = `${BUNDLES}/41958702_hashedrekord-0.0.1_v0.1_sigstore-java.sigstore`;
export const EMAIL_GITHUB = `${BUNDLES}/83460520_dsse-0.0.1_v0.3_sigstore-js.sigstore.json`;
export const NPM_ATTESTATIONS = `${REALDATA}/npm-attestations/sigstore-npm-attestations_12988397_12988399.json`;
/** A PyPI (PEP 740) publish attestation signed in GitLab CI/CD on gitlab.com. */
export const GITLAB_PYPI = `${REALDATA}/pypi-attestations/149945774_dsse-0.0.1_gitlab-ci_gitlab_oidc_project-0.0.3.publish.attestation.json`;

/** The Entry record of a real bundle's tlog entry, decoded by src/entries. */
export function realEntry(file: string): Entry {
  const [t] = parseTlogEntries(JSON.parse(readFileSync(file, 'utf8')));
  return decodeAnyBody(t!.body, { log: 'rekor.sigstore.dev', index: Number(t!.logIndex), ...(t!.integratedTime !== undefined ? { integratedTime: Number(t!.integratedTime) } : {}) }, t!.kind, t!.version);
}

/** The DSSE payload of a bundle, straight from its JSON. */
export function bundlePayload(file: string): Uint8Array {
  const b = JSON.parse(readFileSync(file, 'utf8')) as { dsseEnvelope: { payload: string } };
  return new Uint8Array(Buffer.from(b.dsseEnvelope.payload, 'base64'));
}

export function ruleSet(yaml: string, name = 'rules.yaml'): RuleSet {
  const r = checkRules([{ name, text: yaml }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2));
  return r.ruleSet;
}

/** A GitHub Actions Entry with the claims a real GitHub OIDC token produces (as in test/sim/identities.ts). */
export function ghaEntry(org: string, repo: string, workflow: string, ref: string, over: Record<string, string> = {}, entry: Partial<Entry> = {}): Entry {
  const repoUri = `https://github.com/${org}/${repo}`;
  const signer = `${repoUri}/.github/workflows/${workflow}@${ref}`;
  return {
    log: 'sim',
    index: 7,
    leafHash: 'ab'.repeat(32),
    uuid: 'ab'.repeat(32),
    integratedTime: Date.parse('2026-11-25T10:00:00Z') / 1000, // a Wednesday, 11:00 in Berlin
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    digests: [`sha256:${'1'.repeat(64)}`],
    signer: {
      type: 'x509',
      fingerprint: `sha256:${'f'.repeat(64)}`,
      san: signer,
      issuer: 'https://token.actions.githubusercontent.com',
      fulcio: {
        issuer: 'https://token.actions.githubusercontent.com',
        buildSignerURI: signer,
        runnerEnvironment: 'github-hosted',
        sourceRepositoryURI: repoUri,
        sourceRepositoryDigest: 'c'.repeat(40),
        sourceRepositoryRef: ref,
        sourceRepositoryOwnerURI: `https://github.com/${org}`,
        buildTrigger: 'push',
        sourceRepositoryVisibilityAtSigning: 'public',
        ...over,
      },
    },
    ...entry,
  };
}
