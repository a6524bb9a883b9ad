/** decideCheckpoint's refusals: what a checkpoint signed by no key of the log says, before and after one verified; a tree past 2^53. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TlogwatchError } from '../../../src/errors.ts';
import { decideCheckpoint, MAX_MIRRORED_SIZE } from '../../../src/mirror/checkpoint-decision.ts';
import { restsOnUnsignedBytes } from '../../../src/mirror/confirm-halt.ts';
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

describe('a checkpoint of a tree past 2^53 entries', () => {
  // The last entry of a tree of 2^53 has index 2^53 - 1, the largest safe integer: an Entry's index.
  it('is taken up to 2^53, a Rekor v1 tree\'s offset included, and refused past it, signed or not by what LogInfo adds', () => {
    expect(decideCheckpoint(checkpoint(MAX_MIRRORED_SIZE, logKey), origin, verifiers, undefined).action).toBe('grow');
    expect(decideCheckpoint(checkpoint(MAX_MIRRORED_SIZE - 10n, logKey), origin, verifiers, undefined, undefined, 10n).action).toBe('grow');
    for (const [size, offset, reason] of [
      [MAX_MIRRORED_SIZE + 1n, 0n, 'CHECKPOINT_TOO_LARGE'],
      [(1n << 63n) - 1n, 0n, 'CHECKPOINT_TOO_LARGE'],
      [MAX_MIRRORED_SIZE - 9n, 10n, 'OFFSET_TOO_LARGE'],
    ] as const) {
      const e = refusal(() => decideCheckpoint(checkpoint(size, logKey), origin, verifiers, undefined, undefined, offset)) as TlogwatchError;
      expect(e.code).toBe('VERIFY_BAD_CHECKPOINT');
      expect(e.kind).toBe('misbehaviour');
      expect(e.message).toMatch(new RegExp(`^checkpoint size ${size}${offset ? ` from virtual index ${offset}` : ''} is past 2\\^53 entries`));
      expect(e.data).toMatchObject({ kind: 'bad-checkpoint', reason, receivedNote: checkpoint(size, logKey) });
      // The log's signed size alone halts at once; sizes LogInfo adds (unsigned) must be seen again first.
      expect(restsOnUnsignedBytes(e)).toBe(offset > 0n);
    }
  });
});
