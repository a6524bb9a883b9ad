/** Signed notes and checkpoints: C2SP and Go sumdb vectors, real Rekor v1/v2 checkpoints, witness cosignatures. */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { cosignatureSigner, cosignatureVerifier, ecdsaSigner, ecdsaVerifier, ed25519Signer, ed25519Verifier, parseVerifierKey, rawEd25519 } from '../../../src/note/keys.ts';
import { parseNote, signNote, verifyNote } from '../../../src/note/note.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { isTlogwatchError } from '../../../src/errors.ts';

const V = 'test/fixtures/vectors/signed-notes';
const R = 'test/fixtures/realdata';
const json = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));

describe('Go sumdb note vectors', () => {
  const g = json(`${V}/golang_sumdb_note_vectors.json`);
  const peter = parseVerifierKey(g.vkeys.PeterNeumann);
  const enoch = parseVerifierKey(g.vkeys.EnochRoot);
  const byName: Record<string, ReturnType<typeof parseVerifierKey>> = { PeterNeumann: peter, EnochRoot: enoch };

  it('verifies with the expected verified and unverified signatures', () => {
    for (const e of g.expect.slice(0, 3)) {
      const run = () => verifyNote(g[e.note], e.verifiers.map((n: string) => byName[n]));
      if (!e.ok) expect(run).toThrow(/no verifiable signatures/);
      else expect(run().verifiedBy.map((s) => s.name)).toEqual(e.verifiedSigs);
    }
  });
  it('rejects more than 100 signatures and a mangled known signature', () => {
    const peterLine = g.signedNote_peter.slice(g.text.length + 1);
    expect(() => verifyNote(`${g.text}\n${peterLine.repeat(101)}`, [peter])).toThrow(/more than 100/);
    const mangled = g.signedNote_peter.slice(0, g.text.length + 1) + peterLine.slice(0, 60) + 'ABCD' + peterLine.slice(60);
    expect(() => verifyNote(mangled, [peter])).toThrow();
  });
  it('rejects every malformed note', () => {
    for (const m of g.malformedNotes_allMustFail) {
      const msg = m.startsWith('(0xff byte') ? Buffer.concat([Buffer.from([0xff]), Buffer.from(g.signedNote_peter)]) : m;
      expect(() => verifyNote(msg, [peter]), JSON.stringify(m).slice(0, 80)).toThrow();
    }
  });
  it('rejects bad verifier keys and every mangling of a good one', () => {
    for (const b of g.badVkeys.slice(0, 2)) expect(() => parseVerifierKey(b.vkey)).toThrow();
    const good: string = g.vkeys.PeterNeumann;
    for (let i = 0; i < good.length; i++) {
      const bumped = good.slice(0, i) + String.fromCharCode(good.charCodeAt(i) + 1) + good.slice(i + 1);
      expect(() => parseVerifierKey(bumped), bumped).toThrow();
      if (i > 0) expect(() => parseVerifierKey(good.slice(0, i))).toThrow();
    }
  });
  it('signs like Go with the published test key', () => {
    const skey: string = g.skeys.PeterNeumann;
    const seed = Buffer.from(skey.split('+').slice(4).join('+'), 'base64').subarray(1);
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    expect(signNote(g.text, [ed25519Signer('PeterNeumann', priv)])).toBe(g.signedNote_peter);
  });
});

describe('C2SP examples and real/test checkpoints', () => {
  it('verifies the signed-note spec example and parses the cosigned checkpoint', () => {
    const c = json(`${V}/c2sp_spec_examples.json`);
    expect(() => verifyNote(c.signedNoteExample.note, [parseVerifierKey(c.signedNoteExample.vkey)])).not.toThrow();
    const n = parseNote(c.checkpointWithCosignatureExample.note);
    expect(n.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa', 'witness.example.com/w1']);
    expect(n.signatures[1]!.signature.length).toBe(72);
  });
  const cases = json(`${V}/real_and_test_checkpoints.json`).cases as any[];
  for (const c of cases.filter((x) => x.vkey && x.note)) {
    it(`${c.id}: ${c.expect}`, () => {
      const run = () => verifyCheckpoint(c.note, c.origin, [parseVerifierKey(c.vkey)]);
      if (c.expect === 'valid') expect(run().checkpoint.origin).toBe(c.origin);
      else expect(run).toThrow();
    });
  }
  it('sigsum Ed25519 checkpoint and cosignature/v1 lines', () => {
    const ed = cases.find((x) => x.id === 'sigsum-ed25519');
    const seed = Buffer.from(ed.ed25519SeedHex, 'hex');
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    const raw = rawEd25519(priv);
    expect(() => verifyCheckpoint(ed.note, undefined, [ed25519Verifier(ed.keyName, raw)])).not.toThrow();
    const co = cases.find((x) => x.id === 'sigsum-cosignature-v1');
    const w = cosignatureVerifier(co.keyName, raw);
    const outcomes = co.cosignatureLines.map((l: any) => {
      try {
        const { verifiedBy } = verifyNote(`${co.checkpointBody}\n${l.line}\n`, [w]);
        return `valid ${w.timestampOf(verifiedBy[0]!.signature)}`;
      } catch (e) {
        return isTlogwatchError(e) ? e.code : 'error';
      }
    });
    // Wrong key ID, wrong name and a wrong-size signature are all skipped, as sigsum-go does.
    expect(outcomes).toEqual(['NOTE_NO_VERIFIED_SIGNATURE', 'valid 1234', 'NOTE_NO_VERIFIED_SIGNATURE', 'NOTE_NO_VERIFIED_SIGNATURE']);
  });
});

describe('real Sigstore checkpoints with keys from the trusted roots', () => {
  const index = json(`${R}/checkpoints/all_real_checkpoints.index.json`).checkpoints as any[];
  const roots = ['prod/trusted_root.json', 'prod/trusted_root_pre-rekor-v2_2025-07.json', 'staging/trusted_root.json', 'staging/trusted_root_conformance-rekor2.json', 'staging/trusted_root_conformance-rekor2-dsse.json'].map((f) =>
    parseTrustedRoot(json(`${R}/trust/${f}`)),
  );
  const verifiers = roots.flatMap((r) => r.tlogs.map(checkpointVerifierForTlog));
  it('has real checkpoints from Rekor v1 and v2', () => expect(index.length).toBeGreaterThan(10));
  for (const cp of index) {
    it(`${cp.origin} @ ${cp.treeSize}`, () => {
      for (const note of cp.signed_notes as string[]) {
        const { checkpoint } = verifyCheckpoint(note, cp.origin, verifiers);
        expect(checkpoint.size).toBe(BigInt(cp.treeSize));
        expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(cp.rootHash_b64);
        expect(formatCheckpoint(checkpoint)).toBe(parseNote(note).text);
      }
    });
  }
  it('keeps old Rekor v1 Timestamp extension lines', () => {
    const text = readFileSync(`${R}/checkpoints/prod-rekor-v1_2605736670972794746_37795272_with-timestamp-line.txt`, 'utf8');
    const { checkpoint } = verifyCheckpoint(text, 'rekor.sigstore.dev - 2605736670972794746', verifiers);
    expect(checkpoint.extensions).toEqual(['Timestamp: 1697034484441201852']);
  });
  it('derived negatives fail; an unknown extra signer is ignored', () => {
    for (const f of ['checkpoint_error_header_body_separator.txt', 'checkpoint_error_no_signatures.txt', 'checkpoint_error_not_a_number.txt']) {
      expect(() => verifyCheckpoint(readFileSync(`${R}/derived-negative/${f}`, 'utf8'), undefined, verifiers), f).toThrow();
    }
    // bob.loblaw.dev reuses the Rekor key hash under another name: unknown, ignored.
    const multi = readFileSync(`${R}/derived-negative/checkpoint_multi-sig_bob.loblaw.txt`, 'utf8');
    expect(verifyCheckpoint(multi, undefined, verifiers).verifiedBy.map((s) => s.name)).toEqual(['rekor.sigstore.dev']);
  });
});

describe('checkpoint parsing', () => {
  it('is strict about numbers, roots and extension lines', () => {
    const root = Buffer.alloc(32).toString('base64');
    expect(parseCheckpoint(`o\n10\n${root}\n`).size).toBe(10n);
    for (const bad of [`o\n010\n${root}\n`, `o\n-1\n${root}\n`, `o\n1e3\n${root}\n`, `\n1\n${root}\n`, `o\n1\n${root}`, `o\n1\nAAAA\n`, `o\n1\n${root}\n\n`, `o\n99999999999999999999\n${root}\n`]) {
      expect(() => parseCheckpoint(bad), JSON.stringify(bad)).toThrow();
    }
  });
});

describe('properties', () => {
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const edV = ed25519Verifier('log.example/a', rawEd25519(ed.publicKey));
  const ecSpki = new Uint8Array(ec.publicKey.export({ format: 'der', type: 'spki' }));
  const ecV = ecdsaVerifier('rekor.example', ecSpki);
  const wit = generateKeyPairSync('ed25519');
  const witV = cosignatureVerifier('witness.example', rawEd25519(wit.publicKey));
  const text = fc.array(fc.stringMatching(/^[a-zA-Z0-9 .:/=+-]{1,40}$/), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('\n') + '\n');

  it('sign → verify round-trips for Ed25519, ECDSA and cosignatures', () => {
    fc.assert(
      fc.property(text, (t) => {
        const signed = signNote(t, [ed25519Signer('log.example/a', ed.privateKey), ecdsaSigner('rekor.example', ec.privateKey), cosignatureSigner('witness.example', wit.privateKey, () => 42)]);
        expect(verifyNote(signed, [edV, ecV, witV]).verifiedBy.length).toBe(3);
      }),
      { numRuns: 30 },
    );
  });
  it('any single-byte change to a signed note is rejected', () => {
    fc.assert(
      fc.property(text, fc.nat(), fc.integer({ min: 1, max: 255 }), (t, pos, delta) => {
        const signed = Buffer.from(signNote(t, [ed25519Signer('log.example/a', ed.privateKey)]));
        const i = pos % signed.length;
        signed[i] = (signed[i]! + delta) % 256;
        expect(() => verifyNote(signed, [edV])).toThrow();
      }),
      { numRuns: 200 },
    );
  });
  it('parse(format(c)) == c', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.\-/ ]{1,30}$/), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (origin, size, root) => {
        const c = { origin, size, rootHash: root, extensions: [] };
        expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
      }),
    );
  });
});
