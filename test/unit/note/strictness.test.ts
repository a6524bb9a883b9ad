/**
 * Edges of signed-note (C2SP signed-note) where a lenient reading would let a note's bytes and its text
 * differ, or let one hostile signature line spoil a good note: byte-order marks, what counts as a space
 * in a key name, the curves of ECDSA keys, and formatting only what parses.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { ecdsaVerifier, ed25519Signer, ed25519Verifier, rawEd25519 } from '../../../src/note/keys.ts';
import { isValidKeyName, parseNote, signNote, verifyNote } from '../../../src/note/note.ts';
import { codeOf } from './keys-fixture.ts';

const ed = generateKeyPairSync('ed25519');
const signer = ed25519Signer('log.example', ed.privateKey);
const verifier = ed25519Verifier('log.example', rawEd25519(ed.publicKey));
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('signed-note strictness', () => {
  it('verifies the bytes it was given: a byte-order mark in front fails the signature, one that was signed passes', () => {
    const signed = Buffer.from(signNote('log.example\n1\nAAAA\n', [signer]));
    expect(codeOf(() => verifyNote(Buffer.concat([BOM, signed]), [verifier]))).toBe('NOTE_BAD_SIGNATURE');
    const withBom = signNote('\uFEFFlog.example\n1\n', [signer]);
    expect(verifyNote(Buffer.from(withBom), [verifier]).note.text).toBe('\uFEFFlog.example\n1\n');
    expect(verifyNote(withBom, [verifier]).note.text).toBe('\uFEFFlog.example\n1\n');
  });

  it('refuses the characters below U+0020 other than newline anywhere in a note, signature lines included, and only those (signed-note §Format)', () => {
    const signed = signNote('log.example\n1\n', [signer]);
    for (let c = 0; c < 0x20; c++) {
      if (c === 0x0a) continue;
      const ch = String.fromCharCode(c);
      expect(codeOf(() => verifyNote(signed.replace('1\n', `1${ch}\n`), [verifier])), `text 0x${c.toString(16)}`).toBe('NOTE_MALFORMED');
      expect(codeOf(() => verifyNote(signed.replace(/\n$/, `${ch}\n`), [verifier])), `signature line 0x${c.toString(16)}`).toBe('NOTE_MALFORMED');
    }
    // DEL and the C1 controls are not below U+0020: a text holding them is signed and verified as any other.
    const odd = signNote('log.example\n1\u007f\u0080\u009f\n', [signer]);
    expect(verifyNote(odd, [verifier]).note.text).toBe('log.example\n1\u007f\u0080\u009f\n');
  });

  it('reads "Unicode spaces" in key names as the White_Space property (U+0085 is one, U+FEFF is not)', () => {
    for (const s of [' ', '\t', '\u0085', '\u00a0', '\u2003', '\u3000', '+']) expect(isValidKeyName(`a${s}b`), JSON.stringify(s)).toBe(false);
    for (const s of ['\ufeff', '\u200b', '-', '.', '/']) expect(isValidKeyName(`a${s}b`), JSON.stringify(s)).toBe(true);
    const signed = signNote('log.example\n1\n', [signer]);
    // An unknown signer's line with a zero-width no-break space in its name is ignored, not fatal.
    const extra = `${signed}\u2014 w\ufeffx AAAAAAE=\n`;
    expect(verifyNote(extra, [verifier]).verifiedBy.map((v) => v.name)).toEqual(['log.example']);
    expect(codeOf(() => parseNote(`${signed}\u2014 w\u0085x AAAAAAE=\n`))).toBe('NOTE_MALFORMED');
  });

  it('ignores a bad signature that shares only the name or only the key ID with a known key (signed-note §Signatures; Sunlight greases both ways)', () => {
    const signed = signNote('log.example\n1\n', [signer]);
    const junk = Buffer.alloc(64, 7);
    const line = (name: string, id: Uint8Array) => `\u2014 ${name} ${Buffer.concat([id, junk]).toString('base64')}\n`;
    const sameName = line('log.example', Uint8Array.from(verifier.keyHash, (b) => b ^ 0xff));
    const sameId = line('grease.invalid', verifier.keyHash);
    for (const note of [`${signed}${sameName}${sameId}`, signed.replace('\n\n', `\n\n${sameId}${sameName}`)]) {
      expect(verifyNote(note, [verifier]).verifiedBy.map((v) => v.name)).toEqual(['log.example']);
    }
    // Both name and key ID: the known key's, so it must verify, and a failure rejects the note.
    expect(codeOf(() => verifyNote(`${signed}${line('log.example', verifier.keyHash)}`, [verifier]))).toBe('NOTE_BAD_SIGNATURE');
  });

  it('takes ECDSA note keys on P-256, P-384 and P-521 only', () => {
    const spki = (namedCurve: string) => new Uint8Array(generateKeyPairSync('ec', { namedCurve }).publicKey.export({ format: 'der', type: 'spki' }));
    for (const c of ['P-256', 'P-384', 'P-521']) expect(codeOf(() => ecdsaVerifier('k', spki(c)))).toBe('ok');
    for (const c of ['secp256k1', 'brainpoolP256r1']) expect(codeOf(() => ecdsaVerifier('k', spki(c)))).toBe('NOTE_BAD_KEY');
  });

  it('verifies ECDSA (0x02) as transparency-dev/formats does: a DER signature over SHA-256 of the note text whatever the curve, key ID SHA-256(SPKI)[:4]', () => {
    const text = 'log.example\n1\n';
    for (const [namedCurve, other] of [['P-256', 'sha384'], ['P-384', 'sha384'], ['P-521', 'sha512']] as const) {
      const k = generateKeyPairSync('ec', { namedCurve });
      const der = new Uint8Array(k.publicKey.export({ format: 'der', type: 'spki' }));
      const v = ecdsaVerifier('log.example', der);
      expect(Buffer.from(v.keyHash).toString('hex')).toBe(createHash('sha256').update(der).digest('hex').slice(0, 8));
      const line = (hash: string) => `${text}\n\u2014 log.example ${Buffer.concat([v.keyHash, sign(hash, Buffer.from(text), k.privateKey)]).toString('base64')}\n`;
      expect(codeOf(() => verifyNote(line('sha256'), [v])), namedCurve).toBe('ok');
      expect(codeOf(() => verifyNote(line(other), [v])), `${namedCurve} ${other}`).toBe('NOTE_BAD_SIGNATURE');
    }
  });

  it('formats a checkpoint only when the text parses back to it', () => {
    const anyLine = fc.string({ unit: 'binary', maxLength: 12 });
    const checkpoint = fc.record({ origin: anyLine, size: fc.bigInt({ min: -1n, max: 1n << 64n }), rootHash: fc.uint8Array({ minLength: 31, maxLength: 33 }), extensions: fc.array(anyLine, { maxLength: 2 }) });
    fc.assert(
      fc.property(checkpoint, (c) => {
        let text: string;
        try {
          text = formatCheckpoint(c);
        } catch (e) {
          expect(codeOf(() => {
            throw e;
          })).toBe('CHECKPOINT_MALFORMED');
          return;
        }
        expect(parseCheckpoint(text)).toEqual(c);
      }),
      { numRuns: 2000 },
    );
    expect(codeOf(() => formatCheckpoint({ origin: 'ex\tample', size: 1n, rootHash: new Uint8Array(32), extensions: [] }))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => formatCheckpoint({ origin: 'o', size: 1n, rootHash: new Uint8Array(32), extensions: ['x\ry'] }))).toBe('CHECKPOINT_MALFORMED');
  });

  it('keeps what the sender wrote out of error messages past a bound: 100 signers of 4 KB names, a 100 KB origin', () => {
    const body = `log.example\n1\n${Buffer.alloc(32).toString('base64')}\n`;
    const strangers = Array.from({ length: 100 }, (_, i) => ed25519Signer(`${'w'.repeat(4000)}${i}`, generateKeyPairSync('ed25519').privateKey));
    const err = (f: () => unknown): Error => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error('did not throw');
    };
    const unsigned = err(() => verifyNote(signNote(body, strangers), [verifier]));
    expect(codeOf(() => verifyNote(signNote(body, strangers), [verifier]))).toBe('NOTE_NO_VERIFIED_SIGNATURE');
    expect(unsigned.message.length).toBeLessThan(2000);
    expect(unsigned.message).toMatch(/and 92 more; expected: log\.example\+/);
    const longOrigin = `${'o'.repeat(100_000)}\n1\n${Buffer.alloc(32).toString('base64')}\n`;
    const wrong = err(() => verifyCheckpoint(signNote(longOrigin, [signer]), 'log.example', [verifier]));
    expect(codeOf(() => verifyCheckpoint(signNote(longOrigin, [signer]), 'log.example', [verifier]))).toBe('CHECKPOINT_WRONG_ORIGIN');
    expect(wrong.message.length).toBeLessThan(500);
  });
});
