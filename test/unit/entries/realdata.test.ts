/** Every real entry in the fixtures decodes to the facts INVENTORY.md lists; SETs verify with the real keys. */
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCertificateClaims } from '../../../src/entries/certificate.ts';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { FULCIO_OIDS } from '../../../src/entries/types.ts';
import { findTlogByKeyId, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { filesUnder, inventory, readJson, REALDATA } from '../../helpers/realdata.ts';

const rows = inventory();
const roots = filesUnder(`${REALDATA}/trust`, (f) => f.includes('trusted_root')).map((f) => parseTrustedRoot(readJson(f)));

describe('decoding every real entry', () => {
  it('covers the inventory', () => expect(rows.length).toBeGreaterThan(80));
  for (const [file, group] of Object.entries(Object.groupBy(rows, (r) => r.file))) {
    it(file, () => {
      if (file.includes('bad-mediatype')) {
        expect(() => parseTlogEntries(readJson(`${REALDATA}/${file}`))).toThrow(/unsupported bundle mediaType/);
        return;
      }
      const entries = parseTlogEntries(readJson(`${REALDATA}/${file}`));
      for (const row of group!) {
        const e = entries.find((x) => x.logIndex.toString() === row.logIndex)!;
        expect(e, `logIndex ${row.logIndex}`).toBeDefined();
        const entry = decodeAnyBody(e.body, { log: 'x', index: Number(e.logIndex) }, e.kind, e.version);
        expect(entry.problem).toBeUndefined();
        expect(entry.kind).toBe(row.kind);
        expect(entry.apiVersion).toBe(row.version);
        expect(entry.digests.length).toBeGreaterThan(0);
        for (const d of entry.digests) expect(d).toMatch(/^sha(256|384|512):[0-9a-f]+$/);
        // INVENTORY's identity comes from the bundle's certificate when there is one; the conformance
        // "_fail" bundles pair a certificate with another signing's entry (verify's body check catches it).
        const mismatched = /151778311|151778873|cve-2022-36056|tampered-body-public-key/.test(file);
        const signer = e.bundle?.certificate ? readCertificateClaims(e.bundle.certificate) : entry.signer;
        if (e.bundle?.certificate && !mismatched) expect(entry.signer?.fingerprint).toBe(signer?.fingerprint);
        if (mismatched) expect(entry.signer?.fingerprint).not.toBe(readCertificateClaims(e.bundle!.certificate!).fingerprint);
        if (row.san.startsWith('(public key')) {
          expect(entry.signer?.type).toBe('key');
        } else if (row.san && !row.san.startsWith('(')) {
          expect(signer?.san).toBe(row.san);
          expect(signer?.issuer).toBe(row.issuer || undefined);
        }
        if (row.repository) expect(signer && 'fulcio' in signer ? signer.fulcio?.sourceRepositoryURI : undefined).toBe(`https://github.com/${row.repository}`);
        if (e.integratedTime !== undefined) expect(new Date(Number(e.integratedTime) * 1000).toISOString().replace('.000', '')).toBe(row.integratedTime);
      }
    });
  }
});

describe('signed entry timestamps', () => {
  const withSet = rows.filter((r) => r.set && !r.file.includes('derived-negative') && !r.file.includes('bad-mediatype'));
  it('verify for every real entry that has one', () => {
    let n = 0;
    for (const row of withSet) {
      for (const e of parseTlogEntries(readJson(`${REALDATA}/${row.file}`)).filter((x) => x.logIndex.toString() === row.logIndex && x.set)) {
        const tlog = roots.map((r) => findTlogByKeyId(r, e.logId)).find(Boolean);
        expect(tlog, row.file).toBeDefined();
        verifySET({ body: e.body, integratedTime: e.integratedTime!, logId: e.logId, logIndex: e.logIndex, set: e.set! }, tlog!.spki);
        n++;
      }
    }
    expect(n).toBeGreaterThan(50);
  });
  it('fails on the derived negative and on tampering', () => {
    const [e] = parseTlogEntries(readJson(`${REALDATA}/derived-negative/27246492_set-invalid-signature.sigstore.json`));
    const tlog = roots.map((r) => findTlogByKeyId(r, e!.logId)).find(Boolean)!;
    expect(() => verifySET({ body: e!.body, integratedTime: e!.integratedTime!, logId: e!.logId, logIndex: e!.logIndex, set: e!.set! }, tlog.spki)).toThrow(/does not verify/);
    const [good] = parseTlogEntries(readJson(`${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`));
    const input = { body: good!.body, integratedTime: good!.integratedTime!, logId: good!.logId, logIndex: good!.logIndex, set: good!.set! };
    expect(() => verifySET(input, tlog.spki)).not.toThrow();
    expect(() => verifySET({ ...input, logIndex: input.logIndex + 1n }, tlog.spki)).toThrow();
    expect(() => verifySET({ ...input, integratedTime: input.integratedTime + 1n }, tlog.spki)).toThrow();
    const body = new Uint8Array(input.body);
    body[10] ^= 1;
    expect(() => verifySET({ ...input, body }, tlog.spki)).toThrow();
  });
});

describe('certificate claims equal @sigstore/core on every real certificate', () => {
  const ders: Uint8Array[] = [];
  for (const f of filesUnder(REALDATA, (p) => /\.(json|sigstore)$/.test(p))) {
    let entries;
    try {
      entries = parseTlogEntries(readJson(f));
    } catch {
      continue;
    }
    for (const e of entries) if (e.bundle?.certificate) ders.push(e.bundle.certificate);
  }
  for (const f of filesUnder(REALDATA, (p) => p.endsWith('.pem'))) {
    for (const block of readFileSync(f, 'utf8').split('-----END CERTIFICATE-----').filter((b) => b.includes('BEGIN'))) {
      ders.push(new Uint8Array(Buffer.from(block.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')));
    }
  }
  it(`checks ${ders.length} certificates`, () => {
    expect(ders.length).toBeGreaterThan(60);
    for (const der of ders) {
      const mine = readCertificateClaims(der);
      const ref = X509Certificate.parse(Buffer.from(der));
      expect(mine.notBefore).toBe(ref.notBefore.getTime() / 1000);
      expect(mine.notAfter).toBe(ref.notAfter.getTime() / 1000);
      const refSan = ref.extSubjectAltName?.uri ?? ref.extSubjectAltName?.rfc822Name ?? ref.extSubjectAltName?.otherName(FULCIO_OIDS.otherNameSan);
      expect(mine.san).toBe(refSan);
      for (const [name, oid] of Object.entries(FULCIO_OIDS)) {
        if (name === 'otherNameSan') continue;
        const ext = ref.extension(oid);
        const arc = Number(oid.split('.').pop());
        const want = ext === undefined ? undefined : arc <= 6 ? ext.value.toString('utf8') : ASN1Obj.parseBuffer(ext.value).value.toString('utf8');
        expect(mine.fulcio[name as keyof typeof FULCIO_OIDS], name).toBe(want);
      }
    }
  });
});
