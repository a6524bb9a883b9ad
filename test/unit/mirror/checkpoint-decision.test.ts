/** decideCheckpoint's refusals: what a checkpoint signed by no key of the log says, before and after one verified. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideCheckpoint } from '../../../src/mirror/checkpoint-decision.ts';
import { formatCheckpoint } from '../../../src/note/checkpoint.ts';
import { ed25519Signer, ed25519Verifier, rawEd25519 } from '../../../src/note/ed25519.ts';
import { signNote } from '../../../src/note/note.ts';

const origin = 'log.example/v2';
const keyPair = () => generateKeyPairSync('ed25519');
const logKey = keyPair();
const otherKey = keyPair();
const verifiers = [ed25519Verifier(origin, rawEd25519(logKey.publicKey))];
const checkpoint = (size: bigint, signer: typeof logKey) => signNote(formatCheckpoint({ origin, size, rootHash: new Uint8Array(32).fill(Number(size % 256n)), extensions: [] }), [ed25519Signer(origin, signer.privateKey)]);

function refusal(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('not refused');
}

describe('a checkpoint signed by no key of the log', () => {
  it('before any checkpoint verified, the refusal points at the trusted root first', () => {
    const e = refusal(() => decideCheckpoint(checkpoint(10n, otherKey), origin, verifiers, undefined));
    expect(e.code).toBe('VERIFY_BAD_CHECKPOINT');
    expect(e.message).toMatch(/^checkpoint rejected: note has no verifiable signatures \(signed by: log\.example\/v2\+[0-9a-f]{8}; expected: log\.example\/v2\+[0-9a-f]{8}\); no checkpoint of this log has verified yet, so the likelier cause is a trusted root that gives it another key than the one it signs with \(check --trusted-root or trustedRoot\)$/);
  });

  it('once one verified with the trusted root key, no such hint: the log changed key or someone else signed', () => {
    const first = decideCheckpoint(checkpoint(10n, logKey), origin, verifiers, undefined);
    const verified = { size: 10n, rootHash: first.checkpoint.rootHash, note: first.note };
    const e = refusal(() => decideCheckpoint(checkpoint(11n, otherKey), origin, verifiers, verified));
    expect(e.code).toBe('VERIFY_BAD_CHECKPOINT');
    expect(e.message).not.toContain('trusted root');
  });
});
