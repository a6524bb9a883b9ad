/**
 * rekor-monitor identity configs as rule files: the same matches rekor-monitor would report
 * (reference/rekor.md §4.3–§4.4; rekor-monitor pkg/identity CertMatchesPolicy, OIDMatchesPolicy).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluate } from '../../../src/monitor/eval/evaluate.ts';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { EMAIL_GITHUB, EMAIL_GOOGLE, GH_ATTESTATION, realEntry, ruleSet, SIGSTORE_JS_V2 } from './helpers.ts';

const SIGSTORE_JS = realEntry(SIGSTORE_JS_V2);
const GH = realEntry(GH_ATTESTATION);
const GOOGLE = realEntry(EMAIL_GOOGLE);
const GITHUB_EMAIL = realEntry(EMAIL_GITHUB);
const matched = (yaml: string, e: Entry) => evaluate(ruleSet(yaml, 'rm.yaml'), e, 0).map((f) => f.expectation);

describe('certIdentities', () => {
  it('certSubject is an unanchored regex; issuers (unanchored) must match the issuer', () => {
    const cfg = `
monitoredValues:
  certIdentities:
    - certSubject: sigstore-js/\\.github/workflows/release\\.yml
      issuers: [token\\.actions\\.githubusercontent]
    - certSubject: appu@google\\.com
      issuers: [https://github\\.com/login]
`;
    expect(matched(cfg, SIGSTORE_JS)).toEqual(['monitoredValues.certIdentities[0]']);
    expect(matched(cfg, GOOGLE)).toEqual([]); // issuer is accounts.google.com
  });
  it('without issuers the subject alone decides, but a certificate without an issuer never matches', () => {
    const cfg = 'monitoredValues:\n  certIdentities:\n    - certSubject: google\\.com\n';
    expect(matched(cfg, GOOGLE)).toEqual(['monitoredValues.certIdentities[0]']);
    const noIssuer: Entry = { ...GOOGLE, signer: { ...GOOGLE.signer!, fulcio: {} } };
    delete noIssuer.signer!.issuer;
    expect(matched(cfg, noIssuer)).toEqual([]);
  });
  it('every match is reported, with the matched value and the rule severity (default medium)', () => {
    const [f] = evaluate(ruleSet('monitoredValues:\n  certIdentities:\n    - certSubject: dehamer\n', 'team/rekor-monitor.yaml'), GITHUB_EMAIL, 0);
    expect(f).toMatchObject({ ruleId: 'rekor-monitor', kind: 'violation', severity: 'medium', expectation: 'monitoredValues.certIdentities[0]', details: { watchedBy: { pattern: 'dehamer', value: 'brian@dehamer.com' } } });
    expect(f!.message).toBe('matched monitoredValues.certIdentities[0] dehamer: brian@dehamer.com');
  });
});

describe('subjects, fingerprints, oidMatchers', () => {
  it('subjects are unanchored regexes over identities', () => {
    expect(matched('monitoredValues:\n  subjects: [brian@]\n', GITHUB_EMAIL)).toEqual(['monitoredValues.subjects[0]']);
  });
  it('fingerprints compare exactly with the lower-case hex, as rekor-monitor does (and upper case is flagged)', () => {
    const fp = GOOGLE.signer!.fingerprint.slice(7);
    expect(matched(`monitoredValues:\n  fingerprints: ['${fp}']\n`, GOOGLE)).toEqual(['monitoredValues.fingerprints[0]']);
    const upper = checkRules([{ name: 'rm.yaml', text: `monitoredValues:\n  fingerprints: ['${fp.toUpperCase()}']\n` }]);
    expect(upper.ok && upper.warnings[0]).toMatchObject({ line: 2, path: 'monitoredValues.fingerprints[0]', message: expect.stringMatching(/lower-case hex/) });
    expect(matched(`monitoredValues:\n  fingerprints: ['${fp.toUpperCase()}']\n`, GOOGLE)).toEqual([]);
  });
  it('a matcher on a claim that names no one (runner environment, trigger, issuer, visibility) is flagged: alone, it reports the whole log', () => {
    const r = checkRules([{ name: 'rm.yaml', text: "monitoredValues:\n  oidMatchers:\n    fulcioExtensions:\n      runner-environment: [self-hosted]\n      source-repository-uri: ['https://github.com/globex/api']\n      issuer: ['https://token.actions.githubusercontent.com']\n" }]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings.map((w) => w.path)).toEqual(['monitoredValues.oidMatchers.fulcioExtensions.runner-environment', 'monitoredValues.oidMatchers.fulcioExtensions.issuer']);
  });
  it('fulcioExtensions by rekor-monitor name; `issuer` covers both .1 and .8', () => {
    expect(matched('monitoredValues:\n  oidMatchers:\n    fulcioExtensions:\n      source-repository-uri: [https://github.com/malancas/attest-demo]\n', GH)).toEqual(['monitoredValues.oidMatchers.fulcioExtensions.source-repository-uri']);
    const v1only: Entry = { ...GOOGLE, signer: { ...GOOGLE.signer!, fulcio: { issuerV1: 'https://accounts.google.com' } } };
    expect(matched('monitoredValues:\n  oidMatchers:\n    fulcioExtensions:\n      issuer: [https://accounts.google.com]\n', v1only)).toEqual(['monitoredValues.oidMatchers.fulcioExtensions.issuer']);
  });
  it('oidExtensions (int arrays) and customExtensions (dotted), exact values only', () => {
    const cfg = `
monitoredValues:
  oidMatchers:
    oidExtensions:
      - objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 11]
        extensionValues: [github-hosted]
    customExtensions:
      - objectIdentifier: 1.3.6.1.4.1.57264.1.20
        extensionValues: [workflow_dispatch]
`;
    expect(matched(cfg, GH)).toEqual(['monitoredValues.oidMatchers.oidExtensions[0]', 'monitoredValues.oidMatchers.customExtensions[0]']);
    expect(matched(cfg.replace('github-hosted', 'github'), SIGSTORE_JS)).toEqual([]);
  });
  it('the same OID in several sources: the later replaces the earlier (oidExtensions < fulcioExtensions < customExtensions)', () => {
    const cfg = `
monitoredValues:
  oidMatchers:
    oidExtensions:
      - { objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 11], extensionValues: [github-hosted] }
    fulcioExtensions:
      runner-environment: [self-hosted]
`;
    expect(matched(cfg, GH)).toEqual([]);
  });
  it('an OID tlogwatch does not record is an error, not a silent never-match', () => {
    const r = checkRules([{ name: 'rm.yaml', text: 'monitoredValues:\n  oidMatchers:\n    customExtensions:\n      - objectIdentifier: 1.2.3.4\n        extensionValues: [x]\n' }]);
    expect(r.ok ? [] : r.errors).toMatchObject([{ line: 4, path: 'monitoredValues.oidMatchers.customExtensions[0]', message: expect.stringMatching(/OID 1\.2\.3\.4 is not a Fulcio extension/) }]);
  });
});

describe('rekor-monitor config files', () => {
  it("rekor-monitor's README example is accepted as is (its other keys are ignored)", () => {
    const readme = `startIndex: 1000
endIndex: 2000
monitoredValues:
  certIdentities:
    - certSubject: user@domain\\.com
    - certSubject: otheruser@domain\\.com
      issuers:
        - https://accounts\\.google\\.com
        - https://github\\.com/login
    - certSubject: https://github\\.com/actions/starter-workflows/blob/main/\\.github/workflows/lint\\.yaml@.*
      issuers:
        - https://token\\.actions\\.githubusercontent\\.com
  subjects:
    - subject@domain\\.com
  fingerprints:
    - A0B1C2D3E4F5
  oidMatchers:
    fulcioExtensions:
      build-config-uri:
        - https://example.com/owner/repository/build-config.yml
    oidExtensions:
      - objectIdentifier: [1, 3, 6, 1, 4, 1, 57264, 1, 1]
        extensionValues:
          - https://github.com/login/oauth
    customExtensions:
      - objectIdentifier: 1.3.6.1.4.1.57264.1.9
        extensionValues:
          - https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@v1.4.0
outputIdentities: identities.txt
outputIdentitiesFormat: text
logInfoFile: logInfo.txt
identityMetadataFile: metadata.json
`;
    const r = checkRules([{ name: 'rekor-monitor-readme.yaml', text: readme }]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Its .1 matcher (https://github.com/login/oauth) names no one: every GitHub-account signature in the log has it.
    expect(r.warnings.map((w) => w.path)).toEqual(['monitoredValues.fingerprints[0]', 'monitoredValues.oidMatchers.oidExtensions[0]']);
    expect(r.warnings[1]!.message).toMatch(/^monitoredValues\.oidMatchers\.oidExtensions\[0\] \(issuerV1: https:\/\/github\.com\/login\/oauth\) names no one: .* reports every entry in the log with that value/);
    // .1 = https://github.com/login/oauth: the real GitHub-account signature matches the oidExtensions entry.
    expect(evaluate(r.ruleSet, GITHUB_EMAIL, 0).map((f) => f.expectation)).toEqual(['monitoredValues.oidMatchers.oidExtensions[0]']);
  });
  it('the example in monitor-rules/examples is valid, named by its tlogwatch key', () => {
    const r = checkRules([{ name: 'monitor-rules/examples/rekor-monitor.yaml', text: readFileSync('monitor-rules/examples/rekor-monitor.yaml', 'utf8') }]);
    expect(r.ok && r.ruleSet.rules[0]!.id).toBe('globex-rekor-monitor');
  });
  it('errors in RE2 patterns point at the pattern; rules and monitoredValues do not mix', () => {
    const r = checkRules([
      { name: 'a.yaml', text: 'monitoredValues:\n  certIdentities:\n    - certSubject: (a)\\1\n' },
      { name: 'b.yaml', text: 'monitoredValues:\n  subjects: [x]\nrules: []\n' },
      { name: 'c.yaml', text: 'monitoredValues: {}\n' },
    ]);
    expect(r.ok ? [] : r.errors.map((e) => [e.file, e.line, e.path, e.message.slice(0, 30)])).toEqual([
      ['a.yaml', 3, 'monitoredValues.certIdentities[0].certSubject', 'not a valid RE2 regular expres'],
      ['b.yaml', 1, 'monitoredValues', 'a file is either tlogwatch rul'],
      ['c.yaml', 1, 'monitoredValues', 'no identities provided to moni'],
    ]);
  });
});
