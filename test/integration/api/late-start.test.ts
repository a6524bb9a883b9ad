/**
 * A mirror that started at entry 100 (`start: latest` lands mid-log the same way) serves proofs from its
 * start on: inclusion proofs and bundles of its entries, and consistency proofs from sizes past its start,
 * built over the start's verified frontier. Before the start it says what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../../src/api/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/merkle/proof.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { verifyCheckpoint } from '../../../src/note/checkpoint.ts';
import { checkpointVerifierForTlog } from '../../../src/trust/trusted-root.ts';
import { harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const SIZE = 300;
const b64 = (s: string) => Buffer.from(s, 'base64');
const hex = (s: string) => Buffer.from(s, 'hex');

for (const api of ['tiles', 'v1'] as const) {
  describe(`a ${api} mirror that started at entry 100`, () => {
    let h: Harness;
    let app: Hono;
    beforeAll(async () => {
      h = await harness({ api, entries: SIZE, seed: `late-${api}` }, { start: 100n });
      await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === BigInt(SIZE));
      app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'], logKeyId: () => h.tlog.keyId });
    }, 60_000);
    afterAll(() => h.cleanup());

    it('proves its entries against the verified checkpoint, the first one included', async () => {
      for (const i of [100, 101, 127, 128, 150, 255, 256, 299]) {
        const res = await app.request(`/v1/entries/sim/${i}?include=body,proof`);
        expect(res.status).toBe(200);
        const e = (await res.json()) as any;
        const p = e.inclusionProof;
        verifyInclusion(BigInt(p.logIndex), BigInt(p.treeSize), leafHash(b64(e.body)), p.hashes.map(b64), b64(p.rootHash));
        const { checkpoint } = verifyCheckpoint(p.checkpoint, undefined, [checkpointVerifierForTlog(h.tlog)]);
        expect(Buffer.from(checkpoint.rootHash).equals(b64(p.rootHash))).toBe(true);
        // (Rekor v2 does not keep a DSSE entry's envelope, so those make no bundle.)
        if (api === 'v1' || e.kind !== 'dsse') expect((await app.request(`/v1/entries/sim/${i}/bundle`)).status).toBe(200);
      }
      expect((await app.request('/v1/entries/sim/99?include=proof')).status).toBe(404);
    });

    if (api === 'v1') {
      it('serves consistency proofs from sizes past its start, and says why not before it', async () => {
        const tree = h.sim.log.active.tree;
        for (const first of [100, 128, 200]) {
          const res = await app.request(`/api/v1/log/proof?firstSize=${first}&lastSize=${SIZE}`);
          expect(res.status).toBe(200);
          const proof = (await res.json()) as { hashes: string[]; rootHash: string };
          verifyConsistency(BigInt(first), BigInt(SIZE), proof.hashes.map(hex), tree.root(first), hex(proof.rootHash));
        }
        const before = await app.request(`/api/v1/log/proof?firstSize=50&lastSize=${SIZE}`);
        expect(before.status).toBe(404);
        expect(((await before.json()) as any).error.message).toMatch(/holds the log from index 100 on, .*tlogwatch backfill/);
      });
    }
  });
}
