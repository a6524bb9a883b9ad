/**
 * A halt is sticky, so the follower halts on a failure that rests on bytes nobody signed (a tile, an entry
 * bundle, a checkpoint whose signature does not verify) only when it comes back CONFIRM_ROUNDS rounds in a
 * row (src/mirror/confirm-halt.ts): one byte changed on the way by a cache or a proxy is retried, while the
 * mirror advances on nothing unverified. Evidence the log signed (two roots for one size) still halts at
 * once. A tiles simulator behind a loopback proxy that changes bytes of its answers, a real LevelDB.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CONFIRM_ROUNDS } from '../../../src/mirror/confirm-halt.ts';
import type { createMetrics } from '../../../src/metrics.ts';
import { harnessPerTest } from '../../helpers/harness-per-test.ts';
import { reply, type ProxiedRequest } from '../../helpers/hostile-proxy.ts';
import { expectStoreMatchesManifest } from '../../helpers/mirror.ts';

const t = harnessPerTest();

async function counted(c: ReturnType<typeof createMetrics>['verificationFailures'], reason: string): Promise<number> {
  return (await c.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** A byte of the answer's end flipped (inside the last entry's body, not its length prefix), when `when` says so. */
function flipping(match: RegExp, when: () => boolean) {
  return async (req: ProxiedRequest, res: ServerResponse) => {
    const u = await req.forward();
    if (!match.test(req.path) || u.status !== 200 || !when()) return reply(res, u);
    const body = Buffer.from(u.body);
    body[body.length - 3] = body[body.length - 3]! ^ 0x01;
    reply(res, { ...u, body });
  };
}

/** The checkpoint with a bit of its signature changed (a well-formed note the log's key does not verify), when `when` says so. */
function badSignature(when: () => boolean) {
  return async (req: ProxiedRequest, res: ServerResponse) => {
    const u = await req.forward();
    if (!/\/checkpoint$/.test(req.path) || u.status !== 200 || !when()) return reply(res, u);
    const lines = u.body.toString('utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('\u2014 '));
    const [dash, name, b64] = lines[i]!.split(' ');
    const sig = Buffer.from(b64!, 'base64');
    sig[10] = sig[10]! ^ 0x01;
    lines[i] = [dash, name, sig.toString('base64')].join(' ');
    reply(res, { ...u, body: Buffer.from(lines.join('\n')) });
  };
}

/** Mirrors the simulator's first 300 entries through the proxy, then has it log 300 more. */
async function mirroredThenGrown() {
  const h = await t.harness({ api: 'tiles', entries: 300, seed: 'confirm-halt' }, { batchSize: 256 });
  const proxy = await t.proxy();
  const via = t.followerVia();
  for (let i = 0; i < 10 && (await t.state())?.verified?.size !== 300n; i++) await via.follower.round();
  expect((await t.state())?.verified?.size).toBe(300n);
  h.sim.append(300);
  return { h, proxy, ...via };
}

describe('a failure on bytes nobody signed halts only when it persists', () => {
  it('retries an entry bundle changed once on the way, and then mirrors it as the log has it', async () => {
    const { h, proxy, follower, metrics } = await mirroredThenGrown();
    let changed = 0;
    proxy.set(flipping(/\/tile\/entries\/001/, () => changed++ === 0));
    expect(await follower.round()).toBe('transient-error');
    expect(follower.transientFault).toMatchObject({ code: 'VERIFY_TILE_MISMATCH', message: expect.stringMatching(/not yet confirmed: 1 round\(s\) in a row; the log halts if the next 2 fail too/) });
    expect((await t.state())?.verified?.size).toBe(300n);
    expect(await counted(metrics.verificationUnconfirmed, 'VERIFY_TILE_MISMATCH')).toBe(1);
    expect(await counted(metrics.verificationFailures, 'VERIFY_TILE_MISMATCH')).toBe(0);
    expect(await follower.round()).toBe('advanced');
    const s = (await t.state())!;
    expect(s.status).not.toBe('halted');
    expect(s.verified?.size).toBe(600n);
    expect(await expectStoreMatchesManifest(h.store, h.sim)).toBe(600);
  });

  it('halts on a bundle that is wrong in every round, in the round that confirms it, with nothing of it stored', async () => {
    const { h, proxy, follower, metrics } = await mirroredThenGrown();
    proxy.set(flipping(/\/tile\/entries\/001/, () => true));
    const outcomes = [];
    for (let i = 0; i < CONFIRM_ROUNDS; i++) outcomes.push(await follower.round());
    expect(outcomes).toEqual([...Array<string>(CONFIRM_ROUNDS - 1).fill('transient-error'), 'halted']);
    const s = (await t.state())!;
    expect(s.halt?.code).toBe('VERIFY_TILE_MISMATCH');
    expect(s.verified?.size).toBe(300n);
    expect(await counted(metrics.verificationUnconfirmed, 'VERIFY_TILE_MISMATCH')).toBe(CONFIRM_ROUNDS - 1);
    expect(await counted(metrics.verificationFailures, 'VERIFY_TILE_MISMATCH')).toBe(1);
    expect(await h.store.getEntry('sim', 511)).toBeUndefined();
  });

  it('counts rounds in a row: a round that verifies starts the count again', async () => {
    const { proxy, follower } = await mirroredThenGrown();
    // The checkpoint's signature line changed in the rounds listed: a note the log's key does not verify.
    const bad = new Set([1, 2, 4, 5, 6]);
    let round = 0;
    proxy.set(badSignature(() => bad.has(round)));
    const outcomes = [];
    for (round = 1; round <= 6; round++) outcomes.push(await follower.round());
    expect(outcomes).toEqual(['transient-error', 'transient-error', 'advanced', 'transient-error', 'transient-error', 'halted']);
    const s = (await t.state())!;
    expect(s.halt?.code).toBe('VERIFY_BAD_CHECKPOINT');
    expect(s.halt?.evidence['reason']).toBe('NOTE_BAD_SIGNATURE');
    expect(s.verified?.size).toBe(600n);
  });

  it('halts at once on two roots the log signed for one size', async () => {
    const { h, follower } = await mirroredThenGrown();
    expect(await follower.round()).toBe('advanced');
    h.sim.faults.enable('fork', 450);
    expect(await follower.round()).toBe('halted');
    expect((await t.state())?.halt?.code).toBe('VERIFY_FORK');
  });
});
