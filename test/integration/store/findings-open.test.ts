/**
 * FindingsRepo.openBySeverity (the tlogwatch_findings_open gauge, read before every scrape) on a real
 * store: it equals a full count after every kind of write that touches a finding (one raised on its own,
 * one committed with a log's state, a status change), and a scrape between two such writes does not read
 * every finding again.
 */
import { describe, expect, it, vi } from 'vitest';
import { findingId, type Finding, type Severity } from '../../../src/monitor/finding.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { stateOf, tempDirs } from './fixtures.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';

const tmp = tempDirs('tlogwatch-findings-open-');

const finding = (i: number, severity: Severity = 'high', status: Finding['status'] = 'open'): Finding => ({
  id: findingId('acme-release', 'rekor', String(i)),
  rule: 'acme-release',
  kind: 'violation',
  severity,
  message: `finding ${i}: runner environment self-hosted is not one of github-hosted`,
  log: 'rekor',
  index: i,
  identity: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1',
  firstSeen: 1_795_000_000 + i,
  status,
});

/** The count the gauge must show: every stored finding read again. */
async function truth(store: Store): Promise<Map<string, number>> {
  return new FindingsRepo(store).openBySeverity();
}

describe('open findings by severity', () => {
  it('follow every write that touches a finding', async () => {
    const store = await Store.open(tmp());
    const repo = new FindingsRepo(store);
    expect(await repo.openBySeverity()).toEqual(new Map());
    await store.writeOps(findingOps(finding(1)));
    expect(await repo.openBySeverity()).toEqual(new Map([['high', 1]]));
    // Committed with a log's state, as a halt's log-integrity finding is.
    await store.putLogState(stateOf(CompactRange.empty()), findingOps(finding(2, 'critical')));
    expect(await repo.openBySeverity()).toEqual(new Map([['high', 1], ['critical', 1]]));
    // And with a mirror batch, as a rule's are.
    await store.commitBatch({ entries: [], nodes: [], state: stateOf(CompactRange.empty()), extraOps: findingOps(finding(3, 'high', 'suppressed')) });
    await store.commitBatch({ entries: [], nodes: [], state: stateOf(CompactRange.empty()), extraOps: findingOps(finding(4)) });
    expect(await repo.openBySeverity()).toEqual(new Map([['high', 2], ['critical', 1]]));
    await repo.setStatus(finding(1).id, 'acked', 'known', 1_795_000_100);
    expect(await repo.openBySeverity()).toEqual(await truth(store));
    expect(await repo.openBySeverity()).toEqual(new Map([['high', 1], ['critical', 1]]));
    // Writes that touch no finding leave the count as it is, and it stays true.
    await store.putLogState(stateOf(CompactRange.empty()));
    expect(await repo.openBySeverity()).toEqual(await truth(store));
    await store.close();
  });

  it("an acknowledgement is on disk before it is confirmed (a synced write), unlike the mirror's own writes", async () => {
    const store = await Store.open(tmp());
    const repo = new FindingsRepo(store);
    await store.writeOps(findingOps(finding(1)));
    const batch = vi.spyOn(store.db, 'batch');
    await repo.setStatus(finding(1).id, 'acked', 'known', 1_795_000_100);
    expect(batch).toHaveBeenCalledTimes(1);
    expect((batch.mock.calls[0] as unknown[])[1]).toEqual({ sync: true });
    batch.mockRestore();
    await store.close();
  });

  it('are not read from every finding again while no finding changed', { timeout: 120_000 }, async () => {
    const store = await Store.open(tmp());
    for (let b = 0; b < 60_000; b += 5000) await store.writeOps(Array.from({ length: 5000 }, (_, k) => findingOps(finding(b + k, 'high', (b + k) % 10 ? 'acked' : 'open'))).flat());
    const repo = new FindingsRepo(store);
    const timed = async () => {
      const t = performance.now();
      const counts = await repo.openBySeverity();
      return { counts, ms: performance.now() - t };
    };
    const first = await timed();
    expect(first.counts).toEqual(new Map([['high', 6000]]));
    // Scrapes while the mirror commits batches without findings.
    await store.putLogState(stateOf(CompactRange.empty()));
    const again = await timed();
    expect(again.counts).toEqual(first.counts);
    expect(again.ms).toBeLessThan(first.ms / 20);
    // A new finding: counted.
    await store.writeOps(findingOps(finding(60_000, 'critical')));
    expect((await timed()).counts).toEqual(new Map([['high', 6000], ['critical', 1]]));
    await store.close();
  });
});
