/** `tlogwatch verify` on every real file (right verdict per check), tampered copies, and hostile input. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { startTufRepo } from '../helpers/tuf-repo.ts';
import { cosignatureVkey, mldsaCosignatureVkey, rawEd25519, subtreeCosignedMessage } from '../../src/note/keys.ts';
import { filesUnder, INPUT_DIRS, REALDATA } from '../helpers/realdata.ts';

const PROD = `${REALDATA}/trust/prod/trusted_root.json`;
const STAGING = `${REALDATA}/trust/staging/trusted_root.json`;

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Known upstream negative cases among the real files, and the check each must fail (SOURCES.md). */
const EXPECTED_FAIL: Record<string, string> = {
  '1462192450_hashedrekord-0.0.1_v0.3_integrated-after-cert-expiry': 'certificate',
  '154562758_hashedrekord-0.0.1_v0.3_no-SET': 'certificate',
  '42066373_hashedrekord-0.0.1_v0.3_late-tsa': 'certificate',
  'alpha1_735_hashedrekord-0.0.2_no-timestamp': 'certificate',
  // Timestamps from a mock TSA (sigstore-js's fixtures), an older staging TSA, FreeTSA; one over another signature; one after its TSA's certificate expired.
  '6751924_intoto-0.0.2_v0.1_sigstore-js': 'tsa',
  '22797666_dsse-0.0.1_v0.1_sigstore-js': 'tsa',
  '35355462_hashedrekord-0.0.1_v0.3_with-tsa': 'tsa',
  'alpha1_29473_hashedrekord-0.0.2_freetsa-embedded-cert': 'tsa',
  'alpha1_29474_hashedrekord-0.0.2_freetsa-nocert': 'tsa',
  'alpha1_5864_hashedrekord-0.0.2_timestamp-of-another-signature': 'tsa',
  'alpha1_32513_hashedrekord-0.0.2_local-tsa': 'tsa',
  '150603746_hashedrekord-0.0.1_v0.3_sigstore-java-wrong-tlog': 'body',
  '151778311_hashedrekord-0.0.1_v0.3_conformance': 'body',
  '151778873_hashedrekord-0.0.1_v0.3_conformance': 'body',
  '155690847_dsse-0.0.1_v0.3_conformance': 'body',
  '156089099_dsse-0.0.1_v0.3_conformance': 'body',
  '26084047_hashedrekord-0.0.1_v0.3_cve-2022-36056': 'body',
  'alpha1_6844_dsse-0.0.2_sigstore-java': 'body',
  // gh CLI's sigstoreBundle-invalid-signature.json: its DSSE signature altered, which went unseen while intoto
  // 0.0.2's logged signatures were not compared.
  '6751924_intoto-0.0.2_v0.3_later-proof_cli': 'body',
  'prod_cosign-legacy-bundle_820247359': 'body',
  '27246492_checkpoint-bad-keyhint': 'checkpoint',
  '27246492_checkpoint-invalid-signature': 'checkpoint',
  '27246492_checkpoint-wrong-roothash': 'checkpoint',
  '27246492_inclusion-proof-from-older-tree': 'inclusion',
  '27246492_set-invalid-signature': 'set',
  '27246492_tampered-body-public-key': 'inclusion',
  '79571823_inclusion-proof-corrupted-hash': 'inclusion',
  'alpha1_735_checkpoint-wrong-origin': 'checkpoint',
  'alpha1_735_no-inclusion-proof': 'none',
};
/** Files that hold no tlog entry or are malformed on purpose: exit 2 with a one-line reason. */
const NOT_ENTRIES = /bad-mediatype|loginfo|consistency-proof|timestamp-after-cert-expiry/;

const files = [
  ...INPUT_DIRS.flatMap((d) => filesUnder(`${REALDATA}/${d}`)),
  ...filesUnder(`${REALDATA}/derived-negative`, (f) => f.endsWith('.json')),
];
/** The root upstream gives each file: sigstore-conformance's local TSA is in a staging root of its own. */
const rootFor = (f: string) => (f.includes('local-tsa') ? `${REALDATA}/trust/staging/trusted_root_conformance-local-tsa.json` : /staging|alpha/.test(f) ? STAGING : PROD);

describe('tlogwatch verify on the real data', () => {
  it('covers every real entry file', () => expect(files.length).toBeGreaterThan(60));
  it('gives every file the right verdict per check', { timeout: 120_000 }, async () => {
    const byRoot = new Map<string, string[]>();
    for (const f of files.filter((x) => !NOT_ENTRIES.test(x))) byRoot.set(rootFor(f), [...(byRoot.get(rootFor(f)) ?? []), f]);
    let lines = 0;
    for (const [root, group] of byRoot) {
      const { stdout } = await cli(['verify', '--json', '--trusted-root', root, ...group]);
      for (const line of stdout.trim().split('\n')) {
        const r = JSON.parse(line);
        lines++;
        const name = r.file.split('/').pop().replace(/\.sigstore(\.json)?$|\.json$/, '');
        const failing = Object.entries(r.checks).filter(([, v]) => v === 'fail').map(([k]) => k);
        const want = EXPECTED_FAIL[name];
        if (!want) {
          expect(r.ok, `${name}: ${r.error}`).toBe(true);
          continue;
        }
        expect(r.ok, name).toBe(false);
        expect(r.error, name).toBeTypeOf('string');
        if (want === 'none') expect(failing, name).toEqual([]);
        else expect(failing, name).toContain(want);
      }
    }
    expect(lines).toBeGreaterThan(60);
  });
  it('names the signed time the certificate was judged at, or why there was none', async () => {
    const v2 = `${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_conformance.sigstore.json`;
    const none = `${REALDATA}/bundles/staging-rekor-v2/alpha1_735_hashedrekord-0.0.2_no-timestamp.sigstore.json`;
    const r = await cli(['verify', '--trusted-root', STAGING, v2, none]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^OK .* set=absent tsa=ok certificate=ok .*; signed times: 2025-06-12T12:02:20\.000Z \(RFC 3161 timestamp, https:\/\/timestamp\.sigstage\.dev\/api\/v1\/timestamp\)$/m);
    expect(r.stdout).toMatch(/^FAIL .* tsa=absent certificate=fail .*\(certificate: the certificate's validity could not be judged from a signed time: .*\)$/m);
    const j = await cli(['verify', '--json', '--trusted-root', STAGING, v2]);
    expect(JSON.parse(j.stdout).signedTimes).toEqual([{ by: 'tsa', tsa: 'https://timestamp.sigstage.dev/api/v1/timestamp', time: '2025-06-12T12:02:20.000Z' }]);
  });
  it('exits 0 when every entry verifies and 1 when one does not', async () => {
    const good = `${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`;
    expect((await cli(['verify', '--trusted-root', PROD, good])).code).toBe(0);
    const bad = `${REALDATA}/derived-negative/27246492_set-invalid-signature.sigstore.json`;
    const r = await cli(['verify', '--trusted-root', PROD, good, bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^OK .*\nFAIL .*set=fail/);
  });
});

describe('tampered copies made here', () => {
  const src = `${REALDATA}/bundles/prod-rekor-v1/79571823_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`;
  const tamper = (name: string, f: (b: any) => void) => {
    const b = JSON.parse(readFileSync(src, 'utf8'));
    f(b.verificationMaterial.tlogEntries[0]);
    const path = join(tmp, `${name}.json`);
    writeFileSync(path, JSON.stringify(b));
    return path;
  };
  const flipB64 = (s: string, at: number) => {
    const buf = Buffer.from(s, 'base64');
    buf[at % buf.length]! ^= 0x01;
    return buf.toString('base64');
  };
  it.each([
    ['body byte', (e: any) => (e.canonicalizedBody = flipB64(e.canonicalizedBody, 40)), ['inclusion', 'set']],
    ['proof hash', (e: any) => (e.inclusionProof.hashes[2] = flipB64(e.inclusionProof.hashes[2], 5)), ['inclusion']],
    ['checkpoint signature', (e: any) => (e.inclusionProof.checkpoint.envelope = e.inclusionProof.checkpoint.envelope.replace(/(\u2014 \S+ )(.)/, (_m: string, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'))), ['checkpoint']],
    ['SET', (e: any) => (e.inclusionPromise.signedEntryTimestamp = flipB64(e.inclusionPromise.signedEntryTimestamp, 20)), ['set']],
    ['logIndex', (e: any) => (e.logIndex = String(Number(e.logIndex) + 1)), ['set']],
    ['proof logIndex', (e: any) => (e.inclusionProof.logIndex = String(Number(e.inclusionProof.logIndex) - 1)), ['inclusion']],
  ] as const)('%s → the check it breaks fails', async (name, f, want) => {
    const { code, stdout } = await cli(['verify', '--json', '--trusted-root', PROD, tamper(name.replace(/ /g, '-'), f)]);
    expect(code).toBe(1);
    const r = JSON.parse(stdout);
    for (const check of want) expect(r.checks[check], `${name}: ${check}`).toBe('fail');
  });
});

describe('bad input', () => {
  const write = (name: string, content: string | Buffer) => {
    const p = join(tmp, name);
    writeFileSync(p, content);
    return p;
  };
  it.each([
    ['not-json', 'hello {', /not JSON/],
    ['wrong-shape', '{"a":1}', /not a Sigstore bundle/],
    ['truncated-b64', readFileSync(`${REALDATA}/bundles/prod-rekor-v1/79571823_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`, 'utf8').replace(/"canonicalizedBody": "(.{20})[^"]*"/, '"canonicalizedBody": "$1x"'), /canonicalizedBody/],
    ['garbage', Buffer.alloc(10 * 1024 * 1024, 0x7a), /not JSON/],
  ])('%s: one line naming the file, exit 2, no stack', async (name, content, reason) => {
    const p = write(name, content);
    const { code, stderr } = await cli(['verify', '--trusted-root', PROD, p]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(p);
    expect(stderr).toMatch(reason);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
  it('a missing file, no files, and an unreadable trusted root are usage errors', async () => {
    expect((await cli(['verify', '--trusted-root', PROD, join(tmp, 'nope.json')])).code).toBe(2);
    expect((await cli(['verify'])).code).toBe(2);
    const r = await cli(['verify', '--trusted-root', join(tmp, 'none.json'), `${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read trusted root/);
  });
  it('without --trusted-root and no network it says to use --trusted-root', { timeout: 30_000 }, async () => {
    const r = await cli(['verify', `${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--trusted-root/);
  });
});

describe('tlogwatch verify --witness', () => {
  // Staging's witnesses (their operators' published keys) and the Rekor v2 entry whose checkpoint all three cosigned.
  const keys = readFileSync(`${REALDATA}/trust/witness-network/staging-witnesses.vkeys`, 'utf8').trim().split('\n');
  const cosigned = `${REALDATA}/bundles/staging-rekor-v2/alpha3_4026478_hashedrekord-0.0.2_dsse_witness-cosigned.sigstore.json`;
  const absent = 'absent.example+0de1ab3b+BFp4xGp7nm0dRCx2a0vS0v1J3j2Yq3a0Wb9YH0f7L1mA';
  const witness = (ks: string[]) => ks.flatMap((k) => ['--witness', k]);

  it('passes an entry whose checkpoint a quorum of the witnesses cosigned, and says so per entry', async () => {
    const r = await cli(['verify', '--trusted-root', STAGING, '--json', ...witness(keys), cosigned]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checks).toEqual({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'absent', tsa: 'ok', certificate: 'ok', witnessed: 'ok' });
    expect((await cli(['verify', '--trusted-root', STAGING, ...witness(keys), cosigned])).stdout).toMatch(/^OK .* witnessed=ok /);
  });

  it('fails one short of the quorum, naming the witness that did not cosign', async () => {
    const extra = cosignatureVkey('absent.example', rawEd25519(generateKeyPairSync('ed25519').publicKey));
    const r = await cli(['verify', '--trusted-root', STAGING, ...witness([...keys, extra]), cosigned]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL .* witnessed=fail .*witnessed: the checkpoint is cosigned by 3 of the 4 required witnesses .*; no cosignature from absent\.example\)$/m);
    expect((await cli(['verify', '--trusted-root', STAGING, ...witness([...keys, extra]), '--witness-quorum', '3', cosigned])).code).toBe(0);
  });

  it('fails an entry with no cosigned checkpoint: a Rekor v1 one, and a Rekor v2 one without a checkpoint', async () => {
    const v1 = await cli(['verify', '--trusted-root', PROD, '--json', ...witness(keys), `${REALDATA}/bundles/prod-rekor-v1/79571823_hashedrekord-0.0.1_v0.3_conformance.sigstore.json`]);
    expect(v1.code).toBe(1);
    expect(JSON.parse(v1.stdout)).toMatchObject({ checks: { checkpoint: 'ok', witnessed: 'fail' }, error: expect.stringMatching(/witnessed: the checkpoint is cosigned by 0 of the 3 required witnesses/) });
    const none = await cli(['verify', '--trusted-root', STAGING, '--json', ...witness(keys), `${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`]);
    expect(JSON.parse(none.stdout.trim().split('\n')[0]!)).toMatchObject({ checks: { witnessed: 'fail' } });
  });

  it('takes an ML-DSA-44 witness key (type 0x06): passes with its cosignature (made by @noble/post-quantum) in the quorum, fails when one bit of it changes', async () => {
    // The real cosigned staging entry, its checkpoint with one more line: an ML-DSA-44 witness's cosignature.
    const pq = ml_dsa44.keygen(new Uint8Array(32).fill(6));
    const vkey = mldsaCosignatureVkey('pq.witness.example', pq.publicKey);
    const withLine = (flip: boolean) => {
      const b = JSON.parse(readFileSync(cosigned, 'utf8')) as { verificationMaterial: { tlogEntries: Array<{ inclusionProof: { checkpoint: { envelope: string } } }> } };
      const cp = b.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint;
      const [origin, size, root] = cp.envelope.split('\n') as [string, string, string];
      const sig = Buffer.from(ml_dsa44.sign(subtreeCosignedMessage('pq.witness.example', 1767225600n, origin, 0n, BigInt(size), Buffer.from(root, 'base64')), pq.secretKey));
      if (flip) sig[1000]! ^= 0x10;
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(1767225600n);
      const keyHash = Buffer.from(vkey.split('+')[1]!, 'hex');
      cp.envelope += `\u2014 pq.witness.example ${Buffer.concat([keyHash, ts, sig]).toString('base64')}\n`;
      const path = join(tmp, `pq-${flip}.sigstore.json`);
      writeFileSync(path, JSON.stringify(b));
      return path;
    };
    const ok = await cli(['verify', '--trusted-root', STAGING, '--json', ...witness([keys[0]!, vkey]), withLine(false)]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).checks).toMatchObject({ checkpoint: 'ok', witnessed: 'ok' });
    const bad = await cli(['verify', '--trusted-root', STAGING, ...witness([keys[0]!, vkey]), withLine(true)]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL .* witnessed=fail .*cosigned by 1 of the 2 required witnesses \(witness\.navigli\.sunlight\.geomys\.org\); an invalid one from pq\.witness\.example\)$/m);
    // The same key under a second name is refused, as for Ed25519 (tlog-policy: no duplicate witness keys).
    const twice = await cli(['verify', '--trusted-root', STAGING, ...witness([vkey, mldsaCosignatureVkey('pq2.witness.example', pq.publicKey)]), withLine(false)]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/--witness pq\.witness\.example and pq2\.witness\.example have the same public key/);
  });

  it('refuses a log key, a malformed key, a quorum out of range and a quorum without keys', async () => {
    const usage = async (args: string[], why: RegExp) => {
      const r = await cli(['verify', '--trusted-root', STAGING, ...args, cosigned]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
    };
    await usage(['--witness', 'log2025-alpha3.rekor.sigstage.dev+d3d3a70c+AZQ93VXPMmj9uZj7U/7CefQ9yy8RgYFv6mKzOseipjqp'], /--witness log2025-alpha3\.rekor\.sigstage\.dev: a key of type ed25519, not a witness's/);
    await usage(['--witness', absent], /verifier key hash 0de1ab3b does not match|malformed verifier key/);
    await usage([...witness(keys), '--witness-quorum', '4'], /--witness-quorum must be a whole number from 1 to 3/);
    await usage([...witness(keys), '--witness-quorum', '0'], /--witness-quorum must be a whole number from 1 to 3/);
    await usage(['--witness-quorum', '1'], /--witness-quorum needs --witness keys/);
    await usage([...witness([keys[0]!, keys[0]!])], /--witness witness\.navigli\.sunlight\.geomys\.org is given twice/);
    const shared = rawEd25519(generateKeyPairSync('ed25519').publicKey);
    await usage([...witness([cosignatureVkey('a.example', shared), cosignatureVkey('b.example', shared)])], /--witness a\.example and b\.example have the same public key/);
  });
});

describe('tlogwatch verify --tuf-mirror URL --tuf-root FILE', () => {
  it('takes the trusted root from a TUF repository (a private deployment), verifying its metadata', async () => {
    const repo = await startTufRepo();
    try {
      const tufRoot = join(tmp, 'tuf-root.json');
      repo.writeRoot(tufRoot);
      repo.publish({ 'trusted_root.json': readFileSync(STAGING, 'utf8') });
      const home = { HOME: join(tmp, 'home') }; // the TUF cache goes under ~/.cache
      const entry = `${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`;
      const ok = await cli(['verify', '--tuf-mirror', repo.url, '--tuf-root', tufRoot, entry], home);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^OK /);
      expect(repo.requests).toContain('/timestamp.json');
      // Metadata signed by a key the root does not name: nothing is trusted, a usage error naming the repository.
      repo.publish({ 'trusted_root.json': readFileSync(PROD, 'utf8') }, { rogue: true });
      const bad = await cli(['verify', '--tuf-mirror', repo.url, '--tuf-root', tufRoot, entry], home);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(new RegExp(`cannot get trusted_root\\.json from the TUF repository ${repo.url.replace(/\./g, '\\.')}`));
    } finally {
      await repo.close();
    }
  });
  it('refuses a mirror without its root, and TUF flags beside --trusted-root', async () => {
    const entry = `${REALDATA}/rekor-v2-api/staging_alpha1_tlog-entry_743.json`;
    const noRoot = await cli(['verify', '--tuf-mirror', 'http://127.0.0.1:9/tuf', entry]);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr).toMatch(/needs --tuf-root FILE/);
    const both = await cli(['verify', '--trusted-root', STAGING, '--tuf-root', join(tmp, 'x.json'), entry]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/no effect with --trusted-root/);
  });
});

describe('tlogwatch verify on entries the simulator serves', () => {
  it('shows that a certificate names more identities than its primary, as search does', async () => {
    const { startSimulator } = await import('../sim/index.ts');
    const sans = ['victim@corp.example', 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'];
    const v1 = await startSimulator({ api: 'v1', entries: 10, out: join(tmp, 'sim-sans'), log: () => {}, inject: [{ at: 4, cert: { san: 'attacker@example.org', sans, issuer: 'https://accounts.google.com' } }] });
    try {
      const files = [4, 5].map((i) => join(tmp, `sans-${i}.json`));
      for (const [k, f] of files.entries()) writeFileSync(f, await (await fetch(`${v1.url}/api/v1/log/entries?logIndex=${4 + k}`)).text());
      const r = await cli(['verify', '--trusted-root', v1.trustedRootPath, ...files]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const [many, one] = r.stdout.trim().split('\n');
      // The primary SAN is the first URI (entries/subject-alt-name.ts), then how many more the certificate names.
      expect(many).toMatch(/^OK .*sans-4\.json .* https:\/\/github\.com\/acme\/app\/\.github\/workflows\/release\.yml@refs\/heads\/main \(\+2 more SANs\); signed times: /);
      // A Fulcio-style certificate names one identity: no count.
      expect(one).toMatch(/^OK .*sans-5\.json /);
      expect(one).not.toMatch(/more SANs/);
    } finally {
      await v1.close();
    }
  });

  it('verifies Rekor v1 entries from the v1 API and Rekor v2 entries built from tiles', async () => {
    const { startSimulator } = await import('../sim/index.ts');
    const { proveInclusion } = await import('../../src/merkle/prove.ts');
    const { parseEntryBundle } = await import('../../src/sources/tiles.ts');
    const { leafHash } = await import('../../src/merkle/rfc6962.ts');
    const { CompactRange } = await import('../../src/merkle/compact.ts');
    const v1 = await startSimulator({ api: 'v1', entries: 50, out: join(tmp, 'sim-v1'), log: () => {} });
    const tiles = await startSimulator({ api: 'tiles', entries: 50, out: join(tmp, 'sim-tiles'), log: () => {} });
    try {
      const entryFiles = [];
      for (const i of [0, 17, 49]) {
        const p = join(tmp, `v1-${i}.json`);
        writeFileSync(p, await (await fetch(`${v1.url}/api/v1/log/entries?logIndex=${i}`)).text());
        entryFiles.push(p);
      }
      const r1 = await cli(['verify', '--json', '--trusted-root', v1.trustedRootPath, ...entryFiles]);
      expect(r1.code, r1.stdout + r1.stderr).toBe(0);
      const lines = r1.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.checks)).toEqual(Array(3).fill({ body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'ok', tsa: 'absent', certificate: 'ok' }));
      // The verdict names the time the certificate was judged at: the one the SET signs.
      expect(lines.map((l) => l.signedTimes.map((t: any) => t.by))).toEqual(Array(3).fill(['set']));

      const bodies = parseEntryBundle(new Uint8Array(await (await fetch(`${tiles.url}/tile/entries/000.p/50`)).arrayBuffer()));
      const levels: Uint8Array[][] = [];
      const range = CompactRange.empty();
      for (const b of bodies) range.append(leafHash(b), (l, i, h) => ((levels[l] ??= [])[Number(i)] = h));
      const checkpoint = await (await fetch(`${tiles.url}/checkpoint`)).text();
      const keyId = JSON.parse(readFileSync(tiles.trustedRootPath, 'utf8')).tlogs[0].logId.keyId;
      const i = 31;
      const tle = {
        logIndex: String(i),
        logId: { keyId },
        kindVersion: { kind: JSON.parse(Buffer.from(bodies[i]!).toString()).kind, version: '0.0.2' },
        integratedTime: '0',
        inclusionProof: {
          logIndex: String(i),
          rootHash: Buffer.from(range.root()).toString('base64'),
          treeSize: '50',
          hashes: proveInclusion(BigInt(i), 50n, (ids) => ids.map((id) => levels[id.level]![Number(id.index)]!)).map((h) => Buffer.from(h).toString('base64')),
          checkpoint: { envelope: checkpoint },
        },
        canonicalizedBody: Buffer.from(bodies[i]!).toString('base64'),
      };
      const p = join(tmp, 'v2-entry.json');
      writeFileSync(p, JSON.stringify(tle));
      const r2 = await cli(['verify', '--json', '--trusted-root', tiles.trustedRootPath, p]);
      expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      // A bare Rekor v2 entry has no signed time: its certificate is not judged, and the line says so.
      expect(JSON.parse(r2.stdout)).toMatchObject({
        checks: { body: 'ok', inclusion: 'ok', checkpoint: 'ok', set: 'absent', tsa: 'absent', certificate: 'absent' },
        signedTimes: [],
        ok: true,
        warning: expect.stringMatching(/could not be judged from a signed time/),
      });
    } finally {
      await v1.close();
      await tiles.close();
    }
  });
});
