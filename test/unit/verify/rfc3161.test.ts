/**
 * verifyRfc3161Timestamp (src/verify/rfc3161.ts) on real Sigstore timestamps: the production and staging
 * TSAs, sigstore-conformance's cases (realdata/SOURCES.md), and copies tampered here. Each refusal names
 * its reason; hostile bytes are refused, never thrown as anything but TIMESTAMP_INVALID.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { parseTrustedRoot, type TrustedRoot } from '../../../src/trust/trusted-root.ts';
import { verifyRfc3161Timestamp } from '../../../src/verify/rfc3161.ts';
import { REALDATA } from '../../helpers/realdata.ts';

const root = (name: string): TrustedRoot => parseTrustedRoot(JSON.parse(readFileSync(`${REALDATA}/trust/${name}`, 'utf8')));
const PROD = root('prod/trusted_root.json');
const STAGING = root('staging/trusted_root.json');
const B = `${REALDATA}/bundles`;

/** The bundle's first timestamp and the signature it is over (the message signature, or the first DSSE one). */
function stamped(path: string, unwrap = false): { der: Uint8Array; signature: Uint8Array } {
  let text = readFileSync(path, 'utf8');
  // sigstore-conformance's rekor2-timestamp-with-incorrect-time_fail wrapped its base64 at 76 columns
  // (`base64 response.tsr`); the bundle parser refuses that, so the token is taken out as its bytes.
  if (unwrap) text = text.replace(/"signedTimestamp": "([^"]*)"/, (_m, b: string) => `"signedTimestamp": "${b.replace(/\\n/g, '')}"`);
  const [t] = parseTlogEntries(JSON.parse(text));
  const b = t!.bundleContent!;
  return { der: b.timestamps![0]!, signature: b.messageSignature ?? b.dsseEnvelope!.signatures[0]!.sig };
}

/** The reason verifyRfc3161Timestamp gives, asserting it is a TIMESTAMP_INVALID. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isTlogwatchError(e, 'TIMESTAMP_INVALID'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('verified');
}

const staged = `${B}/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json`;

describe('real timestamps that verify', () => {
  it.each([
    ['staging, a Rekor v2 hashedrekord', staged, STAGING, '2025-06-12T12:02:20.000Z', 'https://timestamp.sigstage.dev/api/v1/timestamp'],
    ['staging, over the DSSE envelope\'s signature', `${B}/staging-rekor-v2/alpha1_689_dsse-0.0.2_sigstore-rs.sigstore.json`, STAGING, '2025-06-09T21:06:28.000Z', 'https://timestamp.sigstage.dev/api/v1/timestamp'],
    ['staging, embedding the TSA\'s certificates', `${B}/staging-rekor-v2/alpha1_29469_hashedrekord-0.0.2_tsa-embedded-cert.sigstore.json`, STAGING, '2025-08-06T18:51:36.000Z', 'https://timestamp.sigstage.dev/api/v1/timestamp'],
    ['production, a Rekor v2 DSSE bundle', `${B}/prod-rekor-v2/544346_dsse-0.0.2_v0.3_sigstore-js.sigstore.json`, PROD, '2025-12-11T19:36:08.000Z', 'https://timestamp.sigstore.dev/api/v1/timestamp'],
    ['production, beside a Rekor v1 SET', `${B}/prod-rekor-v1/771488337_hashedrekord-0.0.1_v0.3_managed-key.sigstore.json`, PROD, '2025-12-18T17:04:39.000Z', 'https://timestamp.sigstore.dev/api/v1/timestamp'],
    // A TSA whose chain expired minutes after it signed: judged at the time it states, not today.
    ['a chain long expired, valid when it signed', `${B}/staging-rekor-v2/alpha1_32511_hashedrekord-0.0.2_local-tsa.sigstore.json`, root('staging/trusted_root_conformance-local-tsa.json'), '2025-08-07T15:32:26.000Z', 'https://localhost:3000/api/v1/timestamp'],
    // The trusted root's validFor is a closed interval: a time equal to its end is inside.
    ['dated exactly at the end of the TSA\'s validity in the root', staged, root('staging/trusted_root_conformance-tsa-validity-end-inclusive.json'), '2025-06-12T12:02:20.000Z', 'https://timestamp.sigstage.dev/api/v1/timestamp'],
    // A real token, long after the signing certificate expired: the TSA vouches for the time, verify.ts judges the certificate.
    ['over a signature, a month after its certificate expired', `${B}/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_timestamp-after-cert-expiry.sigstore.json`, STAGING, '2025-07-15T10:33:31.000Z', 'https://timestamp.sigstage.dev/api/v1/timestamp'],
  ] as const)('%s', (_name, path, trust, time, tsa) => {
    const { der, signature } = stamped(path, path.includes('after-cert-expiry'));
    const t = verifyRfc3161Timestamp(der, signature, trust.timestampAuthorities);
    expect(t.time.toISOString()).toBe(time);
    expect(t.tsa).toBe(tsa);
  });
});

describe('refused, with the reason', () => {
  const { der, signature } = stamped(staged);

  it('a timestamp over another signature (wrong message imprint): real, sigstore-conformance\'s, and swapped here', () => {
    const other = stamped(`${B}/staging-rekor-v2/alpha1_5864_hashedrekord-0.0.2_timestamp-of-another-signature.sigstore.json`);
    expect(refusal(() => verifyRfc3161Timestamp(other.der, other.signature, STAGING.timestampAuthorities))).toMatch(/message imprint is not the hash of the bundle's signature/);
    const theirs = stamped(`${B}/staging-rekor-v2/alpha1_645_hashedrekord-0.0.2.sigstore.json`);
    expect(refusal(() => verifyRfc3161Timestamp(theirs.der, signature, STAGING.timestampAuthorities))).toMatch(/message imprint is not the hash of the bundle's signature/);
  });
  it('a token whose signature was altered, or whose time was moved', () => {
    const sig = Buffer.from(der);
    sig[sig.length - 1]! ^= 1; // the last byte is the ECDSA signature's
    expect(refusal(() => verifyRfc3161Timestamp(sig, signature, STAGING.timestampAuthorities))).toMatch(/does not verify with the key of timestamp authority https:\/\/timestamp\.sigstage\.dev\/api\/v1\/timestamp/);
    // genTime one second later: the imprint still matches, the signed attributes' digest of the TSTInfo no longer does.
    const moved = Buffer.from(der);
    const at = moved.indexOf('20250612120220Z', 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    moved[at + 13] = '1'.charCodeAt(0);
    expect(refusal(() => verifyRfc3161Timestamp(moved, signature, STAGING.timestampAuthorities))).toMatch(/does not verify with the key of timestamp authority .*signed data does not match tstInfo/);
  });
  it('a timestamp outside the validity the trusted root gives its TSA: sigstore-conformance\'s root, and moved here', () => {
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, root('staging/trusted_root_conformance-tsa-validity-ended.json').timestampAuthorities))).toMatch(
      /dated 2025-06-12T12:02:20\.000Z, outside the validity the trusted root gives timestamp authority https:\/\/timestamp\.sigstage\.dev\/api\/v1\/timestamp \(2025-04-09T00:00:00\.000Z–2025-06-01T00:00:00\.000Z\)/,
    );
    const oneSecondShort = STAGING.timestampAuthorities.map((a) => ({ ...a, validUntil: new Date('2025-06-12T12:02:19Z') }));
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, oneSecondShort))).toMatch(/outside the validity the trusted root gives/);
    const notYet = STAGING.timestampAuthorities.map((a) => ({ ...a, validFrom: new Date('2025-06-12T12:02:21Z') }));
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, notYet))).toMatch(/outside the validity the trusted root gives/);
  });
  it('a timestamp taken after its TSA\'s certificate expired (sigstore-conformance rekor2-timestamp-outside-tsa-cert-validity_fail)', () => {
    const late = stamped(`${B}/staging-rekor-v2/alpha1_32513_hashedrekord-0.0.2_local-tsa.sigstore.json`);
    expect(refusal(() => verifyRfc3161Timestamp(late.der, late.signature, root('staging/trusted_root_conformance-local-tsa.json').timestampAuthorities))).toMatch(
      /dated 2025-08-07T15:38:32\.000Z, when its signing certificate \(timestamp authority https:\/\/localhost:3000\/api\/v1\/timestamp\) was not valid \(2025-08-07T15:29:08\.000Z–2025-08-07T15:37:08\.000Z\)/,
    );
  });
  it('a TSA the trusted root does not list: FreeTSA (with and without its certificates embedded), an older staging TSA, another instance\'s root, none', () => {
    const notListed = /signed by a timestamp authority the trusted root does not list \(signer serial number [0-9a-f]+\)/;
    for (const f of ['alpha1_29474_hashedrekord-0.0.2_freetsa-nocert.sigstore.json', 'alpha1_29473_hashedrekord-0.0.2_freetsa-embedded-cert.sigstore.json']) {
      const t = stamped(`${B}/staging-rekor-v2/${f}`);
      expect(refusal(() => verifyRfc3161Timestamp(t.der, t.signature, STAGING.timestampAuthorities)), f).toMatch(notListed);
    }
    const old = stamped(`${B}/staging-rekor-v1/35355462_hashedrekord-0.0.1_v0.3_with-tsa.sigstore`);
    expect(refusal(() => verifyRfc3161Timestamp(old.der, old.signature, STAGING.timestampAuthorities))).toMatch(notListed);
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, PROD.timestampAuthorities))).toMatch(notListed);
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, []))).toMatch(notListed);
  });
  it('a TSA chain in the root whose links do not verify (the staging leaf under the production TSA\'s root)', () => {
    const mixed = STAGING.timestampAuthorities.map((a) => ({ ...a, chain: [a.chain[0]!, PROD.timestampAuthorities[0]!.chain[1]!] }));
    expect(refusal(() => verifyRfc3161Timestamp(der, signature, mixed))).toMatch(/its signing certificate \(timestamp authority .*\) is not signed by the next certificate/);
  });
});

describe('hostile bytes', () => {
  const { der, signature } = stamped(staged);
  it('garbage, truncations and empty input are refused as not a TimeStampResp', () => {
    for (const bytes of [new Uint8Array(), new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), der.subarray(0, 100), Buffer.from('not DER at all')]) {
      expect(refusal(() => verifyRfc3161Timestamp(bytes, new Uint8Array(64), STAGING.timestampAuthorities))).toMatch(/not a DER RFC 3161 TimeStampResp|did not grant it|does not list/);
    }
  });
  it('any byte of a real token changed: verified as before, or refused with TIMESTAMP_INVALID, never thrown otherwise', () => {
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const t = Buffer.from(der);
        t[at]! ^= x;
        try {
          expect(verifyRfc3161Timestamp(t, signature, STAGING.timestampAuthorities).time.toISOString()).toMatch(/^2025-06-12T12:02:2/);
        } catch (e) {
          expect(isTlogwatchError(e, 'TIMESTAMP_INVALID'), String(e)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void refusal(() => verifyRfc3161Timestamp(bytes, signature, STAGING.timestampAuthorities))));
  });
});
