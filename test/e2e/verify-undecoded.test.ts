/**
 * `tlogwatch verify --rules` judges an entry the decoder cannot fully read as the daemon does: the built-in
 * `undecoded-entry` reads the raw body for a value the rules watch. A real Rekor v1 bundle whose logged
 * body is replaced by one Rekor would accept (any bytes for a public key) naming a watched identity: no
 * signer is read, so no rule can match it, and only the body scan sees whom it names.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { REALDATA } from '../helpers/realdata.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-verify-undecoded-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROD = `${REALDATA}/trust/prod/trusted_root.json`;
const KEY_V1 = `${REALDATA}/bundles/prod-rekor-v1/771488337_hashedrekord-0.0.1_v0.3_managed-key.sigstore.json`;
const VICTIM = 'victim@corp.example';

function bundleWithBody(body: object): string {
  const b = JSON.parse(readFileSync(KEY_V1, 'utf8')) as { verificationMaterial: { tlogEntries: Array<Record<string, unknown>> } };
  b.verificationMaterial.tlogEntries[0]!['canonicalizedBody'] = Buffer.from(JSON.stringify(body)).toString('base64');
  const out = join(tmp, 'bundle.json');
  writeFileSync(out, JSON.stringify(b));
  return out;
}

function rules(text: string): string {
  const dir = join(tmp, `rules-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'corp.yaml'), text);
  return dir;
}

const RULES = `rules:\n  - id: corp-signers\n    severity: critical\n    watch: { identities: ['${VICTIM}'] }\n    expect: { issuers: ['https://accounts.corp.example'] }\n`;

describe('tlogwatch verify --rules, an entry the decoder cannot read', () => {
  const body = (key: string) => ({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: { data: { hash: { algorithm: 'sha256', value: 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf' } }, signature: { content: 'MEUCIQ==', publicKey: { content: key } } },
  });

  it('raises undecoded-entry at the watch severity when the body names a watched identity', async () => {
    const file = bundleWithBody(body(`not a key, but it says ${VICTIM}`));
    const r = await cli(['verify', '--json', '--trusted-root', PROD, '--rules', rules(RULES), file]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ ok: false, checks: { body: 'fail' } });
    const findings = lines.slice(1).map((l) => l['finding'] as { rule: string; severity: string; message: string; status: string });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'undecoded-entry', severity: 'critical', status: 'open' });
    expect(findings[0]!.message).toMatch(/publicKey\.content is missing or not base64.*its body names a watched value: victim@corp\.example \(rule corp-signers\)/);
    expect(r.code).toBe(1);
  });

  it('raises nothing for one that names no watched value (watchedOnly, the default)', async () => {
    const file = bundleWithBody(body('not a key, and it names nobody'));
    const r = await cli(['verify', '--json', '--trusted-root', PROD, '--rules', rules(RULES), file]);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('tlogwatch verify --rules DIR with no rule file in it', () => {
  it('warns that nothing is checked, rather than passing every bundle in silence', async () => {
    const dir = join(tmp, 'no-rule-files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'policy.json'), RULES);
    const r = await cli(['verify', '--trusted-root', PROD, '--rules', dir, KEY_V1]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: no rule files in ${dir} (*.yaml or *.yml, read recursively; dot-files skipped): no entry is watched\n`);
  });
});
