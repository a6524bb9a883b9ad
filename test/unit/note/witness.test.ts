/**
 * Witnesses: a model of a tlog-witness add-checkpoint endpoint (c2sp.org/tlog-witness) built from note/ and
 * merkle/, replayed against litewitness's recorded requests; witness cosignatures round trip; and every log
 * vkey that witness configurations publish parses.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { verifyConsistency } from '../../../src/merkle/proof.ts';
import { verifyCheckpoint, type Checkpoint } from '../../../src/note/checkpoint.ts';
import { cosignatureSigner, cosignatureVerifier, parseVerifierKey, rawEd25519 } from '../../../src/note/keys.ts';
import { parseNote, verifyNote, type NoteVerifier } from '../../../src/note/note.ts';
import { bytesEqual } from '../../../src/util/bytes.ts';
import { codeOf, readJson } from './keys-fixture.ts';

const W = 'test/fixtures/vectors/witness';

/** tlog-witness §add-checkpoint, the status codes only; state is the last cosigned checkpoint per origin. */
function addCheckpoint(body: string, logs: Map<string, NoteVerifier>, state: Map<string, Checkpoint>): { status: number; checkpoint?: Checkpoint; note?: string } {
  const split = body.indexOf('\n\n');
  const head = body.slice(0, split).split('\n');
  const note = body.slice(split + 2);
  const old = /^old (0|[1-9]\d*)$/.exec(head[0] ?? '');
  if (split < 0 || !old || head.length - 1 > 63) return { status: 400 };
  const proof = head.slice(1).map((l) => new Uint8Array(Buffer.from(l, 'base64')));
  // The origin line, unverified, only picks the log's key; anything wrong after that is "no trusted signature".
  const origin = note.slice(0, note.indexOf('\n'));
  const log = logs.get(origin);
  if (!log) return { status: 404 };
  let cp: Checkpoint;
  try {
    cp = verifyCheckpoint(note, origin, [log]).checkpoint;
  } catch {
    return { status: 403 };
  }
  const oldSize = BigInt(old[1]!);
  const latest = state.get(origin);
  if (oldSize > cp.size) return { status: 400 };
  if (oldSize !== (latest?.size ?? 0n)) return { status: 409 };
  if (latest && oldSize === cp.size && !bytesEqual(latest.rootHash, cp.rootHash)) return { status: 422 };
  if (oldSize === 0n && proof.length > 0) return { status: 422 };
  if (latest && oldSize > 0n) {
    try {
      verifyConsistency(oldSize, cp.size, proof, latest.rootHash, cp.rootHash);
    } catch {
      return { status: 422 };
    }
  }
  state.set(origin, cp);
  return { status: 200, checkpoint: cp, note };
}

describe('litewitness add-checkpoint vectors', () => {
  const v = readJson(`${W}/litewitness_add_checkpoint_vectors.json`);
  const log = parseVerifierKey(v.logVkey);
  const witness = generateKeyPairSync('ed25519');
  const witnessV = cosignatureVerifier('example.com/witness', rawEd25519(witness.publicKey));
  let clock = 1_700_000_000;
  const sign = cosignatureSigner('example.com/witness', witness.privateKey, () => clock++);

  it('replays every request with the status litewitness gave, and the cosignatures verify', () => {
    const state = new Map<string, Checkpoint>();
    const logs = new Map([[log.name, log]]);
    expect(v.requests).toHaveLength(6);
    for (const r of v.requests) {
      const got = addCheckpoint(r.body, logs, state);
      // litewitness answered 403 for an unknown log; the current spec says 404 (c2sp.md §1.5).
      const want = r.expectStatus === 403 && String(r.why).startsWith('unknown log origin') ? 404 : r.expectStatus;
      expect(got.status, r.why ?? 'ok').toBe(want);
      if (got.status !== 200) continue;
      const text = parseNote(got.note!).text;
      const cosigned = `${got.note!}${signCosignatureLine(text)}`;
      expect(cosigned).toContain(r.expectBodyContains);
      const { verifiedBy } = verifyNote(cosigned, [log, witnessV]);
      expect(verifiedBy.map((s) => s.name)).toEqual([log.name, 'example.com/witness']);
    }
    expect(state.get(log.name)!.size).toBe(3n);
  });

  it('the "invalid log signature" request has non-zero base64 padding bits: malformed here, a wrong signature to Go', () => {
    const body: string = v.requests[1].body;
    expect(codeOf(() => verifyNote(body.slice(body.indexOf('\n\n') + 2), [log]))).toBe('NOTE_MALFORMED');
  });

  function signCosignatureLine(text: string): string {
    const sig = sign.sign(new TextEncoder().encode(text));
    return `\u2014 ${sign.name} ${Buffer.concat([sign.keyHash, sig]).toString('base64')}\n`;
  }
});

describe('cosignatures', () => {
  const w = generateKeyPairSync('ed25519');
  const body = 'example.org/log\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const line = (ts: bigint | number) => {
    const s = cosignatureSigner('w.example', w.privateKey, () => ts);
    return `${body}\n\u2014 w.example ${Buffer.concat([s.keyHash, s.sign(new TextEncoder().encode(body))]).toString('base64')}\n`;
  };
  const v = cosignatureVerifier('w.example', rawEd25519(w.publicKey));

  it('carry their timestamp, up to 2^63-1', () => {
    for (const ts of [0n, 1234n, (1n << 63n) - 1n]) expect(v.timestampOf(verifyNote(line(ts), [v]).verifiedBy[0]!.signature)).toBe(ts);
    expect(() => line(1n << 63n)).toThrow(RangeError);
    expect(() => line(-1)).toThrow(RangeError);
  });
  it('sign the timestamp: a changed one fails as a bad signature', () => {
    const note = parseNote(line(1234n));
    const sig = Buffer.from(note.signatures[0]!.signature);
    sig.writeBigUInt64BE(1235n, 0);
    const forged = `${body}\n\u2014 w.example ${Buffer.concat([note.signatures[0]!.keyHash, sig]).toString('base64')}\n`;
    expect(codeOf(() => verifyNote(forged, [v]))).toBe('NOTE_BAD_SIGNATURE');
  });
  /** A cosignature line made from the spec's words alone: key ID, u64 big-endian time, Ed25519 over `message`. */
  const handMade = (ts: bigint, message: string) => {
    const keyId = createHash('sha256').update(Buffer.concat([Buffer.from('w.example\n'), Buffer.of(0x04), rawEd25519(w.publicKey)])).digest().subarray(0, 4);
    const time = Buffer.alloc(8);
    time.writeBigUInt64BE(ts);
    return `\u2014 w.example ${Buffer.concat([keyId, time, sign(null, Buffer.from(message), w.privateKey)]).toString('base64')}\n`;
  };

  it('sign "cosignature/v1", "time <decimal>" and the whole note text, extension lines included (tlog-cosignature §"Ed25519 signed message")', () => {
    const extended = `${body}Log frozen \u2014 2026-01-01\n`;
    const ts = 1679315147n;
    expect(v.timestampOf(verifyNote(`${extended}\n${handMade(ts, `cosignature/v1\ntime ${ts}\n${extended}`)}`, [v]).verifiedBy[0]!.signature)).toBe(ts);
    // Signed without the extension line, or with a leading zero in the time, or without the header: not this message.
    for (const other of [`cosignature/v1\ntime ${ts}\n${body}`, `cosignature/v1\ntime 0${ts}\n${extended}`, `time ${ts}\n${extended}`]) {
      expect(codeOf(() => verifyNote(`${extended}\n${handMade(ts, other)}`, [v])), JSON.stringify(other.slice(0, 30))).toBe('NOTE_BAD_SIGNATURE');
    }
  });

  it('a timestamp past 2^63-1 fails, even under a genuine signature of the message it names', () => {
    const ts = 1n << 63n;
    expect(codeOf(() => verifyNote(`${body}\n${handMade(ts, `cosignature/v1\ntime ${ts}\n${body}`)}`, [v]))).toBe('NOTE_BAD_SIGNATURE');
    expect(codeOf(() => verifyNote(`${body}\n${handMade(ts - 1n, `cosignature/v1\ntime ${ts - 1n}\n${body}`)}`, [v]))).toBe('ok');
  });

  it('are not log signatures: the same key as a plain Ed25519 log key has another key ID', () => {
    expect(codeOf(() => verifyNote(line(1n), [parseVerifierKey(`w.example+${'0'.repeat(8)}+${Buffer.concat([Buffer.from([1]), rawEd25519(w.publicKey)]).toString('base64')}`)]))).toBe('NOTE_BAD_KEY');
  });
});

describe('published log vkeys', () => {
  it('omniwitness logs.yaml: every PublicKey parses, with the type it declares', () => {
    const cfg = parseYaml(readFileSync(`${W}/omniwitness_logs.yaml`, 'utf8')) as { Logs: Array<{ Origin: string; PublicKey: string; PublicKeyType?: string }> };
    expect(cfg.Logs.length).toBeGreaterThan(10);
    for (const l of cfg.Logs) expect(parseVerifierKey(l.PublicKey).kind, l.Origin).toBe(l.PublicKeyType === 'ecdsa' ? 'ecdsa' : 'ed25519');
  });
  it('witness-network log lists: every vkey parses', () => {
    for (const f of ['log-list-testing.1', 'log-list-staging-100qps-40klogs.1']) {
      const vkeys = readFileSync(`test/fixtures/realdata/trust/witness-network/${f}`, 'utf8').match(/^vkey \S+$/gm)!;
      expect(vkeys.length).toBeGreaterThan(8);
      for (const k of vkeys) expect(() => parseVerifierKey(k.slice(5)), k).not.toThrow();
    }
  });
});
