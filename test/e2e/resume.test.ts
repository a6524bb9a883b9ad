/**
 * `tlogwatch resume NAME --reason TEXT` as an operator runs it (the real CLI in its own process) on a
 * store whose log halted at its first checkpoint (the simulator signing with a key the trusted root does
 * not list, as after a key rotation with a pinned trusted root).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIRM_ROUNDS } from '../../src/mirror/confirm-halt.ts';
import { Store } from '../../src/store/store.ts';
import { resumeHistory } from '../../src/store/resume.ts';
import { cli } from '../helpers/cli.ts';
import { harness, type Harness } from '../helpers/mirror.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe('tlogwatch resume', () => {
  it('lifts a halt with a reason, says what it did, and refuses what an operator gets wrong', async () => {
    h = await harness({ api: 'tiles', entries: 30, seed: 'resume-cli' }, { retryDelays: { baseMs: 1, maxMs: 4 } }, undefined, { cliLayout: true });
    h.sim.faults.enable('wrong-key');
    for (let i = 0; i < CONFIRM_ROUNDS; i++) await h.follower.round();
    expect((await h.store.getLogState('sim'))?.status).toBe('halted');

    // The daemon holds the store: refused, nothing changed.
    const locked = await cli(['resume', 'sim', '--data-dir', h.dataDir, '--reason', 'stale key']);
    expect(locked).toMatchObject({ code: 2, stdout: '' });
    expect(locked.stderr).toMatch(/^tlogwatch resume: the store at .* is in use by another process .*: stop tlogwatch serve first/);
    await h.store.close();

    const noReason = await cli(['resume', 'sim', '--data-dir', h.dataDir]);
    expect(noReason).toMatchObject({ code: 2, stdout: '' });
    expect(noReason.stderr).toMatch(/^tlogwatch resume: --reason is required/);
    const unknown = await cli(['resume', 'rekor', '--data-dir', h.dataDir, '--reason', 'x']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: 'tlogwatch resume: no log named rekor in the store (it holds sim)\n' });

    const r = await cli(['resume', 'sim', '--data-dir', h.dataDir, '--reason', 'the pinned trusted root had the old key']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^resumed sim \(halted \d{4}-\d\d-\d\dT[\d:.]+Z by VERIFY_BAD_CHECKPOINT: [^\n]+\)\n {2}nothing of it was verified or stored: the next tlogwatch serve mirrors it as new, from its configured start\n$/);
    const again = await cli(['resume', 'sim', '--data-dir', h.dataDir, '--reason', 'x', '--json']);
    expect(again).toEqual({ code: 0, stdout: '{"log":"sim","resumed":false,"state":"bootstrapping"}\n', stderr: 'tlogwatch resume: sim is not halted (bootstrapping): nothing to resume\n' });

    const store = await Store.open(h.storeDir);
    try {
      expect(await store.getLogState('sim')).toBeUndefined();
      expect(await resumeHistory(store, 'sim')).toMatchObject([{ reason: 'the pinned trusted root had the old key', reset: true, halt: { code: 'VERIFY_BAD_CHECKPOINT' } }]);
    } finally {
      await store.close();
    }
  });
});
