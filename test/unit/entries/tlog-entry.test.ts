/** The input formats of `tlogwatch verify`: every real file parses, or is rejected saying why. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { statementSubjectDigests } from '../../../src/entries/intoto-statement.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { filesUnder, inInputDir, readJson, REALDATA } from '../../helpers/realdata.ts';

/** Files under the input directories that are genuinely not tlog-entry inputs, and what they are. */
const NOT_ENTRIES: Record<string, RegExp> = {
  'bundles/staging-rekor-v1/24949628_hashedrekord-0.0.1_bad-mediatype.sigstore': /^mediaType: unsupported bundle mediaType "this is completely wrong"/,
  // sigstore-conformance wrote this token with `base64` (line breaks every 76 columns): not the standard base64 proto3 JSON writes.
  'bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_timestamp-after-cert-expiry.sigstore.json': /^verificationMaterial\.timestampVerificationData\.rfc3161Timestamps\[0\]\.signedTimestamp: expected standard base64/,
  'rekor-v1-api/prod_loginfo_1193050959916656506_size266676745.json': /^input: this is a Rekor v1 LogInfo/,
  'rekor-v1-api/staging_loginfo_8202293616175992157_size1352760.json': /^input: this is a Rekor v1 LogInfo/,
  'rekor-v1-api/staging_loginfo_8202293616175992157_size1352764.json': /^input: this is a Rekor v1 LogInfo/,
  'rekor-v1-api/staging_consistency-proof_8202293616175992157_1352760-1352764.json': /^input: this is a Rekor v1 consistency proof/,
};

const file = (rel: string): unknown => readJson(`${REALDATA}/${rel}`);
const GITLAB_PYPI = 'pypi-attestations/149945774_dsse-0.0.1_gitlab-ci_gitlab_oidc_project-0.0.3.publish.attestation.json';
const parse = (rel: string) => parseTlogEntries(file(rel));

describe('every real input file', () => {
  const files = filesUnder(REALDATA, (f) => inInputDir(f) || /derived-negative\/.*\.sigstore\.json$/.test(f));
  it('is found', () => expect(files.length).toBeGreaterThanOrEqual(85));
  for (const f of files) {
    const rel = f.slice(REALDATA.length + 1);
    it(rel, () => {
      const expected = NOT_ENTRIES[rel];
      if (expected) {
        let err: unknown;
        try {
          parseTlogEntries(readJson(f));
        } catch (e) {
          err = e;
        }
        expect(isTlogwatchError(err, 'ENTRY_MALFORMED')).toBe(true);
        expect((err as Error).message).toMatch(expected);
        return;
      }
      const entries = parseTlogEntries(readJson(f));
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.source).toBe(rel.startsWith('rekor-v1-api') ? 'rekor-v1' : rel.startsWith('rekor-v2-api') ? 'rekor-v2' : 'bundle');
        expect(e.logId.length).toBe(32);
        expect(e.body.length).toBeGreaterThan(50);
        expect(e.kind).toMatch(/^(hashedrekord|dsse|intoto|rekord|jar)$/);
        expect(e.set !== undefined || e.inclusionProof !== undefined || rel.includes('no-inclusion-proof')).toBe(true);
        if (e.inclusionProof) expect(e.inclusionProof.logIndex < e.inclusionProof.treeSize).toBe(true);
      }
    });
  }
});

describe('what verify needs from each format', () => {
  it('Rekor v1 LogEntry: virtual index, shard-local proof index, hex hashes, the entry ID', () => {
    const [e] = parse('rekor-v1-api/staging_entry_1688_shard108574341321668964.json');
    expect(e!.logIndex).toBe(1688n);
    expect(e!.inclusionProof!.logIndex).toBe(1227n);
    expect(e!.inclusionProof!.treeSize).toBe(14358n);
    expect(e!.inclusionProof!.checkpoint).toMatch(/^rekor\.sigstage\.dev - 108574341321668964\n14358\n/);
    expect(toHex(e!.logId)).toBe('d32f30a3c32d639c2b762205a21c7bb07788e68283a4ae6f42118723a1bea496');
    expect(e!.integratedTime).toBe(1656448131n);
    expect(e!.entryId).toMatch(/^([0-9a-f]{16})?[0-9a-f]{64}$/);
    expect(e!.entryId!.slice(-64)).toBe(decodeAnyBody(e!.body, { log: 'x', index: 1688 }).uuid);
  });
  it('bundle: shard-local proof index, checkpoint, SET, message digest that the body must carry', () => {
    const [e] = parse('bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json');
    expect([e!.logIndex, e!.inclusionProof!.logIndex, e!.inclusionProof!.treeSize]).toEqual([27246492n, 23083061n, 23083062n]);
    expect(e!.inclusionProof!.checkpoint).toMatch(/^rekor\.sigstore\.dev - 2605736670972794746\n/);
    expect(e!.set!.length).toBeGreaterThan(60);
    expect(e!.bundleContent!.mediaType).toBe('application/vnd.dev.sigstore.bundle+json;version=0.2');
    const entry = decodeAnyBody(e!.body, { log: 'x', index: 0 }, e!.kind, e!.version);
    expect(entry.digests).toContain(e!.bundleContent!.messageDigest);
    expect(e!.bundleContent!.chain!.length).toBeGreaterThanOrEqual(1);
    expect(e!.bundleContent!.certificate).toBe(e!.bundleContent!.chain![0]);
  });
  it('bundle with a DSSE envelope: the payload hash in the body, and the statement subjects', () => {
    const [e] = parse('bundles/prod-rekor-v1/155690850_dsse-0.0.1_v0.3_conformance.sigstore.json');
    const env = e!.bundleContent!.dsseEnvelope!;
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    const entry = decodeAnyBody(e!.body, { log: 'x', index: 0 }, e!.kind, e!.version);
    expect(entry.digests).toContain(`sha256:${createHash('sha256').update(env.payload).digest('hex')}`);
    expect(statementSubjectDigests(env.payloadType, env.payload).length).toBeGreaterThan(0);
  });
  it('every subject of a release with many files counts, the last as much as the first', () => {
    const subject = Array.from({ length: 3000 }, (_, i) => ({ name: `file-${i}`, digest: { sha256: createHash('sha256').update(String(i)).digest('hex') } }));
    const payload = new Uint8Array(Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://slsa.dev/provenance/v1', predicate: {} })));
    const digests = statementSubjectDigests('application/vnd.in-toto+json', payload);
    expect(digests).toHaveLength(3000);
    expect(digests).toContain(`sha256:${createHash('sha256').update('2999').digest('hex')}`);
  });
  it('Rekor v2: integratedTime 0 is absent, base64 proof, C2SP key ID', () => {
    const [e] = parse('rekor-v2-api/prod_log2025-1_create-entry-response_412114.json');
    expect(e!.integratedTime).toBeUndefined();
    expect(e!.set).toBeUndefined();
    expect([e!.logIndex, e!.inclusionProof!.logIndex, e!.inclusionProof!.treeSize]).toEqual([412114n, 412114n, 412115n]);
    expect(Buffer.from(e!.logId).toString('base64')).toBe('zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=');
    expect(e!.inclusionProof!.checkpoint).toMatch(/^log2025-1\.rekor\.sigstore\.dev\n412115\n/);
  });
  it('npm attestations: one entry per bundle, paths that say which', () => {
    const es = parse('npm-attestations/sigstore-npm-attestations_12988397_12988399.json');
    expect(es.map((e) => [e.logIndex, e.where])).toEqual([
      [12988397n, 'attestations[0].bundle.verificationMaterial.tlogEntries[0]'],
      [12988399n, 'attestations[1].bundle.verificationMaterial.tlogEntries[0]'],
    ]);
  });
  it('PyPI attestation (PEP 740): the certificate, and the statement as an in-toto DSSE payload with its one signature', () => {
    const a = file(GITLAB_PYPI) as any;
    const [e, ...rest] = parse(GITLAB_PYPI);
    expect(rest).toEqual([]);
    expect([e!.source, e!.where, e!.logIndex, e!.inclusionProof!.logIndex, e!.integratedTime]).toEqual(['bundle', 'verification_material.transparency_entries[0]', 149945774n, 28041512n, 1732037820n]);
    const c = e!.bundleContent!;
    expect(Buffer.from(c.certificate!).toString('base64')).toBe(a.verification_material.certificate);
    expect(c.dsseEnvelope!.payloadType).toBe('application/vnd.in-toto+json');
    expect(Buffer.from(c.dsseEnvelope!.payload).toString('base64')).toBe(a.envelope.statement);
    expect(c.dsseEnvelope!.signatures.map((x) => Buffer.from(x.sig).toString('base64'))).toEqual([a.envelope.signature]);
    expect(statementSubjectDigests(c.dsseEnvelope!.payloadType, c.dsseEnvelope!.payload)).toEqual(['sha256:c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8']);
  });
  it('PyPI provenance (the wrapper the Integrity API serves): every attestation of every publisher, paths that say which', () => {
    const a = file(GITLAB_PYPI);
    const publisher = { kind: 'GitLab', repository: 'facutuesca/gitlab-oidc-project', environment: '' };
    const es = parseTlogEntries({ version: 1, attestation_bundles: [{ publisher, attestations: [a] }, { publisher, attestations: [a, a] }] });
    expect(es.map((e) => e.where)).toEqual([
      'attestation_bundles[0].attestations[0].verification_material.transparency_entries[0]',
      'attestation_bundles[1].attestations[0].verification_material.transparency_entries[0]',
      'attestation_bundles[1].attestations[1].verification_material.transparency_entries[0]',
    ]);
  });
  it('cosign bundles: the SET payload, and the legacy bundle certificate and signature', () => {
    const [old] = parse('rekor-v1-api/prod_cosign-rekor-bundle_5179_2021.json');
    expect([old!.kind, old!.version, old!.logIndex, old!.integratedTime]).toEqual(['rekord', '0.0.1', 5179n, 1624396085n]);
    const [legacy] = parse('rekor-v1-api/prod_cosign-legacy-bundle_820247359.json');
    expect(legacy!.bundleContent!.certificate![0]).toBe(0x30);
    expect(legacy!.bundleContent!.messageSignature!.length).toBeGreaterThan(60);
  });
  it('bundle: its RFC 3161 timestamps, as DER; none when the field is absent or null', () => {
    const [v2] = parse('bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json');
    expect(v2!.bundleContent!.timestamps).toHaveLength(1);
    expect(v2!.bundleContent!.timestamps![0]![0]).toBe(0x30); // a DER SEQUENCE: the TimeStampResp
    expect(parse('bundles/staging-rekor-v1/35355462_hashedrekord-0.0.1_v0.3_with-tsa.sigstore')[0]!.bundleContent!.timestamps).toHaveLength(2);
    // npm's v0.1 bundles write `"timestampVerificationData": null`.
    expect(parse('npm-attestations/sigstore-npm-attestations_12988397_12988399.json').map((e) => e.bundleContent!.timestamps)).toEqual([undefined, undefined]);
    expect(parse('bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_no-timestamp.sigstore.json')[0]!.bundleContent!.timestamps).toBeUndefined();
  });
  it('arrays of inputs (POST /api/v1/log/entries/retrieve) keep their position in `where`', () => {
    const one = file('rekor-v1-api/staging_entry_79_no-proof.json');
    const es = parseTlogEntries([one, file('rekor-v2-api/staging_alpha1_tlog-entry_743.json')]);
    expect(es.map((e) => e.source)).toEqual(['rekor-v1', 'rekor-v2']);
    expect(es[1]!.where).toBe('[1].entry');
  });
});

describe('rejections name the field', () => {
  const base = () => structuredClone(file('bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json')) as any;
  const cases: [string, (b: any) => unknown, RegExp][] = [
    ['leading zeros', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = '027246492'), /tlogEntries\[0\]\.logIndex: expected a non-negative integer, got "027246492"/],
    ['negative', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = '-1'), /logIndex: expected a non-negative integer/],
    ['past int64', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = '9223372036854775808'), /logIndex: expected a non-negative integer/],
    ['unsafe JSON number', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = 2 ** 60), /logIndex: expected a non-negative integer/],
    ['bad base64', (b) => (b.verificationMaterial.tlogEntries[0].canonicalizedBody = 'not base64!'), /tlogEntries\[0\]\.canonicalizedBody: expected standard base64/],
    ['short proof hash', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = 'AAAA'), /inclusionProof\.hashes\[0\]: expected 32 bytes of standard base64/],
    ['no kindVersion', (b) => delete b.verificationMaterial.tlogEntries[0].kindVersion, /tlogEntries\[0\]\.kindVersion: missing/],
    ['no tlog entries', (b) => (b.verificationMaterial.tlogEntries = []), /tlogEntries: empty/],
    ['no content', (b) => delete b.messageSignature, /neither messageSignature nor dsseEnvelope/],
    ['unknown digest algorithm', (b) => (b.messageSignature.messageDigest.algorithm = 'MD5'), /messageDigest\.algorithm: unsupported hash algorithm "MD5"/],
    ['mediaType 0.4', (b) => (b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.4'), /unsupported bundle mediaType/],
    ['timestamps not an object', (b) => (b.verificationMaterial.timestampVerificationData = []), /verificationMaterial\.timestampVerificationData: expected an object/],
    ['a timestamp not base64', (b) => (b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: 'MIIC!' }] }), /rfc3161Timestamps\[0\]\.signedTimestamp: expected standard base64/],
    ['a timestamp without its bytes', (b) => (b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{}] }), /rfc3161Timestamps\[0\]\.signedTimestamp: missing/],
    ['33 timestamps', (b) => (b.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: Array(33).fill({ signedTimestamp: 'MAA=' }) }), /rfc3161Timestamps: 33 elements, more than the 32 allowed/],
  ];
  for (const [name, edit, message] of cases) {
    it(name, () => {
      const b = base();
      edit(b);
      expect(() => parseTlogEntries(b)).toThrow(message);
    });
  }
  it('Rekor v1 LogEntry fields', () => {
    const entry = file('rekor-v1-api/staging_entry_79_no-proof.json') as Record<string, any>;
    const [id] = Object.keys(entry);
    const bad = (edit: (v: any) => void) => {
      const copy = structuredClone(entry);
      edit(copy[id!]);
      return () => parseTlogEntries(copy);
    };
    expect(bad((v) => (v.logID = v.logID.toUpperCase()))).toThrow(/\.logID: expected 32 bytes of lower-case hex/);
    expect(bad((v) => delete v.integratedTime)).toThrow(/\.integratedTime: expected a non-negative integer, got nothing/);
    expect(bad((v) => (v.verification = 'x'))).toThrow(/\.verification: expected an object/);
  });
  it('PEP 740 fields', () => {
    const bad = (edit: (a: any) => void) => {
      const a = structuredClone(file(GITLAB_PYPI)) as any;
      edit(a);
      return () => parseTlogEntries(a);
    };
    expect(bad((a) => (a.version = 2))).toThrow(/^version: unsupported PEP 740 version 2 \(expected 1\)/);
    expect(bad((a) => (a.verification_material.transparency_entries = []))).toThrow(/verification_material\.transparency_entries: empty/);
    expect(bad((a) => delete a.envelope.signature)).toThrow(/envelope\.signature: missing/);
    expect(bad((a) => (a.verification_material.certificate = 'not base64!'))).toThrow(/verification_material\.certificate: expected standard base64/);
    expect(bad((a) => delete a.verification_material.transparency_entries[0].kindVersion)).toThrow(/transparency_entries\[0\]\.kindVersion: missing/);
    expect(() => parseTlogEntries({ version: 1, attestation_bundles: [] })).toThrow(/attestation_bundles: empty/);
    expect(() => parseTlogEntries({ version: 1, attestation_bundles: [{ attestations: [{}] }] })).toThrow(/attestation_bundles\[0\]\.attestations\[0\]\.version: unsupported PEP 740 version/);
  });
  it('documents that are not inputs at all', () => {
    expect(() => parseTlogEntries('x')).toThrow(/expected a JSON object or array/);
    expect(() => parseTlogEntries([])).toThrow(/empty array/);
    expect(() => parseTlogEntries([1])).toThrow(/\[0\]: expected an object/);
    expect(() => parseTlogEntries({ a: 1 })).toThrow(/not a Sigstore bundle.*top-level keys: a/);
    expect(() => parseTlogEntries({ attestations: [{}] })).toThrow(/attestations\[0\]\.bundle: missing/);
  });
});
