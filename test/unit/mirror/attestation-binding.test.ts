/**
 * Rekor v1 serves an entry's attestation beside its body, outside the log (rekor.md §2): no leaf hash,
 * inclusion proof or SET covers it. ingestBatch takes one only when it is the payload the verified body
 * commits to (its payload hash); anything else must lend the entry no subjects or provenance and is not
 * kept, so a log or a network in between cannot tie a signer's entry to an artifact it never signed.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { ingestBatch, storedEntries } from '../../../src/mirror/ingest.ts';
import type { FetchedLeaf } from '../../../src/sources/types.ts';
import { dsseV1, hashedrekordV1, intotoV2, keySigner } from '../../sim/bodies.ts';

const key = keySigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ecdsa');
const statement = (subjectHex: string, repo: string) =>
  Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'a.tgz', digest: { sha256: subjectHex } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: { buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1', externalParameters: { workflow: { ref: 'refs/heads/main', repository: repo, path: '.github/workflows/r.yml' } } }, runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } } },
    }),
  );
const mine = statement('a'.repeat(64), 'https://github.com/acme/app');
const forged = statement('e'.repeat(64), 'https://github.com/victim/repo');

function ingestOne(body: string, attestation: Buffer) {
  const leaf: FetchedLeaf = { treeIndex: 0n, logIndex: 0n, body: new Uint8Array(Buffer.from(body)), integratedTime: 1_700_000_000, attestation };
  const [e] = ingestBatch('l', 'rekor-v1', CompactRange.empty(), { leaves: [leaf] }, 1_700_000_001).entries;
  return { entry: e!.entry, stored: storedEntries([e!])[0]!.record };
}

describe('attestations served beside Rekor v1 entries', () => {
  for (const [kind, build] of [['dsse 0.0.1', dsseV1], ['intoto 0.0.2', intotoV2]] as const) {
    it(`${kind}: the entry's own payload gives its subjects and provenance and is kept`, () => {
      const { entry, stored } = ingestOne(build(key, mine).body, mine);
      expect(entry.digests).toContain(`sha256:${'a'.repeat(64)}`);
      expect(entry.provenance?.sourceRepository).toBe('https://github.com/acme/app');
      expect(stored.attestation).toBe(mine.toString('base64'));
    });

    it(`${kind}: another statement gives nothing and is not kept`, () => {
      const built = build(key, mine);
      const { entry, stored } = ingestOne(built.body, forged);
      expect([...entry.digests].sort()).toEqual([...built.digests].sort());
      expect(entry.provenance).toBeUndefined();
      expect(stored.attestation).toBeUndefined();
    });
  }

  it('hashedrekord: no attestation is taken, even one whose hash is the signed artifact', () => {
    const built = hashedrekordV1(key, forged, createHash('sha256').update(forged).digest('hex'));
    const { entry, stored } = ingestOne(built.body, forged);
    expect(entry.digests).toEqual(built.digests);
    expect(entry.provenance).toBeUndefined();
    expect(stored.attestation).toBeUndefined();
  });
});
