/**
 * The simulator looks like the real logs, field by field: responses, bodies, checkpoints, trusted root
 * and Fulcio certificates are compared with the real ones in test/fixtures/realdata; signatures in
 * entries are real; builds are deterministic in the seed.
 */
import { createHash, X509Certificate as NodeX509, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { X509Certificate } from '@sigstore/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCertificateClaims } from '../../../src/entries/certificate.ts';
import { FULCIO_OIDS } from '../../../src/entries/types.ts';
import { entriesPath } from '../../../src/merkle/tiles.ts';
import { parseNote } from '../../../src/note/note.ts';
import { parseEntryBundle } from '../../../src/sources/tiles.ts';
import { pae } from '../../sim/bodies.ts';
import { artifactBytes } from '../../sim/generate.ts';
import type { Simulator } from '../../sim/index.ts';
import { REALDATA, readJson } from '../../helpers/realdata.ts';
import { bytes, getJson, hex, manifest, sim, stopAll, shape, trustOf } from './helpers.ts';

afterAll(stopAll);

const realBody = (bundle: string) => JSON.parse(Buffer.from((readJson(`${REALDATA}/bundles/${bundle}`) as any).verificationMaterial.tlogEntries[0].canonicalizedBody, 'base64').toString()) as unknown;
const realCert = (bundle: string): Buffer<ArrayBuffer> => Buffer.from((readJson(`${REALDATA}/bundles/${bundle}`) as any).verificationMaterial.certificate.rawBytes, 'base64');
const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64').toString());
const certOf = (body: any): Buffer | undefined => {
  const pem = body.spec.signature?.publicKey?.content ?? body.spec.signatures?.[0]?.verifier ?? body.spec.content?.envelope?.signatures?.[0]?.publicKey;
  const v2 = body.spec.hashedRekordV002?.signature?.verifier ?? body.spec.dsseV002?.signatures?.[0]?.verifier;
  if (v2) return v2.x509Certificate ? Buffer.from(v2.x509Certificate.rawBytes, 'base64') : undefined;
  const text = Buffer.from(pem, 'base64').toString();
  return text.includes('CERTIFICATE') ? Buffer.from(text.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64') : undefined;
};

let v1: Simulator;
let tiles: Simulator;
let v1Entries: Array<[string, any]>;
let tileBodies: any[];
beforeAll(async () => {
  v1 = await sim({ api: 'v1', entries: 300, seed: 'realism', shards: 2 });
  tiles = await sim({ api: 'tiles', entries: 256, seed: 'realism' });
  v1Entries = [];
  for (let i = 0; i < 300; i += 10) v1Entries.push(...(await (await fetch(`${v1.url}/api/v1/log/entries/retrieve`, { method: 'POST', body: JSON.stringify({ logIndexes: Array.from({ length: 10 }, (_, k) => i + k) }) })).json() as Array<Record<string, any>>).map((x) => Object.entries(x)[0]!));
  tileBodies = parseEntryBundle(await bytes(`${tiles.url}/${entriesPath(0n)}`)).map((b) => JSON.parse(Buffer.from(b).toString()));
});

describe('shapes of real Rekor responses', () => {
  it('LogInfo, LogEntry and ConsistencyProof have the real key sets, value types and key order', async () => {
    const info = await getJson(`${v1.url}/api/v1/log`);
    const real = readJson(`${REALDATA}/rekor-v1-api/staging_loginfo_8202293616175992157_size1352764.json`) as any;
    expect(shape(info)).toEqual(shape(real));
    expect(Object.keys(info)).toEqual(Object.keys(real));
    const realEntry = Object.values(readJson(`${REALDATA}/rekor-v1-api/staging_entry_1688_shard108574341321668964.json`) as object)[0];
    const [id, entry] = v1Entries.find(([, e]) => b64json(e.body).kind === 'hashedrekord')!;
    expect(id).toMatch(/^[0-9a-f]{80}$/);
    expect(shape(entry)).toEqual(shape(realEntry));
    expect(Object.keys(entry)).toEqual(Object.keys(realEntry));
    expect(Object.keys(entry.verification.inclusionProof)).toEqual(Object.keys(realEntry.verification.inclusionProof));
    const [, withAttestation] = v1Entries.find(([, e]) => b64json(e.body).kind !== 'hashedrekord')!;
    expect(Object.keys(withAttestation)).toEqual(['attestation', ...Object.keys(realEntry)]); // openapi LogEntry: attestation{data}
    expect(shape(withAttestation.attestation)).toEqual({ data: 'string' });
    const proof = await getJson(`${v1.url}/api/v1/log/proof?firstSize=3&lastSize=140`);
    expect(shape(proof)).toEqual(shape(readJson(`${REALDATA}/rekor-v1-api/staging_consistency-proof_8202293616175992157_1352760-1352764.json`)));
  });

  it('bodies of every kind have the real bodies\' fields and types', () => {
    const v1Bodies = v1Entries.map(([, e]) => b64json(e.body));
    const of = (bodies: any[], kind: string, pred: (b: any) => boolean = () => true) => bodies.find((b) => b.kind === kind && pred(b));
    expect(shape(of(v1Bodies, 'hashedrekord'))).toEqual(shape(realBody('prod-rekor-v1/151778311_hashedrekord-0.0.1_v0.3_conformance.sigstore.json')));
    expect(shape(of(v1Bodies, 'dsse'))).toEqual(shape(realBody('prod-rekor-v1/155690847_dsse-0.0.1_v0.3_conformance.sigstore.json')));
    expect(shape(of(v1Bodies, 'intoto'))).toEqual(shape(realBody('prod-rekor-v1/31821305_intoto-0.0.2_v0.1_sigstore.js-2.0.0-provenance.sigstore.json')));
    const v2 = (f: string) => b64json((readJson(`${REALDATA}/rekor-v2-api/${f}`) as any).canonicalizedBody);
    expect(shape(of(tileBodies, 'hashedrekord', (b) => b.spec.hashedRekordV002.signature.verifier.x509Certificate))).toEqual(shape(v2('staging_alpha1_tlog-entry_743.json')));
    expect(shape(of(tileBodies, 'hashedrekord', (b) => b.spec.hashedRekordV002.signature.verifier.publicKey))).toEqual(shape(v2('prod_log2025-1_create-entry-response_412114.json')));
    expect(shape(of(tileBodies, 'dsse'))).toEqual(shape(realBody('prod-rekor-v2/544346_dsse-0.0.2_v0.3_sigstore-js.sigstore.json')));
  });

  it('checkpoints are laid out as production\'s: origin, size, root, blank line, em-dash signature lines with the key hint', async () => {
    const info = await getJson(`${v1.url}/api/v1/log`);
    const real = (readJson(`${REALDATA}/rekor-v1-api/prod_loginfo_1193050959916656506_size266676745.json`) as any).signedTreeHead as string;
    const layout = (note: string) => note.replace(/^[^\n]+ - \d+\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 [^ \n]+ [A-Za-z0-9+/]+=*\n$/, 'OK');
    expect(layout(real)).toBe('OK');
    expect(layout(info.signedTreeHead)).toBe('OK');
    const sig = parseNote(info.signedTreeHead).signatures[0]!;
    expect(hex(sig.keyHash)).toBe(hex(trustOf(v1).tlog.keyId).slice(0, 8)); // as c0d23d6a = logID[:4] in production
    const t = parseNote(await (await fetch(`${tiles.url}/checkpoint`)).text()).signatures[0]!;
    expect(hex(t.keyHash)).toBe(hex(trustOf(tiles).tlog.keyId).slice(0, 8));
    expect(t.signature).toHaveLength(64);
  });

  it('the trusted root has the shape of the staging trusted_root.json and parses as tlogwatch reads it', () => {
    const real = readJson(`${REALDATA}/trust/staging/trusted_root.json`) as any;
    for (const s of [v1, tiles]) {
      const mine = JSON.parse(readFileSync(s.trustedRootPath, 'utf8'));
      expect(mine.mediaType).toBe(real.mediaType);
      expect(shape(mine.tlogs[0])).toEqual(shape(real.tlogs[0]));
      expect(shape(mine.certificateAuthorities[0])).toEqual(shape(real.certificateAuthorities[0]));
      expect(mine.tlogs[0].publicKey.validFor.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(mine.certificateAuthorities[0].certChain.certificates).toHaveLength(2);
    }
  });

  it('the manifest has exactly the documented keys, in order, null where absent', () => {
    const keys = ['index', 'uuid', 'kind', 'digests', 'san', 'issuer', 'repository', 'buildSigner', 'integratedTime'];
    for (const line of [...manifest(v1), ...manifest(tiles)]) expect(Object.keys(line)).toEqual(keys);
    const m = manifest(v1);
    expect(m.some((l) => l.san === null && l.issuer === null && l.repository === null)).toBe(true); // plain keys
    expect(m.some((l) => l.san?.includes('@') && !l.san.includes('://') && l.repository === null)).toBe(true); // people
    expect(m.every((l) => Number.isInteger(l.integratedTime) && l.digests.every((d) => /^sha256:[0-9a-f]{64}$/.test(d)))).toBe(true);
  });
});

describe('simulated Fulcio', () => {
  it('issues a chain root → intermediate → 10-minute leaves that cover the entry\'s integrated time', () => {
    const root = JSON.parse(readFileSync(v1.trustedRootPath, 'utf8')).certificateAuthorities[0].certChain.certificates.map((c: any) => new NodeX509(Buffer.from(c.rawBytes, 'base64')));
    const [intermediate, rootCA] = root as [NodeX509, NodeX509];
    expect(rootCA.verify(rootCA.publicKey)).toBe(true);
    expect(intermediate.checkIssued(rootCA)).toBe(true);
    expect(intermediate.verify(rootCA.publicKey)).toBe(true);
    expect(intermediate.ca && rootCA.ca).toBe(true);
    let leaves = 0;
    for (const [, e] of v1Entries) {
      const der = certOf(b64json(e.body));
      if (!der) continue;
      leaves++;
      const leaf = new NodeX509(der);
      expect(leaf.checkIssued(intermediate)).toBe(true);
      expect(leaf.verify(intermediate.publicKey)).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(leaf.subject ?? '').toBe(''); // Fulcio leaves have an empty subject
      const [from, to] = [Date.parse(leaf.validFrom) / 1000, Date.parse(leaf.validTo) / 1000];
      expect(to - from).toBe(600);
      expect(e.integratedTime).toBeGreaterThanOrEqual(from);
      expect(e.integratedTime).toBeLessThan(to);
    }
    expect(leaves).toBeGreaterThan(200);
  });

  it('writes the Fulcio extensions as a real GitHub Actions certificate does: same OIDs, criticality and encodings', () => {
    const real = X509Certificate.parse(realCert('prod-rekor-v1/95781729_dsse-0.0.1_v0.3_gh-attestation-shared-workflow.sigstore.json'));
    const [, e] = v1Entries.find(([, x]) => certOf(b64json(x.body)) && b64json(x.body).kind === 'hashedrekord' && manifest(v1)[x.logIndex]!.repository)!;
    const mine = X509Certificate.parse(Buffer.from(certOf(b64json(e.body))!));
    const exts = (c: X509Certificate) =>
      new Map(
        c.extensions.map((x) => {
          const oid = x.subs[0]!.toOID();
          const ext = c.extension(oid)!;
          const arc = oid.startsWith('1.3.6.1.4.1.57264.1.') ? Number(oid.split('.').pop()) : 0;
          const enc = arc >= 1 && arc <= 6 ? (ext.value[0] === 0x0c ? 'utf8string!' : 'raw') : arc >= 8 ? (ext.value[0] === 0x0c ? 'utf8string' : 'other!') : 'x509';
          return [oid, `${ext.critical ? 'critical ' : ''}${enc}`];
        }),
      );
    const theirs = exts(real);
    const ours = exts(mine);
    theirs.delete('1.3.6.1.4.1.11129.2.4.2'); // the SCT list: the simulation has no CT log
    for (const [oid, how] of ours) if (theirs.has(oid)) expect(`${oid} ${how}`).toBe(`${oid} ${theirs.get(oid)}`);
    for (const oid of theirs.keys()) expect(ours.has(oid), `our certificate lacks ${oid}`).toBe(true);
    expect(mine.subjectAltName).toMatch(/^https:\/\/github\.com\//);
    // tlogwatch's reader gets the claims the manifest promises.
    const claims = readCertificateClaims(new Uint8Array(certOf(b64json(e.body))!));
    const line = manifest(v1)[e.logIndex]!;
    expect([claims.san, claims.issuer, claims.fulcio.sourceRepositoryURI, claims.fulcio.buildSignerURI]).toEqual([line.san, line.issuer, line.repository, line.buildSigner]);
    expect(Object.keys(claims.fulcio).length).toBeGreaterThanOrEqual(Object.keys(FULCIO_OIDS).length - 4);
  });

  it('varies GitHub identities across organisations, workflows, refs, triggers and runners, and has Google and GitHub email identities', () => {
    const claims = v1Entries.map(([, e]) => certOf(b64json(e.body))).filter((d) => d !== undefined).map((d) => readCertificateClaims(new Uint8Array(d)));
    const distinct = (f: (c: (typeof claims)[number]) => string | undefined) => new Set(claims.map(f).filter((x) => x !== undefined)).size;
    expect(distinct((c) => c.fulcio.sourceRepositoryOwnerURI)).toBeGreaterThan(5);
    expect(distinct((c) => c.fulcio.buildConfigURI?.replace(/@.*/, ''))).toBeGreaterThan(10);
    expect(distinct((c) => c.fulcio.sourceRepositoryRef)).toBeGreaterThan(5);
    expect(distinct((c) => c.fulcio.buildTrigger)).toBeGreaterThan(2);
    expect(distinct((c) => c.issuer)).toBe(3);
  });
});

describe('signatures in entries', () => {
  it('verify over the artifact (hashedrekord), the DSSE PAE of the attestation (dsse) and the double-base64 intoto signature', () => {
    let checked = 0;
    for (const [, e] of v1Entries) {
      const body = b64json(e.body);
      const der = certOf(body);
      const keyPem = der ? new NodeX509(der).publicKey : Buffer.from(body.spec.signature?.publicKey?.content ?? body.spec.signatures?.[0]?.verifier ?? body.spec.content.envelope.signatures[0].publicKey, 'base64').toString();
      const alg = typeof keyPem === 'string' && keyPem.includes('MCowBQYDK2Vw') ? null : 'sha256';
      if (body.kind === 'hashedrekord') {
        const artifact = artifactBytes('realism', e.logIndex);
        expect(body.spec.data.hash.value).toBe(createHash('sha256').update(artifact).digest('hex'));
        expect(verify(alg, artifact, keyPem, Buffer.from(body.spec.signature.content, 'base64'))).toBe(true);
      } else {
        const statement = Buffer.from(e.attestation.data, 'base64');
        const sig = body.kind === 'dsse' ? Buffer.from(body.spec.signatures[0].signature, 'base64') : Buffer.from(Buffer.from(body.spec.content.envelope.signatures[0].sig, 'base64').toString(), 'base64');
        expect(verify(alg, pae('application/vnd.in-toto+json', statement), keyPem, sig)).toBe(true);
      }
      checked++;
    }
    expect(checked).toBe(300);
    for (const [i, body] of tileBodies.entries()) {
      if (body.kind !== 'hashedrekord') continue;
      const v = body.spec.hashedRekordV002.signature.verifier;
      const key = v.x509Certificate ? new NodeX509(Buffer.from(v.x509Certificate.rawBytes, 'base64')).publicKey : `-----BEGIN PUBLIC KEY-----\n${v.publicKey.rawBytes}\n-----END PUBLIC KEY-----\n`;
      expect(verify(v.keyDetails === 'PKIX_ED25519' ? null : 'sha256', artifactBytes('realism', i), key, Buffer.from(body.spec.hashedRekordV002.signature.content, 'base64'))).toBe(true);
    }
  });
});
