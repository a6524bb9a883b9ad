/** Sigstore trusted roots and signing configs: every real one parses; logs are typed, keyed and checked. */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { ed25519KeyId, parseVerifierKey, rawEd25519 } from '../../../src/note/keys.ts';
import { parseSigningConfig, tlogTypeFromSigningConfig, withSigningConfig } from '../../../src/trust/signing-config.ts';
import { resolveTrust, resolveTrustedRoot } from '../../../src/trust/tuf.ts';
import { checkpointVerifierForTlog, findTlogByKeyId, parseTrustedRoot, signerNameFromUrl, tlogsValidAt, tlogTypeFromKey, type TlogTrust } from '../../../src/trust/trusted-root.ts';

const T = 'test/fixtures/realdata/trust';
const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));
const rootFiles = ['prod', 'staging'].flatMap((d) => readdirSync(`${T}/${d}`).filter((f) => f.startsWith('trusted_root')).map((f) => `${d}/${f}`));
const prod = parseTrustedRoot(readJson(`${T}/prod/trusted_root.json`));
const staging = parseTrustedRoot(readJson(`${T}/staging/trusted_root.json`));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex4 = (b: Uint8Array) => Buffer.from(b.subarray(0, 4)).toString('hex');

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isTlogwatchError(e) ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
  }
}

describe('real trusted roots', () => {
  it('all eight parse, with every log, CA and TSA of the JSON', () => {
    expect(rootFiles).toHaveLength(8);
    for (const f of rootFiles) {
      const j = readJson(`${T}/${f}`);
      const r = parseTrustedRoot(j);
      expect(r.tlogs.length, f).toBe(j.tlogs.length);
      expect(r.ctlogs.length, f).toBe(j.ctlogs.length);
      expect(r.certificateAuthorities.length, f).toBe(j.certificateAuthorities.length);
      expect(r.timestampAuthorities.length, f).toBe(j.timestampAuthorities.length);
      for (const t of r.tlogs) expect(() => checkpointVerifierForTlog(t), `${f} ${t.baseUrl}`).not.toThrow();
      for (const ca of [...r.certificateAuthorities, ...r.timestampAuthorities]) for (const der of ca.chain) expect(() => new X509Certificate(der)).not.toThrow();
    }
  });

  it('prod: Rekor v1 and log2025-1, as rekor.md §3.6 lists them', () => {
    const [v1, v2] = prod.tlogs as [TlogTrust, TlogTrust];
    expect(v1).toMatchObject({ baseUrl: 'https://rekor.sigstore.dev', name: 'rekor.sigstore.dev', type: 'rekor-v1', keyDetails: 'PKIX_ECDSA_P256_SHA_256', hashAlgorithm: 'SHA2_256' });
    expect(b64(v1.keyId)).toBe('wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=');
    expect(v1.validFrom).toEqual(new Date('2021-01-12T11:53:27Z'));
    expect(v1.validUntil).toBeUndefined();
    expect(checkpointVerifierForTlog(v1)).toMatchObject({ name: 'rekor.sigstore.dev', kind: 'ecdsa' });
    expect(hex4(checkpointVerifierForTlog(v1).keyHash)).toBe('c0d23d6a');
    expect(v2).toMatchObject({ name: 'log2025-1.rekor.sigstore.dev', type: 'tiles', keyDetails: 'PKIX_ED25519' });
    expect(b64(v2.keyId)).toBe('zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=');
    expect(checkpointVerifierForTlog(v2)).toMatchObject({ name: 'log2025-1.rekor.sigstore.dev', kind: 'ed25519' });
    expect(hex4(checkpointVerifierForTlog(v2).keyHash)).toBe('cf119915');
    expect(prod.ctlogs.map((c) => c.baseUrl)).toEqual(['https://ctfe.sigstore.dev/test', 'https://ctfe.sigstore.dev/2022']);
    expect(prod.certificateAuthorities[0]!.uri).toBe('https://fulcio.sigstore.dev');
  });

  it('staging: every v2 shard is a tiles log whose key ID is its C2SP key ID; the witness network vkey agrees', () => {
    expect(staging.tlogs.map((t) => [t.name, t.type])).toEqual([
      ['rekor.sigstage.dev', 'rekor-v1'],
      ['log2025-alpha1.rekor.sigstage.dev', 'tiles'],
      ['log2025-alpha2.rekor.sigstage.dev', 'tiles'],
      ['log2025-alpha3.rekor.sigstage.dev', 'tiles'],
      ['log2026-1.us-east4.rekor.sigstage.dev', 'tiles'],
    ]);
    const vkey = readFileSync(`${T}/witness-network/log-list-testing.1`, 'utf8').match(/^vkey (log2025-alpha3\S+)$/m)![1]!;
    const fromRoot = checkpointVerifierForTlog(staging.tlogs[3]!);
    expect(parseVerifierKey(vkey).keyHash).toEqual(fromRoot.keyHash);
  });

  it('findTlogByKeyId finds by the full key ID only', () => {
    expect(findTlogByKeyId(prod, prod.tlogs[1]!.keyId)?.name).toBe('log2025-1.rekor.sigstore.dev');
    expect(findTlogByKeyId(prod, prod.tlogs[1]!.keyId.subarray(0, 4))).toBeUndefined();
    expect(findTlogByKeyId(prod, staging.tlogs[0]!.keyId)).toBeUndefined();
  });

  it('tlogsValidAt honours [start, end], both ends included as protobuf-specs TimeRange says', () => {
    const names = (at: string) => tlogsValidAt(staging, new Date(at)).map((t) => t.name.split('.')[0]);
    expect(names('2020-01-01T00:00:00Z')).toEqual([]);
    expect(names('2025-06-01T00:00:00Z')).toEqual(['rekor', 'log2025-alpha1']);
    expect(names('2025-09-03T23:59:59Z')).toEqual(['rekor', 'log2025-alpha1', 'log2025-alpha2']);
    expect(names('2025-09-04T00:00:00Z')).toEqual(['rekor', 'log2025-alpha1', 'log2025-alpha2']);
    expect(names('2025-09-04T00:00:00.001Z')).toEqual(['rekor', 'log2025-alpha2']);
    expect(names('2025-04-16T00:00:00Z')).toContain('log2025-alpha1');
    expect(names('2025-04-15T23:59:59.999Z')).not.toContain('log2025-alpha1');
    expect(names('2026-07-01T00:00:00Z')).toEqual(['rekor', 'log2025-alpha3', 'log2026-1']);
    expect(tlogsValidAt(prod, new Date('2025-09-22T23:59:59Z')).map((t) => t.name)).toEqual(['rekor.sigstore.dev']);
  });
});

describe('another trust document given as the trusted root', () => {
  const refusal = (json: unknown) => {
    try {
      parseTrustedRoot(json);
    } catch (e) {
      return isTlogwatchError(e, 'TRUST_MALFORMED') ? e.message : String(e);
    }
    return 'accepted';
  };
  it('says which one it is and where it goes, rather than the schema\'s first complaint', () => {
    expect(refusal(readJson(`${T}/prod/tuf-root.json`))).toBe("trusted root: this is TUF root metadata, not a Sigstore trusted_root.json: a TUF repository's root.json is tufRoot (with tufMirror), or --tuf-root (with --tuf-mirror) for verify");
    expect(refusal(readJson(`${T}/prod/signing_config.v0.2.json`))).toBe('trusted root: this is a Sigstore signing config, not a trusted root: give it in signingConfigs');
    expect(refusal(readJson('test/fixtures/realdata/bundles/prod-rekor-v2/544346_dsse-0.0.2_v0.3_sigstore-js.sigstore.json'))).toBe('trusted root: this is a Sigstore bundle, not a trusted root: tlogwatch verify takes it as FILE');
    // Anything else still gets the schema's word.
    expect(refusal({ mediaType: 'application/json' })).toMatch(/^trusted root: mediaType: not a Sigstore trusted root media type$/);
  });
});

describe('signing configs', () => {
  const configs = Object.fromEntries(['prod/signing_config.v0.2.json', 'prod/signing_config_rekor_v2.v0.2.json', 'staging/signing_config.v0.2.json', 'staging/signing_config_rekor_v2.v0.2.json'].map((f) => [f, parseSigningConfig(readJson(`${T}/${f}`))]));

  it('all four parse; the default prod config lists only Rekor v1 (rekor.md §3.6)', () => {
    expect(configs['prod/signing_config.v0.2.json']!.rekorTlogUrls.map((s) => [s.url, s.majorApiVersion])).toEqual([['https://rekor.sigstore.dev', 1]]);
    expect(configs['prod/signing_config_rekor_v2.v0.2.json']!.rekorTlogUrls.map((s) => s.majorApiVersion)).toEqual([2, 1]);
    expect(configs['staging/signing_config_rekor_v2.v0.2.json']!.rekorTlogUrls[1]).toMatchObject({ url: 'https://log2025-alpha2.rekor.sigstage.dev', validUntil: new Date('2025-09-22T11:00:00Z'), operator: 'sigstore.dev' });
  });

  it('agree with the key-based type for every log they list', () => {
    for (const [f, c] of Object.entries(configs)) {
      const root = f.startsWith('prod') ? prod : staging;
      for (const t of root.tlogs) {
        const fromConfig = tlogTypeFromSigningConfig(c, t.baseUrl);
        if (fromConfig) expect(fromConfig, `${f} ${t.baseUrl}`).toBe(t.type);
      }
    }
    expect(tlogTypeFromSigningConfig(configs['staging/signing_config.v0.2.json']!, 'https://global.rekor.sigstage.dev/')).toBe('tiles');
  });

  it('override the key-based guess, first listing wins, unlisted logs keep theirs', () => {
    const claim = parseSigningConfig({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'https://rekor.sigstore.dev/', majorApiVersion: 2 }] });
    const r = withSigningConfig(prod, [claim, configs['prod/signing_config.v0.2.json']!]);
    expect(r.tlogs.map((t) => t.type)).toEqual(['tiles', 'tiles']);
    expect(prod.tlogs[0]!.type).toBe('rekor-v1');
    // …and a v1 key labeled tiles still yields its verifier: an ECDSA tiles log uses SHA-256(SPKI) too.
    expect(checkpointVerifierForTlog(r.tlogs[0]!).kind).toBe('ecdsa');
  });

  it('are strict', () => {
    const ok = { mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogUrls: [{ url: 'https://x.example', majorApiVersion: 1 }] };
    expect(codeOf(() => parseSigningConfig({ ...ok, mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json' }))).toMatch(/^TRUST_MALFORMED: signing config: mediaType/);
    expect(codeOf(() => parseSigningConfig({ ...ok, rekorTlogUrls: [{ url: 'ftp://x', majorApiVersion: 1 }] }))).toMatch(/^TRUST_MALFORMED: signing config: rekorTlogUrls\.0\.url/);
    expect(codeOf(() => parseSigningConfig({ ...ok, rekorTlogUrls: [{ url: 'https://x', majorApiVersion: 1.5 }] }))).toMatch(/^TRUST_MALFORMED/);
    const v3 = parseSigningConfig({ ...ok, rekorTlogUrls: [{ url: 'https://x.example', majorApiVersion: 3 }] });
    expect(codeOf(() => tlogTypeFromSigningConfig(v3, 'https://x.example'))).toMatch(/^TRUST_MALFORMED: .*unknown Rekor API version 3/);
  });
});

describe('hostile or mislabeled roots', () => {
  const real = readJson(`${T}/prod/trusted_root.json`);
  const edit = (f: (j: any) => void) => {
    const j = structuredClone(real);
    f(j);
    return codeOf(() => parseTrustedRoot(j));
  };

  it('malformed JSON is refused with the path of the bad field', () => {
    expect(codeOf(() => parseTrustedRoot(null))).toMatch(/^TRUST_MALFORMED: trusted root: \(top level\)/);
    expect(codeOf(() => parseTrustedRoot([]))).toMatch(/^TRUST_MALFORMED/);
    expect(edit((j) => (j.mediaType = 'application/json'))).toMatch(/^TRUST_MALFORMED: trusted root: mediaType: not a Sigstore trusted root media type/);
    expect(edit((j) => (j.tlogs[0].publicKey.rawBytes = 'not base64!'))).toMatch(/tlogs\.0\.publicKey\.rawBytes: not standard base64/);
    expect(edit((j) => (j.tlogs[1].publicKey.validFor.start = '2025-09-23'))).toMatch(/tlogs\.1\.publicKey\.validFor\.start/);
    expect(edit((j) => (j.tlogs[0].publicKey.validFor.until = '2025-09-23T00:00:00Z'))).toMatch(/tlogs\.0\.publicKey\.validFor/);
    expect(edit((j) => delete j.tlogs[0].logId)).toMatch(/tlogs\.0\.logId/);
    expect(edit((j) => (j.tlogs[0].baseUrl = 'rekor.sigstore.dev'))).toMatch(/tlogs\.0\.baseUrl/);
    expect(edit((j) => (j.certificateAuthorities[0].certChain.certificates = []))).toMatch(/certificateAuthorities\.0\.certChain\.certificates/);
    expect(edit((j) => (j.ctlogs = {}))).toMatch(/ctlogs/);
  });

  it('accepts the v0.2 media type spelling and missing optional lists', () => {
    expect(codeOf(() => parseTrustedRoot({ mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json' }))).toBe('ok');
  });

  const tlog = (over: Partial<TlogTrust>): TlogTrust => ({ ...prod.tlogs[1]!, ...over });
  it('a tiles log whose key ID is not its C2SP key ID is refused, naming both', () => {
    const wrongName = tlog({ name: 'log2025-2.rekor.sigstore.dev' });
    expect(codeOf(() => checkpointVerifierForTlog(wrongName))).toMatch(/^TRUST_MALFORMED: log https:\/\/log2025-1\.rekor\.sigstore\.dev: key ID cf1199.* is not the C2SP key ID/);
  });
  it('a Rekor v1 log whose key ID is not SHA-256 of its key is refused', () => {
    expect(codeOf(() => checkpointVerifierForTlog({ ...prod.tlogs[0]!, keyId: new Uint8Array(32) }))).toMatch(/^TRUST_MALFORMED: .*is not SHA-256 of its public key/);
  });
  it('logs tlogwatch cannot follow are refused up front: other Merkle hashes, RSA and Ed25519 Rekor v1 keys', () => {
    expect(codeOf(() => checkpointVerifierForTlog(tlog({ hashAlgorithm: 'SHA2_384' })))).toMatch(/unsupported Merkle hash SHA2_384/);
    const rsa = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' }));
    expect(codeOf(() => checkpointVerifierForTlog({ ...prod.tlogs[0]!, spki: rsa, keyId: new Uint8Array(createHash('sha256').update(rsa).digest()), keyDetails: 'PKIX_RSA_PKCS1V15_2048_SHA256' }))).toMatch(/^TRUST_MALFORMED: .*Ed25519 or ECDSA key/);
    const ed = prod.tlogs[1]!;
    const v1Ed = { ...ed, keyId: new Uint8Array(createHash('sha256').update(ed.spki).digest()) };
    expect(tlogTypeFromKey(v1Ed)).toBe('rekor-v1');
    expect(codeOf(() => checkpointVerifierForTlog({ ...v1Ed, type: 'rekor-v1' }))).toMatch(/Ed25519-keyed Rekor v1/);
  });

  it('a root like the simulator writes (http, a port) types and verifies its logs', () => {
    const k = generateKeyPairSync('ed25519');
    const url = 'http://127.0.0.1:8123';
    const spki = new Uint8Array(k.publicKey.export({ format: 'der', type: 'spki' }));
    const r = parseTrustedRoot({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{ baseUrl: url, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ED25519', validFor: { start: '2024-01-01T00:00:00.000Z' } }, logId: { keyId: b64(ed25519KeyId(signerNameFromUrl(url), rawEd25519(k.publicKey))) } }],
    });
    expect(r.tlogs[0]).toMatchObject({ name: '127.0.0.1:8123', type: 'tiles' });
    expect(checkpointVerifierForTlog(r.tlogs[0]!).name).toBe('127.0.0.1:8123');
  });
});

describe('signerNameFromUrl', () => {
  it('drops the scheme and trailing slashes, keeps a port and a path', () => {
    expect(signerNameFromUrl('https://log2025-1.rekor.sigstore.dev/')).toBe('log2025-1.rekor.sigstore.dev');
    expect(signerNameFromUrl('https://ctfe.sigstore.dev/2022')).toBe('ctfe.sigstore.dev/2022');
    expect(signerNameFromUrl('http://127.0.0.1:8080//')).toBe('127.0.0.1:8080');
  });
});

describe('credentials in a log URL of the trusted root', () => {
  /** The production root with its Rekor v1 log's URL given `userinfo`, written to a real file. */
  const rootWith = (userinfo: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-root-creds-'));
    const json = readJson(`${T}/prod/trusted_root.json`);
    json.tlogs[0].baseUrl = json.tlogs[0].baseUrl.replace('https://', `https://${userinfo}@`);
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(json));
    return { path: join(dir, 'trusted_root.json'), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
  };

  it('the daemon and backfill refuse the root, naming the log without them, as the configuration refuses them in its URLs', async () => {
    for (const userinfo of ['mirror:s3cret-pass', 'only-a-user', ':s3cret-pass']) {
      using root = rootWith(userinfo);
      const e = await resolveTrust({ trustedRoot: root.path, signingConfigs: [], cachePath: join(tmpdir(), 'unused') }).then(() => undefined, (x: unknown) => x);
      expect(isTlogwatchError(e, 'TRUST_MALFORMED')).toBe(true);
      const message = (e as Error).message;
      expect(message).toBe(
        'trusted root: tlogs.0.baseUrl https://rekor.sigstore.dev/: credentials in a URL (user:password@host) are refused: tlogwatch follows this URL and shows it (GET /v1/logs, /readyz, findings, log lines). Remove them from the trusted root (a public document, published through TUF), and give a private log\'s credentials in `logs` (headers or headerFiles)',
      );
      expect(message).not.toContain(userinfo.replace(/^:/, ''));
    }
  });

  it('verify, which neither follows nor shows the URLs, takes it as it is', async () => {
    using root = rootWith('mirror:s3cret-pass');
    expect((await resolveTrustedRoot(root.path, join(tmpdir(), 'unused'))).tlogs[0]!.name).toBe('rekor.sigstore.dev');
  });
});
