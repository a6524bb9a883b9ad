/**
 * Every identity a certificate names (entries/subject-alt-name.ts): on real certificates, signed by the
 * simulator's CA and read back by node:crypto, naming several identities as a self-made certificate may
 * (Rekor v1 accepts any); email and URI mixes, duplicates, DNS names and IP addresses, and a certificate
 * past the bound. certificate.test.ts holds the reader to node:crypto's list on generated ones.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readCertificateClaims } from '../../../src/entries/certificate.ts';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { encodeOid } from '../../../src/entries/der.ts';
import { ipText } from '../../../src/entries/subject-alt-name.ts';
import { FULCIO_OIDS } from '../../../src/entries/types.ts';
import { createCA, createLeaf } from '../../sim/certs.ts';
import { certificate, generalName, octet, oid, type SanName, seq, tlv } from './der-builder.ts';

const T = 1_790_000_000;
const CA = createCA('sigstore-intermediate', T - 86400, T + 86400);
const ATTACKER = 'attacker@example.org';
const VICTIM = 'victim@corp.example';
const WORKFLOW = 'https://github.com/corp/app/.github/workflows/release.yml@refs/tags/v1';

/** A certificate signed by the simulator's CA naming `san` and then `sans`, as node:crypto reads it. */
function leaf(san: string, sans: string[] = []) {
  const { der } = createLeaf(CA, { san, sans, issuer: 'https://accounts.example' }, T);
  const node = new X509Certificate(der);
  expect(node.verify(new X509Certificate(CA.der).publicKey)).toBe(true);
  return { der, node, claims: readCertificateClaims(der) };
}

/** A certificate (not validly signed) with these GeneralNames, for kinds and counts the simulator does not write. */
const withNames = (names: Uint8Array[]) => readCertificateClaims(certificate({ notBefore: 0, notAfter: 600, extensions: [seq(oid('2.5.29.17'), octet(seq(...names)))] }));
const name = (n: SanName) => generalName(n);

describe('a certificate naming several identities', () => {
  it('keeps the primary SAN as it was and lists every identity, the primary first', () => {
    const two = leaf(ATTACKER, [VICTIM]);
    expect(two.node.subjectAltName).toBe(`email:${ATTACKER}, email:${VICTIM}`);
    expect(two.claims).toMatchObject({ san: ATTACKER, sans: [ATTACKER, VICTIM], issuer: 'https://accounts.example' });
    // A URI after an email is still the primary (the first URI, else the first email), and listed first.
    const mixed = leaf(ATTACKER, [WORKFLOW, VICTIM]);
    expect(mixed.claims).toMatchObject({ san: WORKFLOW, sans: [WORKFLOW, ATTACKER, VICTIM] });
    expect(mixed.claims.problem).toBeUndefined();
  });

  it('says nothing more for one identity: no `sans` (a Fulcio certificate)', () => {
    const one = leaf(VICTIM);
    expect(one.claims.san).toBe(VICTIM);
    expect(one.claims).not.toHaveProperty('sans');
  });

  it('lists each identity once, and leaves `sans` out when the duplicates say no more than `san`', () => {
    expect(leaf(ATTACKER, [VICTIM, ATTACKER, VICTIM]).claims.sans).toEqual([ATTACKER, VICTIM]);
    const same = leaf(VICTIM, [VICTIM, VICTIM]);
    expect(same.claims.san).toBe(VICTIM);
    expect(same.claims).not.toHaveProperty('sans');
    // Spellings that differ are different strings here; the index folds an email's case (index-values.ts).
    expect(leaf(VICTIM, [VICTIM.toUpperCase()]).claims.sans).toEqual([VICTIM, VICTIM.toUpperCase()]);
  });

  it('reads DNS names, IP addresses and Fulcio usernames too, as Rekor files them; other kinds name no one', () => {
    const c = withNames([
      name({ type: 'dns', value: 'build.corp.example' }),
      name({ type: 'ip', bytes: Uint8Array.of(10, 0, 0, 1) }),
      name({ type: 'ip', bytes: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(11), 1) }),
      name({ type: 'other', oid: FULCIO_OIDS.otherNameSan, value: 'alice' }),
      name({ type: 'other', oid: FULCIO_OIDS.otherNameSan, value: 'bob' }),
      name({ type: 'other', oid: '1.3.6.1.4.1.311.20.2.3', value: 'upn@corp.example' }),
      tlv(0xa4, seq()), // directoryName
      tlv(0x88, encodeOid('1.2.3')), // registeredID
    ]);
    expect(c).toMatchObject({ san: 'alice', sans: ['alice', 'build.corp.example', '10.0.0.1', '2001:db8::1', 'bob'] });
    expect(c.problem).toBeUndefined();
    // A DNS name alone: no primary SAN (as before), but the name is listed.
    const dns = withNames([name({ type: 'dns', value: 'victim.corp.example' })]);
    expect(dns.san).toBeUndefined();
    expect(dns.sans).toEqual(['victim.corp.example']);
  });

  it('a name that cannot be read costs itself only, and the problem says which', () => {
    const c = withNames([
      name({ type: 'email', value: ATTACKER }),
      name({ type: 'ip', bytes: Uint8Array.of(1, 2, 3) }),
      tlv(0x82, Uint8Array.of(0x68, 0xc3, 0xa9)),
      name({ type: 'email', value: VICTIM }),
    ]);
    expect(c).toMatchObject({ san: ATTACKER, sans: [ATTACKER, VICTIM] });
    expect(c.problem).toBe("the SubjectAltName's name 2 (iPAddress must be 4 or 16 bytes, not 3), name 3 (non-ASCII byte in an IA5String) cannot be read: left out");
  });

  it('reads every name, however many: an identity past the 128th is read (Rekor files the entry under it)', () => {
    const names = (victimAt: number, n: number) => Array.from({ length: n }, (_, i) => name({ type: 'email', value: i === victimAt ? VICTIM : `user${i}@example.org` }));
    // 10,000 names, the victim last: a bound would be a place to hide it (epoch 2 read 128).
    const past = withNames(names(9_999, 10_000));
    expect(past.san).toBe('user0@example.org');
    expect(past.sans).toHaveLength(10_000);
    expect(past.sans?.at(-1)).toBe(VICTIM);
    expect(past.problem).toBeUndefined();
    // The primary is read wherever it stands: a URI after them all is the SAN, listed first.
    const late = withNames([...names(-1, 300), name({ type: 'uri', value: WORKFLOW })]);
    expect(late.san).toBe(WORKFLOW);
    expect(late.sans?.[0]).toBe(WORKFLOW);
    expect(late.sans).toHaveLength(301);
  });

  it('reaches the Entry: a hashedrekord signed with such a certificate has both on its signer', () => {
    const { der } = leaf(ATTACKER, [VICTIM]);
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const body = JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: { data: { hash: { algorithm: 'sha256', value: '1'.repeat(64) } }, signature: { content: Buffer.from('sig').toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } } },
    });
    const e = decodeRekorV1Body(new Uint8Array(Buffer.from(body)), { log: 'rekor.sigstore.dev', index: 1, integratedTime: T });
    expect(e.signer).toMatchObject({ san: ATTACKER, sans: [ATTACKER, VICTIM] });
    // The API serves the record as JSON: `sans` is a plain array there.
    expect(JSON.parse(JSON.stringify(e.signer))).toMatchObject({ sans: [ATTACKER, VICTIM] });
  });
});

describe('ipText writes an address as Go net.IP String does', () => {
  const ip = (...bytes: number[]) => ipText(Uint8Array.from(bytes), { tag: 0x87, start: 0, end: bytes.length });
  const v6 = (...groups: number[]) => ip(...groups.flatMap((g) => [g >> 8, g & 0xff]));
  it.each([
    [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    [v6(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
    [v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    [v6(1, 0, 0, 0, 0, 0, 0, 0), '1::'],
    // The first of two equal runs; a lone zero group is not compressed.
    [v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
    [v6(1, 0, 1, 0, 1, 0, 1, 0), '1:0:1:0:1:0:1:0'],
    [v6(1, 0, 0, 1, 0, 0, 0, 1), '1:0:0:1::1'],
    [v6(0xabcd, 0xef01, 0x23, 0x4567, 0x89ab, 0xcdef, 0xf, 0x1000), 'abcd:ef01:23:4567:89ab:cdef:f:1000'],
    // IPv4-mapped: dotted, as Go writes it; IPv4-compatible (::a.b.c.d) is not.
    [v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001), '10.0.0.1'],
    [v6(0, 0, 0, 0, 0, 0, 0x0a00, 0x0001), '::a00:1'],
    [ip(192, 168, 0, 255), '192.168.0.255'],
  ])('%s (want %s)', (got, want) => expect(got).toBe(want));
});
