/**
 * Signed Entry Timestamp (Rekor v1 "inclusion promise"): reference/rekor.md §1.7; sigstore/rekor
 * pkg/api/entries.go signEntry, pkg/verify/verify.go VerifySignedEntryTimestamp; openapi.yaml LogEntry
 * `signedEntryTimestamp`.
 *
 * The payload is RFC 8785 canonical JSON of exactly
 *   {"body": <base64 body>, "integratedTime": <int>, "logID": <hex>, "logIndex": <int>}
 * where logIndex is the VIRTUAL (global) index the API reports, not the shard-local proof index; every
 * real SET in test/fixtures/realdata verifies that way. Canonicalisation is @sigstore/core's.
 * Production signs with ECDSA P-256/SHA-256 (ASN.1 DER signature); an Ed25519 log key is verified as
 * pure Ed25519 over the same payload, which is what Rekor's signer does for such keys.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { json } from '@sigstore/core';
import { TlogwatchError } from '../errors.ts';
import { toBase64, toHex } from '../util/bytes.ts';

export interface SetInput {
  /** The canonical entry body (decoded from the LogEntry's base64 `body`). */
  body: Uint8Array;
  integratedTime: bigint;
  /** SHA-256 of the log's DER public key (LogEntry `logID`). */
  logId: Uint8Array;
  /** The virtual (global) log index. */
  logIndex: bigint;
  /** The signature: base64-decoded `signedEntryTimestamp`. */
  set: Uint8Array;
}

function safe(n: bigint, what: string): number {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new TlogwatchError('SET_INVALID', `${what} ${n} cannot appear in a SET payload (JSON numbers stop at 2^53)`);
  return Number(n);
}

/** The exact bytes the log signed. */
export function setPayload(i: Omit<SetInput, 'set'>): Buffer {
  const payload = {
    body: toBase64(i.body),
    integratedTime: safe(i.integratedTime, 'integratedTime'),
    logID: toHex(i.logId),
    logIndex: safe(i.logIndex, 'logIndex'),
  };
  return Buffer.from(json.canonicalize(payload), 'utf8');
}

/** A Rekor v1 log's key, to check the SETs of the entries it serves: `logId` is SHA-256 of the key's DER SPKI (the LogEntry's `logID`). */
export interface SetKey {
  key: KeyObject;
  logId: Uint8Array;
}

export function setKeyFromSpki(spki: Uint8Array, logId: Uint8Array): SetKey {
  return { key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), logId };
}

/** Throws TlogwatchError SET_INVALID unless `input.set` is the log's signature over the entry. */
export function verifySET(input: SetInput, publicKey: Uint8Array | KeyObject): void {
  let ok: boolean;
  try {
    const key = publicKey instanceof Uint8Array ? createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }) : publicKey;
    const data = setPayload(input);
    ok = key.asymmetricKeyType === 'ed25519' ? verify(null, data, key, input.set) : verify('sha256', data, { key, dsaEncoding: 'der' }, input.set);
  } catch (e) {
    if (e instanceof TlogwatchError) throw e;
    throw new TlogwatchError('SET_INVALID', `signed entry timestamp could not be checked: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!ok) {
    throw new TlogwatchError('SET_INVALID', `signed entry timestamp does not verify for log index ${input.logIndex} with the log's key`, {
      data: { logIndex: input.logIndex.toString(), logId: toHex(input.logId) },
    });
  }
}
