/**
 * `tlogwatch rules check`: valid, valid with warnings (shown with file:line:column), invalid. `rules test`:
 * a mirror's entries replayed through rules, with and without the trusted root's CAs.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { cli, cliClosedStdout } from '../helpers/cli.ts';
import { harness, roundsUntil, type Harness } from '../helpers/mirror.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-rules-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rulesDir(name: string, text: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'rules.yaml'), text);
  return dir;
}

describe('tlogwatch rules check', () => {
  it('says how many rules are valid', async () => {
    const dir = rulesDir('ok', "rules:\n  - id: tags-only\n    watch: { repositories: ['github.com/acme/*'] }\n    expect: { sourceRefs: ['refs/tags/*'] }\n");
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`1 rule(s) valid in ${dir}\n`);
    expect(r.stderr).toBe('');
  });

  it('warns that a directory with no rule file in it watches nothing (rules saved as .json, a path one level off)', async () => {
    const dir = join(tmp, 'no-rule-files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'rules.json'), '{"rules": []}');
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: no rule files in ${dir} (*.yaml or *.yml, read recursively; dot-files skipped): no entry is watched\n`);
  });

  it('prints warnings where they are, and still passes', async () => {
    // A rule with no expectations never fires: valid, but not what its author meant.
    const dir = rulesDir('warn', "rules:\n  - id: silent\n    watch: { repositories: ['github.com/acme/*'] }\n");
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 rule\(s\) valid in .*, 1 warning\(s\)/);
    expect(r.stderr).toMatch(/rules\.yaml:2:\d+: warning: .*never fires/);
  });

  it('warns about patterns that can never match: a repository without a host, upper case in a regex host', async () => {
    const dir = rulesDir('never', "rules:\n  - id: never\n    watch: { repositories: ['acme/*'], identities: [{ regex: 'https://GitHub\\.com/acme/.*' }] }\n    expect: { owners: [acme] }\n");
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 rule\(s\) valid in .*, 3 warning\(s\)/);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/rules\.yaml:3:\d+: warning: rules\[0\]\.watch\.identities\[0\]\.regex: .*; write \{regex: https:\/\/github\\\.com\/acme\/\.\*\}$/);
    expect(lines[1]).toMatch(/rules\.yaml:3:\d+: warning: rules\[0\]\.watch\.repositories\[0\]: acme\/\* can never match a repository URI .*; did you mean github\.com\/acme\/\*\?$/);
    expect(lines[2]).toMatch(/rules\.yaml:4:\d+: warning: rules\[0\]\.expect\.owners\[0\]: acme can never match an owner URI .*; did you mean github\.com\/acme\?$/);
  });

  it('fails on an invalid rule with its position', async () => {
    const dir = rulesDir('bad', 'rules:\n  - id: broken\n    watch: { repositories: 42 }\n');
    const r = await cli(['rules', 'check', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rules\.yaml:3:\d+: /);
  });
});

describe('tlogwatch rules test', () => {
  const repo = (r: string) => `https://github.com/acme/${r}`;
  const gha = (wf: string) => ({
    // A repository of its own: the simulator's traffic has acme/api identities too.
    san: `${repo('replay-test')}/.github/workflows/${wf}@refs/heads/main`,
    issuer: 'https://token.actions.githubusercontent.com',
    extensions: { buildSignerURI: `${repo('replay-test')}/.github/workflows/${wf}@refs/heads/main`, sourceRepositoryURI: repo('replay-test'), sourceRepositoryOwnerURI: 'https://github.com/acme' },
  });
  /** A workflow name with an OSC 8 terminal hyperlink in it: IA5String SANs allow ESC, and anyone can log one. */
  const OSC8 = 'x\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007.yml';
  let h: Harness;
  let dir: string;
  const replay = (...extra: string[]) => cli(['rules', 'test', dir, '--data-dir', h.dataDir, '--json', ...extra]);
  const fired = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule: string; index: number; message: string; evidence: Record<string, unknown> });
  beforeAll(async () => {
    // 280: the release workflow, but its certificate carries 300 KiB nobody reads, past the decoder's bound
    // on key material: no signer is read, so only `undecoded-entry` can see the watched repository in it.
    const huge = { ...gha('release.yml'), rawExtensions: { '1.3.6.1.4.1.99999.1': '00'.repeat(300 * 1024) } };
    h = await harness({ api: 'v1', entries: 300, seed: 'rules-test', inject: [{ at: 100, cert: gha('evil.yml') }, { at: 200, cert: { ...gha('evil.yml'), untrustedCA: true } }, { at: 250, cert: gha(OSC8) }, { at: 280, cert: huge }] }, {}, undefined, { cliLayout: true });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 300n);
    await h.store.close(); // the CLI opens the store itself
    dir = rulesDir('replay', "rules:\n  - id: release-only\n    watch: { repositories: ['github.com/acme/replay-test'] }\n    expect: { buildSigners: ['https://github.com/acme/replay-test/.github/workflows/release.yml@refs/tags/*'] }\n");
  }, 60_000);
  afterAll(() => h?.cleanup());

  it('replays the mirror through the rules: what would have fired, and how much was replayed', async () => {
    const r = await replay();
    expect(r.code).toBe(0);
    expect(fired(r.stdout).map((f) => `${f.rule}@${f.index}`)).toEqual(['release-only@100', 'release-only@200', 'release-only@250', 'undecoded-entry@280']);
    expect(r.stderr).toBe('300 entries replayed, 4 finding(s) would have fired\n');
    expect(fired(r.stdout)[0]!.evidence).not.toHaveProperty('certificateIssuers');
  });

  it('with --trusted-root, says which CA issued each certificate, as the daemon does', async () => {
    const r = await replay('--trusted-root', h.sim.trustedRootPath);
    const [trusted, spoofed] = fired(r.stdout);
    expect(fired(r.stdout)).toHaveLength(4);
    expect(trusted!.evidence['certificateIssuers']).toEqual(['sigstore-intermediate']);
    expect(spoofed!.evidence['certificateIssuers']).toEqual([null]);
    expect(spoofed!.message).toMatch(/Sigstore clients reject this signature\)$/);
  });

  it('raises undecoded-entry, as the daemon does, for an entry whose body names a watched value no rule could match', async () => {
    const [f] = fired((await replay('--from', '280', '--to', '280')).stdout);
    expect(f).toMatchObject({ rule: 'undecoded-entry', index: 280 });
    expect(f!.message).toMatch(/^undecoded entry: a hashedrekord 0\.0\.1 entry that tlogwatch did not fully decode .*its body names .*github\.com\/acme\/replay-test.* \(rule release-only\)/);
  });

  it('prints what a certificate says without its control characters (no terminal escape reaches the screen)', async () => {
    const r = await cli(['rules', 'test', dir, '--data-dir', h.dataDir, '--from', '250', '--to', '250']);
    // eslint-disable-next-line no-control-regex -- looking for control characters
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(r.stdout).toContain('x\\u{1b}]8;;https://evil.example\\u{7}click\\u{1b}]8;;\\u{7}.yml');
    expect(r.stdout.split('\n')[0]!.split('\t')).toHaveLength(5); // the columns' tabs stay tabs
  });

  it('refuses, exit 2, a store or log that is not there (never creating a store), a bad index, a store in use', async () => {
    const missing = join(tmp, 'no-such-data-dir');
    expect(await cli(['rules', 'test', dir, '--data-dir', missing])).toMatchObject({ code: 2, stdout: '', stderr: `tlogwatch rules test: no store at ${join(missing, 'store')}: nothing has been mirrored there\n` });
    expect(existsSync(missing)).toBe(false);
    expect(await replay('--log', 'nope')).toMatchObject({ code: 2, stdout: '', stderr: 'tlogwatch rules test: no log named nope in the store (it holds sim)\n' });
    expect(await replay('--from', 'ten')).toMatchObject({ code: 2, stderr: 'tlogwatch rules test: --from must be a log index (0, 1, 2, …), got "ten"\n' });
    const held = await Store.open(join(h.dataDir, 'store'));
    try {
      expect(await replay()).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tlogwatch rules test: the store at .* is in use by another process .*: stop tlogwatch serve first/) });
    } finally {
      await held.close();
    }
  });

  it('ends quietly when its reader has gone (| head): status 141, no stack trace', async () => {
    expect(await cliClosedStdout(['rules', 'test', dir, '--data-dir', h.dataDir])).toEqual({ code: 141, signal: null, stderr: '' });
    expect(await cliClosedStdout(['rules', 'check', dir])).toEqual({ code: 141, signal: null, stderr: '' });
  });

  it('--from, --to and --log narrow the replay; a bad trusted root is a usage error', async () => {
    const r = await replay('--from', '150', '--to', '240');
    expect(fired(r.stdout).map((f) => f.index)).toEqual([200]);
    expect(r.stderr).toBe('91 entries replayed, 1 finding(s) would have fired\n');
    const sim = await replay('--log', 'sim', '--from', '150', '--to', '240');
    expect(fired(sim.stdout).map((f) => f.index)).toEqual([200]);
    expect(sim.stderr).toBe('91 entries replayed, 1 finding(s) would have fired\n');
    const bad = await replay('--trusted-root', join(tmp, 'missing.json'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot read trusted root .*missing\.json/);
  });
});
