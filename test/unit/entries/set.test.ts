/** Signed entry timestamps: the exact payload Rekor signs, tampering, key types, and errors. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { setPayload, verifySET } from '../../../src/entries/set.ts';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { parseTrustedRoot, findTlogByKeyId } from '../../../src/trust/trusted-root.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const [real] = parseTlogEntries(readJson(`${REALDATA}/bundles/prod-rekor-v1/27246492_hashedrekord-0.0.1_v0.2_conformance.sigstore.json`));
const prod = parseTrustedRoot(readJson(`${REALDATA}/trust/prod/trusted_root.json`));
const rekorKey = findTlogByKeyId(prod, real!.logId)!.spki;
const input = { body: real!.body, integratedTime: real!.integratedTime!, logId: real!.logId, logIndex: real!.logIndex, set: real!.set! };

describe('verifySET', () => {
  it('accepts the real SET and rejects every tampered field', () => {
    verifySET(input, rekorKey);
    const body = new Uint8Array(input.body);
    body[10]! ^= 1;
    const logId = new Uint8Array(input.logId);
    logId[0]! ^= 1;
    for (const t of [{ logIndex: input.logIndex + 1n }, { integratedTime: input.integratedTime + 1n }, { body }, { logId }, { set: input.set.subarray(1) }]) {
      let err: unknown;
      try {
        verifySET({ ...input, ...t }, rekorKey);
      } catch (e) {
        err = e;
      }
      expect(isTlogwatchError(err, 'SET_INVALID'), Object.keys(t)[0]).toBe(true);
    }
  });
  it('signs RFC 8785 canonical JSON with keys in order and the body as standard base64', () => {
    expect(setPayload({ body: Uint8Array.of(0xfb, 0xff), integratedTime: 1n, logId: Uint8Array.of(0xab), logIndex: 3_000_000_000n }).toString()).toBe(
      '{"body":"+/8=","integratedTime":1,"logID":"ab","logIndex":3000000000}',
    );
  });
  it('verifies with ECDSA, RSA and Ed25519 keys, given as SPKI bytes or a KeyObject', () => {
    for (const type of ['ec', 'rsa', 'ed25519'] as const) {
      const { publicKey, privateKey } =
        type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
      const payload = setPayload(input);
      const set = sign(type === 'ed25519' ? null : 'sha256', payload, privateKey);
      verifySET({ ...input, set }, publicKey);
      verifySET({ ...input, set }, new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })));
      expect(() => verifySET({ ...input, logIndex: 1n, set }, publicKey)).toThrow(/does not verify/);
    }
  });
  it('says why it could not check', () => {
    expect(() => verifySET(input, Uint8Array.of(1, 2, 3))).toThrow(/could not be checked/);
    expect(() => verifySET({ ...input, logIndex: 1n << 60n }, rekorKey)).toThrow(/JSON numbers stop at 2\^53/);
  });
});
