/**
 * Which CA of the trusted root issued a certificate (src/trust/certificate-authority.ts), on real Fulcio
 * certificates and Sigstore's real trusted roots: today's intermediate, the 2021 root that signed leaves
 * directly, the CAs' validity windows, another deployment's root, and bytes that are no certificate.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { certificateOf } from '../../../src/entries/signer.ts';
import { CertificateAuthorities } from '../../../src/trust/certificate-authority.ts';
import { loadTrustedRootFile } from '../../../src/trust/tuf.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { verifyTlogEntry } from '../../../src/verify/offline.ts';

const T = 'test/fixtures/realdata';
const prod = new CertificateAuthorities(loadTrustedRootFile(`${T}/trust/prod/trusted_root.json`).certificateAuthorities);
const staging = new CertificateAuthorities(loadTrustedRootFile(`${T}/trust/staging/trusted_root.json`).certificateAuthorities);

const bundle = JSON.parse(readFileSync(`${T}/bundles/prod-rekor-v1/151778311_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`, 'utf8')) as {
  verificationMaterial: { certificate: { rawBytes: string }; tlogEntries: Array<{ integratedTime: string }> };
};
const leaf = new Uint8Array(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
const leafAt = Number(bundle.verificationMaterial.tlogEntries[0]!.integratedTime);

/** A 2021 cosign entry: its certificate, read back through the decoder's side channel. */
const v2021 = JSON.parse(readFileSync(`${T}/rekor-v1-api/prod_cosign-rekor-bundle_5179_2021.json`, 'utf8')) as { Payload: { body: string; integratedTime: number } };
const oldEntry = decodeRekorV1Body(new Uint8Array(Buffer.from(v2021.Payload.body, 'base64')), { log: 'rekor', index: 5179, integratedTime: v2021.Payload.integratedTime });
const oldLeaf = certificateOf(oldEntry.signer!)!;

describe('CertificateAuthorities', () => {
  it('names the Fulcio intermediate that issued a current production certificate', () => {
    expect(prod.issuerOf(leaf, 'a', leafAt)).toBe('sigstore-intermediate');
  });
  it('names the 2021 Fulcio root that issued leaves directly, found through the decoder', () => {
    expect(oldEntry.signer?.type).toBe('x509');
    expect(prod.issuerOf(oldLeaf, 'b', v2021.Payload.integratedTime)).toBe('sigstore');
  });
  it('a Rekor v2 entry\'s certificate too (x509Certificate.rawBytes), through the decoder', () => {
    const doc = JSON.parse(readFileSync(`${T}/bundles/prod-rekor-v2/544346_dsse-0.0.2_v0.3_sigstore-js.sigstore.json`, 'utf8')) as unknown;
    const trust = loadTrustedRootFile(`${T}/trust/prod/trusted_root.json`);
    const { entry } = verifyTlogEntry(parseTlogEntries(doc)[0]!, trust);
    const der = certificateOf(entry.signer!);
    expect(der).toBeDefined();
    expect(prod.issuerOf(der!, entry.signer!.fingerprint, Date.parse('2025-10-01T00:00:00Z') / 1000)).toBe('sigstore-intermediate');
  });
  it('a Rekor v2 entry\'s certificate stays its own while later entries are decoded (the monitor checks a whole chunk after decoding it)', () => {
    const trust = loadTrustedRootFile(`${T}/trust/prod/trusted_root.json`);
    const entries = ['544346_dsse-0.0.2_v0.3_sigstore-js.sigstore.json', '4855114_hashedrekord-0.0.2_v0.3_dsse_sigstore-java.sigstore'].map((f) => {
      const doc = JSON.parse(readFileSync(`${T}/bundles/prod-rekor-v2/${f}`, 'utf8')) as { verificationMaterial: { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: Array<{ rawBytes: string }> } } };
      const vm = doc.verificationMaterial;
      const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain!.certificates[0]!.rawBytes;
      return { entry: verifyTlogEntry(parseTlogEntries(doc)[0]!, trust).entry, raw };
    });
    // Decoded one after the other, as the mirror decodes a chunk: the first's DER must not be the second's.
    expect(entries[0]!.raw).not.toBe(entries[1]!.raw);
    for (const { entry, raw } of entries) {
      expect(Buffer.from(certificateOf(entry.signer!)!).toString('base64')).toBe(raw);
      expect(prod.issuerOf(certificateOf(entry.signer!)!, entry.signer!.fingerprint, Date.parse('2025-10-01T00:00:00Z') / 1000)).toBe('sigstore-intermediate');
    }
  });
  it('only while the CA was valid: the 2021 CA ends with 2022, the current one starts in April 2022', () => {
    expect(prod.issuerOf(oldLeaf, 'b', Date.parse('2023-06-01T00:00:00Z') / 1000)).toBeNull();
    expect(prod.issuerOf(leaf, 'a', Date.parse('2022-01-01T00:00:00Z') / 1000)).toBeNull();
  });
  it('null under another deployment’s root, and for bytes that are no certificate', () => {
    expect(staging.issuerOf(leaf, 'a', leafAt)).toBeNull();
    expect(prod.issuerOf(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'c', leafAt)).toBeNull();
    expect(prod.issuerOf(leaf.subarray(0, 200), 'd', leafAt)).toBeNull();
  });
  it('a certificate that names the intermediate but is signed by another key is not issued by it', () => {
    // The signature is the certificate's last bytes: change one and the name still matches.
    const forged = leaf.slice();
    forged[forged.length - 5]! ^= 1;
    expect(prod.issuerOf(forged, 'e', leafAt)).toBeNull();
  });
  it('never throws on hostile bytes: mutated, truncated and extended real certificates give a name or null', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(leaf.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(leaf.length), fc.uint8Array({ maxLength: 16 }), (flips, cut, tail) => {
        const b = leaf.slice();
        for (const [i, v] of flips) b[i] = v;
        const bytes = new Uint8Array([...b.subarray(0, cut), ...tail]);
        const got = prod.issuerOf(bytes, `fuzz:${Buffer.from(bytes).toString('base64')}`, leafAt);
        expect(got === null || got === 'sigstore-intermediate').toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
