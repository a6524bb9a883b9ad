/**
 * ML-DSA-44 cosignatures (type 0x06, src/note/cosignature-mldsa.ts) against an independent implementation,
 * @noble/post-quantum (FIPS 204 in TypeScript, no OpenSSL), and a naive re-encoding of tlog-cosignature's
 * `cosigned_message` written from the spec here: keys, key IDs and vkeys agree; what node:crypto signs
 * noble verifies and the other way round; any flipped bit fails; the cosigner's name is signed.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../../../src/note/checkpoint.ts';
import {
  cosignatureSigner,
  cosignatureVkey,
  mldsaCosignatureSigner,
  mldsaCosignatureVerifier,
  mldsaCosignatureVkey,
  parseVerifierKey,
  rawEd25519,
  rawMldsa44,
  subtreeCosignedMessage,
  type CosignatureVerifier,
} from '../../../src/note/keys.ts';
import { parseNote, signNote, verifyNote } from '../../../src/note/note.ts';
import { cosignaturesOf, sharedWitnessKey } from '../../../src/note/witness-policy.ts';
import { codeOf } from './keys-fixture.ts';

/** An ML-DSA-44 key from its 32-byte seed: PKCS#8 with the seed-only private key (`[0] IMPLICIT OCTET STRING`). */
const nodeKey = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('3034020100300b060960864801650304031104228020', 'hex'), seed]), format: 'der', type: 'pkcs8' });

/** tlog-cosignature §"ML-DSA-44 signed message", byte by byte from the struct (RFC 8446 §3), for a checkpoint. */
function naiveMessage(cosigner: string, ts: bigint, origin: string, size: bigint, root: Uint8Array): Buffer {
  const n = Buffer.from(cosigner, 'utf8');
  const o = Buffer.from(origin, 'utf8');
  const u64 = (x: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(x);
    return b;
  };
  return Buffer.concat([Buffer.from([0x73, 0x75, 0x62, 0x74, 0x72, 0x65, 0x65, 0x2f, 0x76, 0x31, 0x0a, 0x00]), Buffer.from([n.length]), n, u64(ts), Buffer.from([o.length]), o, u64(0n), u64(size), root]);
}

const keyHashOf = (name: string, pub: Uint8Array) => createHash('sha256').update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x06]), pub])).digest().subarray(0, 4);
const cosignedLine = (name: string, pub: Uint8Array, ts: bigint, sig: Uint8Array) => {
  const t = Buffer.alloc(8);
  t.writeBigUInt64BE(ts);
  return `\u2014 ${name} ${Buffer.concat([keyHashOf(name, pub), t, sig]).toString('base64')}\n`;
};
const ROOT = new Uint8Array(32).fill(7);
const checkpointText = (origin: string, size: bigint, root: Uint8Array = ROOT, extensions: string[] = []) => formatCheckpoint({ origin, size, rootHash: root, extensions });

const seed = new Uint8Array(32).fill(1);
const noble = ml_dsa44.keygen(seed);
const witnessKey = nodeKey(seed);
const NAME = 'witness.example.org/pq';
const verifier = parseVerifierKey(mldsaCosignatureVkey(NAME, noble.publicKey)) as CosignatureVerifier;

describe('ML-DSA-44 keys', () => {
  it('node:crypto and noble derive one public key from one seed; key ID and vkey are as the spec computes them', () => {
    expect(Buffer.from(rawMldsa44(witnessKey))).toEqual(Buffer.from(noble.publicKey));
    const vkey = mldsaCosignatureVkey(NAME, noble.publicKey);
    expect(vkey).toBe(`${NAME}+${keyHashOf(NAME, noble.publicKey).toString('hex')}+${Buffer.concat([Buffer.from([6]), noble.publicKey]).toString('base64')}`);
    expect(Buffer.from(verifier.keyHash)).toEqual(keyHashOf(NAME, noble.publicKey));
    expect(verifier.kind).toBe('cosignature');
  });

  it('refuses a key of the wrong length, a wrong key hash, and a name the signed message cannot hold (over 255 bytes)', () => {
    const b64 = (b: Uint8Array) => Buffer.concat([Buffer.from([6]), b]).toString('base64');
    expect(codeOf(() => parseVerifierKey(`w+${keyHashOf('w', noble.publicKey.subarray(1)).toString('hex')}+${b64(noble.publicKey.subarray(1))}`))).toBe('NOTE_BAD_KEY');
    expect(codeOf(() => parseVerifierKey(`w+00000000+${b64(noble.publicKey)}`))).toBe('NOTE_BAD_KEY');
    const long = 'é'.repeat(128); // 256 bytes
    expect(codeOf(() => mldsaCosignatureVerifier(long, noble.publicKey))).toBe('NOTE_BAD_KEY');
    expect(mldsaCosignatureVerifier(long.slice(1) + 'e', noble.publicKey).name).toHaveLength(128); // 255 bytes
  });

  it('one key under two names is refused as a witness set (tlog-policy), though here only the key holder could make the second line', () => {
    const [a, b] = ['a.example', 'b.example'].map((n) => mldsaCosignatureVkey(n, noble.publicKey));
    expect(sharedWitnessKey([a!, b!])).toEqual({ first: 0, second: 1 });
    // An Ed25519 and an ML-DSA-44 key are never one key.
    expect(sharedWitnessKey([cosignatureVkey('a.example', rawEd25519(generateKeyPairSync('ed25519').publicKey)), a!])).toBeUndefined();
    // Two vkeys with no key to read are refused for that, not as one key under two names.
    expect(sharedWitnessKey(['a.example+00000000+!!!', 'b.example+00000000+???', 'c.example+00000000+'])).toBeUndefined();
    // The name is signed: a.example's line with b.example's name and key hash in front does not verify as b.example's.
    const text = checkpointText('log.example', 5n);
    const signed = signNote(text, [mldsaCosignatureSigner('a.example', witnessKey, () => 9)]);
    const sig = parseNote(signed).signatures[0]!.signature;
    const vb = parseVerifierKey(b!) as CosignatureVerifier;
    const copied = `${text}\n\u2014 b.example ${Buffer.concat([vb.keyHash, sig]).toString('base64')}\n`;
    expect(cosignaturesOf(copied, { witnesses: [vb], quorum: 1 })).toMatchObject({ valid: [], invalid: ['b.example'] });
  });
});

describe('ML-DSA-44 cosignatures', () => {
  it('the signed message is the spec struct (checked against a naive encoding), and subtrees follow its rules', () => {
    expect(Buffer.from(subtreeCosignedMessage(NAME, 1679315147n, 'example.com/log', 0n, 20852163n, ROOT))).toEqual(naiveMessage(NAME, 1679315147n, 'example.com/log', 20852163n, ROOT));
    expect(() => subtreeCosignedMessage(NAME, 5n, 'o', 256n, 512n, ROOT)).toThrow(RangeError); // start ≠ 0 needs timestamp 0
    expect(subtreeCosignedMessage(NAME, 0n, 'o', 256n, 512n, ROOT)).toHaveLength(12 + 1 + NAME.length + 8 + 2 + 8 + 8 + 32);
    expect(() => subtreeCosignedMessage(NAME, 1n << 63n, 'o', 0n, 1n, ROOT)).toThrow(RangeError);
    expect(() => subtreeCosignedMessage(NAME, 0n, 'o'.repeat(256), 0n, 1n, ROOT)).toThrow(RangeError);
  });

  it('noble verifies what node:crypto signs; node:crypto verifies what noble signs', () => {
    const text = checkpointText('log2025-1.rekor.sigstore.dev', 123456789n);
    const signed = signNote(text, [mldsaCosignatureSigner(NAME, witnessKey, () => 1767139200)]);
    const sig = parseNote(signed).signatures[0]!.signature;
    expect(sig).toHaveLength(8 + 2420);
    expect(verifier.timestampOf(sig)).toBe(1767139200n);
    expect(ml_dsa44.verify(sig.subarray(8), naiveMessage(NAME, 1767139200n, 'log2025-1.rekor.sigstore.dev', 123456789n, ROOT), noble.publicKey)).toBe(true);
    expect(verifyNote(signed, [verifier]).verifiedBy).toHaveLength(1);

    const nobleSig = ml_dsa44.sign(naiveMessage(NAME, 42n, 'log2025-1.rekor.sigstore.dev', 123456789n, ROOT), noble.secretKey);
    const fromNoble = `${text}\n${cosignedLine(NAME, noble.publicKey, 42n, nobleSig)}`;
    expect(cosignaturesOf(fromNoble, { witnesses: [verifier], quorum: 1 }).valid).toMatchObject([{ witness: NAME, timestamp: 42n }]);
  });

  it('extension lines are not signed; timestamp 0 is a cosignature without a freshness statement; size 0 is a checkpoint too', () => {
    const signer = mldsaCosignatureSigner(NAME, witnessKey, () => 0);
    const signed = signNote(checkpointText('o.example', 0n, new Uint8Array(createHash('sha256').digest())), [signer]);
    expect(verifier.timestampOf(verifyNote(signed, [verifier]).verifiedBy[0]!.signature)).toBe(0n);
    const plain = signNote(checkpointText('o.example', 3n), [signer]);
    const extended = plain.replace('\n\n', '\nTimestamp: 1\n\n');
    expect(verifyNote(extended, [verifier]).verifiedBy).toHaveLength(1);
  });

  it('a line of the wrong length under its name and key hash is another key’s (skipped); a timestamp past 2^63-1, an origin past 255 bytes and a note that is no checkpoint fail', () => {
    const text = checkpointText('o.example', 3n);
    const signed = signNote(text, [mldsaCosignatureSigner(NAME, witnessKey, () => 5)]);
    const raw = Buffer.from(signed.slice(signed.lastIndexOf(' ') + 1).trim(), 'base64');
    expect(verifier.verify(Buffer.from(text), raw.subarray(4, 4 + 72))).toBeUndefined();
    const short = `\u2014 ${NAME} ${raw.subarray(0, 4 + 72).toString('base64')}\n`;
    expect(cosignaturesOf(`${text}\n${short}`, { witnesses: [verifier], quorum: 1 })).toMatchObject({ invalid: [NAME] });
    // Beside this witness's real line it changes nothing, in either order, and the note still verifies.
    for (const both of [`${signed}${short}`, `${text}\n${short}${signed.slice(text.length + 1)}`]) {
      expect(cosignaturesOf(both, { witnesses: [verifier], quorum: 1 })).toMatchObject({ valid: [{ witness: NAME, timestamp: 5n }], witnessed: true });
      expect(verifyNote(both, [verifier]).verifiedBy).toHaveLength(1);
    }
    const high = Buffer.from(raw.subarray(4));
    high[0] = 0x80;
    expect(verifier.verify(Buffer.from(text), high)).toBe(false);
    expect(verifier.verify(Buffer.from(checkpointText('o'.repeat(256), 3n)), raw.subarray(4))).toBe(false);
    expect(verifier.verify(Buffer.from('not a checkpoint\n'), raw.subarray(4))).toBe(false);
  });

  it('property: any cosigner, origin, size, root and timestamp round-trips with noble, and one flipped bit anywhere fails', () => {
    const keyName = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }).filter((s) => !/[\s+]/.test(s));
    const origin = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 }).filter((s) => !/[\n]/.test(s));
    fc.assert(
      fc.property(
        keyName,
        origin,
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
        fc.constantFrom('key hash', 'timestamp', 'signature', 'text'),
        fc.nat(),
        (name, o, size, root, ts, where, flipAt) => {
          const v = mldsaCosignatureVerifier(name, noble.publicKey);
          const text = checkpointText(o, size, root);
          const sig = mldsaCosignatureSigner(name, witnessKey, () => ts).sign(Buffer.from(text));
          expect(ml_dsa44.verify(sig.subarray(8), naiveMessage(name, ts, o, size, root), noble.publicKey)).toBe(true);
          expect(v.verify(Buffer.from(text), sig)).toBe(true);
          // One bit of the line (key hash, timestamp, signature) or of the checkpoint's three lines.
          const line = Buffer.concat([v.keyHash, sig]);
          const [from, to] = { 'key hash': [0, 4], timestamp: [4, 12], signature: [12, line.length], text: [line.length, line.length + text.length] }[where] as [number, number];
          const bit = from * 8 + (flipAt % ((to - from) * 8));
          if (bit < line.length * 8) {
            line[bit >> 3]! ^= 1 << (bit & 7);
            const c = cosignaturesOf(`${text}\n\u2014 ${name} ${line.toString('base64')}\n`, { witnesses: [v], quorum: 1 });
            expect(c).toMatchObject(bit < 32 ? { valid: [], missing: [name] } : { valid: [], invalid: [name] });
          } else {
            const t2 = Buffer.from(text);
            t2[(bit >> 3) - line.length]! ^= 1 << (bit & 7);
            expect(v.verify(t2, sig)).toBe(false);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('an Ed25519 cosignature/v1 line under the same name is no ML-DSA cosignature', () => {
    const ed = generateKeyPairSync('ed25519');
    const text = checkpointText('o.example', 3n);
    const both = signNote(text, [cosignatureSigner(NAME, ed.privateKey, () => 1), mldsaCosignatureSigner(NAME, witnessKey, () => 2)]);
    const c = cosignaturesOf(both, { witnesses: [verifier], quorum: 1 });
    expect(c.valid).toMatchObject([{ witness: NAME, timestamp: 2n }]);
  });
});
