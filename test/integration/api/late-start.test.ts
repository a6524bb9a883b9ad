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
        expect(((await before.json()) as any).message).toMatch(/holds the log from index 100 on, .*tlogwatch backfill/);
      });
    }
  });
}

describe('a Rekor v1 mirror that started in the last of three trees, then followed a rotation', () => {
  let h: Harness;
  let app: Hono;
  beforeAll(async () => {
    // Trees of 233, 233 and 234 entries; the mirror starts at index 500, in the third.
    h = await harness({ api: 'v1', entries: 700, seed: 'late-shard', shards: 3 }, { start: 500n });
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.verified?.size === 234n);
    app = createApp({ store: h.store, metrics: h.metrics, logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
  }, 60_000);
  afterAll(() => h.cleanup());

  type Info = { treeID: string; treeSize: number; rootHash: string; inactiveShards: Array<{ treeID: string; treeSize: number; rootHash: string; signedTreeHead: string }> };
  const info = async () => (await (await app.request('/api/v1/log')).json()) as Info;
  const upstream = async () => (await (await fetch(`${h.sim.url}/api/v1/log`)).json()) as Info;
  const strip = (i: Info) => ({ ...i, signedTreeHead: undefined, inactiveShards: i.inactiveShards.map((s) => ({ ...s, signedTreeHead: undefined })) });

  it('lists the trees before its start in inactiveShards, as the log does, so virtual indexes add up', async () => {
    const mine = await info();
    expect(strip(mine)).toEqual(strip(await upstream()));
    // rekor-monitor's arithmetic (rekor.md §1.5): the last virtual index is Σ inactive sizes + size − 1.
    const last = mine.inactiveShards.reduce((n, s) => n + s.treeSize, 0) + mine.treeSize - 1;
    expect(last).toBe(699);
    const e = Object.values((await (await app.request(`/api/v1/log/entries?logIndex=${last}`)).json()) as object)[0] as { logIndex: number };
    expect(e.logIndex).toBe(699);
    for (const s of mine.inactiveShards) verifyCheckpoint(s.signedTreeHead, undefined, [checkpointVerifierForTlog(h.tlog)]);
  });

  it('lists them before the tree it followed to its end after a rotation', async () => {
    h.sim.rotate();
    h.sim.append(10);
    await roundsUntil(h, async () => (await h.store.getLogState('sim'))?.shard?.seq === 1 && (await h.store.getLogState('sim'))?.verified?.size === 10n);
    const mine = await info();
    expect(mine.inactiveShards.map((s) => s.treeSize)).toEqual([233, 233, 234]);
    expect(strip(mine)).toEqual(strip(await upstream()));
    // The tree it started in (at its leaf 34) is retired now: proofs in it by treeID, from its start on.
    const started = mine.inactiveShards[2]!;
    const tree = h.sim.log.shards.find((s) => String(s.treeID) === started.treeID)!.tree;
    const proof = (await (await app.request(`/api/v1/log/proof?firstSize=34&lastSize=234&treeID=${started.treeID}`)).json()) as { hashes: string[]; rootHash: string };
    expect(proof.rootHash).toBe(started.rootHash);
    verifyConsistency(34n, 234n, proof.hashes.map(hex), tree.root(34), hex(proof.rootHash));
    const before = await app.request(`/api/v1/log/proof?firstSize=33&lastSize=234&treeID=${started.treeID}`);
    expect(before.status).toBe(404);
    // Trees before it: the mirror holds none of their hashes, so it proves nothing in them.
    expect((await app.request(`/api/v1/log/proof?firstSize=1&lastSize=2&treeID=${mine.inactiveShards[0]!.treeID}`)).status).toBe(400);
  });

  it('answers 503 rather than a list that does not add up to where its tree starts', async () => {
    const s = (await h.store.getLogState('sim'))!;
    await h.store.putLogState({ ...s, priorTrees: s.priorTrees!.slice(1) });
    const res = await app.request('/api/v1/log');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/trees before index 700 are not all known/);
    await h.store.putLogState(s);
  });
});
