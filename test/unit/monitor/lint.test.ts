/**
 * Warnings about patterns that can never match (src/monitor/rules/lint.ts): a repository or owner
 * pattern without a host, upper case in a regex's host or email domain. Each warning is checked against
 * the matcher itself: what it flags never matches, and what it suggests does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { lintPattern } from '../../../src/monitor/rules/lint.ts';
import { PatternSet, type FieldKind, type PatternSpec } from '../../../src/monitor/rules/pattern.ts';

const matches = (spec: PatternSpec, value: string, kind: FieldKind = 'url') => new PatternSet([spec], kind).match(value) !== undefined;
const suggestion = (w: string) => /did you mean (\S+)\?$/.exec(w)?.[1] ?? /write \{regex: (.*)\}$/.exec(w)?.[1];

describe('repository and owner patterns without a host', () => {
  it('warn, with the github.com pattern that was probably meant', () => {
    expect(lintPattern('acme/*', 'url', 'repository')).toEqual([
      'acme/* can never match a repository URI (https://github.com/…): without a host name (a first segment with a dot) a pattern is not read as a URL; did you mean github.com/acme/*?',
    ]);
    expect(lintPattern('acme', 'url', 'repository').map(suggestion)).toEqual(['github.com/acme/*']);
    expect(lintPattern('acme', 'url', 'owner').map(suggestion)).toEqual(['github.com/acme']);
    expect(lintPattern('acme/api', 'url', 'repository').map(suggestion)).toEqual(['github.com/acme/api']);
    expect(lintPattern('/acme/**', 'url', 'repository').map(suggestion)).toEqual(['github.com/acme/**']);
  });
  it('not for patterns with a scheme or a host, nor ones that start with a star or a colon', () => {
    for (const p of ['github.com/acme/*', 'https://github.com/acme/*', 'GitHub.com/acme/API', 'git.acme.example:8443/acme/*', 'localhost:3000/acme', '**/acme/*', '*/acme', 'https://github.com/acme/api']) {
      expect(lintPattern(p, 'url', 'repository'), p).toEqual([]);
    }
    for (const p of ['GitHub.com/acme', 'https://github.com/acme', 'github.com/acme-*', 'github.com/**']) expect(lintPattern(p, 'url', 'owner'), p).toEqual([]);
  });
  it('build signers too: a workflow URI always has a host', () => {
    const p = 'acme/api/.github/workflows/release.yml@refs/tags/*';
    const [w] = lintPattern(p, 'url', 'buildSigner');
    expect(w).toMatch(/^acme\/api\/.* can never match a build signer URI .*; did you mean github\.com\/acme\/api\/\.github\/workflows\/release\.yml@refs\/tags\/\*\?$/);
    const uri = 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.2.0';
    expect(matches(p, uri)).toBe(false);
    expect(matches(suggestion(w!)!, uri)).toBe(true);
    expect(lintPattern('github.com/acme/*/.github/workflows/*@**', 'url', 'buildSigner')).toEqual([]);
  });
  it('not in fields that may hold other values (identities: names and emails)', () => {
    expect(lintPattern('acme/*', 'identity')).toEqual([]);
    expect(lintPattern('acme', 'url')).toEqual([]);
  });
  it('issuers: an OIDC issuer is an https URL, so a host-less pattern never matches one', () => {
    const issuers = ['https://token.actions.githubusercontent.com', 'https://accounts.google.com', 'https://gitlab.com', 'https://oauth2.sigstore.dev/auth'];
    for (const p of ['token', 'actions/*', 'oauth2/auth', 'gitlab']) {
      const [w] = lintPattern(p, 'url', 'issuer');
      expect(w, p).toMatch(/can never match an OIDC issuer/);
      for (const v of issuers) expect(matches(p, v), `${p} ~ ${v}`).toBe(false);
    }
    for (const p of [...issuers, 'token.actions.githubusercontent.com', '*.githubusercontent.com', 'oauth2.sigstore.dev/*', 'localhost:8080']) {
      expect(lintPattern(p, 'url', 'issuer'), p).toEqual([]);
    }
  });
  it('property: a flagged pattern matches no https URL of its path, and the suggestion does', () => {
    const seg = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/);
    fc.assert(
      fc.property(seg, seg, fc.constantFrom('', '/*', '/**'), (org, repo, tail) => {
        const p = `${org}${tail}`;
        const [w] = lintPattern(p, 'url', 'repository');
        expect(w).toBeDefined();
        const url = `https://github.com/${org}/${repo}`;
        expect(matches(p, url)).toBe(false);
        expect(matches(p, `https://${org}/${repo}`)).toBe(false);
        expect(matches(suggestion(w!)!, url)).toBe(true);
      }),
    );
  });
});

describe('github.com repository and owner patterns of another shape than Fulcio writes', () => {
  // 95781729's .12 and .16: https://github.com/<owner>/<repo> and https://github.com/<owner>, nothing after.
  const REPO = 'https://github.com/malancas/attest-demo';
  const OWNER = 'https://github.com/malancas';
  it('warn, with what was probably meant, which matches', () => {
    for (const [p, uri, real, meant] of [
      ['github.com/malancas/*', 'owner', OWNER, 'github.com/malancas'],
      ['https://github.com/malancas/', 'owner', OWNER, 'github.com/malancas'],
      ['github.com/malancas', 'repository', REPO, 'github.com/malancas/*'],
      ['github.com/malancas/attest-demo.git', 'repository', REPO, 'github.com/malancas/attest-demo'],
      ['https://github.com/malancas/attest-demo/', 'repository', REPO, 'github.com/malancas/attest-demo'],
      ['github.com/malancas/attest-demo/tree/main', 'repository', REPO, 'github.com/malancas/attest-demo'],
    ] as const) {
      const [w, more] = lintPattern(p, 'url', uri);
      expect(more, p).toBeUndefined();
      expect(w, p).toContain(`${p} can never match ${uri === 'owner' ? 'an owner URI' : 'a repository URI'}`);
      expect(w, p).toContain(meant);
      expect(matches(p, real), p).toBe(false);
      expect(matches(meant, real), p).toBe(true);
    }
  });
  it('rules check reports it at the pattern in watch and expect', () => {
    const r = checkRules([{ name: 'r.yaml', text: "rules:\n  - id: x\n    watch: { owners: ['github.com/acme/*'] }\n    expect: { repositories: ['github.com/acme/api.git'] }\n" }]);
    expect(r.warnings.map((w) => w.message.split(' can never match')[0])).toEqual(['github.com/acme/*', 'github.com/acme/api.git']);
  });
});

describe('identity globs that stop short of a GitHub workflow identity', () => {
  // …/<owner>/<repo>/.github/workflows/<file>@<ref>: a ref always has a slash (refs/heads/main, refs/pull/1/merge).
  const seg = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
  const ref = fc.constantFrom('refs/heads/main', 'refs/tags/v1.2.0', 'refs/pull/17/merge', 'refs/heads/release/v2');
  const writeStar = (w: string) => /; write (\S+)/.exec(w)?.[1];
  it('warn below an owner, a repository or its workflow folder, and the suggestion matches', () => {
    const real = 'https://github.com/bdehamer/workflows/.github/workflows/attest.yml@refs/heads/main'; // 95781729's SAN
    for (const p of ['https://github.com/bdehamer/*', 'github.com/bdehamer/workflows/*', 'https://github.com/bdehamer/workflows/.github/workflows/*']) {
      const [w, more] = lintPattern(p, 'identity');
      expect(more, p).toBeUndefined();
      expect(w, p).toMatch(/matches no GitHub workflow identity/);
      expect(matches(p, real, 'identity'), p).toBe(false);
      expect(matches(writeStar(w!)!, real, 'identity'), p).toBe(true);
    }
    for (const p of ['https://github.com/bdehamer/workflows/.github/workflows/*@**', 'https://github.com/bdehamer/**', 'github.com/bdehamer/*/.github/workflows/*.yml@refs/heads/*', '*@acme.com', 'https://gitlab.com/acme/**']) {
      expect(lintPattern(p, 'identity'), p).toEqual([]);
    }
  });
  it('property: a flagged glob matches no workflow identity under it, and its suggestion matches every one', () => {
    fc.assert(
      fc.property(seg, seg, seg, ref, fc.integer({ min: 1, max: 3 }), fc.boolean(), (owner, repo, file, r, depth, scheme) => {
        const san = `https://github.com/${owner}/${repo}/.github/workflows/${file}.yml@${r}`;
        const p = `${scheme ? 'https://' : ''}github.com/${[owner, repo, '.github/workflows'].slice(0, depth).join('/')}/*`;
        const [w] = lintPattern(p, 'identity');
        expect(w).toBeDefined();
        expect(matches(p, san, 'identity')).toBe(false);
        expect(matches(writeStar(w!)!, san, 'identity')).toBe(true);
      }),
    );
  });
});

describe('GitHub workflow patterns without the ref every workflow identity ends in', () => {
  // 95781729's SAN, build signer and build config (the caller's workflow).
  const SAN = 'https://github.com/bdehamer/workflows/.github/workflows/attest.yml@refs/heads/main';
  const CONFIG = 'https://github.com/malancas/attest-demo/.github/workflows/shared.yml@refs/heads/main';
  const writeAny = (w: string) => /; write (\S+)/.exec(w)?.[1];
  it('warn on a workflow file or a repository with no @, and the suggestion matches', () => {
    for (const [p, kind, uri, real] of [
      ['https://github.com/bdehamer/workflows/.github/workflows/attest.yml', 'identity', undefined, SAN],
      ['github.com/bdehamer/workflows/.github/workflows/attest.yml', 'url', 'buildSigner', SAN],
      ['github.com/malancas/*/.github/workflows/shared.yml', 'url', 'buildConfig', CONFIG],
    ] as const) {
      const [w, more] = lintPattern(p, kind, uri);
      expect(more, p).toBeUndefined();
      expect(w, p).toMatch(/matches no GitHub Actions (workflow identity|build signer URI|build config URI): those end in the ref/);
      expect(matches(p, real, kind), p).toBe(false);
      expect(matches(writeAny(w!)!, real, kind), p).toBe(true);
    }
    const [repo] = lintPattern('https://github.com/bdehamer/workflows', 'identity');
    expect(repo).toMatch(/a repository is watched with watch\.repositories/);
    expect(lintPattern('https://github.com/acme/*', 'url', 'buildSigner')[0]).toMatch(/matches no GitHub Actions build signer URI/);
  });
  it('warn on a bare ref name, which no GitHub ref is', () => {
    for (const p of ['https://github.com/bdehamer/workflows/.github/workflows/attest.yml@main', 'https://github.com/bdehamer/workflows/.github/workflows/*@v1*']) {
      const [w] = lintPattern(p, 'identity');
      expect(w, p).toMatch(/matches no GitHub ref, which is refs\/heads\/<branch>/);
      expect(matches(p, SAN, 'identity'), p).toBe(false);
    }
  });
  it('say nothing about patterns that can match one', () => {
    for (const p of [SAN, 'https://github.com/bdehamer/workflows/.github/workflows/*@**', 'https://github.com/bdehamer/**', 'github.com/acme/*/.github/workflows/release.yml@refs/tags/v*', `https://github.com/acme/w/.github/workflows/r.yml@${'a1'.repeat(20)}`, 'alice@acme.com', 'https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main']) {
      expect(lintPattern(p, 'identity'), p).toEqual([]);
      if (p.includes('github.com')) expect(lintPattern(p, 'url', 'buildConfig'), p).toEqual([]);
    }
    // Repositories and owners have no ref.
    expect(lintPattern('github.com/acme/api', 'url', 'repository')).toEqual([]);
  });
  it('property: a pattern flagged for having no ref matches no workflow identity of its path, and @** does', () => {
    const seg = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
    const ref = fc.constantFrom('refs/heads/main', 'refs/tags/v1.2.0', 'refs/pull/17/merge', 'refs/heads/release/v2', 'c'.repeat(40));
    fc.assert(
      fc.property(seg, seg, seg, ref, fc.boolean(), (owner, repo, file, r, scheme) => {
        const path = `github.com/${owner}/${repo}/.github/workflows/${file}.yml`;
        const p = `${scheme ? 'https://' : ''}${path}`;
        const san = `https://${path}@${r}`;
        const [w] = lintPattern(p, 'url', 'buildSigner');
        expect(w).toBeDefined();
        expect(matches(p, san)).toBe(false);
        expect(matches(writeAny(w!)!, san)).toBe(true);
      }),
    );
  });
});

describe('upper case in a regex where values are lower-cased', () => {
  it('in a URL host or scheme: warns, with the lower-cased regex', () => {
    const [w] = lintPattern({ regex: 'https://GitHub\\.com/acme/.*' }, 'url');
    expect(w).toBe('{regex: https://GitHub\\.com/acme/.*}: upper-case letters in the scheme, host, owner and repository never match, since the regex sees it in lower case (https://GitHub\\.com/acme/.*); write {regex: https://github\\.com/acme/.*}');
    expect(lintPattern({ regex: 'https://GitLab\\.com/Acme/.*' }, 'url').map(suggestion)).toEqual(['https://gitlab\\.com/Acme/.*']);
    // On github.com the owner and repository are compared in lower case too (GitHub's names are case-insensitive), the rest exactly.
    expect(lintPattern({ regex: 'https://github\\.com/Azure/Azure-SDK\\/\\.github/workflows/Release\\.yml@.*' }, 'identity').map(suggestion)).toEqual(['https://github\\.com/azure/azure-sdk\\/\\.github/workflows/Release\\.yml@.*']);
    expect(lintPattern({ regex: 'HTTPS://github\\.com/.*' }, 'url')).toHaveLength(1);
    expect(lintPattern({ regex: '^https://\\QGitHub.com\\E/acme$' }, 'url').map(suggestion)).toEqual(['^https://\\Qgithub.com\\E/acme$']);
    expect(lintPattern({ regex: 'https://github\\.com/acme/x/\\.github/workflows/.*@refs/tags/V.*' }, 'identity')).toEqual([]);
    expect(lintPattern({ regex: 'https://Token\\.actions\\.githubusercontent\\.com' }, 'identity')).toHaveLength(1);
  });
  it('in an identity email domain', () => {
    expect(lintPattern({ regex: '.*@Acme\\.com' }, 'identity').map(suggestion)).toEqual(['.*@acme\\.com']);
    expect(lintPattern({ regex: 'Alice@acme\\.com' }, 'identity')).toEqual([]);
    expect(lintPattern({ regex: '.*@refs/tags/V.*' }, 'identity')).toEqual([]);
    expect(lintPattern({ regex: '.*@Acme\\.com' }, 'url')).toEqual([]); // a URL field's values are not emails
  });
  it('not for paths, classes, escapes, group names and flags, or case-insensitive regexes', () => {
    for (const r of [
      'https://gitlab\\.com/Acme/.*',
      'https://github\\.com/acme/x/Y/.*',
      '(?i)https://GitHub\\.com/.*',
      'https://(?i:GitHub)\\.com/.*',
      'https://[A-Za-z.]+/acme',
      'https://\\S+\\.com/acme',
      'https://\\pL+\\.com/acme',
      'https://\\p{Latin}+\\.com/acme',
      'https://(?P<Host>github\\.com)/acme',
      'https://(?U:github)\\.com/acme',
      'https://gitlab\\.com\\/Acme',
    ]) {
      expect(lintPattern({ regex: r }, 'url'), r).toEqual([]);
    }
    expect(lintPattern({ regex: 'refs/tags/V.*' }, 'text')).toEqual([]);
  });
  it('property: a flagged host never matches the host written in lower case, and the suggestion does', () => {
    const label = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,6}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 2, maxLength: 3 }), (labels) => {
        const host = labels.join('.');
        const regex = `https://${labels.join('\\.')}/acme/.*`;
        const url = `https://${host}/acme/x`;
        const w = lintPattern({ regex }, 'url');
        expect(w.length).toBe(host === host.toLowerCase() ? 0 : 1);
        if (w.length === 0) return;
        expect(matches({ regex }, url)).toBe(false);
        expect(matches({ regex: suggestion(w[0]!)! }, url)).toBe(true);
      }),
    );
  });
});

describe('rules check reports them at the pattern', () => {
  it('in watch and expect, repositories and owners, and regexes in any URL or identity field', () => {
    const r = checkRules([
      {
        name: 'h.yaml',
        text: `rules:
  - id: h
    watch:
      repositories: ['acme/*', 'github.com/acme/*']
      owners: [acme]
      identities: [{ regex: '.*@ACME\\.com' }]
    expect:
      repositories: [acme]
      owners: ['github.com/acme']
      issuers: [{ regex: 'https://Token\\.actions\\.githubusercontent\\.com' }, token]
`,
      },
    ]);
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => `${w.line}:${w.column} ${w.path}: ${suggestion(w.message) ?? w.message}`)).toEqual([
      '6:29 rules[0].watch.identities[0].regex: .*@acme\\.com',
      '4:22 rules[0].watch.repositories[0]: github.com/acme/*',
      '5:16 rules[0].watch.owners[0]: github.com/acme',
      '10:26 rules[0].expect.issuers[0].regex: https://token\\.actions\\.githubusercontent\\.com',
      expect.stringMatching(/^10:78 rules\[0\]\.expect\.issuers\[1\]: token can never match an OIDC issuer/),
      '8:22 rules[0].expect.repositories[0]: github.com/acme/*',
    ]);
  });
});

describe('identity globs that miss a GitLab CI identity', () => {
  // Fulcio's GitLab principal: <project URL>//<CI config path>@<ref>; the real entry 149945774's SAN.
  const real = 'https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main';
  const writeFix = (w: string) => /write (\S+)$/.exec(w)?.[1];
  it('warn on one slash before the config path and on a * below the project, and the suggestion matches', () => {
    for (const p of [
      'https://gitlab.com/facutuesca/gitlab-oidc-project/.gitlab-ci.yml@refs/heads/main',
      'gitlab.com/facutuesca/gitlab-oidc-project/.gitlab-ci.yml@refs/heads/*',
      'https://gitlab.com/facutuesca/*',
      'https://gitlab.com/facutuesca/gitlab-oidc-project/*',
      'https://gitlab.com/facutuesca/gitlab-oidc-project//*',
    ]) {
      const [w, more] = lintPattern(p, 'identity');
      expect(more, p).toBeUndefined();
      expect(w, p).toMatch(/matches no GitLab CI identity/);
      expect(matches(p, real, 'identity'), p).toBe(false);
      expect(matches(writeFix(w!)!, real, 'identity'), p).toBe(true);
    }
    // A self-managed GitLab is known by its default config file's name.
    const [w] = lintPattern('https://git.example.com/acme/app/.gitlab-ci.yml@refs/heads/main', 'identity');
    expect(writeFix(w!)).toBe('https://git.example.com/acme/app//.gitlab-ci.yml@refs/heads/main');
  });
  it('say nothing about globs that can match', () => {
    for (const p of [
      real,
      'https://gitlab.com/facutuesca/**',
      'https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@**',
      'gitlab.com/facutuesca/*//*.yml@refs/heads/*',
      'https://gitlab.com/acme/**/build.yml@refs/heads/main',
      'https://git.example.com/acme/app/ci/build.yml@refs/heads/main',
    ]) {
      expect(lintPattern(p, 'identity'), p).toEqual([]);
    }
    expect(lintPattern('https://gitlab.com/acme/*', 'url', 'repository')).toEqual([]);
  });
  it('property: a flagged one-slash glob matches no GitLab identity at the root config, and its suggestion matches', () => {
    const seg = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/);
    const ref = fc.constantFrom('refs/heads/main', 'refs/tags/v1.2.0', 'refs/heads/release/v2');
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 3 }), seg, ref, fc.boolean(), (groups, project, r, scheme) => {
        const san = `https://gitlab.com/${groups.join('/')}/${project}//.gitlab-ci.yml@${r}`;
        const p = `${scheme ? 'https://' : ''}gitlab.com/${groups.join('/')}/${project}/.gitlab-ci.yml@${r}`;
        const [w] = lintPattern(p, 'identity');
        expect(w).toBeDefined();
        expect(matches(p, san, 'identity')).toBe(false);
        expect(matches(writeFix(w!)!, san, 'identity')).toBe(true);
      }),
    );
  });
});
