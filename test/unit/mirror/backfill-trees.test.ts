/**
 * The key a Rekor v1 tree before the mirror's start is backfilled with (src/mirror/backfill-trees.ts), on
 * real production data: the final signed tree head of prod shard 3904496407287907110 (size 4,163,431, from
 * test/fixtures/realdata/checkpoints) against the keys the production trusted root lists for
 * rekor.sigstore.dev, and the integrated time of a real entry of that shard against the key's validity.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { keyForTree, validAtTime } from '../../../src/mirror/backfill-trees.ts';
import { parseCheckpoint } from '../../../src/note/checkpoint.ts';
import { parseTrustedRoot, rekorV1KeysOf } from '../../../src/trust/trusted-root.ts';
import { readJson } from '../../helpers/realdata.ts';

const DIR = 'test/fixtures/realdata';
const TREE = '3904496407287907110';
const index = readJson(`${DIR}/checkpoints/all_real_checkpoints.index.json`) as { checkpoints: Array<{ origin: string; signed_notes: string[] }> };
const note = index.checkpoints.find((c) => c.origin === `rekor.sigstore.dev - ${TREE}`)!.signed_notes[0]!;
const root = parseTrustedRoot(readJson(`${DIR}/trust/prod/trusted_root.json`));
const tlog = root.tlogs.find((t) => t.baseUrl === 'https://rekor.sigstore.dev')!;
const cfg = { name: 'rekor.sigstore.dev', origin: 'rekor.sigstore.dev' };
const headOf = (text: string) => {
  const cp = parseCheckpoint(text.slice(0, text.indexOf('\n\n') + 1));
  return { size: cp.size, rootHash: cp.rootHash, note: text, at: 0 };
};

describe('keyForTree on production Rekor v1', () => {
  it("finds the production key for shard 1's final tree head, with the validity the trusted root gives it", () => {
    const keys = rekorV1KeysOf(root, tlog);
    expect(keys).toHaveLength(1); // log2025-1 is a tiles log: not one of this log's keys
    const head = headOf(note);
    expect(head.size).toBe(4_163_431n);
    const k = keyForTree(cfg, TREE, head, { verifiers: [], keys });
    expect(k.verifiers).toEqual([keys[0]!.verifier]);
    expect(k.setKey).toBe(keys[0]!.setKey);
    expect(k.validity?.map((v) => v.validFrom?.toISOString())).toEqual(['2021-01-12T11:53:27.000Z']);
    // A real entry of that shard (virtual index 3120029) was integrated while the key was valid.
    const entry = Object.values(JSON.parse(readFileSync(`${DIR}/rekor-v1-api/prod_entry_3120029_jar_shard${TREE}.json`, 'utf8')) as Record<string, { integratedTime: number }>)[0]!;
    expect(validAtTime(k.validity, entry.integratedTime)).toBe(true);
    expect(validAtTime(k.validity, Date.parse('2021-01-01T00:00:00Z') / 1000)).toBe(false);
  });

  it('refuses the head under another tree ID, and a head whose signature does not verify', () => {
    const keys = rekorV1KeysOf(root, tlog);
    const refusedFor = (treeID: string, text: string) => {
      try {
        keyForTree(cfg, treeID, headOf(text), { verifiers: [], keys });
      } catch (e) {
        return isTlogwatchError(e, 'BACKFILL_REFUSED') && e.data['reason'];
      }
      return 'accepted';
    };
    expect(refusedFor('2605736670972794746', note)).toBe('no-key-for-tree');
    const flipped = note.replace(/wNI9ajBEAiB1/, 'wNI9ajBEAiB2');
    expect(flipped).not.toBe(note);
    expect(refusedFor(TREE, flipped)).toBe('no-key-for-tree');
  });
});
