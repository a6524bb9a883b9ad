/**
 * `tlogwatch verify --rules` judges time rules, and the CA that issued a certificate, at a time something
 * the trusted root vouches for signed (a verified SET, else a verified RFC 3161 timestamp), never at one
 * the bundle merely states. Real bundles, edited the way someone moving their signature in time would.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REALDATA } from '../../helpers/realdata.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-rulestime-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROD = `${REALDATA}/trust/prod/trusted_root.json`;
const STAGING = `${REALDATA}/trust/staging/trusted_root.json`;
/** Key-signed, Rekor v1, SET and an RFC 3161 timestamp both at Thu 2025-12-18 17:04:39 UTC. */
const KEY_V1 = `${REALDATA}/bundles/prod-rekor-v1/771488337_hashedrekord-0.0.1_v0.3_managed-key.sigstore.json`;
const KEY_FP = 'sha256:4cb32c4837c6dda8cfb1681efb3fef5f94ffce5b979e6bdb9139302c857af139';
/** Fulcio-signed, Rekor v2: no integrated time; its timestamp says Thu 2025-06-12 12:02:20 UTC, its certificate's notBefore 12:02:16. */
const V2 = `${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json`;
const V2_NO_TSA = `${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_no-timestamp.sigstore.json`;
const V2_SAN = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
/** Friday 2025-12-19 11:00 UTC: inside office hours. */
const FORGED = '1766142000';

type Bundle = { verificationMaterial: { tlogEntries: Array<Record<string, unknown>>; timestampVerificationData?: unknown } };

let n = 0;
function edited(file: string, edit: (b: Bundle) => void): string {
  const b = JSON.parse(readFileSync(file, 'utf8')) as Bundle;
  edit(b);
  const out = join(tmp, `bundle-${n++}.json`);
  writeFileSync(out, JSON.stringify(b));
  return out;
}

function rulesDir(watch: string, hours: string): string {
  const dir = join(tmp, `rules-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'office.yaml'), `rules:\n  - id: office-hours\n    watch: ${watch}\n    expect:\n      timeWindow: { timezone: UTC, weekdays: [mon, tue, wed, thu, fri], hours: '${hours}' }\n`);
  return dir;
}

interface Run {
  code: number;
  verdict: { ok: boolean; checks: Record<string, string> };
  findings: Array<{ rule: string; expectation?: string; message: string; integratedTime?: number; evidence: { violations: Array<{ timeSource?: string; actual: string | null }>; certificateIssuers?: Array<string | null> } }>;
}

async function verifyRules(root: string, rules: string, file: string): Promise<Run> {
  const r = await promisify(execFile)(process.execPath, ['src/cli.ts', 'verify', '--json', '--trusted-root', root, '--rules', rules, file]).then(
    (x) => ({ code: 0, stdout: x.stdout }),
    (e: { code: number; stdout: string }) => e,
  );
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.code, verdict: lines[0] as unknown as Run['verdict'], findings: lines.slice(1).map((l) => l['finding']) as Run['findings'] };
}

const keyRules = () => rulesDir(`{ fingerprints: ['${KEY_FP}'] }`, '09:00-17:00');
const noSET = (b: Bundle) => {
  delete b.verificationMaterial.tlogEntries[0]!['inclusionPromise'];
  b.verificationMaterial.tlogEntries[0]!['integratedTime'] = FORGED;
};

describe('verify --rules: time rules at a signed time only', () => {
  it('judges a bundle at the time its SET signs', async () => {
    const r = await verifyRules(PROD, keyRules(), KEY_V1);
    expect(r.verdict.ok).toBe(true);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.evidence.violations[0]).toMatchObject({ timeSource: 'integratedTime (signed by the SET of rekor.sigstore.dev)', actual: '2025-12-18T17:04:39.000Z' });
    expect(r.code).toBe(1);
  });

  it('does not take an integrated time no SET signs: the verified RFC 3161 timestamp dates the entry', async () => {
    // Without its SET the entry still verifies (inclusion proof up to a signed checkpoint, and a key has no
    // certificate to judge), so the forged time was what the off-hours rule read, and it passed.
    const r = await verifyRules(PROD, keyRules(), edited(KEY_V1, noSET));
    expect(r.verdict).toMatchObject({ ok: true, checks: { set: 'absent', tsa: 'ok' } });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.expectation).toBe('expect.timeWindow');
    expect(r.findings[0]!.evidence.violations[0]).toMatchObject({ timeSource: 'RFC 3161 timestamp (https://timestamp.sigstore.dev/api/v1/timestamp)', actual: '2025-12-18T17:04:39.000Z' });
    expect(r.findings[0]!.integratedTime).toBeUndefined();
    expect(r.code).toBe(1);
  });

  it('with no signed time at all, a time window is broken ("no signed time"), never passed', async () => {
    const file = edited(KEY_V1, (b) => {
      noSET(b);
      delete b.verificationMaterial.timestampVerificationData;
    });
    const r = await verifyRules(PROD, keyRules(), file);
    expect(r.verdict).toMatchObject({ ok: true, checks: { set: 'absent', tsa: 'absent', certificate: 'absent' } });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.message).toMatch(/no signed time .* to check against mon,tue,wed,thu,fri 09:00-17:00 UTC/);
    expect(r.findings[0]!.evidence.violations[0]!.actual).toBeNull();
    expect(r.code).toBe(1);
  });

  it('judges a Rekor v2 bundle at its verified RFC 3161 timestamp, not at its certificate\'s notBefore', async () => {
    const r = await verifyRules(STAGING, rulesDir(`{ identities: ['${V2_SAN}'] }`, '00:00-12:00'), V2);
    expect(r.verdict.ok).toBe(true);
    expect(r.findings[0]!.evidence.violations[0]).toMatchObject({ timeSource: 'RFC 3161 timestamp (https://timestamp.sigstage.dev/api/v1/timestamp)', actual: '2025-06-12T12:02:20.000Z' });
  });

  it('a Rekor v2 bundle without a timestamp has no time for the rules (its certificate\'s notBefore is not a signed time)', async () => {
    const r = await verifyRules(STAGING, rulesDir(`{ identities: ['${V2_SAN}'] }`, '12:00-13:00'), V2_NO_TSA);
    expect(r.verdict).toMatchObject({ ok: false, checks: { certificate: 'fail' } });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.message).toMatch(/no signed time/);
    // Which CA issued the certificate cannot be told without a time either: no identity suppression holds for it.
    expect(r.findings[0]!.evidence.certificateIssuers).toEqual([null]);
    expect(r.findings[0]!.message).toMatch(/no signed time to tell which certificate authority/);
  });

  it('names the CA that issued a Rekor v2 bundle\'s certificate at the timestamp\'s time, not at the time verify runs', async () => {
    // The staging root with its CA retired at the end of 2025: valid when the bundle was timestamped, not now.
    const root = JSON.parse(readFileSync(STAGING, 'utf8')) as { certificateAuthorities: Array<{ validFor: { start: string; end?: string } }> };
    for (const ca of root.certificateAuthorities) if (ca.validFor.start < '2025') ca.validFor.end = '2025-12-31T23:59:59Z';
    const retired = join(tmp, 'staging-retired-ca.json');
    writeFileSync(retired, JSON.stringify(root));
    const r = await verifyRules(retired, rulesDir(`{ identities: ['${V2_SAN}'] }`, '00:00-12:00'), V2);
    expect(r.verdict.ok).toBe(true);
    expect(r.findings[0]!.evidence.certificateIssuers).toEqual([expect.any(String)]);
    expect(r.findings[0]!.message).not.toMatch(/not issued by a certificate authority/);
  });
});
