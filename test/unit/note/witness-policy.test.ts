/**
 * Witness policy (src/note/witness-policy.ts): a real Rekor v2 staging checkpoint with three witness
 * cosignatures verified with the witnesses' published keys, the ways a cosignature can be absent or bad,
 * and a property over generated witnesses: the count is exactly the cosigners, whatever else the note carries.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosignatureSigner, cosignatureVkey, ed25519Signer, mldsaCosignatureVkey, parseVerifierKey, rawEd25519, rawMldsa44, type CosignatureVerifier } from '../../../src/note/keys.ts';
import { signNote } from '../../../src/note/note.ts';
import { cosignaturesOf, describeCosignatures, type WitnessPolicy } from '../../../src/note/witness-policy.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { followedLogs } from '../../../src/daemon.ts';
import { loadTrustedRootFile } from '../../../src/trust/tuf.ts';

const vkeys = readFileSync('test/fixtures/realdata/trust/witness-network/staging-witnesses.vkeys', 'utf8').trim().split('\n');
const witnesses = vkeys.map((k) => parseVerifierKey(k) as CosignatureVerifier);
const bundle = JSON.parse(readFileSync('test/fixtures/realdata/bundles/staging-rekor-v2/alpha3_4026478_hashedrekord-0.0.2_dsse_witness-cosigned.sigstore.json', 'utf8')) as {
  verificationMaterial: { tlogEntries: Array<{ inclusionProof: { checkpoint: { envelope: string } } }> };
};
const alpha3 = bundle.verificationMaterial.tlogEntries[0]!.inclusionProof.checkpoint.envelope;
const policy = (quorum: number, ws: readonly CosignatureVerifier[] = witnesses): WitnessPolicy => ({ witnesses: ws, quorum });

describe('a real cosigned checkpoint (Rekor v2 staging, log2025-alpha3, size 4026479)', () => {
  it('carries valid cosignatures from all three witnesses, at the time each signed', () => {
    const c = cosignaturesOf(alpha3, policy(3));
    expect(c.valid.map((v) => v.witness)).toEqual(['witness.navigli.sunlight.geomys.org', 'witness.stagemole.eu', 'staging.witness.transparency.goog/ring-any-bells']);
    expect(c).toMatchObject({ invalid: [], missing: [], witnessed: true });
    // The three cosigned within the same second: 0x6a04cfb6, in each signature's first 8 bytes.
    expect(new Set(c.valid.map((v) => v.timestamp))).toEqual(new Set([0x6a04cfb6n]));
  });

  it('a witness the note has no line for is missing, and a quorum it would complete is not reached', () => {
    const extra = parseVerifierKey(cosignatureVkey('witness.example', rawEd25519(generateKeyPairSync('ed25519').publicKey))) as CosignatureVerifier;
    const c = cosignaturesOf(alpha3, policy(4, [...witnesses, extra]));
    expect(c).toMatchObject({ missing: ['witness.example'], witnessed: false });
    expect(describeCosignatures(c, policy(4, [...witnesses, extra]))).toBe(
      'cosigned by 3 of the 4 required witnesses (witness.navigli.sunlight.geomys.org, witness.stagemole.eu, staging.witness.transparency.goog/ring-any-bells); no cosignature from witness.example',
    );
  });

  it('a changed cosignature is invalid and does not count; the others still do', () => {
    const line = alpha3.split('\n').find((l) => l.startsWith('\u2014 witness.stagemole.eu '))!;
    const sig = Buffer.from(line.split(' ')[2]!, 'base64');
    sig[40]! ^= 1;
    const tampered = alpha3.replace(line, `\u2014 witness.stagemole.eu ${sig.toString('base64')}`);
    const c = cosignaturesOf(tampered, policy(3));
    expect(c).toMatchObject({ invalid: ['witness.stagemole.eu'], witnessed: false });
    expect(c.valid).toHaveLength(2);
    expect(cosignaturesOf(tampered, policy(2)).witnessed).toBe(true);
    // A cosignature on another checkpoint (the size changed) verifies for none of them.
    const moved = alpha3.replace('\n4026479\n', '\n4026480\n');
    expect(cosignaturesOf(moved, policy(1))).toMatchObject({ valid: [], invalid: witnesses.map((w) => w.name), witnessed: false });
  });

  it('a line under a witness’s name with another key hash is not that witness’s', () => {
    const other = parseVerifierKey(cosignatureVkey('witness.stagemole.eu', rawEd25519(generateKeyPairSync('ed25519').publicKey))) as CosignatureVerifier;
    expect(cosignaturesOf(alpha3, policy(1, [other]))).toMatchObject({ valid: [], missing: ['witness.stagemole.eu'], witnessed: false });
  });
});

describe('generated witnesses', () => {
  const log = generateKeyPairSync('ed25519').privateKey;
  const pool = Array.from({ length: 5 }, (_, i) => ({ name: `w${i}.example`, key: generateKeyPairSync('ed25519') }));
  const verifiers = pool.map((w) => parseVerifierKey(cosignatureVkey(w.name, rawEd25519(w.key.publicKey))) as CosignatureVerifier);
  it('counts exactly the policy witnesses that cosigned, with any strangers and duplicates beside them', () => {
    fc.assert(
      fc.property(fc.subarray([0, 1, 2, 3, 4]), fc.subarray([0, 1, 2, 3, 4]), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2 ** 40 }), (signing, inPolicy, quorum, strangers, ts) => {
        fc.pre(inPolicy.length > 0 && quorum <= inPolicy.length);
        const text = `log.example\n${ts}\n${Buffer.alloc(32, ts % 256).toString('base64')}\n`;
        const signers = [
          ed25519Signer('log.example', log),
          ...signing.map((i) => cosignatureSigner(pool[i]!.name, pool[i]!.key.privateKey, () => ts + i)),
          ...Array.from({ length: strangers }, (_, i) => cosignatureSigner(`stranger${i}.example`, generateKeyPairSync('ed25519').privateKey, () => ts)),
        ];
        const p = policy(quorum, inPolicy.map((i) => verifiers[i]!));
        const c = cosignaturesOf(signNote(text, signers), p);
        const expected = inPolicy.filter((i) => signing.includes(i));
        expect(c.valid.map((v) => v.witness)).toEqual(expected.map((i) => pool[i]!.name));
        expect(c.valid.map((v) => v.timestamp)).toEqual(expected.map((i) => BigInt(ts + i)));
        expect(c.missing).toEqual(inPolicy.filter((i) => !signing.includes(i)).map((i) => pool[i]!.name));
        expect(c.invalid).toEqual([]);
        expect(c.witnessed).toBe(expected.length >= quorum);
      }),
      { numRuns: 150 },
    );
  });
});

describe('configuration', () => {
  const cfg = (w: string, type = 'tiles') => `logs:\n  - name: a\n    type: ${type}\n    url: http://x\n    witnesses:\n${w}`;
  const error = (yaml: string) => {
    try {
      parseConfig(yaml, 'c.yaml', {});
    } catch (e) {
      return (e as Error).message;
    }
    return 'valid';
  };
  it('takes the real witness keys with a quorum', () => {
    expect(error(cfg(`      quorum: 2\n      keys:\n${vkeys.map((k) => `        - ${k}\n`).join('')}`))).toBe('valid');
  });
  it('becomes the follower\'s policy: the parsed keys and the quorum', () => {
    const config = parseConfig(`logs:\n  - name: v2\n    type: tiles\n    url: https://log2025-1.rekor.sigstore.dev\n    witnesses:\n      quorum: 2\n      keys:\n${vkeys.map((k) => `        - ${k}\n`).join('')}`, 'c.yaml', {});
    const [l] = followedLogs(config, loadTrustedRootFile('test/fixtures/realdata/trust/prod/trusted_root.json'), new Date('2026-11-28T00:00:00Z'));
    expect(l!.follow.witnesses?.quorum).toBe(2);
    expect(l!.follow.witnesses?.witnesses.map((w) => w.name)).toEqual(witnesses.map((w) => w.name));
    expect(cosignaturesOf(alpha3, l!.follow.witnesses!).witnessed).toBe(true);
  });
  it('witnessPolicies: by origin, exact or glob, for the tiles logs of the trusted root (and the shards it lists later); first match wins; a log\'s own policy comes first', () => {
    const staging = loadTrustedRootFile('test/fixtures/realdata/trust/staging/trusted_root.json');
    const keysYaml = (ks: string[]) => ks.map((k) => `        - ${k}\n`).join('');
    const policies = `witnessPolicies:\n  - origins: ['log2025-alpha3.rekor.sigstage.dev']\n    quorum: 3\n    keys:\n${keysYaml(vkeys).replace(/^ {8}/gm, '      ')}  - origins: ['*.rekor.sigstage.dev']\n    quorum: 1\n    keys:\n${keysYaml(vkeys.slice(0, 1)).replace(/^ {8}/gm, '      ')}`;
    const now = new Date('2026-11-28T00:00:00Z');
    const byName = (yaml: string) => new Map(followedLogs(parseConfig(yaml, 'c.yaml', {}), staging, now).map((l) => [l.follow.name, l.follow.witnesses && `${l.follow.witnesses.quorum} of ${l.follow.witnesses.witnesses.length}`]));
    expect(byName(`trustedRoot: r.json\n${policies}`)).toEqual(
      new Map([
        ['rekor.sigstage.dev', undefined], // Rekor v1: never cosigned, whatever the glob says
        ['log2025-alpha3.rekor.sigstage.dev', '3 of 3'],
        ['log2026-1.us-east4.rekor.sigstage.dev', '1 of 1'],
      ]),
    );
    const own = `${policies}logs:\n  - { name: a3, type: tiles, url: 'https://log2025-alpha3.rekor.sigstage.dev', witnesses: { quorum: 2, keys: ['${vkeys[0]}', '${vkeys[1]}'] } }\n  - { name: n, type: tiles, url: 'https://log2026-1.us-east4.rekor.sigstage.dev' }\n`;
    expect(byName(own)).toEqual(new Map([['a3', '2 of 2'], ['n', '1 of 1']]));
    expect(error(`witnessPolicies:\n  - { origins: ['x'], quorum: 2, keys: ['${vkeys[0]}'] }\n`)).toMatch(/witnessPolicies\.0\.quorum: 2 is more than the 1 witnesses listed/);
  });
  it('refuses one Ed25519 public key under two witness names: a cosignature/v1 does not sign the name, so one line copied under the other counts twice', () => {
    const key = generateKeyPairSync('ed25519');
    const [a, b] = ['a.example', 'b.example'].map((n) => cosignatureVkey(n, rawEd25519(key.publicKey))) as [string, string];
    expect(error(cfg(`      quorum: 2\n      keys: ['${a}', '${b}']\n`))).toMatch(/logs\.0\.witnesses\.keys\.1: witnesses a\.example and b\.example have the same public key/);
    expect(error(`witnessPolicies:\n  - { origins: ['x'], quorum: 1, keys: ['${vkeys[0]}', '${a}', '${b}'] }\n`)).toMatch(/witnessPolicies\.0\.keys\.2: witnesses a\.example and b\.example have the same public key/);
    // The reason: a.example's one cosignature, with b.example's name and key hash in front, verifies as b.example's.
    const [va, vb] = [parseVerifierKey(a), parseVerifierKey(b)] as [CosignatureVerifier, CosignatureVerifier];
    const signed = signNote(`log.example\n5\n${Buffer.alloc(32).toString('base64')}\n`, [cosignatureSigner('a.example', key.privateKey, () => 7)]);
    const line = signed.slice(signed.lastIndexOf('\u2014'));
    const sig = Buffer.from(line.split(' ')[2]!.trim(), 'base64').subarray(4);
    const copied = `${signed}\u2014 b.example ${Buffer.concat([vb.keyHash, sig]).toString('base64')}\n`;
    expect(cosignaturesOf(copied, policy(2, [va, vb])).witnessed).toBe(true);
  });

  it('takes ML-DSA-44 witness keys (type 0x06) beside Ed25519 ones, and refuses one ML-DSA-44 key under two names (tlog-policy: no duplicate witness keys)', () => {
    const raw = rawMldsa44(generateKeyPairSync('ml-dsa-44').publicKey);
    const [pq, pq2] = ['pq.example', 'pq2.example'].map((n) => mldsaCosignatureVkey(n, raw)) as [string, string];
    const config = parseConfig(cfg(`      quorum: 2\n      keys: ['${vkeys[0]}', '${pq}']\n`), 'c.yaml', {});
    expect(config.logs[0]!.witnesses?.keys).toEqual([vkeys[0], pq]);
    expect(error(cfg(`      quorum: 1\n      keys: ['${pq}', '${pq2}']\n`))).toMatch(/logs\.0\.witnesses\.keys\.1: witnesses pq\.example and pq2\.example have the same public key: one key would count twice toward the quorum/);
  });

  it('refuses a log key (Ed25519 or RFC 6962 STH), a malformed key, a quorum above the keys, a witness listed twice and a Rekor v1 log', () => {
    expect(error(cfg(`      quorum: 1\n      keys: ['log2025-alpha3.rekor.sigstage.dev+d3d3a70c+AZQ93VXPMmj9uZj7U/7CefQ9yy8RgYFv6mKzOseipjqp']\n`))).toMatch(/logs\.0\.witnesses\.keys\.0: not a witness key: log2025-alpha3\.rekor\.sigstage\.dev's key is type ed25519/);
    // The only place config takes a vkey: an RFC 6962 STH key (0x05) is a log's, refused here like any other log key.
    const sth = 'rome.ct.filippo.io/2024h1+78f4abae+BTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAFzPC3fap+uINc1RQ4eRbYMUt84+bKkA8GDLN8KwVdzAgYhYSv4kS8XSheGLAHCWhIJTJbuC3sL88bNMTtrsBM=';
    expect(error(cfg(`      quorum: 1\n      keys: ['${sth}']\n`))).toMatch(/logs\.0\.witnesses\.keys\.0: not a witness key: rome\.ct\.filippo\.io\/2024h1's key is type rfc6962/);
    expect(error(cfg(`      quorum: 1\n      keys: ['witness+nothex+AAAA']\n`))).toMatch(/logs\.0\.witnesses\.keys\.0: malformed verifier key/);
    expect(error(cfg(`      quorum: 3\n      keys: ['${vkeys[0]}', '${vkeys[1]}']\n`))).toMatch(/logs\.0\.witnesses\.quorum: 3 is more than the 2 witnesses listed/);
    expect(error(cfg(`      quorum: 1\n      keys: ['${vkeys[0]}', '${vkeys[0]}']\n`))).toMatch(/logs\.0\.witnesses\.keys\.1: witness witness\.navigli\.sunlight\.geomys\.org is listed twice/);
    expect(error(cfg(`      quorum: 1\n      keys: ['${vkeys[0]}']\n`, 'rekor-v1'))).toMatch(/logs\.0\.witnesses: only tiles logs have cosigned checkpoints/);
  });
});
