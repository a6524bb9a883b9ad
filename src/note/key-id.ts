/**
 * Signature types and key IDs of C2SP signed-note (https://c2sp.org/signed-note §"Signatures").
 *
 * The RECOMMENDED key ID is SHA-256(key name || 0x0A || signature type || public key); a signature line
 * carries its first 4 bytes (the key hash). ECDSA as Rekor v1 and transparency-dev/witness sign is the
 * exception: SHA-256(SPKI DER), without the name (rekor.md §1.8).
 */
import { createHash } from 'node:crypto';
import { concatBytes, utf8 } from '../util/bytes.ts';

export const ALG_ED25519 = 0x01;
export const ALG_ECDSA = 0x02;
export const ALG_COSIGNATURE_V1 = 0x04;
export const ALG_RFC6962_STH = 0x05;
export const ALG_COSIGNATURE_MLDSA = 0x06;

export const sha256 = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(createHash('sha256').update(concatBytes(...parts)).digest());

/** The full 32-byte C2SP key ID of a key of type `alg` (its first 4 bytes are the key hash). */
export function c2spKeyId(name: string, alg: number, key: Uint8Array): Uint8Array {
  return sha256(utf8.encode(`${name}\n`), new Uint8Array([alg]), key);
}

/** Four bytes as the 8 lowercase hex digits of a vkey and of error messages. */
export const keyHashHex = (h: Uint8Array): string => Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex');
