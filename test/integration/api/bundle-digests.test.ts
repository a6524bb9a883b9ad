/**
 * A hashedrekord 0.0.1 entry signs a sha256, sha384 or sha512 digest (Rekor's schema; reference/rekor.md
 * §1.10 indexes it as `alg:hash`): the bundle built for it must name the digest's own algorithm, which
 * protobuf-specs spells SHA2_256, SHA2_384 or SHA2_512, or a verifier reads the digest as another hash's.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { createLogger } from '../../../src/logger.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Store } from '../../../src/store/store.ts';
import { readJson, REALDATA } from '../../helpers/realdata.ts';
import { stateOf, tempDirs } from '../store/fixtures.ts';

const tempDir = tempDirs('tlogwatch-bundle-digests-');

/** The real staging hashedrekord entry 1688's body, its digest replaced by one of `algorithm`. */
function bodyWith(algorithm: string, bytes: number): Uint8Array {
  const real = Object.values(readJson(`${REALDATA}/rekor-v1-api/staging_entry_1688_shard108574341321668964.json`) as Record<string, { body: string }>)[0]!;
  const body = JSON.parse(Buffer.from(real.body, 'base64').toString('utf8')) as { spec: { data: { hash: { algorithm: string; value: string } } } };
  body.spec.data.hash = { algorithm, value: 'ab'.repeat(bytes) };
  return new Uint8Array(Buffer.from(JSON.stringify(body)));
}

describe('bundles of hashedrekord entries', () => {
  it('name the algorithm of the digest the entry signed, and refuse a digest of no algorithm they can name', async () => {
    const cases = [['sha256', 32, 'SHA2_256'], ['sha384', 48, 'SHA2_384'], ['sha512', 64, 'SHA2_512'], ['md5', 16, undefined]] as const;
    const store = await Store.open(tempDir());
    try {
      const range = CompactRange.empty();
      const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
      const entries = cases.map(([alg, n], i) => {
        const body = bodyWith(alg, n);
        range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
        return { record: { entry: decodeRekorV1Body(body, { log: 'l', index: i, integratedTime: 1_700_000_000 }) }, body };
      });
      const head = { size: range.size, rootHash: range.root(), note: `note ${range.size}`, at: 1 };
      await store.commitBatch({ entries, nodes, state: { ...stateOf(range), verified: head }, checkpoint: head });
      const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['l'], logKeyId: () => new Uint8Array(32) });
      for (const [i, [alg, n, name]] of cases.entries()) {
        const res = await app.request(`/v1/entries/l/${i}/bundle`);
        if (name === undefined) {
          // Not a digest Rekor's schema allows: no bundle, and no guess at what it is.
          expect(res.status, alg).toBe(404);
          expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/hashedrekord of a md5 digest cannot be made into a bundle/);
          continue;
        }
        expect(res.status, alg).toBe(200);
        const json = (await res.json()) as { messageSignature: { messageDigest: { algorithm: string; digest: string } } };
        expect(json.messageSignature.messageDigest.algorithm, alg).toBe(name);
        expect(Buffer.from(json.messageSignature.messageDigest.digest, 'base64')).toHaveLength(n);
        expect(() => bundleFromJSON(json)).not.toThrow();
      }
    } finally {
      await store.close();
    }
  });
});
