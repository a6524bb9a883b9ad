/**
 * verifyLogCheckpoint on every real signed checkpoint in the fixtures whose log the production or staging
 * trusted root lists: the log's key verifies it, a Rekor v1 origin yields its tree ID, and the same note
 * presented as another log's (another key, another origin) is refused.
 */
import { describe, expect, it } from 'vitest';
import { verifyLogCheckpoint, v1TreeOf } from '../../../src/trust/log-checkpoint.ts';
import { parseTrustedRoot, type TlogTrust } from '../../../src/trust/trusted-root.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';

const tlogs: TlogTrust[] = ['prod', 'staging'].flatMap((env) => parseTrustedRoot(readJson(`${REALDATA}/trust/${env}/trusted_root.json`)).tlogs);
interface Indexed {
  origin: string;
  treeSize: number;
  rootHash_b64: string;
  signed_notes: string[];
}
const index = (readJson(`${REALDATA}/checkpoints/all_real_checkpoints.index.json`) as { checkpoints: Indexed[] }).checkpoints;
/** The trusted root logs that could have signed a checkpoint of this origin (Rekor v1 names its tree after the signer). */
const candidates = (origin: string) => tlogs.filter((t) => (t.type === 'tiles' ? t.name === origin : v1TreeOf(origin, t.name) !== undefined));

describe('verifyLogCheckpoint on real checkpoints', () => {
  const known = index.filter((c) => candidates(c.origin).length > 0);
  it('covers checkpoints of Rekor v1 and tiles logs of both roots', () => {
    expect(known.filter((c) => / - \d+$/.test(c.origin)).length).toBeGreaterThan(5);
    expect(known.filter((c) => !/ - \d+$/.test(c.origin)).length).toBeGreaterThan(5);
  });
  for (const cp of known) {
    it(`${cp.origin} @ ${cp.treeSize}`, () => {
      for (const note of cp.signed_notes) {
        const signed = candidates(cp.origin).flatMap((t) => {
          try {
            return [{ t, tree: verifyLogCheckpoint(note, t) }];
          } catch {
            return [];
          }
        });
        expect(signed).toHaveLength(1);
        const { t, tree } = signed[0]!;
        expect(tree).toEqual({ size: BigInt(cp.treeSize), rootHash: new Uint8Array(Buffer.from(cp.rootHash_b64, 'base64')), note, ...(t.type === 'rekor-v1' ? { treeID: cp.origin.slice(cp.origin.lastIndexOf(' ') + 1) } : {}) });
        // Another log's key, or this key under another origin: refused, with the reason.
        const other = tlogs.find((x) => x.type !== t.type)!;
        expect(() => verifyLogCheckpoint(note, other)).toThrow();
        expect(() => verifyLogCheckpoint(note, t, `not-${t.name}`)).toThrow(/is not log not-/);
      }
    });
  }
});

describe('v1TreeOf', () => {
  it('reads the tree ID of the log named, and nothing else', () => {
    expect(v1TreeOf('rekor.sigstore.dev - 1193050959916656506', 'rekor.sigstore.dev')).toBe('1193050959916656506');
    expect(v1TreeOf('rekor.sigstore.dev - 1193050959916656506', 'rekor.sigstage.dev')).toBeUndefined();
    expect(v1TreeOf('rekor.sigstore.dev - ', 'rekor.sigstore.dev')).toBeUndefined();
    expect(v1TreeOf('rekor.sigstore.dev - 12a', 'rekor.sigstore.dev')).toBeUndefined();
    expect(v1TreeOf('rekor.sigstore.dev - 123456789012345678901', 'rekor.sigstore.dev')).toBeUndefined();
  });
});
