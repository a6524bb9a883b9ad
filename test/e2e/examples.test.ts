/**
 * The example rules docker-compose.yml mounts by default, against a simulated log of many organisations:
 * a fresh install follows the public Sigstore logs with them, so an example that alerts on anyone's
 * entries notifies on strangers' signatures worldwide. Every finding must concern the organisation of the
 * rule that raised it, read from the rule's owner (`security@acme.example` → acme); and each example
 * still catches the rogue entry of its own organisation injected for it.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { harness, roundsUntil, type Harness } from '../helpers/mirror.ts';
import { ORGS } from '../sim/identities.ts';
import type { InjectSpec } from '../sim/generate.ts';

const N = 2000;
const GITHUB = 'https://token.actions.githubusercontent.com';
const gha = (org: string, repo: string, wf: string, ref: string, over: Record<string, string> = {}) => ({
  san: `https://github.com/${org}/${repo}/.github/workflows/${wf}@${ref}`,
  issuer: GITHUB,
  extensions: {
    buildSignerURI: `https://github.com/${org}/${repo}/.github/workflows/${wf}@${ref}`,
    sourceRepositoryURI: `https://github.com/${org}/${repo}`,
    sourceRepositoryOwnerURI: `https://github.com/${org}`,
    sourceRepositoryRef: ref,
    buildTrigger: 'push',
    runnerEnvironment: 'github-hosted',
    ...over,
  },
});
const ACME_WORKFLOW = 'https://github.com/acme/workflows/.github/workflows/release.yml@refs/tags/v1';
/** For each example, an entry it must catch; then entries of other organisations that none may flag. */
const inject: InjectSpec[] = [
  { at: 100, cert: gha('acme', 'api', 'evil.yml', 'refs/heads/main') }, // acme-release
  { at: 200, cert: { san: 'mallory@acme.com', issuer: 'https://github.com/login/oauth' } }, // acme-people
  { at: 300, cert: { ...gha('evil', 'x', 'release.yml', 'refs/tags/v1', { buildSignerURI: ACME_WORKFLOW }), san: ACME_WORKFLOW } }, // acme-shared-workflows
  { at: 400, cert: gha('globex', 'api', 'release.yml', 'refs/tags/v2.0.0') }, // the rekor-monitor config
  { at: 500, cert: gha('initech', 'api', 'release.yml', 'refs/tags/v1.0.0', { runnerEnvironment: 'self-hosted' }) },
  { at: 600, cert: gha('hooli', 'web', 'ci.yml', 'refs/pull/7/merge', { buildTrigger: 'pull_request_target', runnerEnvironment: 'self-hosted' }) },
  { at: 700, cert: { san: 'alice@initech.com', issuer: 'https://github.com/login/oauth' } },
];

/** The host directory docker-compose.yml mounts where the tlogwatch service's `--rules` points. */
function composeRulesDir(): string {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { volumes?: string[]; command?: string[] }> };
  const t = compose.services['tlogwatch']!;
  const cmd = t.command ?? [];
  const target = cmd[cmd.indexOf('--rules') + 1];
  const mount = (t.volumes ?? []).map((v) => v.split(':')).find(([host, at]) => host!.startsWith('./') && at === target);
  if (!mount) throw new Error(`docker-compose.yml mounts nothing at --rules ${target}`);
  return mount[0]!.slice(2);
}

interface Fired {
  rule: string;
  index: number;
  severity: string;
  owner?: string;
  identity?: string;
  fulcio?: Record<string, string>;
}

/** Whether an entry concerns `org`: its repository's owner, a workflow of its (SAN or build signer), or its email domain. */
function concerns(f: Fired, org: string): boolean {
  const home = `https://github.com/${org}`;
  const urls = [f.identity, f.fulcio?.['buildSignerURI'], f.fulcio?.['sourceRepositoryURI'], f.fulcio?.['sourceRepositoryOwnerURI']];
  return urls.some((u) => u !== undefined && (u.toLowerCase() === home || u.toLowerCase().startsWith(`${home}/`))) || (f.identity?.toLowerCase().endsWith(`@${org}.com`) ?? false);
}

describe('the example rules mounted by docker-compose.yml', () => {
  let h: Harness;
  let fired: Fired[];
  beforeAll(async () => {
    h = await harness({ api: 'v1', entries: N, seed: 'examples', inject }, {}, undefined, { cliLayout: true });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(N));
    await h.store.close(); // the CLI opens the store itself
    const r = await cli(['rules', 'test', composeRulesDir(), '--data-dir', h.dataDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    fired = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Fired);
  }, 120_000);
  afterAll(() => h?.cleanup());

  it('flag only entries of their own organisation, among signatures of many', () => {
    expect(ORGS.length).toBeGreaterThan(10);
    const strangers = fired
      .filter((f) => f.severity !== 'info')
      .filter((f) => {
        const org = /@([a-z0-9-]+)\.example$/.exec(f.owner ?? '')?.[1];
        return org === undefined || !concerns(f, org);
      })
      .map((f) => `${f.rule}@${f.index}: ${f.identity ?? '(no identity)'} (owner ${f.owner ?? 'none'})`);
    expect(strangers).toEqual([]);
  });

  it('still catch what they are for', () => {
    const at = (i: number) => fired.filter((f) => f.index === i).map((f) => f.rule);
    expect(at(100)).toEqual(['acme-release']);
    expect(at(200)).toEqual(['acme-people']);
    expect(at(300)).toEqual(['acme-shared-workflows']);
    expect(at(400)).toEqual(['globex-rekor-monitor']);
    for (const i of [500, 600, 700]) expect(at(i)).toEqual([]);
  });
});
