/**
 * Signed Entry Timestamp (Rekor v1; reference/rekor.md §1.7, rekor pkg/verify VerifySignedEntryTimestamp):
 * ECDSA P-256/SHA-256 (DER) over the RFC 8785 canonical JSON of
 * `{"body": <base64 body>, "integratedTime": <int>, "logID": <hex>, "logIndex": <virtual int>}`.
 * Canonicalisation is @sigstore/core's, not ours.
 */
import { createPublicKey, verify } from 'node:crypto';
import { json } from '@sigstore/core';
import { TlogwatchError } from '../errors.ts';
import { toBase64, toHex } from '../util/bytes.ts';

export interface SetInput {
  body: Uint8Array;
  integratedTime: bigint;
  logId: Uint8Array;
  /** The virtual (global) log index. */
  logIndex: bigint;
  set: Uint8Array;
}

export function setPayload(i: Omit<SetInput, 'set'>): Buffer {
  return Buffer.from(
    json.canonicalize({ body: toBase64(i.body), integratedTime: Number(i.integratedTime), logID: toHex(i.logId), logIndex: Number(i.logIndex) }),
    'utf8',
  );
}

export function verifySET(input: SetInput, spki: Uint8Array): void {
  let ok: boolean;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    ok = verify('sha256', setPayload(input), { key, dsaEncoding: 'der' }, input.set);
  } catch (e) {
    throw new TlogwatchError('SET_INVALID', `signed entry timestamp could not be checked: ${(e as Error).message}`, { cause: e });
  }
  if (!ok) throw new TlogwatchError('SET_INVALID', `signed entry timestamp does not verify for log index ${input.logIndex}`);
}
