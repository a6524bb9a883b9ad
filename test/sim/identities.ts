/**
 * Who signs in the simulated log: GitHub Actions workflows of many organisations with the Fulcio claims a
 * real GitHub OIDC token produces (sigstore/fulcio docs/oid-info.md, "GitHub" column), including
 * reusable-workflow builders whose SAN is not the source repository, people with Google or GitHub email
 * identities, and plain keys.
 */
import type { FulcioClaims } from '../../src/entries/types.ts';
import { ecdsaKey, ed25519Key, type KeyPair } from './keys.ts';
import { pick, randomHex, seeded } from './prng.ts';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const GITHUB_OAUTH_ISSUER = 'https://github.com/login/oauth';
export const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'soylent', 'aperture', 'massive', 'vandelay', 'pied-piper', 'wonka', 'oscorp'];
const REPOS = ['api', 'web', 'cli', 'sdk', 'agent', 'infra', 'docs', 'operator', 'charts', 'payments'];
const RELEASE_WORKFLOWS: Array<[file: string, name: string]> = [['release.yml', 'Release'], ['publish.yml', 'Publish'], ['goreleaser.yml', 'goreleaser'], ['container.yml', 'Build and push image']];
const CI_WORKFLOWS: Array<[file: string, name: string]> = [['ci.yml', 'CI'], ['build.yml', 'Build'], ['nightly.yml', 'Nightly']];
const BUILDERS = [
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0',
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0',
];
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];

export type Identity =
  | { type: 'github'; san: string; issuer: string; claims: FulcioClaims }
  | { type: 'email'; san: string; issuer: string; claims: FulcioClaims }
  | ({ type: 'key'; alg: 'ecdsa' | 'ed25519' } & KeyPair);

export interface GithubRun {
  org: string;
  repo: string;
  workflow: string;
  workflowName?: string;
  ref: string;
  trigger: string;
  runner: string;
  visibility: string;
  sha: string;
  /** A reusable workflow that did the signing (its URI is then the SAN and the build signer). */
  builder?: string;
  environment?: string;
  runId?: number;
}

/** The certificate claims Fulcio derives from a GitHub Actions token for `run`. */
export function githubIdentity(run: GithubRun): Identity {
  const repoUri = `https://github.com/${run.org}/${run.repo}`;
  const config = `${repoUri}/.github/workflows/${run.workflow}@${run.ref}`;
  const signer = run.builder ?? config;
  const orgId = 5000 + Math.max(0, ORGS.indexOf(run.org));
  const claims: FulcioClaims = {
    githubWorkflowTrigger: run.trigger,
    githubWorkflowSha: run.sha,
    githubWorkflowName: run.workflowName ?? run.workflow.replace(/\.ya?ml$/, ''),
    githubWorkflowRepository: `${run.org}/${run.repo}`,
    githubWorkflowRef: run.ref,
    buildSignerURI: signer,
    buildSignerDigest: run.builder ? '5a775b367a56d5bd118a224a811bba288150a563' : run.sha,
    runnerEnvironment: run.runner,
    sourceRepositoryURI: repoUri,
    sourceRepositoryDigest: run.sha,
    sourceRepositoryRef: run.ref,
    sourceRepositoryIdentifier: String(100000 + orgId * 100 + Math.max(0, REPOS.indexOf(run.repo))),
    sourceRepositoryOwnerURI: `https://github.com/${run.org}`,
    sourceRepositoryOwnerIdentifier: String(orgId),
    buildConfigURI: config,
    buildConfigDigest: run.sha,
    buildTrigger: run.trigger,
    runInvocationURI: `${repoUri}/actions/runs/${run.runId ?? Number.parseInt(run.sha.slice(0, 8), 16)}/attempts/1`,
    sourceRepositoryVisibilityAtSigning: run.visibility,
    ...(run.environment ? { deploymentEnvironment: run.environment } : {}),
    tokenSubject: run.environment ? `repo:${run.org}/${run.repo}:environment:${run.environment}` : `repo:${run.org}/${run.repo}:ref:${run.ref}`,
  };
  return { type: 'github', san: signer, issuer: GITHUB_ISSUER, claims };
}

/**
 * One workflow run. `acme`, the organisation of the example rules (monitor-rules/examples/acme-release.yaml),
 * follows its release policy in every generated entry: release/publish workflows on version tags, CI on
 * main, push or release triggers, GitHub-hosted runners; so a rule's findings are exactly the entries a
 * test injects. Every other organisation varies in workflows, refs, triggers, runners and builders.
 */
function githubRun(r: () => number): GithubRun {
  const org = pick(r, ORGS);
  const release = r() < 0.65;
  const tag = `refs/tags/v${Math.floor(r() * 4)}.${Math.floor(r() * 12)}.${Math.floor(r() * 20)}`;
  const common = { org, repo: pick(r, REPOS), visibility: r() < 0.8 ? 'public' : 'private', sha: randomHex(r, 40), runId: 9_000_000_000 + Math.floor(r() * 900_000_000) };
  if (org === 'acme') {
    const [workflow, workflowName] = release ? pick(r, RELEASE_WORKFLOWS.slice(0, 2)) : pick(r, CI_WORKFLOWS.slice(0, 2));
    return { ...common, workflow, workflowName, ref: release ? tag : 'refs/heads/main', trigger: release ? pick(r, ['push', 'release']) : 'push', runner: 'github-hosted' };
  }
  const [workflow, workflowName] = pick(r, release ? RELEASE_WORKFLOWS : CI_WORKFLOWS);
  const ref = release ? (r() < 0.85 ? tag : pick(r, ['refs/heads/main', 'refs/heads/release/v2'])) : r() < 0.75 ? 'refs/heads/main' : `refs/pull/${1 + Math.floor(r() * 900)}/merge`;
  const trigger = ref.startsWith('refs/pull/') ? 'pull_request' : release ? pick(r, ref.startsWith('refs/tags/') ? ['push', 'release'] : ['workflow_dispatch']) : pick(r, ['push', 'push', 'schedule', 'merge_group']);
  return {
    ...common,
    workflow,
    workflowName,
    ref,
    trigger,
    runner: r() < 0.9 ? 'github-hosted' : 'self-hosted',
    ...(release && r() < 0.2 ? { builder: pick(r, BUILDERS) } : {}),
    ...(release && r() < 0.3 ? { environment: pick(r, ['production', 'release']) } : {}),
  };
}

/** A deterministic pool of identities: mostly GitHub workflows, some people and plain keys. */
export function identityPool(seed: string, size = 320): Identity[] {
  const r = seeded(seed, 'identities');
  const pool: Identity[] = [];
  for (let i = 0; i < size; i++) {
    const roll = r();
    if (roll < 0.78) {
      pool.push(githubIdentity(githubRun(r)));
    } else if (roll < 0.92) {
      const google = r() < 0.5;
      const user = `${pick(r, PEOPLE)}${Math.floor(r() * 100)}`;
      pool.push({ type: 'email', san: `${user}@${google ? 'gmail.com' : `${pick(r, ORGS)}.com`}`, issuer: google ? GOOGLE_ISSUER : GITHUB_OAUTH_ISSUER, claims: {} });
    } else {
      const alg = r() < 0.6 ? 'ecdsa' : 'ed25519';
      pool.push({ type: 'key', alg, ...(alg === 'ecdsa' ? ecdsaKey(seed, 'identity', i) : ed25519Key(seed, 'identity', i)) });
    }
  }
  return pool;
}
