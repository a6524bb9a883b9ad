/** verifyTlogEntry (src/verify/offline.ts) on real bundles with one field changed: what it must refuse, and why. */
import { readFileSync } from 'node:fs';
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
    expect(verifyChanged(V1_NO_SET).ok).toBe(true);
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
  it('fails a SET dated after the key\'s validity ended, or before it began', () => {
    expect(verifyTlogEntry(entry!, rootWith(new Date(0), new Date(at.getTime() + 1000))).ok).toBe(true);
    for (const root of [rootWith(new Date(0), at), rootWith(new Date(at.getTime() + 1000))]) {
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
