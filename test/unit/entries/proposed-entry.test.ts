/**
 * canonicalProposedEntry against Rekor itself: every real hashedrekord 0.0.1 body in the fixtures is what
 * the log made of the entry its client proposed, so a proposal rebuilt from the bundle's own content (as
 * cosign and sigstore-js build one) must canonicalize to exactly that body, however its PEM is wrapped.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalProposedEntry } from '../../../src/entries/proposed-entry.ts';
import { TlogwatchError } from '../../../src/errors.ts';
import { filesUnder, readJson, REALDATA } from '../../helpers/realdata.ts';

const files = filesUnder(`${REALDATA}/bundles/prod-rekor-v1`, (f) => f.includes('hashedrekord-0.0.1'));

interface Case {
  file: string;
  body: Buffer;
  /** What a client proposes from the bundle: its digest, signature and leaf certificate (or the body's key). */
  proposal: { apiVersion: string; kind: string; spec: { data: { hash: { algorithm: string; value: string } }; signature: { content: string; publicKey: { content: string } } } };
}

const all: Array<Case & { consistent: boolean }> = files.map((file) => {
  const b = readJson(file) as any;
  const t = b.verificationMaterial.tlogEntries[0];
  const body = Buffer.from(t.canonicalizedBody, 'base64');
  const logged = JSON.parse(body.toString());
  const vm = b.verificationMaterial;
  const cert: string | undefined = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
  const pem = cert ? `-----BEGIN CERTIFICATE-----\n${cert.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n` : Buffer.from(logged.spec.signature.publicKey.content, 'base64').toString();
  const d = b.messageSignature.messageDigest;
  return {
    file,
    body,
    // Some conformance cases pair a logged body with another signature and certificate on purpose.
    consistent: logged.spec.signature.content === b.messageSignature.signature,
    proposal: {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: d.algorithm.toLowerCase().replace('sha2_', 'sha'), value: Buffer.from(d.digest, 'base64').toString('hex') } },
        signature: { content: b.messageSignature.signature, publicKey: { content: Buffer.from(pem).toString('base64') } },
      },
    },
  };
});

const cases: Case[] = all.filter((c) => c.consistent);

/** The proposal with its PEM wrapped another way: line width, CRLF, no final newline, text around it. */
function rewrapped(c: Case, width: number, crlf: boolean, finalNewline: boolean, preamble: string): Case['proposal'] {
  const pem = Buffer.from(c.proposal.spec.signature.publicKey.content, 'base64').toString();
  const nl = crlf ? '\r\n' : '\n';
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)-----END \1-----/g)].map((m) => {
    const b64 = m[2]!.replace(/\s+/g, '');
    const lines = b64.match(new RegExp(`.{1,${width}}`, 'g'))!;
    return [`-----BEGIN ${m[1]}-----`, ...lines, `-----END ${m[1]}-----`].join(nl);
  });
  const text = preamble + blocks.join(nl) + (finalNewline ? nl : '');
  return structuredClone({ ...c.proposal, spec: { ...c.proposal.spec, signature: { ...c.proposal.spec.signature, publicKey: { content: Buffer.from(text).toString('base64') } } } });
}

describe('canonicalProposedEntry', () => {
  it('has real entries to check against, with certificates and with a key', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect(all.length - cases.length).toBe(3);
    expect(cases.some((c) => c.file.includes('pubkey'))).toBe(true);
  });
  it.each(cases.map((c) => [c.file.split('/').pop()!, c] as const))('rebuilds the body Rekor logged: %s', (_, c) => {
    expect(Buffer.from(canonicalProposedEntry(c.proposal)).toString()).toBe(c.body.toString());
  });
  it('gives the logged body back for the logged body itself', () => {
    for (const c of all) expect(Buffer.from(canonicalProposedEntry(JSON.parse(c.body.toString()))).equals(c.body)).toBe(true);
  });
  it('whatever the PEM wrapping (a property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.integer({ min: 4, max: 120 }), fc.boolean(), fc.boolean(), fc.constantFrom('', 'subject=CN=x\n', '\n\n'), (c, width, crlf, fin, pre) => {
        expect(Buffer.from(canonicalProposedEntry(rewrapped(c, width - (width % 4), crlf, fin, pre))).equals(c.body)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
  it('reads key content as Rekor does: a chain relabelled, base64 with line breaks', () => {
    const c = cases.find((x) => !x.file.includes('pubkey'))!;
    const pem = Buffer.from(c.proposal.spec.signature.publicKey.content, 'base64').toString();
    const der = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    // Two blocks: Rekor reads both as certificates of a chain, whatever their labels, each re-encoded.
    const chain = `${pem}-----BEGIN TRUSTED CERTIFICATE-----  \n${der}\n-----END TRUSTED CERTIFICATE-----\n`;
    const p = structuredClone(c.proposal);
    p.spec.signature.publicKey.content = Buffer.from(chain).toString('base64');
    const body = JSON.parse(Buffer.from(canonicalProposedEntry(p)).toString());
    expect(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString()).toBe(pem + pem);
    // Headers before the base64, and a broken block before the good one, as Go's pem.Decode reads them.
    const withHeaders = pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\nComment: x\n');
    p.spec.signature.publicKey.content = Buffer.from(`-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n${withHeaders}`).toString('base64');
    expect(Buffer.from(canonicalProposedEntry(p)).equals(c.body)).toBe(true);
    // One block followed by anything (a blank line) is a chain of one: the same PEM.
    p.spec.signature.publicKey.content = Buffer.from(`${pem}\n`).toString('base64');
    expect(Buffer.from(canonicalProposedEntry(p)).equals(c.body)).toBe(true);
    // Base64 wrapped at 76 columns (the base64 command's output), as Go's decoder takes it.
    const wrapped = structuredClone(c.proposal);
    wrapped.spec.signature.content = wrapped.spec.signature.content.match(/.{1,76}/g)!.join('\n');
    wrapped.spec.signature.publicKey.content = wrapped.spec.signature.publicKey.content.match(/.{1,76}/g)!.join('\r\n');
    expect(Buffer.from(canonicalProposedEntry(wrapped)).equals(c.body)).toBe(true);
  });
  it('ignores fields Rekor drops when it canonicalizes', () => {
    const c = cases[0]!;
    const extra = structuredClone(c.proposal) as any;
    extra.spec.data.content = 'aGVsbG8=';
    extra.spec.signature.publicKey.format = 'x509';
    expect(Buffer.from(canonicalProposedEntry(extra)).equals(c.body)).toBe(true);
  });
  it('refuses other kinds, and malformed proposals, naming the field', () => {
    const c = cases[0]!;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof TlogwatchError ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(code(() => canonicalProposedEntry({ ...c.proposal, kind: 'intoto' }))).toMatch(/^ENTRY_UNSUPPORTED_KIND: .*only hashedrekord 0\.0\.1/);
    expect(code(() => canonicalProposedEntry({ ...c.proposal, apiVersion: '0.0.2' }))).toMatch(/^ENTRY_UNSUPPORTED_KIND/);
    const bad = (edit: (p: any) => void) => {
      const p = structuredClone(c.proposal) as any;
      edit(p);
      return code(() => canonicalProposedEntry(p));
    };
    expect(bad((p) => (p.spec.data.hash.value = 'abc'))).toMatch(/^ENTRY_MALFORMED: .*spec\.data\.hash\.value must be 64 hex digits/);
    expect(bad((p) => (p.spec.data.hash.algorithm = 'md5'))).toMatch(/spec\.data\.hash\.algorithm/);
    expect(bad((p) => (p.spec.signature.content = 'not base64!'))).toMatch(/spec\.signature\.content must be non-empty base64/);
    expect(bad((p) => (p.spec.signature.publicKey.content = Buffer.from('no pem here').toString('base64')))).toMatch(/must be a PEM certificate or public key/);
    expect(bad((p) => (p.spec.signature.publicKey.content = Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n').toString('base64')))).toMatch(/not a public key it can read/);
    expect(bad((p) => delete p.spec.signature)).toMatch(/spec\.signature must be an object/);
    // Rekor takes a single block of CERTIFICATE or PUBLIC KEY only.
    const rsa = Buffer.from('-----BEGIN RSA PUBLIC KEY-----\nMAoCAwEAAQIDAQAB\n-----END RSA PUBLIC KEY-----').toString('base64');
    expect(bad((p) => (p.spec.signature.publicKey.content = rsa))).toMatch(/holds a RSA PUBLIC KEY block: Rekor takes a CERTIFICATE or PUBLIC KEY/);
    // Many unterminated BEGIN lines: one pass, then refused (no quadratic scan); longer content is refused unread.
    const begins = Buffer.from('-----BEGIN A-----\n'.repeat(2_500)).toString('base64');
    expect(bad((p) => (p.spec.signature.publicKey.content = begins))).toMatch(/must be a PEM certificate or public key/);
    const noLines = Buffer.from(`${'-----BEGIN X'.repeat(4_000)}\n`).toString('base64');
    expect(bad((p) => (p.spec.signature.publicKey.content = noLines))).toMatch(/must be a PEM certificate or public key/);
    const huge = Buffer.from('-----BEGIN A-----\n'.repeat(10_000)).toString('base64');
    expect(bad((p) => (p.spec.signature.publicKey.content = huge))).toMatch(/longer than 65536 characters/);
    expect(code(() => canonicalProposedEntry([]))).toMatch(/entry must be an object/);
  });
});
