/**
 * in-toto statements and SLSA provenance from real Sigstore bundles (DSSE payloads read straight from
 * the bundle JSON), and expect.provenance against them.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluate } from '../../../src/monitor/eval/evaluate.ts';
import { parseDsseEnvelope } from '../../../src/monitor/provenance/envelope.ts';
import { provenanceFacts, splitSourceUri, type ProvenanceFacts } from '../../../src/monitor/provenance/slsa.ts';
import { decodeEnvelopeStatement, decodeStatement, isStatementProblem, type Statement } from '../../../src/monitor/provenance/statement.ts';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { REALDATA } from '../../helpers/realdata.ts';
import { bundlePayload, GH_ATTESTATION, ghaEntry, NPM_ATTESTATIONS, NPM_PROVENANCE, NPM_PUBLISH, realEntry, ruleSet, SIGSTORE_JS_V2 } from './helpers.ts';

const statement = (payload: Uint8Array): Statement => {
  const s = decodeStatement(payload);
  if (isStatementProblem(s)) throw new Error(s.problem.message);
  return s;
};
const factsOf = (file: string) => provenanceFacts(statement(bundlePayload(file)));
const utf8 = (s: unknown) => new TextEncoder().encode(typeof s === 'string' ? s : JSON.stringify(s));

describe('decoding real statements', () => {
  it('SLSA v1: the sigstore-js 2.0.0 npm provenance (GitHub Actions build type)', () => {
    expect(factsOf(SIGSTORE_JS_V2)).toEqual({
      predicateType: 'https://slsa.dev/provenance/v1',
      builderId: 'https://github.com/actions/runner/github-hosted',
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
      sourceRepository: 'https://github.com/sigstore/sigstore-js',
      sourceRef: 'refs/heads/main',
      sourceDigest: 'f0b49a04e5a62250e0f60fb128004a73110fe311',
      subjects: ['sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c'],
    });
  });
  it('SLSA v1: a GitHub artifact attestation made by a shared workflow', () => {
    expect(factsOf(GH_ATTESTATION)).toMatchObject({ sourceRepository: 'https://github.com/malancas/attest-demo', sourceDigest: '8304c42402aa3a569882687e0642c359e5a74ac2', subjects: ['sha256:07e4b8c0e3580b3e4a1eb62c70f1ffb86004d3d94f50767cb404fa7a639b4d05'] });
  });
  it('SLSA v0.2: npm provenance (configSource) from a bundle and from the npm attestations API', () => {
    expect(factsOf(NPM_PROVENANCE)).toMatchObject({ predicateType: 'https://slsa.dev/provenance/v0.2', builderId: 'https://github.com/actions/runner', buildType: 'https://github.com/npm/cli/gha/v2', sourceRepository: 'https://github.com/sigstore/sigstore-js', sourceRef: 'refs/heads/main', sourceDigest: 'dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1' });
    const npm = JSON.parse(readFileSync(NPM_ATTESTATIONS, 'utf8')) as { attestations: Array<{ predicateType: string; bundle: { dsseEnvelope: unknown } }> };
    const prov = npm.attestations.find((a) => a.predicateType === 'https://slsa.dev/provenance/v0.2')!;
    const st = decodeEnvelopeStatement(prov.bundle.dsseEnvelope);
    expect(isStatementProblem(st) ? st.problem : provenanceFacts(st)).toMatchObject({ builderId: 'https://github.com/npm/cli@9.4.2', sourceRef: 'refs/tags/v1.0.0', sourceDigest: '06528997c3c8ab9f864fad9a3658446aca7fd86d', subjects: [expect.stringMatching(/^sha512:7bea9f6e/)] });
  });
  it('other predicate types are recorded by type with their subjects (npm publish attestation)', () => {
    expect(factsOf(NPM_PUBLISH)).toEqual({ predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1', subjects: [expect.stringMatching(/^sha512:76176ffa/)] });
  });
  it('startedOn/finishedOn (v1 runDetails.metadata, v0.2 metadata.build*On) as Unix seconds; non-RFC 3339 times are ignored', () => {
    const v1 = { _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: { runDetails: { builder: { id: 'b' }, metadata: { startedOn: '2026-11-15T02:00:00Z', finishedOn: '2026-11-15T02:04:30.5+01:00' } } } };
    expect(provenanceFacts(statement(utf8(v1)))).toMatchObject({ startedOn: Date.parse('2026-11-15T02:00:00Z') / 1000, finishedOn: Date.parse('2026-11-15T01:04:30Z') / 1000 });
    const v02 = { _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://slsa.dev/provenance/v0.2', predicate: { metadata: { buildStartedOn: 'yesterday', buildFinishedOn: '2026-11-15T03:00:00Z' } } };
    const f = provenanceFacts(statement(utf8(v02)));
    expect(f.startedOn).toBeUndefined();
    expect(f.finishedOn).toBe(Date.parse('2026-11-15T03:00:00Z') / 1000);
  });
  it('source URIs: git+ prefix, .git suffix, @ref, userinfo', () => {
    expect(splitSourceUri('git+https://github.com/acme/api.git@refs/tags/v1')).toEqual({ repository: 'https://github.com/acme/api', ref: 'refs/tags/v1' });
    expect(splitSourceUri('git+https://github.com/acme/api')).toEqual({ repository: 'https://github.com/acme/api' });
    expect(splitSourceUri('git+https://user@example.com/acme/api@refs/heads/a@b')).toEqual({ repository: 'https://user@example.com/acme/api', ref: 'refs/heads/a@b' });
  });
});

describe('hostile payloads yield problems, never exceptions', () => {
  it('each kind of malformation is named', () => {
    const code = (b: Uint8Array) => {
      const r = decodeStatement(b);
      return isStatementProblem(r) ? r.problem.code : 'ok';
    };
    expect(code(new Uint8Array([0xff, 0xfe]))).toBe('STATEMENT_MALFORMED');
    expect(code(utf8('[]'))).toBe('STATEMENT_MALFORMED');
    expect(code(utf8({ _type: 'https://example.com/x' }))).toBe('STATEMENT_NOT_INTOTO');
    expect(code(utf8({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x' }))).toBe('STATEMENT_MALFORMED');
    expect(code(utf8({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: 'x' }], predicateType: 'x' }))).toBe('STATEMENT_MALFORMED');
    expect(code(new Uint8Array(2 * 1024 * 1024))).toBe('STATEMENT_TOO_LARGE');
    expect(code(utf8('['.repeat(100_000)))).toBe('STATEMENT_MALFORMED');
    expect(parseDsseEnvelope({ payloadType: 'x', payload: 'not base64!', signatures: [] })).toMatchObject({ problem: { code: 'ENVELOPE_MALFORMED' } });
    expect(decodeEnvelopeStatement({ payloadType: 'text/plain', payload: 'aGk=', signatures: [] })).toMatchObject({ problem: { code: 'STATEMENT_NOT_INTOTO' } });
  });
  it('property: arbitrary JSON and bytes never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue().map((v) => utf8(v)), fc.uint8Array({ maxLength: 200 }), fc.record({ _type: fc.constant('https://in-toto.io/Statement/v1'), subject: fc.jsonValue(), predicateType: fc.constantFrom('https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2'), predicate: fc.jsonValue() }).map((v) => utf8(v))), (b) => {
        const r = decodeStatement(b);
        if (!isStatementProblem(r)) provenanceFacts(r);
      }),
    );
  });
});

describe('expect.provenance', () => {
  const SIGSTORE_JS = realEntry(SIGSTORE_JS_V2);
  const facts = factsOf(SIGSTORE_JS_V2);
  const rs = ruleSet(`
rules:
  - id: sigstore-provenance
    watch: { repositories: ['github.com/sigstore/*'] }
    expect:
      timeWindow: { timezone: UTC, hours: '00:00-24:00', weekdays: [mon, tue, wed, thu, fri] }
      provenance:
        required: true
        predicateTypes: ['https://slsa.dev/provenance/v1']
        builders: ['https://github.com/actions/runner/*']
        buildTypes: ['https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1']
        sourceRepositories: ['github.com/sigstore/*']
        sourceRefs: ['refs/heads/main']
`);
  const run = (e: Entry, f?: ProvenanceFacts) => evaluate(rs, e, 0, f).map((x) => x.expectation);
  it('the real statement meets every expectation; without a statement, `required` breaks', () => {
    expect(run(SIGSTORE_JS, facts)).toEqual([]);
    expect(run(SIGSTORE_JS)).toEqual(['expect.provenance']);
  });
  it('the facts may come with the Entry record (the mirror attaches them) instead of as an argument', () => {
    expect(run({ ...SIGSTORE_JS, provenance: { ...facts, from: 'bundle' } })).toEqual([]);
  });
  it('builder, build type, repository, ref and predicate type are each checked and named', () => {
    const rogue: ProvenanceFacts = { ...facts, predicateType: 'https://slsa.dev/provenance/v1', builderId: 'https://evil.example/builder', buildType: 'https://evil.example/type', sourceRepository: 'https://github.com/evil/sigstore-js', sourceRef: 'refs/heads/x' };
    expect(run(SIGSTORE_JS, rogue)).toEqual(['expect.provenance.builders', 'expect.provenance.buildTypes', 'expect.provenance.sourceRepositories', 'expect.provenance.sourceRefs']);
    expect(run(SIGSTORE_JS, { ...facts, sourceRepository: 'https://github.com/sigstore/other' })).toEqual(['expect.provenance.sourceRepositories']); // allowed, but not the certificate's
    expect(run(SIGSTORE_JS, { predicateType: 'https://example.com/other' })).toEqual(['expect.provenance.predicateTypes', 'expect.provenance.builders', 'expect.provenance.buildTypes', 'expect.provenance.sourceRepositories', 'expect.provenance.sourceRefs']);
  });
  it("the statement's source commit must be the certificate's", () => {
    const [f] = evaluate(rs, SIGSTORE_JS, 0, { ...facts, sourceDigest: '0'.repeat(40) });
    expect(f).toMatchObject({ expectation: 'expect.provenance.sourceDigest', details: { expected: 'f0b49a04e5a62250e0f60fb128004a73110fe311', actual: '0'.repeat(40) } });
  });
  it("a certificate from before .12 (only .5, owner/repo) is still compared: the tuf-js v1.0.0 npm provenance", () => {
    const npm = JSON.parse(readFileSync(`${REALDATA}/npm-attestations/tuf-js-npm-attestations_12987347_12987349.json`, 'utf8')) as { attestations: Array<{ predicateType: string; bundle: unknown }> };
    const prov = npm.attestations.find((a) => a.predicateType === 'https://slsa.dev/provenance/v0.2')!;
    const [t] = parseTlogEntries(prov.bundle);
    const e = decodeAnyBody(t!.body, { log: 'rekor.sigstore.dev', index: Number(t!.logIndex) }, t!.kind, t!.version);
    expect(e.signer?.fulcio).toMatchObject({ githubWorkflowRepository: 'theupdateframework/tuf-js' });
    expect(e.signer?.fulcio?.sourceRepositoryURI).toBeUndefined();
    const st = decodeEnvelopeStatement((prov.bundle as { dsseEnvelope: unknown }).dsseEnvelope);
    if (isStatementProblem(st)) throw new Error(st.problem.message);
    const real = provenanceFacts(st);
    const r = ruleSet(`rules: [{ id: tuf, watch: { repositories: ['github.com/theupdateframework/*'] }, expect: { provenance: { required: true } } }]`);
    expect(evaluate(r, e, 0, real)).toEqual([]);
    const [f, more] = evaluate(r, e, 0, { ...real, sourceRepository: 'https://github.com/theupdateframework/other' });
    expect(more).toBeUndefined();
    expect(f).toMatchObject({ expectation: 'expect.provenance.sourceRepositories', details: { expected: 'https://github.com/theupdateframework/tuf-js', actual: 'https://github.com/theupdateframework/other' } });
  });
  it('startedOn/finishedOn must lie inside the time window too', () => {
    const sat = Date.parse('2026-11-28T10:00:00Z') / 1000;
    const found = evaluate(rs, SIGSTORE_JS, 0, { ...facts, startedOn: sat, finishedOn: sat + 600 });
    expect(found.map((x) => x.expectation)).toEqual(['expect.provenance.startedOn', 'expect.provenance.finishedOn']);
    expect(found[0]!.message).toMatch(/^build started outside the allowed window \(provenance startedOn\): sat 2026-11-28/);
  });
  it('a statement subject digest makes an entry watched by digest (Rekor v1 dsse entries carry only envelope hashes)', () => {
    const e = ghaEntry('other', 'x', 'release.yml', 'refs/tags/v1');
    const d = ruleSet(`rules: [{ id: d, notify: all, watch: { digests: ['${facts.subjects![0]}'] } }]`);
    expect(evaluate(d, e, 0, facts).map((x) => x.ruleId)).toEqual(['d']);
  });
});
