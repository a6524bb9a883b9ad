/** Provenance from the real npm and GitHub attestation bundles, and expect.provenance against it. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { withStatement } from '../../../src/mirror/ingest.ts';
import { evaluateEntry } from '../../../src/monitor/evaluate.ts';
import { checkRules } from '../../../src/monitor/load.ts';
import { decodeStatement } from '../../../src/monitor/provenance.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-prov-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const envelopeOf = (file: string) => parseTlogEntries(readJson(`${REALDATA}/${file}`))[0]!.bundleContent!.dsseEnvelope!;

describe('provenance statements', () => {
  it('decodes SLSA v1 (sigstore-js 2.0.0 release, GitHub attestation) and v0.2 (npm)', () => {
    const v1 = decodeStatement(envelopeOf('bundles/prod-rekor-v1/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json').payload, 'bundle')!;
    expect(v1.provenance).toMatchObject({ predicateType: 'https://slsa.dev/provenance/v1', sourceRepository: 'https://github.com/sigstore/sigstore-js', buildType: expect.stringContaining('github') });
    expect(v1.provenance.builderId).toMatch(/^https:\/\/github\.com\/actions\/runner/);
    expect(v1.subjects.length).toBeGreaterThan(0);
    const gh = decodeStatement(envelopeOf('bundles/prod-rekor-v1/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json').payload, 'bundle')!;
    expect(gh.provenance.sourceRepository).toBe('https://github.com/malancas/attest-demo');
    const npm = readJson(`${REALDATA}/npm-attestations/sigstore-npm-attestations_12988397_12988399.json`) as any;
    const payload = Buffer.from(npm.attestations[0].bundle.dsseEnvelope.payload, 'base64');
    const v02 = decodeStatement(payload, 'bundle')!;
    expect(v02.provenance).toMatchObject({ predicateType: 'https://slsa.dev/provenance/v0.2', builderId: 'https://github.com/npm/cli@9.4.2', sourceRepository: 'https://github.com/sigstore/sigstore-js', sourceRef: 'refs/tags/v1.0.0' });
    expect(v02.subjects[0]).toMatch(/^sha512:/);
  });

  it('indexes subject digests with the entry and checks expect.provenance', () => {
    const file = 'bundles/prod-rekor-v1/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json';
    const [t] = parseTlogEntries(readJson(`${REALDATA}/${file}`));
    const entry = decodeAnyBody(t!.body, { log: 'rekor', index: 1 }, t!.kind, t!.version);
    withStatement(entry, t!.bundleContent!.dsseEnvelope!.payload, 'bundle');
    expect(entry.digests.length).toBeGreaterThan(2);
    const rs = checkRules([
      {
        name: 'r.yaml',
        text: `rules:
  - id: sigstore-provenance
    watch: { repositories: ['github.com/sigstore/*'] }
    expect:
      provenance:
        required: true
        builders: ['https://github.com/actions/runner/**', 'https://github.com/actions/runner']
        sourceRepositories: ['github.com/sigstore/*']
  - id: strict-builder
    watch: { repositories: ['github.com/sigstore/*'] }
    expect: { provenance: { builders: ['https://slsa-framework.example/builder'] } }
`,
      },
    ]);
    if (!rs.ok) throw new Error(JSON.stringify(rs.errors));
    const found = evaluateEntry(rs.ruleSet, entry, 1);
    expect(found.map((f) => `${f.rule}:${f.expectation}`)).toEqual(['strict-builder:expect.provenance.builders']);
    const bare = decodeAnyBody(t!.body, { log: 'rekor', index: 1 }, t!.kind, t!.version);
    expect(evaluateEntry(rs.ruleSet, bare, 1).map((f) => f.expectation)).toEqual(['expect.provenance']);
  });

  it('a DSSE signature logged as hashedrekord (sigstore-java, Rekor v2) lends its statement: the logged digest is the envelope\'s PAE', () => {
    const file = 'bundles/prod-rekor-v2/4855114_hashedrekord-0.0.2_v0.3_dsse_sigstore-java.sigstore';
    const [t] = parseTlogEntries(readJson(`${REALDATA}/${file}`));
    const env = t!.bundleContent!.dsseEnvelope!;
    const decode = () => decodeAnyBody(t!.body, { log: 'log2025-1', index: 4855114 }, t!.kind, t!.version);
    const entry = decode();
    expect(entry.kind).toBe('hashedrekord');
    const logged = [...entry.digests];
    expect(withStatement(entry, env.payload, 'bundle', env.payloadType)).toBe(true);
    expect(entry.provenance?.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(entry.digests.length).toBeGreaterThan(logged.length);
    expect(entry.digests).toEqual(expect.arrayContaining(logged));
    // Without the payload type (an attestation alone), or with another type or payload, nothing ties it to the entry.
    for (const [payload, type] of [[env.payload, undefined], [env.payload, 'application/json'], [Buffer.concat([env.payload, Buffer.from(' ')]), env.payloadType]] as const) {
      const other = decode();
      expect(withStatement(other, payload, 'bundle', type)).toBe(false);
      expect(other.provenance).toBeUndefined();
      expect(other.digests).toEqual(logged);
    }
  });

  it('tlogwatch verify --rules flags a bundle that breaks the policy', async () => {
    writeFileSync(join(tmp, 'policy.yaml'), "rules:\n  - id: only-main\n    watch: { repositories: ['github.com/sigstore/*'] }\n    expect: { sourceRefs: ['refs/tags/*'] }\n");
    const file = `${REALDATA}/bundles/prod-rekor-v1/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json`;
    const r = await promisify(execFile)(process.execPath, ['src/cli.ts', 'verify', '--json', '--trusted-root', `${REALDATA}/trust/prod/trusted_root.json`, '--rules', tmp, file]).catch((e: { code: number; stdout: string }) => e);
    expect((r as { code?: number }).code).toBe(1);
    const lines = (r as { stdout: string }).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].ok).toBe(true);
    expect(lines[1].finding).toMatchObject({ rule: 'only-main', expectation: 'expect.sourceRefs', evidence: { certificateIssuers: ['sigstore-intermediate'] } });
  });
});
