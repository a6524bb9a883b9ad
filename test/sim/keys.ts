/**
 * Keys derived from the seed, so a simulator started twice with one seed has the same log, CA, witness and
 * signer keys (and worker threads building parts of one log agree on them without being sent any).
 * ECDSA and ML-DSA signatures are still randomised by OpenSSL; Ed25519 ones are deterministic.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
// PKCS#8 (RFC 5208) wrappers; OpenSSL derives the public key from the private scalar or seed.
const P256_PKCS8 = Buffer.from('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
// ML-DSA-44 with the seed-only private key, `seed [0] IMPLICIT OCTET STRING (SIZE (32))`; OpenSSL expands it.
const MLDSA44_SEED_PKCS8 = Buffer.from('3034020100300b060960864801650304031104228020', 'hex');

const digest = (parts: Array<string | number>) => createHash('sha256').update(parts.join('\u0000')).digest();
const toBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const to32 = (x: bigint) => Buffer.from(x.toString(16).padStart(64, '0'), 'hex');

function pair(privateKey: KeyObject): KeyPair {
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const p256Scalar = (parts: Array<string | number>) => (toBig(digest(['p256', ...parts])) % (P256_N - 1n)) + 1n;

/** The P-256 key named by `parts` under SHA-256 (scalar reduced into [1, n-1]). */
export function ecdsaKey(...parts: Array<string | number>): KeyPair {
  return pair(createPrivateKey({ key: Buffer.concat([P256_PKCS8, to32(p256Scalar(parts))]), format: 'der', type: 'pkcs8' }));
}

/** A P-256 key as its private scalar and its SPKI: all the batched signer (ecdsa.ts) and a certificate need. */
export interface ScalarKey {
  privateKey: bigint;
  spki: Uint8Array;
}

// SubjectPublicKeyInfo of an uncompressed P-256 point, up to the point (RFC 5480 §2).
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/**
 * The key ecdsaKey(...parts) makes, without a KeyObject: the build derives thousands of certificate keys,
 * and OpenSSL's key import checks each with a scalar multiplication on top of deriving its public key,
 * then exporting the SPKI costs as much again; ECDH derives the point alone, several times faster.
 */
export function ecdsaScalarKey(...parts: Array<string | number>): ScalarKey {
  const d = p256Scalar(parts);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(to32(d));
  return { privateKey: d, spki: new Uint8Array(Buffer.concat([P256_SPKI_PREFIX, ecdh.getPublicKey()])) };
}

export function ed25519Key(...parts: Array<string | number>): KeyPair {
  return pair(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, digest(['ed25519', ...parts])]), format: 'der', type: 'pkcs8' }));
}

/** An ML-DSA-44 key from a 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal(ξ)), as @noble/post-quantum's keygen(seed) makes it. */
export function mldsa44Key(...parts: Array<string | number>): KeyPair {
  return pair(createPrivateKey({ key: Buffer.concat([MLDSA44_SEED_PKCS8, digest(['ml-dsa-44', ...parts])]), format: 'der', type: 'pkcs8' }));
}

const spkis = new WeakMap<KeyObject, Uint8Array>();
/** DER SubjectPublicKeyInfo of a public key (cached: certificates and bodies ask for it again and again). */
export function spkiOf(k: KeyObject): Uint8Array {
  let spki = spkis.get(k);
  if (!spki) spkis.set(k, (spki = new Uint8Array(k.export({ format: 'der', type: 'spki' }))));
  return spki;
}
