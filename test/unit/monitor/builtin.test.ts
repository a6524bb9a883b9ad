/** Built-in rules about the logs: mirror-stalled and log-integrity, configured from rule files. */
import { describe, expect, it } from 'vitest';
import { evaluateIntegrity, evaluateStall } from '../../../src/monitor/eval/builtin.ts';
import { ruleSet } from './helpers.ts';

describe('mirror-stalled', () => {
  const state = { log: 'rekor', upstreamSize: 5_000_000_120n, verifiedSize: 5_000_000_100n, lastVerifiedAt: 1000, since: 0 };
  it('fires after `after` seconds without a verified checkpoint while upstream is ahead, not before', () => {
    expect(evaluateStall(state, 1000 + 599)).toBeUndefined();
    const f = evaluateStall(state, 1000 + 600)!;
    expect(f).toMatchObject({ ruleId: 'mirror-stalled', kind: 'violation', expectation: 'mirror-stalled', severity: 'high', log: 'rekor', episode: '1000', details: { behind: '20', upstreamSize: '5000000120' } });
    expect(f.message).toMatch(/^log rekor: no checkpoint verified for 10 min \(limit 10 min\) while upstream is at 5000000120 and the mirror at 5000000100$/);
    expect(evaluateStall(state, 1000 + 5000)!.episode).toBe(f.episode); // the same stall: one finding when deduplicated by episode
  });
  it('says why, when the latest rounds end in a transient fault; the episode stays the same', () => {
    const lastError = { code: 'VERIFY_UNWITNESSED', message: 'checkpoint 5000000120 is cosigned by 1 of the 2 required witnesses (w1)' };
    const f = evaluateStall({ ...state, lastError }, 1000 + 600)!;
    expect(f.message).toBe('log rekor: no checkpoint verified for 10 min (limit 10 min) while upstream is at 5000000120 and the mirror at 5000000100; its latest rounds end with VERIFY_UNWITNESSED: checkpoint 5000000120 is cosigned by 1 of the 2 required witnesses (w1)');
    expect(f.details['lastError']).toEqual(lastError);
    expect(f.episode).toBe(evaluateStall(state, 1000 + 600)!.episode);
  });
  it('does not fire when upstream is not ahead (a quiet log is not a stalled mirror)', () => {
    expect(evaluateStall({ ...state, upstreamSize: state.verifiedSize }, 10 ** 9)).toBeUndefined();
    expect(evaluateStall({ log: 'new', since: 0 }, 10 ** 9)).toBeUndefined();
  });
  it('names a log that never verified a checkpoint for what it waits on since following began (a witness policy no checkpoint met)', () => {
    const never = { log: 'rekor', upstreamSize: 300n, since: 1_700_000_000 };
    expect(evaluateStall(never, 1_700_000_000 + 599)).toBeUndefined();
    const f = evaluateStall(never, 1_700_000_000 + 600)!;
    expect(f).toMatchObject({ episode: '1700000000', details: { upstreamSize: '300', verifiedSize: '0', behind: '300' } });
    expect(f.message).toBe('log rekor: no checkpoint verified since 2023-11-14T22:13:20.000Z, 10 min ago (limit 10 min) while upstream is at 300 and the mirror has verified none of it');
    const lastError = { code: 'VERIFY_UNWITNESSED', message: 'checkpoint 300 is cosigned by 0 of the 1 required witnesses; no cosignature from w9' };
    expect(evaluateStall({ ...never, lastError }, 1_700_000_000 + 600)!.message).toBe(
      'log rekor: no checkpoint met the witness policy since 2023-11-14T22:13:20.000Z, 10 min ago (limit 10 min) while upstream is at 300 and the mirror has verified none of it; its latest rounds end with VERIFY_UNWITNESSED: checkpoint 300 is cosigned by 0 of the 1 required witnesses; no cosignature from w9',
    );
  });
  it('counts from `since` before anything verified, and follows the configured severity, delay and logs', () => {
    const rs = ruleSet("builtins:\n  mirror-stalled: { severity: critical, after: 2h, logs: [rekor], owner: sre }\n");
    const cfg = { ...rs.builtins!.mirrorStalled, after: rs.builtins!.mirrorStalled.after! };
    expect(cfg.after).toBe(7200);
    const fresh = { log: 'rekor', upstreamSize: 10n, since: 100 };
    expect(evaluateStall(fresh, 100 + 7199, cfg)).toBeUndefined();
    expect(evaluateStall(fresh, 100 + 7200, cfg)).toMatchObject({ severity: 'critical', owner: 'sre', episode: '100' });
    expect(evaluateStall({ ...fresh, log: 'other' }, 10 ** 9, cfg)).toBeUndefined();
  });
});

describe('mirror-stalled: a frozen view', () => {
  // The mirror has verified all the log shows it (120), and a checkpoint source has a larger signed tree.
  const caughtUp = { log: 'rekor', upstreamSize: 120n, verifiedSize: 120n, lastVerifiedAt: 1000, since: 0 };
  const seenElsewhere = { source: 'partner', size: 150n, since: 2000 };
  it('fires once a source has seen a larger signed tree for `after` seconds while the log shows the mirror the same one', () => {
    expect(evaluateStall({ ...caughtUp, seenElsewhere }, 2000 + 599)).toBeUndefined();
    const f = evaluateStall({ ...caughtUp, seenElsewhere }, 2000 + 600)!;
    expect(f).toMatchObject({ ruleId: 'mirror-stalled', severity: 'high', episode: 'frozen:120', details: { upstreamSize: '120', seenElsewhere: { source: 'partner', size: '150', since: 2000 } } });
    expect(f.message).toBe('log rekor: the log has shown this mirror a tree of 120 entries for 10 min (limit 10 min) while checkpoint source partner has a checkpoint of 150 entries signed by the log: a frozen view, or a stale cache in front of the log');
  });
  it('does not fire once the log shows the mirror as much, nor for a source that is behind', () => {
    expect(evaluateStall({ ...caughtUp, upstreamSize: 150n, verifiedSize: 150n, seenElsewhere }, 10 ** 9)).toBeUndefined();
    expect(evaluateStall({ ...caughtUp, seenElsewhere: { ...seenElsewhere, size: 100n } }, 10 ** 9)).toBeUndefined();
  });
  it('leaves a mirror behind its own upstream to the ordinary stall', () => {
    const behind = { ...caughtUp, upstreamSize: 140n, seenElsewhere };
    expect(evaluateStall(behind, 1000 + 600)).toMatchObject({ episode: '1000', message: expect.stringMatching(/no checkpoint verified for 10 min/) });
  });
});

describe('log-integrity', () => {
  it('carries the evidence and the configured severity', () => {
    const f = evaluateIntegrity({ log: 'rekor', code: 'VERIFY_FORK', message: 'two roots for size 7', evidence: { verifiedNote: 'a', receivedNote: 'b' } }, 1234);
    expect(f).toMatchObject({ ruleId: 'log-integrity', severity: 'critical', episode: 'VERIFY_FORK:1234', details: { code: 'VERIFY_FORK', verifiedNote: 'a', receivedNote: 'b' } });
    const rs = ruleSet("builtins:\n  log-integrity: { severity: high, labels: { pager: sre } }\n");
    expect(evaluateIntegrity({ log: 'l', code: 'X', message: 'm', evidence: {} }, 1, rs.builtins!.logIntegrity)).toMatchObject({ severity: 'high', labels: { pager: 'sre' } });
  });
});
