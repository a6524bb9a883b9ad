/**
 * Every real entry in test/fixtures/realdata decodes to the facts INVENTORY.md lists, and every real
 * signed entry timestamp verifies with the real Rekor keys from the trusted roots.
 */
import { describe, expect, it } from 'vitest';
import { ClaimsCache, readCertificateClaims } from '../../../src/entries/certificate.ts';
import { decodeAnyBody } from '../../../src/entries/decode.ts';
import { verifySET } from '../../../src/entries/set.ts';
import { parseTlogEntries, type TlogEntryInput } from '../../../src/entries/tlog-entry.ts';
import { toHex } from '../../../src/util/bytes.ts';
import { findTlogByKeyId, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { filesUnder, inInputDir, inventory, type InventoryRow, readJson, REALDATA } from '../../helpers/realdata.ts';

const rows = inventory();
const byFile = new Map<string, InventoryRow[]>();
for (const r of rows) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);

/**
 * Inputs whose certificate belongs to another signing than their log entry: upstream negative cases
 * (conformance *_fail bundles, the CVE-2022-36056 cosign bundles) and a derived body edit.
 */
const SWAPPED = /151778311|151778873|cve-2022-36056|cosign-legacy-bundle_820247359|tampered-body-public-key/;
const iso = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000', '');

describe('decoding every real entry listed in INVENTORY.md', () => {
  it('covers the inventory', () => expect(rows.length).toBeGreaterThanOrEqual(85));
  const certs = new ClaimsCache();
  for (const [file, group] of byFile) {
    it(file, () => {
      if (file.includes('bad-mediatype')) {
        expect(() => parseTlogEntries(readJson(`${REALDATA}/${file}`))).toThrow(/unsupported bundle mediaType "this is completely wrong"/);
        return;
      }
      const inputs = parseTlogEntries(readJson(`${REALDATA}/${file}`));
      expect(inputs.length).toBe(group.length);
      for (const row of group) {
        const e = inputs.find((x) => x.logIndex.toString() === row.logIndex);
        expect(e, `logIndex ${row.logIndex}`).toBeDefined();
        checkRow(e!, row, file, certs);
      }
    });
  }
});

function checkRow(e: TlogEntryInput, row: InventoryRow, file: string, certs: ClaimsCache): void {
  const entry = decodeAnyBody(e.body, { log: 'x', index: Number(e.logIndex) }, e.kind, e.version, { certificates: certs });
  expect(entry.problem).toBeUndefined();
  expect(`${entry.kind}/${entry.apiVersion}`).toBe(`${row.kind}/${row.version}`);
  expect(`${e.kind}/${e.version}`).toBe(`${row.kind}/${row.version}`);
  expect(entry.digests.length).toBeGreaterThan(0);
  for (const d of entry.digests) expect(d).toMatch(/^sha(256|384|512):[0-9a-f]+$/);
  if (e.entryId) expect(e.entryId.slice(-64)).toBe(entry.uuid);
  if (row.proofIndex) expect(e.inclusionProof?.logIndex.toString()).toBe(row.proofIndex);
  if (row.treeSize && e.inclusionProof) expect(e.inclusionProof.treeSize.toString()).toBe(row.treeSize);
  if (row.integratedTime === '(none)') expect(e.integratedTime).toBeUndefined();
  else expect(iso(e.integratedTime!)).toBe(row.integratedTime);
  expect(e.set !== undefined).toBe(row.set);

  const bundleCert = e.bundleContent?.certificate;
  if (bundleCert && SWAPPED.test(file)) {
    // verify's body check is what catches these: the body names another signer than the bundle.
    expect(entry.signer?.fingerprint).not.toBe(readCertificateClaims(bundleCert).fingerprint);
    return;
  }
  if (bundleCert) expect(entry.signer?.fingerprint, 'body signer = bundle certificate').toBe(readCertificateClaims(bundleCert).fingerprint);
  if (row.san.startsWith('(public key') || (row.san === '' && e.bundleContent?.publicKeyHint !== undefined)) {
    expect(entry.signer?.type).toBe('key');
  } else if (row.san.startsWith('(jar')) {
    expect(entry.signer?.type).toBe('x509');
  } else if (row.san !== '') {
    expect(entry.signer?.type).toBe('x509');
    expect(entry.signer?.san).toBe(row.san);
    expect(entry.signer?.issuer).toBe(row.issuer || undefined);
  }
  if (row.repositoryURI) expect(entry.signer?.fulcio?.sourceRepositoryURI).toBe(row.repositoryURI);
  if (entry.signer?.type === 'x509') expect(entry.signer.notBefore! < entry.signer.notAfter!).toBe(true);
}

describe('signed entry timestamps of every real entry', () => {
  const roots = filesUnder(`${REALDATA}/trust`, (f) => f.includes('trusted_root')).map((f) => parseTrustedRoot(readJson(f)));
  const keyFor = (logId: Uint8Array) => roots.map((r) => findTlogByKeyId(r, logId)).find(Boolean);
  const files = filesUnder(REALDATA, (f) => inInputDir(f) || /derived-negative\/.*\.sigstore\.json$/.test(f));
  /** Derived negatives whose SET must fail: a re-signed SET, and a body edited after signing. */
  const MUST_FAIL = /27246492_set-invalid-signature|27246492_tampered-body-public-key/;

  it('verify against the prod and staging Rekor keys, with the virtual log index', () => {
    let verified = 0;
    for (const f of files) {
      let inputs: TlogEntryInput[];
      try {
        inputs = parseTlogEntries(readJson(f));
      } catch {
        continue; // files that are not tlog-entry inputs are covered by tlog-entry.test.ts
      }
      for (const e of inputs.filter((x) => x.set)) {
        const tlog = keyFor(e.logId);
        expect(tlog, `${f}: no trusted key for logID ${toHex(e.logId)}`).toBeDefined();
        const input = { body: e.body, integratedTime: e.integratedTime!, logId: e.logId, logIndex: e.logIndex, set: e.set! };
        if (MUST_FAIL.test(f)) {
          expect(() => verifySET(input, tlog!.spki), f).toThrow(/does not verify/);
          continue;
        }
        verifySET(input, tlog!.spki);
        verified++;
        // The shard-local proof index is NOT what Rekor signs (reference/rekor.md §1.7).
        const local = e.inclusionProof?.logIndex;
        if (local !== undefined && local !== e.logIndex) expect(() => verifySET({ ...input, logIndex: local }, tlog!.spki)).toThrow(/SET_INVALID|does not verify/);
      }
    }
    expect(verified).toBeGreaterThanOrEqual(60);
  });
});
