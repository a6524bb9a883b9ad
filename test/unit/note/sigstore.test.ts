/**
 * Real Sigstore checkpoints (Rekor v1 ECDSA, Rekor v2 Ed25519, one with witness cosignatures) verified with
 * the keys of the real trusted roots, found the way a verifier finds them: by the entry's logId.keyId.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint, verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { parseVerifierKey } from '../../../src/note/keys.ts';
import { parseNote } from '../../../src/note/note.ts';
import { checkpointVerifierForTlog, findTlogByKeyId, parseTrustedRoot, type TlogTrust } from '../../../src/trust/trusted-root.ts';
import { codeOf, readJson } from './keys-fixture.ts';

const R = 'test/fixtures/realdata';
const ROOTS = ['prod/trusted_root.json', 'prod/trusted_root_pre-rekor-v2_2025-07.json', 'staging/trusted_root.json', 'staging/trusted_root_conformance-rekor2.json', 'staging/trusted_root_conformance-rekor2-dsse.json'];
const roots = ROOTS.map((f) => parseTrustedRoot(readJson(`${R}/trust/${f}`)));
const allVerifiers = roots.flatMap((r) => r.tlogs.map(checkpointVerifierForTlog));

function tlogFor(keyIdB64: string): TlogTrust {
  const keyId = new Uint8Array(Buffer.from(keyIdB64, 'base64'));
  const t = roots.map((r) => findTlogByKeyId(r, keyId)).find((x) => x !== undefined);
  if (!t) throw new Error(`no log with key ID ${keyIdB64}`);
  return t;
}

/** A Rekor v1 origin is `<host> - <treeID>` (rekor.md §1.8); a tiles origin is the signer name (§3.3). */
const originMatches = (t: TlogTrust, origin: string) => (t.type === 'tiles' ? origin === t.name : origin.startsWith(`${t.name} - `) && /^\d+$/.test(origin.slice(t.name.length + 3)));

interface BundleCheckpoint {
  file: string;
  keyId: string;
  treeSize: string;
  envelope: string;
}

function bundleCheckpoints(dir: string): BundleCheckpoint[] {
  return readdirSync(`${R}/${dir}`)
    .filter((f) => !f.endsWith('.txt'))
    .flatMap((f) => {
      const b = readJson(`${R}/${dir}/${f}`);
      return (b.verificationMaterial.tlogEntries as any[])
        .filter((t) => t.inclusionProof?.checkpoint?.envelope)
        .map((t) => ({ file: f, keyId: t.logId.keyId, treeSize: t.inclusionProof.treeSize, envelope: t.inclusionProof.checkpoint.envelope }));
    });
}

describe('checkpoints in real bundles, keys by logId.keyId', () => {
  const dirs = ['prod-rekor-v1', 'prod-rekor-v2', 'staging-rekor-v1', 'staging-rekor-v2'];
  const all = dirs.flatMap((d) => bundleCheckpoints(`bundles/${d}`).map((c) => ({ ...c, dir: d })));
  it('covers both APIs in prod and staging', () => {
    expect(all.length).toBeGreaterThanOrEqual(50);
    for (const d of dirs) expect(all.some((c) => c.dir === d), d).toBe(true);
  });
  for (const c of all) {
    it(`${c.dir}/${c.file}`, () => {
      const t = tlogFor(c.keyId);
      expect(t.type).toBe(c.dir.endsWith('v2') ? 'tiles' : 'rekor-v1');
      const v = checkpointVerifierForTlog(t);
      expect(v.kind).toBe(c.dir.endsWith('v2') ? 'ed25519' : 'ecdsa');
      const { checkpoint, note, verifiedBy } = verifyCheckpoint(c.envelope, undefined, [v]);
      expect(originMatches(t, checkpoint.origin), checkpoint.origin).toBe(true);
      expect(verifiedBy.map((s) => s.name)).toEqual([t.name]);
      expect(checkpoint.size).toBe(BigInt(c.treeSize));
      expect(formatCheckpoint(checkpoint)).toBe(note.text);
    });
  }

  it('the witness-cosigned Rekor v2 checkpoint: the log verifies, unknown witnesses are ignored', () => {
    const [c] = bundleCheckpoints('bundles/staging-rekor-v2').filter((x) => x.file.includes('witness-cosigned'));
    const note = parseNote(c!.envelope);
    expect(note.signatures).toHaveLength(4);
    expect(note.signatures.slice(1).every((s) => s.signature.length === 72)).toBe(true);
    const { verifiedBy } = verifyCheckpoint(c!.envelope, 'log2025-alpha3.rekor.sigstage.dev', allVerifiers);
    expect(verifiedBy.map((s) => s.name)).toEqual(['log2025-alpha3.rekor.sigstage.dev']);
    // The witness network's vkey for the log is the same key as the trusted root's.
    const vkey = readFileSync(`${R}/trust/witness-network/log-list-testing.1`, 'utf8').match(/^vkey (log2025-alpha3\S+)$/m)![1]!;
    expect(verifyCheckpoint(c!.envelope, undefined, [parseVerifierKey(vkey)]).verifiedBy).toHaveLength(1);
  });
});

describe('every real checkpoint in the data', () => {
  const index = readJson(`${R}/checkpoints/all_real_checkpoints.index.json`).checkpoints as any[];
  it('has 79 distinct checkpoints from 10 origins', () => {
    expect(index).toHaveLength(79);
    expect(new Set(index.map((c) => c.origin)).size).toBe(10);
  });
  for (const cp of index) {
    it(`${cp.origin} @ ${cp.treeSize}`, () => {
      for (const note of cp.signed_notes as string[]) {
        const { checkpoint, verifiedBy } = verifyCheckpoint(note, cp.origin, allVerifiers);
        expect(verifiedBy).toHaveLength(1);
        expect(checkpoint.size).toBe(BigInt(cp.treeSize));
        expect(Buffer.from(checkpoint.rootHash).toString('base64')).toBe(cp.rootHash_b64);
      }
    });
  }
  it('Rekor v1 LogInfo signedTreeHead of active and inactive shards, and checkpoints in v1 entries', () => {
    const notes: string[] = [];
    for (const f of readdirSync(`${R}/rekor-v1-api`)) {
      const j = readJson(`${R}/rekor-v1-api/${f}`);
      if (typeof j.signedTreeHead === 'string') notes.push(j.signedTreeHead, ...(j.inactiveShards ?? []).map((s: any) => s.signedTreeHead));
      for (const v of Object.values<any>(j)) if (typeof v?.verification?.inclusionProof?.checkpoint === 'string') notes.push(v.verification.inclusionProof.checkpoint);
    }
    expect(notes.length).toBe(11);
    for (const n of notes) expect(verifyCheckpoint(n, undefined, allVerifiers).checkpoint.origin).toMatch(/^rekor\.sig(store|stage)\.dev - \d+$/);
  });
  it('keeps the old Rekor v1 Timestamp extension line', () => {
    const text = readFileSync(`${R}/checkpoints/prod-rekor-v1_2605736670972794746_37795272_with-timestamp-line.txt`, 'utf8');
    const { checkpoint, note } = verifyCheckpoint(text, 'rekor.sigstore.dev - 2605736670972794746', allVerifiers);
    expect(checkpoint.extensions).toEqual(['Timestamp: 1697034484441201852']);
    expect(formatCheckpoint(checkpoint)).toBe(note.text);
  });
  it('a real checkpoint under the wrong expected origin is refused', () => {
    const text = readFileSync(`${R}/checkpoints/prod-rekor-v1_2605736670972794746_37795272_with-timestamp-line.txt`, 'utf8');
    expect(codeOf(() => verifyCheckpoint(text, 'rekor.sigstore.dev - 1193050959916656506', allVerifiers))).toBe('CHECKPOINT_WRONG_ORIGIN');
  });
});

describe('derived negatives', () => {
  const byFile = new Map(bundleCheckpoints('derived-negative').map((c) => [c.file, c]));
  const outcome = (file: string) => {
    const c = byFile.get(file)!;
    return codeOf(() => verifyCheckpoint(c.envelope, undefined, [checkpointVerifierForTlog(tlogFor(c.keyId))]));
  };
  it('a changed key hint is an unknown signer; a corrupted signature of the known key rejects', () => {
    expect(outcome('27246492_checkpoint-bad-keyhint.sigstore.json')).toBe('NOTE_NO_VERIFIED_SIGNATURE');
    expect(outcome('27246492_checkpoint-invalid-signature.sigstore.json')).toBe('NOTE_BAD_SIGNATURE');
  });
  it('a changed origin and signer name matches no key', () => {
    expect(outcome('alpha1_735_checkpoint-wrong-origin.sigstore.json')).toBe('NOTE_NO_VERIFIED_SIGNATURE');
  });
  it('extra or reordered cosignature lines are ignored', () => {
    expect(outcome('alpha1_735_checkpoint-witness-example-cosig.sigstore.json')).toBe('ok');
    expect(outcome('alpha1_735_checkpoint-cosig-first.sigstore.json')).toBe('ok');
  });
  it('negatives about other parts of the bundle leave a valid checkpoint; the wrong-root one is another real tree head', () => {
    for (const f of ['27246492_set-invalid-signature.sigstore.json', '27246492_tampered-body-public-key.sigstore.json', '79571823_inclusion-proof-corrupted-hash.sigstore.json', '27246492_checkpoint-wrong-roothash.sigstore.json']) {
      expect(outcome(f), f).toBe('ok');
    }
    const c = byFile.get('27246492_checkpoint-wrong-roothash.sigstore.json')!;
    expect(verifyCheckpoint(c.envelope, undefined, allVerifiers).checkpoint.size).not.toBe(BigInt(c.treeSize));
  });
  it('sigstore-java checkpoint negatives', () => {
    const file = (f: string) => readFileSync(`${R}/derived-negative/${f}`, 'utf8');
    expect(codeOf(() => verifyCheckpoint(file('checkpoint_error_header_body_separator.txt'), undefined, allVerifiers))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => verifyCheckpoint(file('checkpoint_error_no_signatures.txt'), undefined, allVerifiers))).toBe('NOTE_MALFORMED');
    // Signatures are checked before the body is read: the edited size breaks the known key's signature.
    const notANumber = file('checkpoint_error_not_a_number.txt');
    expect(codeOf(() => verifyCheckpoint(notANumber, undefined, allVerifiers))).toBe('NOTE_BAD_SIGNATURE');
    expect(codeOf(() => parseCheckpoint(parseNote(notANumber).text))).toBe('CHECKPOINT_MALFORMED');
    // bob.loblaw.dev reuses the Rekor key hash under another name: an unknown signer, ignored.
    expect(verifyCheckpoint(file('checkpoint_multi-sig_bob.loblaw.txt'), undefined, allVerifiers).verifiedBy.map((s) => s.name)).toEqual(['rekor.sigstore.dev']);
  });
});
