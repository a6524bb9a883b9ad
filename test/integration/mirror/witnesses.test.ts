/**
 * A tiles log followed with a witness policy (FollowConfig.witnesses, note/witness-policy.ts), against the
 * simulator cosigning its checkpoints with three witnesses: the mirror verifies up to cosigned checkpoints
 * only, waits (a transient fault that names who did not cosign) while a checkpoint is short of the quorum,
 * and carries on, missing nothing, once one reaches it. Misbehaviour is judged before witnessing.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cosignatureVkey, parseVerifierKey, rawEd25519, type CosignatureVerifier } from '../../../src/note/keys.ts';
import type { WitnessPolicy } from '../../../src/note/witness-policy.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { LogFollower } from '../../../src/mirror/follower.ts';
import { newestCosignatures } from '../../../src/mirror/witness-history.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { expectStoreMatchesManifest, roundsUntil, type Harness } from '../../helpers/mirror.ts';

const t = harnessPerTest();
const state = t.state;
const verifiedSize = async () => (await state())?.verified?.size;
const verifierOf = (name: string, publicKey: Parameters<typeof rawEd25519>[0]) => parseVerifierKey(cosignatureVkey(name, rawEd25519(publicKey))) as CosignatureVerifier;

/** The harness with the simulator's witnesses (and any `extra` ones it does not have) as the log's policy. */
async function witnessed(seed: string, entries: number, quorum: number, extra = 0): Promise<{ h: Harness; policy: WitnessPolicy }> {
  const hh = await t.harness({ api: 'tiles', entries, seed, witnesses: 3 });
  const strangers = Array.from({ length: extra }, (_, i) => verifierOf(`absent${i}.example`, generateKeyPairSync('ed25519').publicKey));
  const policy = { witnesses: [...hh.sim.log.witnesses.map((w) => verifierOf(w.name, w.publicKey)), ...strangers], quorum };
  hh.follower.cfg.witnesses = policy;
  return { h: hh, policy };
}

const metric = async (m: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string>) =>
  (await m.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

describe('witness policy', () => {
  it('verifies up to cosigned checkpoints, waits on one short of the quorum, and resumes without a gap', async () => {
    const { h } = await witnessed('w1', 700, 2);
    await roundsUntil(h, async () => (await verifiedSize()) === 700n);
    for (const w of h.sim.log.witnesses) expect(await metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w.name })).toBeGreaterThan(1.7e9);

    // Two of the three witnesses stop cosigning: the next checkpoints have one cosignature, short of 2.
    const stopped = h.sim.log.witnesses.splice(1);
    h.sim.append(300);
    for (let i = 0; i < 3; i++) expect(await h.follower.round()).toBe('transient-error');
    const fault = h.follower.transientFault!;
    expect(fault.code).toBe('VERIFY_UNWITNESSED');
    expect(fault.message).toBe(`checkpoint 1000 is cosigned by 1 of the 2 required witnesses (witness1.example); no cosignature from witness2.example, witness3.example: not verified up to, waiting for a cosigned one`);
    const waiting = (await state())!;
    expect(waiting.verified?.size).toBe(700n);
    // The wait is visible: the log's size is recorded (lag, and mirror-stalled after stalledAfter).
    expect(waiting.upstream?.size).toBe(1000n);
    expect(await metric(h.metrics.mirrorLagEntries, { log: 'sim' })).toBe(300);
    // Each checkpoint is counted once, however often it is polled.
    expect(await metric(h.metrics.checkpointsUnwitnessed, { log: 'sim' })).toBe(1);
    expect(await h.store.getEntry('sim', 700)).toBeUndefined();

    // They cosign again: the next checkpoint reaches the quorum and the mirror fills [700, 1010).
    h.sim.log.witnesses.push(...stopped);
    h.sim.append(10);
    await roundsUntil(h, async () => (await verifiedSize()) === 1010n);
    expect(h.follower.transientFault).toBeUndefined();
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(1010);
    expect(await metric(h.metrics.checkpointsUnwitnessed, { log: 'sim' })).toBe(1);
  });

  it('a witness whose cosignatures stop verifying falls behind the others while the quorum holds (what TlogwatchWitnessCosignatureStale compares)', async () => {
    const { h } = await witnessed('w6', 300, 2);
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    const ages = () => Promise.all(h.sim.log.witnesses.map((w) => metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w.name })));
    const before = await ages();
    // The third witness's cosignatures no longer verify (an invalid one counts as none); new ones are dated a second later.
    h.sim.log.faults.enable('bad-cosig', 3);
    await new Promise((r) => setTimeout(r, 1100));
    h.sim.append(10);
    await roundsUntil(h, async () => (await verifiedSize()) === 310n);
    const after = await ages();
    expect(after[0]).toBeGreaterThan(before[0]!);
    expect(after[1]).toBeGreaterThan(before[1]!);
    expect(after[2]).toBe(before[2]);
  });

  it("after a restart, shows each witness's cosignature on the verified checkpoint before the log answers", async () => {
    const { h } = await witnessed('w4', 300, 2);
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    const before = await Promise.all(h.sim.log.witnesses.map((w) => metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w.name })));
    expect(before.every((t) => t !== undefined && t > 1.7e9)).toBe(true);
    await h.sim.close();
    const metrics = createMetrics({ defaultMetrics: false });
    const restarted = new LogFollower(h.follower.cfg, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [] });
    await restarted.restoreMetrics();
    expect(await Promise.all(h.sim.log.witnesses.map((w) => metric(metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w.name })))).toEqual(before);
  });

  it("after a restart, every witness has its series from the store: one that stopped cosigning before it shows its last cosignature in the history, one with none shows 0", async () => {
    const { h } = await witnessed('w5', 300, 2, 1);
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    const [w1, w2, w3] = h.sim.log.witnesses.map((w) => w.name);
    const w3Last = await metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w3! });
    expect(w3Last).toBeGreaterThan(1.7e9);
    // The third witness stops cosigning; the quorum of 2 holds, so the mirror goes on verifying without it.
    h.sim.log.witnesses.splice(2);
    await new Promise((r) => setTimeout(r, 1100));
    for (const n of [10, 10]) {
      h.sim.append(n);
      const want = (await verifiedSize())! + BigInt(n);
      await roundsUntil(h, async () => (await verifiedSize()) === want);
    }
    expect((await state())!.verified!.note).not.toContain(`\u2014 ${w3} `);
    const live = await h.metrics.witnessCosignatureTimestamp.get();
    await h.sim.close();

    const metrics = createMetrics({ defaultMetrics: false });
    const restarted = new LogFollower(h.follower.cfg, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [] });
    await restarted.restoreMetrics();
    const shown = (await metrics.witnessCosignatureTimestamp.get()).values;
    const value = (w: string) => shown.find((v) => v.labels['witness'] === w)?.value;
    // As before the restart: the live witnesses' newest cosignatures, the stopped one's last, the absent one at 0.
    for (const w of [w1!, w2!, w3!]) expect(value(w)).toBe(live.values.find((v) => v.labels['witness'] === w)?.value);
    expect(value(w1!)! - value(w3!)!).toBeGreaterThanOrEqual(1);
    expect(value(w3!)).toBe(w3Last);
    expect(value('absent0.example')).toBe(0);
    expect(shown).toHaveLength(4);

    // The scan's bounds (witness-history.ts): w3's last cosignature is on the third record back (300; then 310, 320),
    // verified over a second before the newest.
    const kept = (await state())!;
    const scan = (records: number, seconds = 3600) => newestCosignatures(h.store, kept, h.follower.cfg.witnesses!, { records, seconds, page: 1 });
    expect((await scan(3)).newest.get(w3!)).toBe(BigInt(w3Last!));
    expect(await scan(50)).toMatchObject({ scanned: 3 }); // and no further: absent0 is never found, the history ends there
    expect((await scan(2)).newest.has(w3!)).toBe(false);
    expect((await scan(50, 0)).newest.has(w3!)).toBe(false);
    expect((await scan(0)).newest.get(w1!)).toBe(BigInt(value(w1!)!)); // the verified note alone
  });

  it('does not bootstrap from a checkpoint short of the quorum', async () => {
    const { h } = await witnessed('w2', 300, 4, 1);
    for (let i = 0; i < 2; i++) expect(await h.follower.round()).toBe('transient-error');
    expect(h.follower.transientFault?.message).toMatch(/^checkpoint 300 is cosigned by 3 of the 4 required witnesses .*; no cosignature from absent0\.example: not verified up to/);
    expect((await state())?.verified).toBeUndefined();
    expect(await h.store.getEntry('sim', 0)).toBeUndefined();
    // What TlogwatchNoVerifiedCheckpoint reads for a log that never verified a checkpoint (it has no time of one).
    const shown = await h.metrics.registry.metrics();
    expect(shown).toContain('tlogwatch_mirror_lag_entries{log="sim"} 300');
    expect(shown).not.toContain('tlogwatch_last_verified_checkpoint_timestamp_seconds{log="sim"}');
    // Each witness has a series from the start: those that cosign their time, the absent one 0 (what fires
    // TlogwatchWitnessCosignatureStale for it).
    expect(shown).toContain('tlogwatch_witness_cosignature_timestamp_seconds{log="sim",witness="absent0.example"} 0');
    for (const w of h.sim.log.witnesses) expect(await metric(h.metrics.witnessCosignatureTimestamp, { log: 'sim', witness: w.name })).toBeGreaterThan(1.7e9);
    // With no state stored, what the follower saw is what the daemon judges a stall on (daemon.ts stallOf).
    expect(h.follower.unstoredState).toMatchObject({ status: 'bootstrapping', startIndex: 0n, upstream: { size: 300n } });
    expect(h.follower.unstoredState?.verified).toBeUndefined();
    // A round that cannot reach the log keeps the size seen last, as a stored state would.
    await h.sim.close();
    expect(await h.follower.round(AbortSignal.timeout(300))).toBe('transient-error'); // not the client's retries
    expect(h.follower.unstoredState?.upstream?.size).toBe(300n);
  });

  it('a checkpoint that shrinks the tree halts the log whether or not it is cosigned', async () => {
    const { h } = await witnessed('w3', 300, 3);
    await roundsUntil(h, async () => (await verifiedSize()) === 300n);
    h.sim.log.witnesses.splice(0);
    h.sim.log.faults.enable('shrink');
    await roundsUntil(h, async () => (await state())?.status === 'halted', 20);
    expect((await state())!.halt?.code).toBe('VERIFY_SIZE_SHRANK');
  });
});
