/** Shared test helpers for note tests: Ed25519 keys from published test seeds, error codes of a throwing call. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isTlogwatchError } from '../../../src/errors.ts';

/** PKCS#8 header of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export const ed25519FromSeed = (seed: Uint8Array): KeyObject => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });

export const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));

/** The TlogwatchError code `f` throws, 'ok' when it returns, 'other' for any other exception. */
export function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isTlogwatchError(e) ? e.code : `other: ${String(e)}`;
  }
}
