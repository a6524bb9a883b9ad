/** verifyTlogEntry (src/verify/offline.ts) on real bundles with one field changed: what it must refuse, and why. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { verifyTlogEntry } from '../../../src/verify/offline.ts';
import { REALDATA } from '../../helpers/realdata.ts';

const PROD = parseTrustedRoot(JSON.parse(readFileSync(`${REALDATA}/trust/prod/trusted_root.json`, 'utf8')));
const STAGING = parseTrustedRoot(JSON.parse(readFileSync(`${REALDATA}/trust/staging/trusted_root.json`, 'utf8')));
const V2 = `${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json`;
const V1_NO_SET = `${REALDATA}/bundles/prod-rekor-v1/154562758_hashedrekord-0.0.1_v0.3_no-SET.sigstore.json`;

/** The bundle at `path`, its first tlog entry changed by `f`, verified. */
function verifyChanged(path: string, f: (entry: any) => void = () => {}) {
  const b = JSON.parse(readFileSync(path, 'utf8'));
  f(b.verificationMaterial.tlogEntries[0]);
  const [t] = parseTlogEntries(b);
  return verifyTlogEntry(t!, /staging|alpha/.test(path) ? STAGING : PROD);
}

describe('the index an entry reports', () => {
  it('is the proof\'s leaf index on a tiles log: another index fails inclusion', () => {
    expect(verifyChanged(V2).ok).toBe(true);
    const r = verifyChanged(V2, (e) => (e.logIndex = String(Number(e.logIndex) + 5)));
    expect(r.ok).toBe(false);
    expect(r.checks.inclusion).toBe('fail');
    expect(r.error).toMatch(/proof is for index 735 but the entry says 740/);
  });
  it('is never below the proof\'s tree index on Rekor v1, even without a SET to sign it', () => {
    // (The bundle fails as a whole for want of a signed time: see "the time the certificate is judged at".)
    expect(verifyChanged(V1_NO_SET).checks).toMatchObject({ inclusion: 'ok', checkpoint: 'ok', set: 'absent' });
    const r = verifyChanged(V1_NO_SET, (e) => (e.logIndex = '5'));
    expect(r.ok).toBe(false);
    expect(r.checks.inclusion).toBe('fail');
    expect(r.error).toMatch(/index 5 is below the proof's tree index/);
  });
});

describe('the validity of the log\'s key in the trusted root', () => {
  const V1 = `${REALDATA}/bundles/prod-rekor-v1/79571823_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`;
  const [entry] = parseTlogEntries(JSON.parse(readFileSync(V1, 'utf8')));
  const at = new Date(Number(entry!.integratedTime) * 1000);
  /** PROD with the entry's log key valid only over [from, until). */
  const rootWith = (from?: Date, until?: Date) => ({
    ...PROD,
    tlogs: PROD.tlogs.map((t) => (t.keyId.length === entry!.logId.length && Buffer.from(t.keyId).equals(entry!.logId) ? { ...t, validFrom: from, validUntil: until } : t)),
  });
  it('fails a SET dated after the key\'s validity ended, or before it began; both ends are included', () => {
    expect(verifyTlogEntry(entry!, rootWith(new Date(0), new Date(at.getTime() + 1000))).ok).toBe(true);
    // protobuf-specs TimeRange is [start, end] (sigstore-conformance trust-root-tlog-validity-end-inclusive).
    expect(verifyTlogEntry(entry!, rootWith(new Date(0), at)).ok).toBe(true);
    expect(verifyTlogEntry(entry!, rootWith(at)).ok).toBe(true);
    for (const root of [rootWith(new Date(0), new Date(at.getTime() - 1000)), rootWith(new Date(at.getTime() + 1000))]) {
      const r = verifyTlogEntry(entry!, root);
      expect(r.ok).toBe(false);
      expect(r.checks.set).toBe('fail');
      expect(r.error).toMatch(/outside the validity of the log's key in the trusted root/);
    }
  });
});

describe('the signatures a bundle carries', () => {
  const B = `${REALDATA}/bundles`;
  /** The bundle at `path` with its content changed by `f`, verified. */
  const verifyBundle = (path: string, f: (b: any) => void) => {
    const b = JSON.parse(readFileSync(path, 'utf8'));
    f(b);
    const [t] = parseTlogEntries(b);
    return verifyTlogEntry(t!, /staging|alpha/.test(path) ? STAGING : PROD);
  };
  const other = (sig: string) => {
    const buf = Buffer.from(sig, 'base64');
    buf[buf.length - 1]! ^= 1;
    return buf.toString('base64');
  };
  it.each([
    ['hashedrekord 0.0.1', `${B}/prod-rekor-v1/79571823_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`, (b: any) => (b.messageSignature.signature = other(b.messageSignature.signature))],
    ['hashedrekord 0.0.2', V2, (b: any) => (b.messageSignature.signature = other(b.messageSignature.signature))],
    ['dsse 0.0.1', `${B}/prod-rekor-v1/155690850_dsse-0.0.1_v0.3_conformance.sigstore.json`, (b: any) => (b.dsseEnvelope.signatures[0].sig = other(b.dsseEnvelope.signatures[0].sig))],
    ['dsse 0.0.2', `${B}/staging-rekor-v2/alpha1_689_dsse-0.0.2_sigstore-rs.sigstore.json`, (b: any) => (b.dsseEnvelope.signatures[0].sig = other(b.dsseEnvelope.signatures[0].sig))],
    ['dsse 0.0.2, one more signature', `${B}/staging-rekor-v2/alpha1_689_dsse-0.0.2_sigstore-rs.sigstore.json`, (b: any) => b.dsseEnvelope.signatures.push({ ...b.dsseEnvelope.signatures[0] })],
    // intoto 0.0.2 logs each signature base64-encoded twice (sigstore-js tlog/intoto.ts); it went unchecked.
    ['intoto 0.0.2', `${B}/prod-rekor-v1/27244980_intoto-0.0.2_v0.3.sigstore`, (b: any) => (b.dsseEnvelope.signatures[0].sig = other(b.dsseEnvelope.signatures[0].sig))],
    ['intoto 0.0.2, one more signature', `${B}/prod-rekor-v1/27244980_intoto-0.0.2_v0.3.sigstore`, (b: any) => b.dsseEnvelope.signatures.push({ ...b.dsseEnvelope.signatures[0] })],
  ])('%s: another signature than the logged one fails body', (_kind, path, f) => {
    expect(verifyBundle(path, () => {}).ok).toBe(true);
    const r = verifyBundle(path, f);
    expect(r.ok).toBe(false);
    expect(r.checks.body).toBe('fail');
    expect(r.error).toMatch(/signatures? (is|are) not the ones? the log entry records/);
  });
  it('fails the conformance suite\'s dsse-mismatch-sig bundle: a second valid signature swapped in', () => {
    const r = verifyBundle(`${B}/prod-rekor-v1/155690847_dsse-0.0.1_v0.3_conformance.sigstore.json`, () => {});
    expect(r.checks).toMatchObject({ body: 'fail', inclusion: 'ok', set: 'ok' });
  });
});

describe('the DSSE envelope a bundle carries', () => {
  const B = `${REALDATA}/bundles`;
  const checkBody = (path: string, f: (b: any) => void = () => {}) => {
    const b = JSON.parse(readFileSync(path, 'utf8'));
    f(b);
    const [t] = parseTlogEntries(b);
    return verifyTlogEntry(t!, /staging|alpha/.test(path) ? STAGING : PROD);
  };
  /** Every real bundle with a DSSE envelope that its entry logged (upstream negatives, whose envelope or signature was changed, fail body as they are: test/e2e/verify.test.ts). */
  const withEnvelope = readdirSync(B, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.sigstore(\.json)?$/.test(f))
    .map((f) => `${B}/${f}`)
    .filter((path) => JSON.parse(readFileSync(path, 'utf8')).dsseEnvelope !== undefined && checkBody(path).checks.body === 'ok');
  const kindOf = (path: string) => {
    const t = JSON.parse(readFileSync(path, 'utf8')).verificationMaterial.tlogEntries[0];
    const body = JSON.parse(Buffer.from(t.canonicalizedBody, 'base64').toString());
    return `${body.kind} ${body.apiVersion}`;
  };

  it('the fixtures hold every kind that logs a DSSE envelope', () => {
    expect(new Set(withEnvelope.map(kindOf))).toEqual(new Set(['dsse 0.0.1', 'dsse 0.0.2', 'intoto 0.0.2', 'hashedrekord 0.0.2']));
    expect(withEnvelope.length).toBeGreaterThanOrEqual(15);
  });
  it.each(withEnvelope.map((p) => [`${kindOf(p)}: ${p.slice(B.length + 1)}`, p]))('%s: a payloadType changed after logging fails body', (_name, path) => {
    const logged = JSON.parse(readFileSync(path, 'utf8')).dsseEnvelope.payloadType as string;
    const r = checkBody(path, (b) => (b.dsseEnvelope.payloadType = `${logged}; changed`));
    expect(r.checks.body).toBe('fail');
    expect(r.ok).toBe(false);
    const changed = JSON.stringify(`${logged}; changed`);
    // dsse bodies keep no type: the logged signature does not verify over the changed PAE with the logged verifier.
    const notSigned = `the bundle's DSSE signature does not verify over its payloadType ${changed} and payload with the verifier its log entry records`;
    const expected = {
      'intoto 0.0.2': `the bundle's DSSE payloadType ${changed} is not the ${JSON.stringify(logged)} its log entry records`,
      'dsse 0.0.1': notSigned,
      'dsse 0.0.2': notSigned,
      // A hashedrekord over the envelope logs the PAE's hash, which the type changes.
      'hashedrekord 0.0.2': 'body does not log the hash of the bundle\'s DSSE payload',
    }[kindOf(path)];
    expect(r.error).toContain(expected!);
  });
  it('a hashedrekord over an envelope binds it by the PAE\'s hash: one that logs the payload\'s hash signed the payload, not the envelope', () => {
    const path = `${B}/prod-rekor-v2/4855114_hashedrekord-0.0.2_v0.3_dsse_sigstore-java.sigstore`;
    const r = checkBody(path, (b) => {
      const t = b.verificationMaterial.tlogEntries[0];
      const body = JSON.parse(Buffer.from(t.canonicalizedBody, 'base64').toString());
      body.spec.hashedRekordV002.data.digest = createHash('sha256').update(Buffer.from(b.dsseEnvelope.payload, 'base64')).digest('base64');
      t.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
    });
    expect(r.checks.body).toBe('fail');
    expect(r.error).toMatch(/^body: body does not log the hash of the bundle's DSSE payload/);
  });
  it('a dsse 0.0.1 verifier that is not the one that signed fails body, the bundle\'s certificate being that verifier', () => {
    const path = `${B}/prod-rekor-v1/27246114_dsse-0.0.1_v0.3.sigstore`;
    const otherCert = JSON.parse(Buffer.from(JSON.parse(readFileSync(`${B}/prod-rekor-v1/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json`, 'utf8')).verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString()).spec.signatures[0].verifier;
    // The body is what the SET and proof cover, so a changed one fails them too; body is judged on its own.
    // The bundle's certificate follows the verifier, so only the signature over the PAE tells them apart.
    const withVerifier = (v: string) => (b: any) => {
      const t = b.verificationMaterial.tlogEntries[0];
      const body = JSON.parse(Buffer.from(t.canonicalizedBody, 'base64').toString());
      body.spec.signatures[0].verifier = v;
      t.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
      b.verificationMaterial.certificate.rawBytes = Buffer.from(Buffer.from(v, 'base64').toString().replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64');
    };
    expect(checkBody(path, withVerifier(otherCert)).error).toMatch(/DSSE signature does not verify over its payloadType "application\/vnd\.in-toto\+json" and payload with the verifier its log entry records/);
  });
});

describe('the time the certificate is judged at', () => {
  const B = `${REALDATA}/bundles`;
  const root = (name: string) => parseTrustedRoot(JSON.parse(readFileSync(`${REALDATA}/trust/${name}`, 'utf8')));
  /** Every entry of the document at `path` (changed by `f`), verified against `trust`. */
  const verifyAll = (path: string, trust = /staging|alpha/.test(path) ? STAGING : PROD, f: (b: any) => void = () => {}) => {
    const b = JSON.parse(readFileSync(path, 'utf8'));
    f(b);
    return parseTlogEntries(b).map((t) => verifyTlogEntry(t, trust));
  };
  const times = (r: ReturnType<typeof verifyTlogEntry>) => r.signedTimes.map((s) => `${s.by} ${s.time.toISOString()}`);

  it('a Rekor v2 bundle: its RFC 3161 timestamp, the only signed time it has', () => {
    const [r] = verifyAll(V2);
    expect(r!.ok).toBe(true);
    expect(r!.checks).toMatchObject({ set: 'absent', tsa: 'ok', certificate: 'ok' });
    expect(r!.signedTimes).toEqual([{ by: 'tsa', tsa: 'https://timestamp.sigstage.dev/api/v1/timestamp', time: new Date('2025-06-12T12:02:20Z') }]);
  });
  it('a Rekor v1 bundle with a SET and a timestamp: both, and the certificate valid at each', () => {
    const [r] = verifyAll(`${B}/staging-rekor-v1/42526129_hashedrekord-0.0.1_v0.3_with-tsa_sigstore-java.sigstore`);
    expect(r!.ok).toBe(true);
    expect(r!.checks).toMatchObject({ set: 'ok', tsa: 'ok', certificate: 'ok' });
    expect(times(r!)).toEqual(['set 2025-05-22T15:45:54.000Z', 'tsa 2025-05-22T15:45:54.000Z']);
  });
  it('fails a certificate expired at a timestamp, though valid at the SET (sigstore-python\'s late timestamp)', () => {
    const [r] = verifyAll(`${B}/staging-rekor-v1/42066373_hashedrekord-0.0.1_v0.3_late-tsa.sigstore`);
    expect(r!.ok).toBe(false);
    expect(r!.checks).toMatchObject({ set: 'ok', tsa: 'ok', certificate: 'fail' });
    expect(r!.error).toMatch(/certificate: the certificate is valid 2025-05-12T18:48:26\.000Z–2025-05-12T18:58:26\.000Z, but the RFC 3161 timestamp of https:\/\/timestamp\.sigstage\.dev\/api\/v1\/timestamp dates it 2025-05-12T19:00:27\.000Z/);
  });
  it('fails a certificate expired at the only timestamp (sigstore-conformance rekor2-timestamp-with-incorrect-time_fail)', () => {
    // Its base64 wrapped at 76 columns is refused by the parser (tlog-entry.test.ts); unwrapped, it is a real token.
    const [r] = verifyAll(`${B}/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_timestamp-after-cert-expiry.sigstore.json`, STAGING, (b) => {
      const t = b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
      t.signedTimestamp = t.signedTimestamp.replace(/\n/g, '');
    });
    expect(r!.checks).toMatchObject({ tsa: 'ok', certificate: 'fail' });
    expect(r!.error).toMatch(/the certificate is valid 2025-06-12T12:02:16\.000Z–2025-06-12T12:12:16\.000Z, but the RFC 3161 timestamp .* dates it 2025-07-15T10:33:31\.000Z/);
  });
  it('fails a certificate expired at the SET (integrated after it expired)', () => {
    const [r] = verifyAll(`${B}/prod-rekor-v1/1462192450_hashedrekord-0.0.1_v0.3_integrated-after-cert-expiry.sigstore.json`);
    expect(r!.checks).toMatchObject({ body: 'ok', set: 'ok', certificate: 'fail' });
    expect(r!.error).toMatch(/but the SET of rekor\.sigstore\.dev dates it 2026-05-07T15:34:11\.000Z/);
  });

  describe('no signed time for a certificate', () => {
    const noSignedTime = /certificate: the certificate's validity could not be judged from a signed time/;
    it('fails a Rekor v2 bundle without a timestamp (sigstore-conformance rekor2-no-timestamp_fail)', () => {
      const [r] = verifyAll(`${B}/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_no-timestamp.sigstore.json`);
      expect(r!.ok).toBe(false);
      expect(r!.checks).toMatchObject({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', tsa: 'absent', certificate: 'fail' });
      expect(r!.error).toMatch(noSignedTime);
      expect(r!.error).toMatch(/no integrated time \(Rekor v2\) and no SET, and the bundle carries no RFC 3161 timestamp/);
    });
    it('fails a Rekor v1 bundle without a SET or a timestamp (sigstore-python bundle_v3_no_signed_time)', () => {
      const [r] = verifyAll(V1_NO_SET);
      expect(r!.ok).toBe(false);
      expect(r!.checks).toMatchObject({ inclusion: 'ok', checkpoint: 'ok', set: 'absent', certificate: 'fail' });
      expect(r!.error).toMatch(/the entry's integrated time 2024-12-10T21:41:25\.000Z is signed by no SET/);
    });
    it('never takes an integrated time no SET signs: a late entry with its SET taken off and its time moved back', () => {
      const late = `${B}/prod-rekor-v1/1462192450_hashedrekord-0.0.1_v0.3_integrated-after-cert-expiry.sigstore.json`;
      const [r] = verifyAll(late, PROD, (b) => {
        const e = b.verificationMaterial.tlogEntries[0];
        delete e.inclusionPromise;
        e.integratedTime = String(Number(e.integratedTime) - 600); // inside the certificate's ten minutes
      });
      // The proof and checkpoint still verify: only the time is forged, and it counts for nothing.
      expect(r!.checks).toMatchObject({ inclusion: 'ok', checkpoint: 'ok', set: 'absent', certificate: 'fail' });
      expect(r!.signedTimes).toEqual([]);
      expect(r!.ok).toBe(false);
    });
    it('fails a v2 bundle whose only timestamp does not verify, saying both', () => {
      const [r] = verifyAll(`${B}/staging-rekor-v2/alpha1_29474_hashedrekord-0.0.2_freetsa-nocert.sigstore.json`);
      expect(r!.checks).toMatchObject({ tsa: 'fail', certificate: 'fail' });
      expect(r!.error).toMatch(/tsa: timestamp 1 of 1: TIMESTAMP_INVALID: it is signed by a timestamp authority the trusted root does not list/);
      expect(r!.error).toMatch(/the bundle's RFC 3161 timestamp did not verify/);
    });
    it('a bare Rekor v2 log entry: not judged, and the verdict warns so', () => {
      const [r] = verifyAll(`${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`);
      expect(r!.ok).toBe(true);
      expect(r!.checks).toMatchObject({ tsa: 'absent', certificate: 'absent' });
      expect(r!.error).toBeUndefined();
      expect(r!.warning).toMatch(/the certificate's validity could not be judged from a signed time: .* a bare log entry carries no RFC 3161 timestamp/);
    });
    it('a key, not a certificate: nothing to judge, no warning', () => {
      const [r] = verifyAll(`${B}/prod-rekor-v1/771488337_hashedrekord-0.0.1_v0.3_managed-key.sigstore.json`);
      expect(r!.ok).toBe(true);
      expect(r!.checks).toMatchObject({ set: 'ok', tsa: 'ok', certificate: 'absent' });
      expect(r!.warning).toBeUndefined();
    });
  });

  describe('a timestamp that does not verify fails the entry, whatever else vouches for it', () => {
    it.each([
      ['over another signature', `${B}/staging-rekor-v2/alpha1_5864_hashedrekord-0.0.2_timestamp-of-another-signature.sigstore.json`, STAGING, /message imprint is not the hash of the bundle's signature/],
      ['from a TSA the root does not list, embedding its own chain', `${B}/staging-rekor-v2/alpha1_29473_hashedrekord-0.0.2_freetsa-embedded-cert.sigstore.json`, STAGING, /does not list/],
      ['past its TSA\'s certificate', `${B}/staging-rekor-v2/alpha1_32513_hashedrekord-0.0.2_local-tsa.sigstore.json`, root('staging/trusted_root_conformance-local-tsa.json'), /when its signing certificate .* was not valid/],
      ['past the validity the root gives its TSA', V2, root('staging/trusted_root_conformance-tsa-validity-ended.json'), /outside the validity the trusted root gives timestamp authority/],
      // Beside a SET that vouches for the time on its own: the client spec §4.2.1 still has the verifier abort.
      ['from a mock TSA, beside a valid SET (sigstore-js\'s fixture)', `${B}/prod-rekor-v1/6751924_intoto-0.0.2_v0.1_sigstore-js.sigstore.json`, PROD, /does not list/],
      ['from an older staging TSA, beside a valid SET', `${B}/staging-rekor-v1/35355462_hashedrekord-0.0.1_v0.3_with-tsa.sigstore`, STAGING, /timestamp 2 of 2: .*does not list/],
    ] as const)('%s', (_name, path, trust, why) => {
      const [r] = verifyAll(path, trust);
      expect(r!.ok).toBe(false);
      expect(r!.checks.tsa).toBe('fail');
      expect(r!.error).toMatch(why);
    });
    it('one good timestamp and one swapped in from another bundle', () => {
      const other = JSON.parse(readFileSync(`${B}/staging-rekor-v2/alpha1_645_hashedrekord-0.0.2.sigstore.json`, 'utf8')).verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
      const [r] = verifyAll(V2, STAGING, (b) => b.verificationMaterial.timestampVerificationData.rfc3161Timestamps.push(other));
      expect(r!.checks).toMatchObject({ tsa: 'fail', certificate: 'ok' });
      expect(r!.error).toMatch(/tsa: timestamp 2 of 2: .*message imprint/);
      expect(r!.signedTimes).toHaveLength(1);
      expect(r!.ok).toBe(false);
    });
    it('the TSA taken out of the trusted root', () => {
      const [r] = verifyAll(V2, { ...STAGING, timestampAuthorities: [] });
      expect(r!.checks).toMatchObject({ tsa: 'fail', certificate: 'fail' });
    });
  });
});

describe('a PyPI attestation (PEP 740), whose envelope names no payloadType', () => {
  const PATH = `${REALDATA}/pypi-attestations/149945774_dsse-0.0.1_gitlab-ci_gitlab_oidc_project-0.0.3.publish.attestation.json`;
  const verifyAttestation = (f: (a: any) => void = () => {}) => {
    const a = JSON.parse(readFileSync(PATH, 'utf8'));
    f(a);
    const [t] = parseTlogEntries(a);
    return verifyTlogEntry(t!, PROD);
  };

  it('verifies whole: its signature is over the in-toto PAE, and GitLab\'s certificate was valid at the SET', () => {
    const r = verifyAttestation();
    expect(r.checks).toEqual({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'ok', tsa: 'absent', certificate: 'ok' });
    expect(r.ok).toBe(true);
  });
  it('a statement changed after logging fails body', () => {
    const r = verifyAttestation((a) => {
      const st = JSON.parse(Buffer.from(a.envelope.statement, 'base64').toString());
      st.subject[0].digest.sha256 = '0'.repeat(64);
      a.envelope.statement = Buffer.from(JSON.stringify(st)).toString('base64');
    });
    expect(r.checks.body).toBe('fail');
    expect(r.ok).toBe(false);
  });
});
