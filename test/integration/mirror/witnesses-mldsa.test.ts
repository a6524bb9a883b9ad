/**
 * A tiles log followed with a witness policy that needs an ML-DSA-44 witness (tlog-cosignature type 0x06),
 * against the simulator cosigning each checkpoint with one Ed25519 and one ML-DSA-44 witness
 * (`mldsaWitnesses`): the ML-DSA cosignature counts toward the quorum, is kept in the stored note and dates
 * the witness's freshness metric; corrupted (`bad-cosig`), it is invalid, as a bad Ed25519 cosignature is,
 * and the mirror does not verify past it. And real checkpoints with 16 ML-DSA cosignatures (~55 KB, the
 * count signed-note requires verifiers to accept) pass the tiles source's bounds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseVerifierKey, type CosignatureVerifier } from '../../../src/note/keys.ts';
import { cosignaturesOf } from '../../../src/note/witness-policy.ts';
import { witnessVkey } from '../../sim/trust.ts';
import { expectStoreMatchesManifest, harness, roundsUntil, type Harness } from '../../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const state = () => h!.store.getLogState('sim');
const verifiedSize = async () => (await state())?.verified?.size;
const metric = async (m: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string>) =>
  (await m.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

/** The harness with all the simulator's witnesses as the log's policy, every one required. */
async function witnessed(seed: string, entries: number, ed25519: number, mldsa: number) {
  const hh = await harness({ api: 'tiles', entries, seed, witnesses: ed25519, mldsaWitnesses: mldsa });
  const policy = { witnesses: hh.sim.log.witnesses.map((w) => parseVerifierKey(witnessVkey(w)) as CosignatureVerifier), quorum: ed25519 + mldsa };
  hh.follower.cfg.witnesses = policy;
  return { h: hh, policy };
}

describe('an ML-DSA-44 witness in the quorum', () => {
  it('counts when its cosignature verifies, is kept and dated; a bad one holds the log back as a bad Ed25519 one does', async () => {
    let policy;
    ({ h, policy } = await witnessed('pq1', 400, 1, 1));
    const [ed, pq] = [h.sim.log.witnesses[0]!, h.sim.log.witnesses[1]!];
    expect([ed.alg, pq.alg]).toEqual(['ed25519', 'ml-dsa-44']);
    await roundsUntil(h, async () => (await verifiedSize()) === 400n);
    const kept = (await state())!.verified!.note;
    expect(kept).toContain(`\n\u2014 ${pq.name} `);
    expect(cosignaturesOf(kept, policy).valid.map((v) => v.witness)).toEqual([ed.name, pq.name]);
    expect(await metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: pq.name })).toBeGreaterThan(1.7e9);

    // The ML-DSA witness's cosignature turns bad: one invalid line, short of the quorum of 2.
    h.sim.log.faults.enable('bad-cosig', 2);
    h.sim.append(100);
    for (let i = 0; i < 3; i++) expect(await h.follower.round()).toBe('transient-error');
    const fault = h.follower.transientFault!;
    expect(fault.code).toBe('VERIFY_UNWITNESSED');
    expect(fault.message).toBe(`checkpoint 500 is cosigned by 1 of the 2 required witnesses (${ed.name}); an invalid one from ${pq.name}: not verified up to, waiting for a cosigned one`);
    expect((await state())!.verified?.size).toBe(400n);
    expect(await metric(h.metrics.checkpointsUnwitnessed, { log: 'sim' })).toBe(1);
    expect(await h.store.getEntry('sim', 400)).toBeUndefined();

    // It cosigns properly again: the mirror fills [400, 510) and the store matches the simulator.
    h.sim.log.faults.disable('bad-cosig');
    h.sim.append(10);
    await roundsUntil(h, async () => (await verifiedSize()) === 510n);
    expect(h.follower.transientFault).toBeUndefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(510);
  });

  it('a checkpoint with 16 ML-DSA-44 cosignatures (signed-note: verifiers MUST accept at least 16) is fetched, verified and kept whole', async () => {
    ({ h } = await witnessed('pq16', 300, 1, 16));
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    const kept = (await state())!.verified!.note;
    expect(kept.split('\n').filter((l) => l.startsWith('\u2014 '))).toHaveLength(18);
    expect(kept.length).toBeGreaterThan(16 * 3200);
    h.sim.append(20);
    await roundsUntil(h, async () => (await verifiedSize()) === 320n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(320);
  });
});
