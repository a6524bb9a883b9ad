import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluateEntry } from '../../../src/monitor/evaluate.ts';
import { rulesJsonSchema } from '../../../src/monitor/json-schema.ts';
import { checkRules, readRuleFiles } from '../../../src/monitor/load.ts';
import { compilePattern, compileSet } from '../../../src/monitor/match.ts';
import { outsideWindow } from '../../../src/monitor/timewindow.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const rules = (yaml: string) => {
  const r = checkRules([{ name: 'r.yaml', text: yaml }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ruleSet;
};
const realEntry = (file: string): Entry => {
  const [t] = parseTlogEntries(readJson(`${REALDATA}/${file}`));
  return decodeAnyBody(t!.body, { log: 'rekor', index: Number(t!.logIndex), ...(t!.integratedTime !== undefined ? { integratedTime: Number(t!.integratedTime) } : {}) }, t!.kind, t!.version);
};
const SIGSTORE_JS = realEntry('bundles/prod-rekor-v1/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json');
const GH_ATTEST = realEntry('bundles/prod-rekor-v1/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json');
const EMAIL = realEntry('bundles/prod-rekor-v1/41958702_hashedrekord-0.0.1_v0.1_sigstore-java.sigstore');

describe('patterns', () => {
  it('are anchored, and * does not cross /', () => {
    const p = compilePattern('https://github.com/acme/*/.github/workflows/*@refs/tags/*');
    expect(p.test('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1.2.3')).toBe(true);
    expect(p.test('https://github.com/acme/a/b/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(p.test('https://github.com/acme-evil/api/.github/workflows/release.yml@refs/tags/v1')).toBe(false);
    expect(p.test('https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1/evil')).toBe(false);
    expect(compilePattern('https://github.com/acme/**').test('https://github.com/acme/a/b/c')).toBe(true);
    expect(compilePattern({ regex: 'acme' }).test('https://github.com/acme')).toBe(false);
    expect(compilePattern({ regex: 'acme', anchored: false }).test('https://github.com/acme')).toBe(true);
  });
  it('follow the field\'s case rules and accept scheme-less repositories', () => {
    expect(compilePattern('https://GitHub.com/acme/*').test('https://github.com/acme/api')).toBe(true);
    expect(compilePattern('https://github.com/ACME/*').test('https://github.com/acme/api')).toBe(false);
    expect(compilePattern('*@acme.com').test('Alice@ACME.com')).toBe(true);
    expect(compilePattern('*@acme.com').test('alice@acme.com.evil.net')).toBe(false);
    expect(compilePattern('github.com/acme/*').test('https://github.com/acme/api')).toBe(true);
    expect(compilePattern('github.com/acme/*').test('https://evil.com/github.com/acme/api')).toBe(false);
  });
  it('property: an exact pattern matches exactly its value; a glob without wildcards is equality', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.webUrl(), (a, b) => {
        const set = compileSet([a])!;
        expect(set.matches(a)).toBeDefined();
        if (a.toLowerCase() !== b.toLowerCase()) expect(set.matches(b) !== undefined).toBe(compilePattern(a).test(b));
      }),
    );
  });
});

describe('time windows', () => {
  const w = { timezone: 'Europe/Berlin', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '08:00-20:00', holidays: ['2026-12-25'] };
  const t = (iso: string) => Date.parse(iso) / 1000;
  it('use local time, weekdays and holidays, across DST', () => {
    expect(outsideWindow(t('2026-11-25T10:00:00Z'), w)).toBeUndefined(); // Wed 11:00 CET
    expect(outsideWindow(t('2026-11-29T02:00:00Z'), w)).toMatch(/sun/); // Sunday 03:00 CET
    expect(outsideWindow(t('2026-11-25T19:30:00Z'), w)).toMatch(/20:30/); // 20:30 CET
    expect(outsideWindow(t('2026-12-25T10:00:00Z'), w)).toMatch(/holiday/);
    expect(outsideWindow(t('2026-07-01T06:30:00Z'), w)).toBeUndefined(); // 08:30 CEST (UTC+2)
    expect(outsideWindow(t('2026-01-07T06:30:00Z'), w)).toMatch(/07:30/); // 07:30 CET (UTC+1)
    expect(outsideWindow(t('2026-11-25T23:30:00Z'), { timezone: 'UTC', hours: '22:00-06:00' })).toBeUndefined(); // wraps midnight
  });
});

describe('evaluation on real Sigstore entries', () => {
  it('a release policy passes sigstore-js\'s real release and flags what breaks it', () => {
    const rs = rules(`
rules:
  - id: sigstore-release
    severity: critical
    watch: { repositories: ['github.com/sigstore/*'] }
    expect:
      issuers: ['https://token.actions.githubusercontent.com']
      buildSigners: ['https://github.com/sigstore/*/.github/workflows/release.yml@refs/heads/main']
      runnerEnvironment: [github-hosted]
      triggers: [push]
`);
    expect(SIGSTORE_JS.signer?.fulcio?.sourceRepositoryURI).toBe('https://github.com/sigstore/sigstore-js');
    expect(evaluateEntry(rs, SIGSTORE_JS, 1_800_000_000)).toEqual([]);
    const selfHosted = { ...SIGSTORE_JS, signer: { ...SIGSTORE_JS.signer!, fulcio: { ...SIGSTORE_JS.signer!.fulcio, runnerEnvironment: 'self-hosted', buildSignerURI: 'https://github.com/sigstore/sigstore-js/.github/workflows/evil.yml@refs/heads/x' } } };
    const [f] = evaluateEntry(rs, selfHosted, 1_800_000_000);
    expect(f).toMatchObject({ rule: 'sigstore-release', kind: 'violation', severity: 'critical', expectation: 'expect.buildSigners', status: 'open', index: SIGSTORE_JS.index });
    expect((f!.evidence!['violations'] as Array<{ expectation: string }>).map((v) => v.expectation)).toEqual(['expect.buildSigners', 'expect.runnerEnvironment']);
    // One finding per entry per rule: the id is stable.
    expect(evaluateEntry(rs, selfHosted, 1_900_000_000)[0]!.id).toBe(f!.id);
  });
  it('a missing claim breaks the expectation that needs it', () => {
    const rs = rules(`
rules:
  - id: people
    watch: { identities: ['appu@google.com'] }
    expect: { runnerEnvironment: [github-hosted] }
`);
    const [f] = evaluateEntry(rs, EMAIL, 1);
    expect(f?.message).toMatch(/runner environment is missing/);
  });
  it('notify: all records watched entries; suppressions are kept with their reason', () => {
    const rs = rules(`
rules:
  - id: watch-all
    notify: all
    severity: low
    watch: { owners: ['github.com/bdehamer'], identities: ['https://github.com/bdehamer/workflows/**'] }
    suppress:
      - identity: 'https://github.com/bdehamer/**'
        until: '2030-01-01'
        reason: demo workflow
`);
    const [f] = evaluateEntry(rs, GH_ATTEST, Date.parse('2029-06-01') / 1000);
    expect(f).toMatchObject({ kind: 'info', severity: 'info', status: 'suppressed', statusReason: 'demo workflow' });
    expect(evaluateEntry(rs, GH_ATTEST, Date.parse('2030-06-01') / 1000)[0]!.status).toBe('open');
  });
  it('a rekor-monitor config means what it means there', () => {
    const rs = rules(`
monitoredValues:
  certIdentities:
    - certSubject: sigstore-js/\\.github/workflows/release\\.yml
      issuers: [https://token\\.actions\\.githubusercontent\\.com]
    - certSubject: appu@google\\.com
      issuers: [https://github\\.com/login]
  oidMatchers:
    fulcioExtensions:
      source-repository-uri: [https://github.com/malancas/attest-demo]
`);
    expect(evaluateEntry(rs, SIGSTORE_JS, 1)).toHaveLength(1); // unanchored subject regex, issuer matches
    expect(evaluateEntry(rs, EMAIL, 1)).toHaveLength(0); // issuer is accounts.google.com
    expect(evaluateEntry(rs, GH_ATTEST, 1)[0]?.evidence?.['watchedBy']).toMatch(/sourceRepositoryURI/);
  });
  it('never throws on arbitrary Entry-shaped input', () => {
    const rs = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!rs.ok) throw new Error('examples invalid');
    fc.assert(
      fc.property(fc.record({ index: fc.nat(), kind: fc.string(), san: fc.option(fc.string()), repo: fc.option(fc.string()), t: fc.option(fc.integer({ min: 0, max: 2 ** 33 })) }), (x) => {
        const e: Entry = { log: 'l', index: x.index, leafHash: '', uuid: '', kind: x.kind, apiVersion: '', digests: [], ...(x.t !== null ? { integratedTime: x.t } : {}), signer: { type: 'x509', fingerprint: 'sha256:00', ...(x.san !== null ? { san: x.san } : {}), fulcio: x.repo !== null ? { sourceRepositoryURI: x.repo } : {} } };
        evaluateEntry(rs.ruleSet, e, 1);
      }),
    );
  });
});

describe('rule files', () => {
  it('the examples are valid and schema.json is generated from the schema', () => {
    expect(checkRules(readRuleFiles('monitor-rules/examples')).ok).toBe(true);
    expect(JSON.parse(readFileSync('monitor-rules/schema.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(rulesJsonSchema())));
  });
  it('errors carry file, line, column and path', () => {
    const r = checkRules([
      { name: 'a.yaml', text: 'rules:\n  - id: x\n    watch: {}\n' },
      { name: 'b.yaml', text: 'rules:\n  - id: y\n    watch:\n      repositories: [a]\n    expect:\n      timeWindow: { timezone: Mars/Olympus }\n' },
      { name: 'c.yaml', text: 'rules:\n  - id: z\n    watch: { identities: [{ regex: "(" }] }\n    colour: red\n' },
      { name: 'd.yaml', text: 'rules: [\n' },
    ]);
    expect(r.ok).toBe(false);
    const errs = (r as { errors: Array<{ file: string; line: number; column: number; path: string; message: string }> }).errors;
    expect(errs.find((e) => e.file === 'a.yaml')).toMatchObject({ line: 3, path: 'rules.0.watch' });
    expect(errs.find((e) => e.file === 'b.yaml')).toMatchObject({ line: 6, path: 'rules.0.expect.timeWindow.timezone' });
    expect(errs.filter((e) => e.file === 'c.yaml').map((e) => e.message).join(' ')).toMatch(/regular expression.*colour|colour.*regular expression/s);
    expect(errs.find((e) => e.file === 'd.yaml')).toBeDefined();
    const dup = checkRules([{ name: 'a.yaml', text: 'rules:\n  - { id: x, watch: { digests: ["sha256:ab"] } }\n' }, { name: 'b.yaml', text: 'rules:\n  - { id: x, watch: { digests: ["sha256:ab"] } }\n' }]);
    expect(dup.ok ? '' : dup.errors[0]!.message).toMatch(/duplicate rule id x/);
  });
});
