/** fast-check properties of signed notes and checkpoints. */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint } from '../../../src/note/checkpoint.ts';
import { cosignatureSigner, cosignatureVerifier, ecdsaSigner, ecdsaVerifier, ed25519Signer, ed25519Verifier, rawEd25519 } from '../../../src/note/keys.ts';
import { controlCharAt, formatNote, parseNote, signNote, verifyNote, type NoteSigner } from '../../../src/note/note.ts';
import { codeOf } from './keys-fixture.ts';

const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const wit = generateKeyPairSync('ed25519');
const ecSpki = new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' }));

/** No ASCII control characters (signed-note §Format). */
const printable = (s: string) => controlCharAt(s) < 0 && !s.includes('\n');
/** Note text: lines of any Unicode without control characters, blank lines allowed, ending in \n. */
const line = fc.string({ unit: 'grapheme', maxLength: 30 }).filter(printable);
const text = fc.array(line, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('\n') + '\n');
/** Key names: non-empty, no Unicode space, no '+'. */
const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => printable(s) && !/[\p{White_Space}+]/u.test(s));

function signers(n: string) {
  return {
    signers: [ed25519Signer(n, ed.privateKey), ecdsaSigner(`${n}-ec`, ec.privateKey), cosignatureSigner(`${n}-w`, wit.privateKey, () => 42)] as NoteSigner[],
    verifiers: [ed25519Verifier(n, rawEd25519(ed.publicKey)), ecdsaVerifier(`${n}-ec`, ecSpki), cosignatureVerifier(`${n}-w`, rawEd25519(wit.publicKey))],
  };
}

describe('signed-note properties', () => {
  it('sign → verify round-trips for Ed25519, ECDSA and cosignatures, any text and names', () => {
    fc.assert(
      fc.property(text, name, (t, n) => {
        const { signers: s, verifiers: v } = signers(n);
        const signed = signNote(t, s);
        const { note, verifiedBy } = verifyNote(signed, v);
        expect(note.text).toBe(t);
        expect(verifiedBy.map((x) => x.name)).toEqual([n, `${n}-ec`, `${n}-w`]);
      }),
      { numRuns: 60 },
    );
  });

  it('any single-byte change to a signed note is rejected, or loses the changed signature', () => {
    const { signers: s, verifiers: v } = signers('log.example/a');
    fc.assert(
      fc.property(text, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (t, pos, delta, one) => {
        const signed = Buffer.from(signNote(t, one ? s.slice(0, 1) : s));
        const i = pos % signed.length;
        signed[i] = (signed[i]! + delta) % 256;
        let verified: number;
        try {
          verified = verifyNote(signed, v).verifiedBy.length;
        } catch (e) {
          expect(codeOf(() => {
            throw e;
          })).toMatch(/^NOTE_(MALFORMED|BAD_SIGNATURE|NO_VERIFIED_SIGNATURE)$/);
          return;
        }
        // A change to another signer's name or key hash makes that line an unknown signer's, which the
        // spec says to ignore; the note still verifies by the others, never by the changed line.
        expect(one).toBe(false);
        expect(verified).toBeLessThan(3);
      }),
      { numRuns: 400 },
    );
  });

  it('unknown signature lines, anywhere, change nothing', () => {
    const { signers: s, verifiers: v } = signers('log.example/a');
    const stranger = ed25519Signer('stranger.example', generateKeyPairSync('ed25519').privateKey);
    fc.assert(
      fc.property(text, fc.nat(3), (t, at) => {
        const all = [...s];
        all.splice(at, 0, stranger);
        expect(verifyNote(signNote(t, all), v).verifiedBy.map((x) => x.name)).toEqual(['log.example/a', 'log.example/a-ec', 'log.example/a-w']);
      }),
      { numRuns: 20 },
    );
  });

  it('format(parse(m)) == m, and a note formatted with some of its lines verifies by exactly those', () => {
    const { signers: s, verifiers: v } = signers('log.example/a');
    const stranger = ed25519Signer('stranger.example', generateKeyPairSync('ed25519').privateKey);
    fc.assert(
      fc.property(text, fc.subarray([0, 1, 2, 3], { minLength: 1 }), (t, keep) => {
        const m = signNote(t, [...s, stranger]);
        const note = parseNote(m);
        expect(formatNote(note)).toBe(m);
        const kept = formatNote({ text: note.text, signatures: note.signatures.filter((_, i) => keep.includes(i)) });
        const names = keep.filter((i) => i < 3).map((i) => s[i]!.name);
        if (names.length === 0) expect(codeOf(() => verifyNote(kept, v))).toBe('NOTE_NO_VERIFIED_SIGNATURE');
        else expect(verifyNote(kept, v).verifiedBy.map((x) => x.name)).toEqual(names);
      }),
      { numRuns: 50 },
    );
    expect(codeOf(() => formatNote({ text: 'a\n', signatures: [] }))).toBe('NOTE_MALFORMED');
  });

  it('hostile input never crashes the parser: it parses or throws NOTE_MALFORMED', () => {
    const noteish = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(text, fc.array(fc.tuple(fc.constantFrom('\u2014 ', '- ', '\u2014'), fc.string(), fc.constantFrom(' ', ''), fc.base64String()), { maxLength: 4 })).map(
        ([t, sigs]) => `${t}\n${sigs.map((p) => p.join('')).join('\n')}\n`,
      ),
    );
    fc.assert(
      fc.property(noteish, (m) => {
        expect(codeOf(() => parseNote(m))).toMatch(/^(ok|NOTE_MALFORMED)$/);
        // What parses has one spelling: formatted again, it is the message it was parsed from.
        if (typeof m === 'string' && codeOf(() => parseNote(m)) === 'ok') expect(formatNote(parseNote(m))).toBe(m);
      }),
      { numRuns: 500 },
    );
  });
});

describe('checkpoint properties', () => {
  const origin = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter(printable);
  const extension = origin;
  const checkpoint = fc.record({
    origin,
    size: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
    rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    extensions: fc.array(extension, { maxLength: 3 }),
  });

  it('parse(format(c)) == c, and format(parse(t)) == t', () => {
    fc.assert(
      fc.property(checkpoint, (c) => {
        const t = formatCheckpoint(c);
        expect(parseCheckpoint(t)).toEqual(c);
        expect(formatCheckpoint(parseCheckpoint(t))).toBe(t);
      }),
    );
  });

  it('sizes at the edges: 2^32, 2^53 + 1, 2^63 - 1 are exact', () => {
    for (const size of [1n << 32n, (1n << 53n) + 1n, (1n << 63n) - 1n]) {
      expect(parseCheckpoint(formatCheckpoint({ origin: 'o', size, rootHash: new Uint8Array(32), extensions: [] })).size).toBe(size);
    }
  });

  it('hostile bodies parse or throw CHECKPOINT_MALFORMED', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.tuple(origin, fc.oneof(fc.bigInt().map(String), fc.string()), fc.oneof(fc.base64String(), fc.string()), fc.array(fc.string(), { maxLength: 2 })).map((ls) => ls.flat().join('\n') + '\n'),
    );
    fc.assert(
      fc.property(body, (b) => {
        expect(codeOf(() => parseCheckpoint(b))).toMatch(/^(ok|CHECKPOINT_MALFORMED)$/);
      }),
      { numRuns: 500 },
    );
  });
});
