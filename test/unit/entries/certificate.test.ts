/**
 * The fast certificate reader against @sigstore/core's X509Certificate (the oracle): claim-for-claim on
 * every real certificate in the fixtures and on generated ones; hostile DER only ever yields a DerError.
 */
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CertificateClaims, ClaimsCache, claimsWeight, readCertificateClaims } from '../../../src/entries/certificate.ts';
import { DerError } from '../../../src/entries/der.ts';
import { FULCIO_OIDS, type FulcioClaimName, type FulcioClaims } from '../../../src/entries/types.ts';
import { certificate, extension, octet, oid, type SanName, sanExtension, seq, time, tlv, utf8 } from './der-builder.ts';
import { realCertificates } from './realdata-certs.ts';

/**
 * The certificate's identities as node:crypto (OpenSSL) lists them, in certificate order: DNS names, emails,
 * URIs and IP addresses as text (IPv6 in Go's net.IP form, via the WHATWG URL serialiser, which compresses
 * as RFC 5952 does; Go writes an IPv4-mapped address dotted), an otherName as null (OpenSSL does not say).
 */
function nodeNames(der: Uint8Array): Array<string | null> {
  const text = new NodeX509(der).subjectAltName;
  if (text === undefined) return [];
  const out: Array<string | null> = [];
  // A value with a separator in it is a JSON string (node's escaping); others stand as they are.
  for (const m of text.matchAll(/(DNS|email|URI|IP Address|othername|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const [, kind, raw] = m as unknown as [string, string, string];
    const v = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (kind === 'othername') out.push(null);
    else if (kind === 'IP Address') out.push(goIp(v));
    else if (kind === 'DNS' || kind === 'email' || kind === 'URI') out.push(v);
  }
  return out;
}

function goIp(v: string): string {
  if (!v.includes(':')) return v;
  const mapped = /^0:0:0:0:0:FFFF:([0-9A-F]{1,4}):([0-9A-F]{1,4})$/i.exec(v);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return new URL(`http://[${v}]/`).hostname.slice(1, -1);
}

/**
 * `sans` as the reader should give it: node's names, each otherName replaced by
 * the Fulcio username it holds (`others`, in order; undefined for another type-id), the primary first, each
 * once; absent when that says no more than `san`.
 */
function oracleSans(der: Uint8Array, san: string | undefined, others: ReadonlyArray<string | undefined>): string[] | undefined {
  const names = nodeNames(der);
  let o = 0;
  const values = names.map((n) => (n === null ? others[o++] : n)).filter((n): n is string => n !== undefined);
  const sans = [...new Set([...(san !== undefined ? [san] : []), ...values])];
  return sans.length > 1 || (sans.length === 1 && san === undefined) ? sans : undefined;
}

/**
 * The same claims computed with @sigstore/core, and `sans` with node:crypto. `others`: the Fulcio username of
 * each otherName in order, where the caller knows them; else the one @sigstore/core reads.
 */
function oracle(der: Uint8Array, others?: ReadonlyArray<string | undefined>): CertificateClaims {
  const ref = X509Certificate.parse(Buffer.from(der));
  const fulcio: FulcioClaims = {};
  for (const [name, oid] of Object.entries(FULCIO_OIDS) as [FulcioClaimName, string][]) {
    if (name === 'otherNameSan') continue;
    const ext = ref.extension(oid);
    if (!ext) continue;
    const arc = Number(oid.slice(oid.lastIndexOf('.') + 1));
    fulcio[name] = arc <= 6 ? ext.value.toString('utf8') : ASN1Obj.parseBuffer(Buffer.from(ext.value)).value.toString('utf8');
  }
  const san = ref.extSubjectAltName?.uri ?? ref.extSubjectAltName?.rfc822Name ?? ref.extSubjectAltName?.otherName(FULCIO_OIDS.otherNameSan);
  const issuer = fulcio.issuer ?? fulcio.issuerV1;
  const sans = oracleSans(der, san, others ?? [ref.extSubjectAltName?.otherName(FULCIO_OIDS.otherNameSan)]);
  return {
    fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`,
    keyFingerprint: `sha256:${createHash('sha256').update(ref.publicKey).digest('hex')}`,
    ...(san !== undefined ? { san } : {}),
    ...(sans !== undefined ? { sans } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    fulcio,
    notBefore: ref.notBefore.getTime() / 1000,
    notAfter: ref.notAfter.getTime() / 1000,
  };
}

describe('every real certificate in the fixtures', () => {
  const certs = realCertificates();
  it('were all found (bundles, entry bodies, rekor-v1-api, certs-ct, trust)', () => {
    expect(certs.length).toBeGreaterThanOrEqual(70);
    for (const dir of ['bundles/', 'rekor-v1-api/', 'certs-ct/', 'trust/', 'npm-attestations/', 'pypi-attestations/']) {
      expect(certs.some((c) => c.file.startsWith(dir)), dir).toBe(true);
    }
  });
  it('give the same claims as @sigstore/core', () => {
    let fulcioCerts = 0;
    for (const { der, file } of certs) {
      const mine = readCertificateClaims(der);
      expect({ ...mine, fulcio: { ...mine.fulcio } }, file).toEqual(oracle(der));
      if (mine.fulcio.issuer ?? mine.fulcio.issuerV1) fulcioCerts++;
    }
    expect(fulcioCerts).toBeGreaterThan(40);
  });
  it('agree with node:crypto on validity', () => {
    for (const { der, file } of certs) {
      const node = new NodeX509(der);
      const mine = readCertificateClaims(der);
      expect(mine.notBefore! * 1000, file).toBe(node.validFromDate.getTime());
      expect(mine.notAfter! * 1000, file).toBe(node.validToDate.getTime());
    }
  });
});

const FULCIO_NAMES = (Object.keys(FULCIO_OIDS) as FulcioClaimName[]).filter((n) => n !== 'otherNameSan');
const printable = fc.string({ unit: 'grapheme', minLength: 0, maxLength: 40 });
/** IPv6 addresses with runs of zero groups, where RFC 5952's `::` choice matters, and IPv4-mapped ones. */
const v6WithZeros = fc.oneof(
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 }).map((groups) => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]))),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => new Uint8Array([...new Uint8Array(10), 0xff, 0xff, ...v4])),
);
const sanName: fc.Arbitrary<SanName> = fc.oneof(
  fc.record({ type: fc.constant('uri' as const), value: fc.webUrl() }),
  fc.record({ type: fc.constant('email' as const), value: fc.emailAddress() }),
  // @sigstore/core decodes the OtherName as 'ascii' (bytes ≥ 0x80 lose their high bit), so the oracle
  // only holds for ASCII there; UTF-8 usernames are checked on their own below.
  fc.record({ type: fc.constant('other' as const), oid: fc.constantFrom(FULCIO_OIDS.otherNameSan, '1.2.3.4'), value: fc.string({ unit: 'binary-ascii', maxLength: 40 }) }),
  fc.record({ type: fc.constant('dns' as const), value: fc.domain() }),
  fc.record({ type: fc.constant('ip' as const), bytes: fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), v6WithZeros) }),
);
/** Up to 8 names, drawn so that duplicates and every mix of kinds are common. */
const sanNames = fc.array(sanName, { minLength: 1, maxLength: 4 }).chain((pool) => fc.array(fc.constantFrom(...pool), { maxLength: 8 }));
/** The Fulcio username each otherName holds, in order (undefined for another type-id), for the oracle. */
const usernames = (names: readonly SanName[]) => names.flatMap((n) => (n.type === 'other' ? [n.oid === FULCIO_OIDS.otherNameSan ? n.value : undefined] : []));
/** 1950-01-01 .. 9999-12-31, whole seconds: both UTCTime and GeneralizedTime. */
const seconds = fc.integer({ min: -631152000, max: 253402300799 });

describe('generated certificates', () => {
  it('give the same claims as @sigstore/core', () => {
    fc.assert(
      fc.property(
        sanNames,
        fc.dictionary(fc.constantFrom(...FULCIO_NAMES), printable, { maxKeys: 12 }),
        seconds,
        seconds,
        fc.boolean(),
        (names, claims, notBefore, notAfter, critical) => {
          const exts = Object.entries(claims).map(([name, value]) => {
            const oid = FULCIO_OIDS[name as FulcioClaimName];
            const arc = Number(oid.slice(oid.lastIndexOf('.') + 1));
            return extension(oid, arc <= 6 ? new Uint8Array(Buffer.from(value, 'utf8')) : utf8(value), critical);
          });
          if (names.length > 0) exts.push(sanExtension(names));
          exts.push(extension('2.5.29.19', tlv(0x30), true)); // basicConstraints, ignored
          const der = certificate({ notBefore, notAfter, extensions: exts });
          const mine = readCertificateClaims(der);
          expect({ ...mine, fulcio: { ...mine.fulcio } }).toEqual(oracle(der, usernames(names)));
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('deliberate differences from @sigstore/core', () => {
  it('decodes a Fulcio OtherName username as the UTF8String it is', () => {
    const der = certificate({ notBefore: 0, notAfter: 1, extensions: [sanExtension([{ type: 'other', oid: FULCIO_OIDS.otherNameSan, value: 'jösé@例え' }])] });
    expect(readCertificateClaims(der).san).toBe('jösé@例え');
    expect(oracle(der).san).not.toBe('jösé@例え');
  });
});

/**
 * The oracle's claims less those `mine` left out for a malformed Fulcio extension value, which @sigstore/core
 * reads anyway (raw bytes as UTF-8 with U+FFFD, a DER value whatever its tag); each must be named in the problem.
 */
function leftOut(ref: CertificateClaims, mine: CertificateClaims): CertificateClaims {
  const fulcio: FulcioClaims = { ...ref.fulcio };
  for (const name of Object.keys(fulcio) as FulcioClaimName[]) {
    if (mine.fulcio[name] !== undefined) continue;
    expect(mine.problem).toContain(`(${name})`);
    delete fulcio[name];
  }
  const { issuer: _, san, sans, notBefore, notAfter, ...rest } = ref;
  const issuer = fulcio.issuer ?? fulcio.issuerV1;
  // A malformed otherName: the username @sigstore/core would read from it is left out; so is a validity
  // time outside RFC 5280's profile, which @sigstore/core reads leniently.
  const kept = (v: string | number | undefined, leftOut: RegExp) => (v !== undefined && leftOut.test(mine.problem!) ? undefined : v);
  const keptSan = mine.san !== undefined || kept(san, /otherName is malformed/) !== undefined ? san : undefined;
  // A name node:crypto prints but the reader cannot read (a byte outside IA5, an address of another length:
  // Go's x509 rejects both) is left out when the problem says a name was.
  const mineSans = mine.sans ?? (mine.san !== undefined ? [mine.san] : []);
  const keptSans = (sans ?? []).filter((x) => mineSans.includes(x) || !/SubjectAltName('s name| otherName is malformed)/.test(mine.problem!));
  const listed = keptSans.length > 1 || (keptSans.length === 1 && keptSan === undefined) ? keptSans : undefined;
  return {
    ...rest,
    ...(keptSan !== undefined ? { san } : {}),
    ...(listed !== undefined ? { sans: listed } : {}),
    ...(kept(notBefore, /notBefore is not/) !== undefined ? { notBefore } : {}),
    ...(kept(notAfter, /notAfter is not/) !== undefined ? { notAfter } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    fulcio,
    problem: mine.problem!,
  };
}

describe('hostile DER', () => {
  const real = realCertificates().map((c) => c.der);
  const clean = (der: Uint8Array): CertificateClaims | undefined => {
    try {
      return readCertificateClaims(der);
    } catch (e) {
      expect(e, String(e)).toBeInstanceOf(DerError);
      return undefined;
    }
  };
  it('mutated and truncated real certificates give a DerError or claims, nothing else', () => {
    fc.assert(
      fc.property(fc.nat(real.length - 1), fc.array(fc.tuple(fc.nat(4000), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(4000), (which, edits, cut) => {
        const der = new Uint8Array(real[which]!);
        for (const [pos, delta] of edits) der[pos % der.length] = (der[pos % der.length]! + delta) % 256;
        clean(der);
        clean(real[which]!.subarray(0, cut % real[which]!.length));
      }),
      { numRuns: 2000 },
    );
  });
  it('arbitrary bytes give a DerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        clean(b);
        clean(Uint8Array.of(0x30, 0x82, b.length >> 8, b.length & 0xff, ...b));
      }),
      { numRuns: 2000 },
    );
  });
  it('when a mutation still parses under both readers, the claims agree or differ only where ours is stricter', () => {
    let both = 0;
    fc.assert(
      fc.property(fc.nat(real.length - 1), fc.nat(4000), fc.integer({ min: 1, max: 255 }), (which, pos, delta) => {
        const der = new Uint8Array(real[which]!);
        der[pos % der.length] = (der[pos % der.length]! + delta) % 256;
        const mine = clean(der);
        let ref: CertificateClaims | undefined;
        try {
          ref = oracle(der);
        } catch {
          return;
        }
        if (!mine) return;
        both++;
        expect({ ...mine, fulcio: { ...mine.fulcio } }).toEqual(mine.problem === undefined ? ref : leftOut(ref, mine));
      }),
      { numRuns: 2000 },
    );
    expect(both).toBeGreaterThan(100);
  });
  it('rejects BER-isms and ambiguities that a lenient parser would accept', () => {
    const ok = certificate({ notBefore: 0, notAfter: 1, extensions: [] });
    expect(readCertificateClaims(ok).notAfter).toBe(1);
    expect(() => readCertificateClaims(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(/indefinite/);
    expect(() => readCertificateClaims(Uint8Array.of(0x30, 0x81, 0x01, 0))).toThrow(/non-minimal/);
    expect(() => readCertificateClaims(Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff))).toThrow(/overruns/);
    expect(() => readCertificateClaims(new Uint8Array([...ok, 0]))).toThrow(/trailing/);
    const twice = extension(FULCIO_OIDS.sourceRepositoryURI, utf8('https://github.com/a/b'));
    expect(() => readCertificateClaims(certificate({ notBefore: 0, notAfter: 1, extensions: [twice, twice] }))).toThrow(/duplicate Fulcio extension \.12/);
    const san = sanExtension([{ type: 'email', value: 'a@b.c' }]);
    expect(() => readCertificateClaims(certificate({ notBefore: 0, notAfter: 1, extensions: [san, san] }))).toThrow(/duplicate SubjectAltName/);
    const nonAsciiUri = sanExtension([{ type: 'uri', value: 'https://é' }]);
    expect(() => readCertificateClaims(certificate({ notBefore: 0, notAfter: 1, extensions: [nonAsciiUri] }))).toThrow(/IA5String/);
  });
  it('reads both time forms; a time RFC 5280 does not allow is left out, with the certificate kept', () => {
    const at = (s: number) => readCertificateClaims(certificate({ notBefore: s, notAfter: s, extensions: [] })).notBefore;
    for (const s of [-631152000, 0, 951782400 /* 2000-02-29 */, 2524607999, 2524608000 /* 2050 */, 253402300799]) expect(at(s)).toBe(s);
    const san = sanExtension([{ type: 'email', value: 'alice@acme.example' }]);
    const withTimes = (notBefore: Uint8Array, notAfter = time(600)) => readCertificateClaims(certificate({ notBefore: 0, notAfter: 0, extensions: [san], validity: [notBefore, notAfter] }));
    const utc = (s: string) => tlv(0x17, Buffer.from(s));
    // Impossible dates and local time, and what Go's x509 (Rekor's) also takes: UTCTime without seconds,
    // offsets, fractional seconds.
    for (const [bad, why] of [
      [utc('700230000001Z'), /out of range/],
      [utc('7001010000010'), /UTC/],
      [utc('7001010000Z'), /not an RFC 5280 time/],
      [utc('700101000000+0100'), /not an RFC 5280 time/],
      [tlv(0x18, Buffer.from('19700101000000.5Z')), /not an RFC 5280 time/],
      [tlv(0x0c, Buffer.from('700101000000Z')), /tag 0xc/],
    ] as const) {
      const c = withTimes(bad);
      expect([c.san, c.notBefore, c.notAfter], String(why)).toEqual(['alice@acme.example', undefined, 600]);
      expect(c.problem).toMatch(/^notBefore is not an RFC 5280 time \(.+\): left out$/);
      expect(c.problem).toMatch(why);
    }
    const after = withTimes(time(0), utc('7001010000Z'));
    expect([after.notBefore, after.notAfter]).toEqual([0, undefined]);
    expect(after.problem).toMatch(/^notAfter is not an RFC 5280 time/);
    // The validity itself must still be two times.
    expect(() => readCertificateClaims(certificate({ notBefore: 0, notAfter: 0, extensions: [], validity: [time(0), new Uint8Array()] as [Uint8Array, Uint8Array] }))).toThrow(/exactly two times/);
  });
});

describe('malformed Fulcio extension values (oid-info.md "Extension values")', () => {
  const SAN = 'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main';
  const good = (name: FulcioClaimName, value: string) => {
    const oid = FULCIO_OIDS[name];
    return extension(oid, Number(oid.slice(oid.lastIndexOf('.') + 1)) <= 6 ? new Uint8Array(Buffer.from(value)) : utf8(value));
  };
  const read = (...exts: Uint8Array[]) => readCertificateClaims(certificate({ notBefore: 0, notAfter: 600, extensions: [sanExtension([{ type: 'uri', value: SAN }]), ...exts] }));
  /** Encodings oid-info.md does not allow: per arc, what a certificate no Fulcio issued could carry there. */
  const WRONG: Array<[string, (arc: number) => Uint8Array]> = [
    ['invalid UTF-8', (arc) => (arc <= 6 ? Uint8Array.of(0x68, 0xff) : tlv(0x0c, Uint8Array.of(0x68, 0xff)))],
    ['PrintableString', () => tlv(0x13, Buffer.from('github-hosted'))],
    ['IA5String', () => tlv(0x16, Buffer.from('https://x'))],
    ['UTF8String with trailing bytes', () => Uint8Array.of(...utf8('push'), 0)],
    ['truncated TLV', () => Uint8Array.of(0x0c, 0x05, 0x61)],
  ];

  it('cost that claim only: the SAN, fingerprint, validity and other claims stay, and the problem names the OID', () => {
    for (const name of FULCIO_NAMES) {
      const oid = FULCIO_OIDS[name];
      const arc = Number(oid.slice(oid.lastIndexOf('.') + 1));
      for (const [how, bytes] of WRONG) {
        // Raw .1–.6 values are any bytes: only invalid UTF-8 is wrong there.
        if (arc <= 6 && how !== 'invalid UTF-8') continue;
        const other = name === 'buildTrigger' ? 'runnerEnvironment' : 'buildTrigger';
        const c = read(extension(oid, bytes(arc)), good(other, 'x'));
        expect(c.san, `${name} ${how}`).toBe(SAN);
        expect(c.fulcio[name], `${name} ${how}`).toBeUndefined();
        expect(c.fulcio[other], `${name} ${how}`).toBe('x');
        expect([c.notBefore, c.notAfter]).toEqual([0, 600]);
        expect(c.problem, `${name} ${how}`).toMatch(new RegExp(`^${oid.replace(/\./g, '\\.')} \\(${name}\\) is not a (raw UTF-8 string|DER UTF8String) \\(.+\\): left out`));
      }
    }
  });

  it('never let the deprecated twin stand in for a garbled newer extension (.8→.1, .20→.2, .13→.3, .12/.16→.5, .14→.6)', () => {
    const garbled = (name: FulcioClaimName) => extension(FULCIO_OIDS[name], tlv(0x13, Buffer.from('x')));
    const iss = read(garbled('issuer'), good('issuerV1', 'https://token.actions.githubusercontent.com'), good('githubWorkflowRef', 'refs/heads/main'));
    expect(iss.issuer).toBeUndefined();
    expect(iss.fulcio).toEqual({ githubWorkflowRef: 'refs/heads/main' });
    expect(iss.problem).toContain('and so is the deprecated .1 (issuerV1)');
    const pairs: Array<[FulcioClaimName, FulcioClaimName]> = [
      ['buildTrigger', 'githubWorkflowTrigger'],
      ['sourceRepositoryDigest', 'githubWorkflowSha'],
      ['sourceRepositoryURI', 'githubWorkflowRepository'],
      ['sourceRepositoryOwnerURI', 'githubWorkflowRepository'],
      ['sourceRepositoryRef', 'githubWorkflowRef'],
    ];
    for (const [modern, twin] of pairs) {
      const c = read(good('issuer', 'https://token.actions.githubusercontent.com'), garbled(modern), good(twin, 'acme/api'));
      expect(c.fulcio, modern).toEqual({ issuer: 'https://token.actions.githubusercontent.com' });
      expect(c.problem, modern).toContain(`(${modern})`);
    }
    // A garbled deprecated value costs only itself: the newer extension is what is read anyway.
    const old = read(good('issuer', 'https://accounts.google.com'), extension(FULCIO_OIDS.issuerV1, Uint8Array.of(0xc3)));
    expect([old.issuer, old.fulcio.issuerV1]).toEqual(['https://accounts.google.com', undefined]);
    expect(old.problem).not.toContain('deprecated');
  });

  it('property: the claims are exactly the well-formed values less the twins of malformed newer ones', () => {
    const TWIN: Partial<Record<FulcioClaimName, FulcioClaimName>> = { issuer: 'issuerV1', buildTrigger: 'githubWorkflowTrigger', sourceRepositoryDigest: 'githubWorkflowSha', sourceRepositoryURI: 'githubWorkflowRepository', sourceRepositoryOwnerURI: 'githubWorkflowRepository', sourceRepositoryRef: 'githubWorkflowRef' };
    const arcOf = (name: FulcioClaimName) => Number(FULCIO_OIDS[name].slice(FULCIO_OIDS[name].lastIndexOf('.') + 1));
    const encoding = fc.constantFrom('good', 'good', 'invalid UTF-8', 'PrintableString', 'trailing byte');
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...FULCIO_NAMES), fc.tuple(printable, encoding), { maxKeys: 12 }), (spec) => {
        const exts: Uint8Array[] = [];
        const expected: FulcioClaims = {};
        const bad = new Set<FulcioClaimName>();
        for (const [n, [value, how]] of Object.entries(spec)) {
          const name = n as FulcioClaimName;
          const raw = arcOf(name) <= 6;
          const bytes = new Uint8Array(Buffer.from(value, 'utf8'));
          // A raw value is any bytes: of these encodings only invalid UTF-8 is wrong for it.
          const enc = raw && how !== 'invalid UTF-8' ? 'good' : how;
          const invalid = Uint8Array.of(...bytes, 0xc3);
          exts.push(extension(FULCIO_OIDS[name], raw ? (enc === 'good' ? bytes : invalid) : enc === 'good' ? utf8(value) : enc === 'invalid UTF-8' ? tlv(0x0c, invalid) : enc === 'PrintableString' ? tlv(0x13, bytes) : Uint8Array.of(...utf8(value), 0)));
          if (enc === 'good') expected[name] = value;
          else bad.add(name);
        }
        for (const name of bad) if (TWIN[name]) delete expected[TWIN[name]];
        const c = readCertificateClaims(certificate({ notBefore: 0, notAfter: 600, extensions: exts }));
        expect({ ...c.fulcio }).toEqual(expected);
        expect(c.issuer).toBe(expected.issuer ?? expected.issuerV1);
        expect(c.problem === undefined).toBe(bad.size === 0);
        for (const name of bad) expect(c.problem).toContain(`${FULCIO_OIDS[name]} (${name})`);
      }),
      { numRuns: 500 },
    );
  });

  it('a malformed otherName (which Go never reads) costs its username only', () => {
    const fulcioOther = (value: Uint8Array) => tlv(0xa0, oid(FULCIO_OIDS.otherNameSan), tlv(0xa0, value));
    const withSan = (...names: Uint8Array[]) => readCertificateClaims(certificate({ notBefore: 0, notAfter: 600, extensions: [seq(oid('2.5.29.17'), octet(seq(...names))), good('issuer', 'https://accounts.example')] }));
    const uri = tlv(0x86, Buffer.from(SAN));
    for (const bad of [fulcioOther(tlv(0x16, Buffer.from('alice'))), fulcioOther(tlv(0x0c, Uint8Array.of(0xff))), tlv(0xa0, oid(FULCIO_OIDS.otherNameSan)), tlv(0xa0, tlv(0x04), tlv(0xa0, utf8('x')))]) {
      const c = withSan(bad, uri);
      expect([c.san, c.issuer]).toEqual([SAN, 'https://accounts.example']);
      expect(c.problem).toMatch(/^the SubjectAltName otherName is malformed \(.+\): left out$/);
      const alone = withSan(bad);
      expect([alone.san, alone.fingerprint.length]).toEqual([undefined, 71]);
      expect(alone.problem).toBe(c.problem);
    }
    // Another type-id's value is not read at all, so nothing is wrong with it.
    expect(withSan(tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x16, Buffer.from('a@b')))), uri)).toMatchObject({ san: SAN });
    expect(withSan(tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x16, Buffer.from('a@b')))), uri).problem).toBeUndefined();
  });

  it('well-formed certificates have no problem, and OIDs Fulcio has not defined are ignored whatever they hold', () => {
    for (const { der, file } of realCertificates()) expect(readCertificateClaims(der).problem, file).toBeUndefined();
    const c = read(extension('1.3.6.1.4.1.57264.1.99', tlv(0x13, Buffer.from('x'))), extension('1.3.6.1.4.1.57264.1.7', Uint8Array.of(0xff)));
    expect(c.problem).toBeUndefined();
  });
});

describe('ClaimsCache', () => {
  it('returns the same frozen claims for a repeated certificate and evicts the least recently used', () => {
    const cache = new ClaimsCache(2);
    const [a, b, c] = [1, 2, 3].map((serial) => certificate({ notBefore: 0, notAfter: 1, extensions: [], serial }));
    const first = cache.read(a!);
    expect(cache.read(a!)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.fulcio)).toBe(true);
    cache.read(b!);
    cache.read(a!); // a is now the most recent
    cache.read(c!); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.read(a!)).toBe(first);
    expect([cache.hits, cache.misses]).toEqual([3, 3]);
    cache.read(b!);
    expect(cache.misses).toBe(4);
    expect(() => cache.read(Uint8Array.of(1, 2))).toThrow(DerError);
  });

  it('holds at most 16 MiB of claims by weight, so hostile certificates packed with names cannot fill the heap', () => {
    const cache = new ClaimsCache();
    // 256 KiB of names each, the most a Rekor v1 body's key material carries (kinds/common.ts MAX_KEY_BYTES).
    const filler = sanExtension(Array.from({ length: (256 * 1024) / 16 }, (_, i) => ({ type: 'dns' as const, value: i.toString(36).padStart(12, '0') })));
    const big = (serial: number) => certificate({ notBefore: 0, notAfter: 1, extensions: [filler], serial });
    const first = big(1);
    // The weight counts each name's string as well as the DER: 16,384 names of 12 characters, 229 KB of DER.
    const weight = claimsWeight(first, readCertificateClaims(first));
    expect(weight).toBe(first.length + 32 * 16384);
    const fits = Math.floor((16 * 1024 * 1024) / weight);
    expect(fits).toBe(22);
    cache.read(first);
    for (let serial = 2; serial <= 100; serial++) cache.read(big(serial));
    expect(cache.size).toBe(fits);
    cache.read(big(100));
    expect(cache.hits).toBe(1);
    cache.read(first);
    expect(cache.misses).toBe(101);
    // Real certificates (at most ~2.1 KB) meet the count bound first, as before.
    const small = new ClaimsCache();
    for (let i = 1; i <= 4100; i++) small.read(certificate({ notBefore: i, notAfter: i + 1, extensions: [extension('1.2.3.4', new Uint8Array(2100))] }));
    expect(small.size).toBe(4096);
  });
});
