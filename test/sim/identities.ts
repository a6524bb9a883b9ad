/**
 * Who signs in the simulated log: GitHub Actions workflows of many organisations (the Fulcio claims a
 * real GitHub OIDC token produces), people with Google/GitHub email identities, and plain keys.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { FulcioClaims } from '../../src/entries/types.ts';
import { pick, seeded } from './prng.ts';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'soylent', 'aperture', 'massive'];
const REPOS = ['api', 'web', 'cli', 'sdk', 'agent', 'infra', 'docs', 'operator'];
const WORKFLOWS = ['release.yml', 'publish.yml', 'ci.yml', 'build.yml'];

export type Identity =
  | { type: 'github'; san: string; issuer: string; claims: FulcioClaims }
  | { type: 'email'; san: string; issuer: string; claims: FulcioClaims }
  | { type: 'key'; alg: 'ecdsa' | 'ed25519'; privateKey: KeyObject; publicKey: KeyObject };

export function githubIdentity(org: string, repo: string, workflow: string, ref: string, trigger: string, runner: string, visibility: string, sha: string): Identity {
  const repoUri = `https://github.com/${org}/${repo}`;
  const signer = `${repoUri}/.github/workflows/${workflow}@${ref}`;
  return {
    type: 'github',
    san: signer,
    issuer: GITHUB_ISSUER,
    claims: {
      githubWorkflowTrigger: trigger,
      githubWorkflowSha: sha,
      githubWorkflowName: workflow.replace('.yml', ''),
      githubWorkflowRepository: `${org}/${repo}`,
      githubWorkflowRef: ref,
      buildSignerURI: signer,
      buildSignerDigest: sha,
      runnerEnvironment: runner,
      sourceRepositoryURI: repoUri,
      sourceRepositoryDigest: sha,
      sourceRepositoryRef: ref,
      sourceRepositoryIdentifier: String(100000 + REPOS.indexOf(repo) * 1000 + ORGS.indexOf(org)),
      sourceRepositoryOwnerURI: `https://github.com/${org}`,
      sourceRepositoryOwnerIdentifier: String(5000 + ORGS.indexOf(org)),
      buildConfigURI: signer,
      buildConfigDigest: sha,
      buildTrigger: trigger,
      runInvocationURI: `${repoUri}/actions/runs/${Number.parseInt(sha.slice(0, 8), 16)}/attempts/1`,
      sourceRepositoryVisibilityAtSigning: visibility,
    },
  };
}

/** A deterministic pool of identities: mostly release workflows, some CI, people and plain keys. */
export function identityPool(seed: string, size = 240): Identity[] {
  const r = seeded(seed, 'identities');
  const pool: Identity[] = [];
  for (let i = 0; i < size; i++) {
    const roll = r();
    const sha = Array.from({ length: 40 }, () => Math.floor(r() * 16).toString(16)).join('');
    if (roll < 0.78) {
      const org = pick(r, ORGS);
      const workflow = pick(r, WORKFLOWS);
      const release = workflow === 'release.yml' || workflow === 'publish.yml';
      const ref = release ? `refs/tags/v${1 + Math.floor(r() * 4)}.${Math.floor(r() * 10)}.${Math.floor(r() * 20)}` : 'refs/heads/main';
      pool.push(githubIdentity(org, pick(r, REPOS), workflow, ref, release ? pick(r, ['push', 'release']) : 'push', 'github-hosted', r() < 0.8 ? 'public' : 'private', sha));
    } else if (roll < 0.92) {
      const google = r() < 0.5;
      const user = `${pick(r, ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'])}${Math.floor(r() * 100)}`;
      const issuer = google ? 'https://accounts.google.com' : 'https://github.com/login/oauth';
      pool.push({ type: 'email', san: `${user}@${pick(r, ORGS)}.com`, issuer, claims: {} });
    } else {
      const alg = r() < 0.5 ? 'ecdsa' : 'ed25519';
      const { privateKey, publicKey } = alg === 'ecdsa' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      pool.push({ type: 'key', alg, privateKey, publicKey });
    }
  }
  return pool;
}
