/** Signed notes and checkpoints against published vectors: Go sumdb/note, the C2SP spec, transcribed real and test checkpoints. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { cosignatureVerifier, cosignedMessage, ed25519Signer, ed25519Verifier, parseVerifierKey, rawEd25519, type CosignatureVerifier } from '../../../src/note/keys.ts';
import { parseNote, signNote, verifyNote } from '../../../src/note/note.ts';
import { rfc6962Origin, rfc6962Verifier, sthToSignedNote } from '../../../src/note/rfc6962.ts';
import { utf8 } from '../../../src/util/bytes.ts';
import { codeOf, ed25519FromSeed, readJson } from './keys-fixture.ts';

const V = 'test/fixtures/vectors/signed-notes';

describe('Go sumdb/note vectors', () => {
  const g = readJson(`${V}/golang_sumdb_note_vectors.json`);
  const byName: Record<string, ReturnType<typeof parseVerifierKey>> = { PeterNeumann: parseVerifierKey(g.vkeys.PeterNeumann), EnochRoot: parseVerifierKey(g.vkeys.EnochRoot) };
  const peter = byName.PeterNeumann!;
  const peterLine: string = g.signedNote_peter.slice(g.text.length + 1);
  /** The notes the `expect` rows describe in words. */
  const notes: Record<string, string> = {
    signedNote_peter_enoch: g.signedNote_peter_enoch,
    "text + '\\n' + peterLine*101": `${g.text}\n${peterLine.repeat(101)}`,
    "peterLine with 'ABCD' inserted at char 60": `${g.text}\n${peterLine.slice(0, 60)}ABCD${peterLine.slice(60)}`,
  };

  it('every expect row: verified signatures, or the error Go gives', () => {
    expect(g.expect).toHaveLength(5);
    for (const e of g.expect) {
      const msg = notes[e.note];
      expect(msg, e.note).toBeDefined();
      const run = () => verifyNote(msg!, e.verifiers.map((n: string) => byName[n]));
      if (e.ok) {
        const { note, verifiedBy } = run();
        expect(verifiedBy.map((s) => s.name)).toEqual(e.verifiedSigs);
        const unverified = note.signatures.filter((s) => !verifiedBy.includes(s)).map((s) => s.name);
        expect(unverified).toEqual(e.unverifiedSigs ?? []);
      } else if (e.error.startsWith('note has no verifiable')) expect(codeOf(run)).toBe('NOTE_NO_VERIFIED_SIGNATURE');
      else if (e.error.startsWith('malformed')) expect(run).toThrow(/more than 100 signatures/);
      else expect(codeOf(run)).toBe('NOTE_BAD_SIGNATURE');
    }
  });

  it('accepts 100 signature lines (C2SP requires at least 16) and counts a repeated line once', () => {
    const { verifiedBy } = verifyNote(`${g.text}\n${peterLine.repeat(100)}`, [peter]);
    expect(verifiedBy).toHaveLength(1);
  });

  it('rejects every malformed note as NOTE_MALFORMED', () => {
    expect(g.malformedNotes_allMustFail).toHaveLength(7);
    for (const m of g.malformedNotes_allMustFail as string[]) {
      const msg = m.startsWith('(0xff byte') ? Buffer.concat([Buffer.from([0xff]), Buffer.from(g.signedNote_peter)]) : m;
      expect(codeOf(() => verifyNote(msg, [peter])), JSON.stringify(m).slice(0, 80)).toBe('NOTE_MALFORMED');
    }
  });

  it('rejects both bad vkeys and every truncation or single-character change of a good one', () => {
    for (const b of g.badVkeys.filter((x: { vkey: string }) => x.vkey.includes('+'))) expect(codeOf(() => parseVerifierKey(b.vkey)), b.why).toBe('NOTE_BAD_KEY');
    for (const good of Object.values<string>(g.vkeys)) {
      for (let i = 0; i < good.length; i++) {
        const bumped = good.slice(0, i) + String.fromCharCode(good.charCodeAt(i) + 1) + good.slice(i + 1);
        expect(codeOf(() => parseVerifierKey(bumped)), bumped).toBe('NOTE_BAD_KEY');
        expect(codeOf(() => parseVerifierKey(good.slice(0, i))), good.slice(0, i)).toBe('NOTE_BAD_KEY');
      }
    }
  });

  it('signs byte for byte like Go with the published test key', () => {
    const skey: string = g.skeys.PeterNeumann;
    const [, , name, hash, b64] = skey.split('+', 4).concat(skey.split('+').slice(4).join('+')) as [string, string, string, string, string];
    expect(`${name}+${hash}`).toBe(g.vkeys.PeterNeumann.split('+').slice(0, 2).join('+'));
    const priv = ed25519FromSeed(Buffer.from(b64, 'base64').subarray(1));
    expect(signNote(g.text, [ed25519Signer(name, priv)])).toBe(g.signedNote_peter);
  });
});

describe('C2SP spec examples', () => {
  const c = readJson(`${V}/c2sp_spec_examples.json`);
  it('verifies the signed-note example', () => {
    const { verifiedBy } = verifyNote(c.signedNoteExample.note, [parseVerifierKey(c.signedNoteExample.vkey)]);
    expect(verifiedBy.map((s) => s.name)).toEqual(['example.com/foo']);
  });
  it('parses the cosigned checkpoint: witness key ID, timestamp and the message it signs', () => {
    const ex = c.checkpointWithCosignatureExample;
    const n = parseNote(ex.note);
    expect(n.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa', 'witness.example.com/w1']);
    const w = n.signatures[1]!;
    expect(Buffer.from(w.keyHash).toString('hex')).toBe('8d66cf3f');
    expect(w.signature.length).toBe(72);
    const ts = Buffer.from(w.signature).readBigUInt64BE(0);
    expect(ts).toBe(1679315147n);
    expect(utf8.decode(cosignedMessage(ts, utf8.encode(n.text)))).toBe(ex.cosignedMessage);
    expect(parseCheckpoint(n.text)).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163n, extensions: [] });
  });
  it('parses the checkpoint of the add-checkpoint example, two log keys under one name', () => {
    const req: string = c.addCheckpointRequestExample;
    const n = parseNote(req.slice(req.indexOf('\n\n') + 2));
    expect(n.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa', 'example.com/behind-the-sofa']);
    expect(formatCheckpoint(parseCheckpoint(n.text))).toBe(n.text);
  });
});

describe('transcribed real and test checkpoints', () => {
  const cases = readJson(`${V}/real_and_test_checkpoints.json`).cases as any[];
  const byId = (id: string) => cases.find((x) => x.id === id);

  for (const c of cases.filter((x) => x.vkey && x.note)) {
    it(`${c.id}: ${c.expect}`, () => {
      const v = parseVerifierKey(c.vkey);
      const run = () => verifyCheckpoint(c.note, c.origin, [v]);
      if (c.expect === 'valid') expect(run().checkpoint.origin).toBe(c.origin);
      // The mangled signature also mangles the key hash it starts with, so the line is an unknown signer's.
      else expect(codeOf(run)).toBe('NOTE_NO_VERIFIED_SIGNATURE');
      // The same note under another expected origin is refused by name.
      if (c.expect === 'valid') expect(codeOf(() => verifyCheckpoint(c.note, `${c.origin}x`, [v]))).toBe('CHECKPOINT_WRONG_ORIGIN');
    });
  }

  it('the key types the vkeys name', () => {
    expect(parseVerifierKey(byId('sumdb-6476701').vkey).kind).toBe('ed25519');
    expect(parseVerifierKey(byId('rekor-v1-ecdsa-798034').vkey).kind).toBe('ecdsa');
    expect(parseVerifierKey(byId('staticct-rome2024h1').vkey).kind).toBe('rfc6962');
  });

  it('a classic CT get-sth response becomes a 0x05 checkpoint that verifies (argon2024)', () => {
    const c = byId('ct-argon2024-sth-json');
    const v = parseVerifierKey(c.vkey);
    expect(rfc6962Origin(c.logURL)).toBe(c.origin);
    const sth = JSON.parse(c.sthJSON);
    const note = sthToSignedNote(sth, c.origin, v);
    const { checkpoint } = verifyCheckpoint(note, c.origin, [v]);
    expect(checkpoint.size).toBe(1267285836n);
    expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(sth.sha256_root_hash);
    // Another root or size under the same signature fails as a bad signature of a known key.
    expect(codeOf(() => verifyCheckpoint(sthToSignedNote({ ...sth, tree_size: sth.tree_size + 1 }, c.origin, v), c.origin, [v]))).toBe('NOTE_BAD_SIGNATURE');
    expect(codeOf(() => sthToSignedNote({ ...sth, tree_size: 2 ** 53 }, c.origin, v))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => sthToSignedNote({ ...sth, sha256_root_hash: 'AAAA' }, c.origin, v))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => sthToSignedNote([], c.origin, v))).toBe('CHECKPOINT_MALFORMED');
  });

  it('an RFC 6962 signature does not cover extension lines, so a note that has them is refused', () => {
    const c = byId('staticct-rome2024h1');
    const [body, sigs] = (c.note as string).split('\n\n') as [string, string];
    expect(codeOf(() => verifyNote(`${body}\nextra\n\n${sigs}`, [parseVerifierKey(c.vkey)]))).toBe('NOTE_BAD_SIGNATURE');
  });

  // static-ct-api §"Checkpoints": the key name MUST match the origin line, which the STH signature does not cover.
  it('an RFC 6962 signature does not cover the origin, so a note whose origin is not the key name is refused', () => {
    const c = byId('staticct-rome2024h1');
    const v = parseVerifierKey(c.vkey);
    const otherOrigin = (c.note as string).replace(/^[^\n]*/, 'rome.ct.filippo.io/2025h1');
    expect(otherOrigin).not.toBe(c.note);
    // Without an expected origin the note's own origin is all there is to go on: the signature must not vouch for it.
    expect(codeOf(() => verifyNote(otherOrigin, [v]))).toBe('NOTE_BAD_SIGNATURE');
    expect(codeOf(() => verifyCheckpoint(otherOrigin, undefined, [v]))).toBe('NOTE_BAD_SIGNATURE');
    // A get-sth response made into a note under another origin, signed under the log's own name.
    const a = byId('ct-argon2024-sth-json');
    const av = parseVerifierKey(a.vkey);
    const sth = JSON.parse(a.sthJSON);
    expect(verifyNote(sthToSignedNote(sth, a.origin, av), [av]).verifiedBy).toHaveLength(1);
    expect(codeOf(() => verifyNote(sthToSignedNote(sth, 'ct.googleapis.com/logs/us1/argon2025h1', av), [av]))).toBe('NOTE_BAD_SIGNATURE');
    // The same key under a name that is not the origin (its own key ID) verifies nothing either.
    const spki = Buffer.from((a.vkey as string).split('+').slice(2).join('+'), 'base64').subarray(1);
    const renamed = rfc6962Verifier('argon.example', spki);
    expect(codeOf(() => verifyNote(sthToSignedNote(sth, a.origin, renamed), [renamed]))).toBe('NOTE_BAD_SIGNATURE');
    expect(verifyNote(sthToSignedNote(sth, 'argon.example', renamed), [renamed]).verifiedBy).toHaveLength(1);
  });

  it('sigsum: Ed25519 checkpoint, and cosignature/v1 lines skipped on key ID, name or size', () => {
    const ed = byId('sigsum-ed25519');
    const raw = rawEd25519(ed25519FromSeed(Buffer.from(ed.ed25519SeedHex, 'hex')));
    expect(verifyCheckpoint(ed.note, undefined, [ed25519Verifier(ed.keyName, raw)]).checkpoint.size).toBe(10n);
    const co = byId('sigsum-cosignature-v1');
    const w = cosignatureVerifier(co.keyName, raw);
    const outcomes = co.cosignatureLines.map((l: { line: string }) => {
      try {
        const { verifiedBy } = verifyNote(`${co.checkpointBody}\n${l.line}\n`, [w]);
        return `valid ${w.timestampOf(verifiedBy[0]!.signature)}`;
      } catch (e) {
        return codeOf(() => {
          throw e;
        });
      }
    });
    expect(outcomes).toEqual(['NOTE_NO_VERIFIED_SIGNATURE', 'valid 1234', 'NOTE_NO_VERIFIED_SIGNATURE', 'NOTE_NO_VERIFIED_SIGNATURE']);
  });
});

describe('strict parsing', () => {
  const root = Buffer.alloc(32).toString('base64');
  it('checkpoints: canonical decimal sizes, 32-byte canonical roots, non-empty lines', () => {
    expect(parseCheckpoint(`o\n10\n${root}\n`).size).toBe(10n);
    expect(parseCheckpoint(`o\n9223372036854775807\n${root}\nTimestamp: 1\n`).extensions).toEqual(['Timestamp: 1']);
    const empty = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    expect(parseCheckpoint(`o\n0\n${empty}\n`).size).toBe(0n);
    const bad = [
      `o\n010\n${root}\n`, `o\n-1\n${root}\n`, `o\n+1\n${root}\n`, `o\n1e3\n${root}\n`, `o\n 1\n${root}\n`, `o\n\n${root}\n`,
      `\n1\n${root}\n`, `o\n1\n${root}`, `o\n1\nAAAA\n`, `o\n1\n${root}\n\n`, `o\n9223372036854775808\n${root}\n`,
      `o\n99999999999999999999\n${root}\n`, `o\n1\n${root.slice(0, -2)}B=\n`, `o\n1\n${root.replace(/=$/, '')}\n`, `o\n1\n`, `o\r\n1\n${root}\n`,
    ];
    for (const b of bad) expect(codeOf(() => parseCheckpoint(b)), JSON.stringify(b)).toBe('CHECKPOINT_MALFORMED');
  });
  it('formatCheckpoint refuses what parse would refuse', () => {
    const c = { origin: 'o', size: 1n, rootHash: new Uint8Array(32), extensions: [] as string[] };
    for (const bad of [{ origin: '' }, { origin: 'a\nb' }, { size: -1n }, { size: 1n << 63n }, { rootHash: new Uint8Array(31) }, { extensions: [''] }, { extensions: ['a\nb'] }]) {
      expect(codeOf(() => formatCheckpoint({ ...c, ...bad })), JSON.stringify(Object.keys(bad))).toBe('CHECKPOINT_MALFORMED');
    }
  });
  it('notes: signature lines need an em dash, a valid name and canonical base64 of at least 5 bytes', () => {
    const ok = `t\n\n\u2014 n ${Buffer.alloc(68).toString('base64')}\n`;
    expect(parseNote(ok).signatures[0]!.signature.length).toBe(64);
    const sig = Buffer.alloc(68).toString('base64');
    const bad = [
      `t\n\n- n ${sig}\n`, `t\n\n\u2014n ${sig}\n`, `t\n\n\u2014 n+x ${sig}\n`, `t\n\n\u2014  ${sig}\n`, `t\n\n\u2014 n\n`, `t\n\n\u2014 n ${sig} \n`,
      `t\n\n\u2014 n AAAAAA==\n`, `t\n\n\u2014 n ${sig.slice(0, -3)}B==\n`, `t\n\n\u2014 n ${sig.replace(/=+$/, '')}\n`, `t\n\n\u2014 n ${sig}`,
      `t\n\n\u2014 n ${sig}\n\n`, `t\n\n`, `t\n`, `t\r\n\n\u2014 n ${sig}\n`, `t\u0000\n\n\u2014 n ${sig}\n`, `t\n\n\u2014 n\u00a0x ${sig}\n`,
    ];
    for (const b of bad) expect(codeOf(() => parseNote(b)), JSON.stringify(b)).toBe('NOTE_MALFORMED');
  });
  it('a string with a lone surrogate is not UTF-8', () => {
    expect(codeOf(() => parseNote(`t\uD800\n\n\u2014 n ${Buffer.alloc(68).toString('base64')}\n`))).toBe('NOTE_MALFORMED');
  });
  it('the text may contain blank lines: the last blank line separates the signatures', () => {
    expect(parseNote(`a\n\nb\n\n\u2014 n ${Buffer.alloc(68).toString('base64')}\n`).text).toBe('a\n\nb\n');
  });
});

describe('Sunlight skylight stores (static-CT log rome2026h1, witness, mirror, witness2)', () => {
  const S = 'test/fixtures/vectors/sunlight-skylight';
  const originDir = (origin: string) => createHash('sha256').update(origin).digest('hex');
  const vkeyOf = (file: string): string => readJson(file).verifier_keys[0];
  const log = readJson(`${S}/tree/log.v3.json`);
  const spki = new Uint8Array(Buffer.from(log.key, 'base64'));
  const logKey = rfc6962Verifier('rome2026h1.example.org', spki);

  it('the log signs with type 0x05: key ID over SHA-256(SPKI) (the log_id), timestamp in milliseconds, no extension lines', () => {
    expect(Buffer.from(createHash('sha256').update(spki).digest()).toString('base64')).toBe(log.log_id);
    // static-ct-api: key ID = SHA-256(name || 0x0A || 0x05 || LogID)[:4].
    const id = createHash('sha256').update(Buffer.concat([Buffer.from('rome2026h1.example.org\n'), Buffer.of(0x05), Buffer.from(log.log_id, 'base64')])).digest();
    expect(Buffer.from(logKey.keyHash).toString('hex')).toBe(id.subarray(0, 4).toString('hex'));
    const note = readFileSync(`${S}/tree/checkpoint`, 'utf8');
    const { checkpoint, verifiedBy } = verifyCheckpoint(note, 'rome2026h1.example.org', [logKey]);
    expect(checkpoint).toMatchObject({ size: BigInt(log.final_tree_head.tree_size), extensions: [] });
    expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(log.final_tree_head.sha256_root_hash);
    expect(Buffer.from(verifiedBy[0]!.signature).readBigUInt64BE(0)).toBe(BigInt(log.final_tree_head.timestamp));
  });

  it('witness and mirror cosign with type 0x04 under the keys their .v0.json publish, in directories named hex(SHA-256(origin))', () => {
    const stores = [
      { dir: `${S}/witness`, origin: 'rome2026h1.example.org', signers: ['rome2026h1.example.org', 'witness.example.org'] },
      { dir: `${S}/witness/mirror`, origin: 'rome2026h1.example.org', signers: ['mirror.example.org'] },
      { dir: `${S}/witness2`, origin: 'milan2026h1.example.org', signers: ['witness2.example.org'] },
    ];
    for (const s of stores) {
      const w = parseVerifierKey(vkeyOf(`${s.dir}/${s.dir.endsWith('mirror') ? 'mirror' : 'witness'}.v0.json`)) as CosignatureVerifier;
      expect(w.kind).toBe('cosignature');
      const note = readFileSync(`${s.dir}/${originDir(s.origin)}/checkpoint`, 'utf8');
      const { checkpoint, verifiedBy } = verifyCheckpoint(note, s.origin, [logKey, w]);
      expect(checkpoint.size).toBe(300n);
      expect(verifiedBy.map((v) => v.name), s.dir).toEqual(s.signers);
      // Their timestamps are seconds: all three stores were written at one time, 2025-12-31.
      expect(w.timestampOf(verifiedBy.at(-1)!.signature)).toBe(1767139200n);
    }
  });
});

describe('Tessera testdata log checkpoints (tlog-tiles, Ed25519 0x01)', () => {
  // The vkey from tessera's testdata/build_log.sh (vectors/SOURCES.md); a vkey's base64 may hold '+'.
  const key = parseVerifierKey('example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx');
  it('checkpoints 0..15 verify, size 0 with the empty root, each text exactly the formatted checkpoint', () => {
    for (let size = 0; size <= 15; size++) {
      const note = readFileSync(`test/fixtures/vectors/tessera-testdata-log/checkpoint.${size}`, 'utf8');
      const { checkpoint, note: n } = verifyCheckpoint(note, 'example.com/log/testdata', [key]);
      expect(checkpoint.size).toBe(BigInt(size));
      expect(formatCheckpoint(checkpoint)).toBe(n.text);
      if (size === 0) expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    }
  });
});
