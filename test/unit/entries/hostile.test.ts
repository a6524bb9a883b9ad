/** Hostile bodies and certificates: decoders never throw, and say why they could not decode. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCertificateClaims } from '../../../src/entries/certificate.ts';
import { DerError } from '../../../src/entries/der.ts';
import { decodeRekorV1Body, decodeRekorV2Entry } from '../../../src/entries/decode.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const meta = { log: 'l', index: 1 };
const enc = (o: unknown) => new Uint8Array(Buffer.from(JSON.stringify(o)));
const [real] = parseTlogEntries(readJson(`${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`));
const realCert = real!.bundle!.certificate!;

describe('hostile entry bodies', () => {
  it('random bytes and arbitrary JSON never throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.json().map((j) => new Uint8Array(Buffer.from(j)))), (body) => {
        for (const decode of [decodeRekorV1Body, decodeRekorV2Entry]) {
          const e = decode(body, meta);
          expect(e.leafHash).toMatch(/^[0-9a-f]{64}$/);
          if (e.kind === 'unknown') expect(e.problem).toBeDefined();
        }
      }),
      { numRuns: 500 },
    );
  });
  it('structurally plausible bodies with wrong types report a problem', () => {
    const bodies = [
      { apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: { hash: { algorithm: 'sha256', value: 'zz' } } } },
      { apiVersion: '0.0.1', kind: 'hashedrekord', spec: { signature: { publicKey: { content: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmdhcmJhZ2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=' } } } },
      { apiVersion: '0.0.1', kind: 'dsse', spec: { signatures: 'nope' } },
      { apiVersion: '0.0.2', kind: 'hashedrekord', spec: { hashedRekordV002: { data: { algorithm: 'SHA2_256', digest: 'AA==' } } } },
      { apiVersion: 7, kind: 'hashedrekord' },
      { apiVersion: '0.0.1', kind: 'x'.repeat(100) },
      [1, 2, 3],
    ];
    for (const b of bodies) {
      const e = decodeRekorV1Body(enc(b), meta);
      const e2 = decodeRekorV2Entry(enc(b), meta);
      expect(e.problem ?? e2.problem, JSON.stringify(b).slice(0, 80)).toBeDefined();
    }
  });
  it('an unknown kind is kept with its digests', () => {
    const e = decodeRekorV1Body(enc({ apiVersion: '0.0.1', kind: 'future', spec: { x: { hash: { algorithm: 'sha256', value: 'ab'.repeat(32) } } } }), meta);
    expect(e.kind).toBe('future');
    expect(e.digests).toEqual([`sha256:${'ab'.repeat(32)}`]);
    expect(e.problem?.code).toBe('ENTRY_UNSUPPORTED_KIND');
  });
  it('a 10 MB body is refused without parsing', () => {
    const e = decodeRekorV1Body(new Uint8Array(10 * 1024 * 1024).fill(0x20), meta);
    expect(e.problem?.message).toMatch(/exceeds/);
  });
});

describe('hostile certificates', () => {
  it('mutated real DER gives a clean DerError or a valid parse, never anything else', () => {
    fc.assert(
      fc.property(fc.nat(realCert.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(realCert.length), (pos, delta, cut) => {
        const mutated = new Uint8Array(realCert);
        mutated[pos] = (mutated[pos]! + delta) % 256;
        for (const der of [mutated, realCert.subarray(0, cut)]) {
          try {
            readCertificateClaims(der);
          } catch (e) {
            expect(e instanceof DerError || e instanceof TypeError, String(e)).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
  it('rejects indefinite and non-minimal lengths', () => {
    expect(() => readCertificateClaims(new Uint8Array([0x30, 0x80, 0, 0]))).toThrow(DerError);
    expect(() => readCertificateClaims(new Uint8Array([0x30, 0x81, 0x01, 0]))).toThrow(DerError);
    expect(() => readCertificateClaims(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]))).toThrow(DerError);
  });
});

describe('tlog entry inputs', () => {
  it('names what is wrong', () => {
    expect(() => parseTlogEntries('x')).toThrow(/expected a JSON object or array/);
    expect(() => parseTlogEntries({ a: 1 })).toThrow(/not a Sigstore bundle/);
    const b = readJson(`${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`) as any;
    b.verificationMaterial.tlogEntries[0].canonicalizedBody = 'not base64!';
    expect(() => parseTlogEntries(b)).toThrow(/tlogEntries\[0\]\.canonicalizedBody: expected standard base64/);
  });
});
