/**
 * FindingRaiser on a real store: a finding is stored, counted and notified once per ID, however many
 * raisers race for it, and one already stored (acknowledged, say) stands as it is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId, forkedTreeSubject, splitViewFinding, type Finding } from '../../../src/monitor/finding.ts';
import { FindingRaiser } from '../../../src/monitor/raise.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Bucket, key } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-raise-'));
let store: Store;
afterAll(async () => {
  await store?.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeAll(async () => {
  store = await Store.open(join(tmp, 'store'));
});

const finding = (subject: string, message = subject): Finding => ({
  id: findingId('log-integrity', 'sim', subject),
  rule: 'log-integrity',
  kind: 'integrity',
  severity: 'critical',
  message,
  log: 'sim',
  firstSeen: 1_700_000_000,
  status: 'open',
  evidence: {},
});

function raiserWith(channels: number) {
  const metrics = createMetrics();
  const woken: Finding[][] = [];
  const raiser = new FindingRaiser({ store, metrics, write: (f) => [...findingOps(f), ...outboxOps(f.id, channels, 0)], onRaised: (fs) => void woken.push([...fs]) });
  const counted = async () => (await metrics.registry.getSingleMetric('tlogwatch_findings_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  return { raiser, woken, counted };
}

describe('FindingRaiser', () => {
  it('stores, counts and notifies a finding once when many raise it at the same time', async () => {
    const { raiser, woken, counted } = raiserWith(2);
    const f = finding('race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => raiser.raiseOne({ ...f, message: `raiser ${i}` })));
    expect(results.filter((r) => r.raised)).toHaveLength(1);
    // Every raiser sees the one stored: the first's.
    expect(new Set(results.map((r) => r.finding.message))).toEqual(new Set(['raiser 0']));
    expect((await new FindingsRepo(store).get(f.id))?.message).toBe('raiser 0');
    expect(woken).toHaveLength(1);
    expect(await counted()).toBe(1);
    expect((await new Outbox(store).due(Date.now())).filter((r) => r.findingId === f.id)).toHaveLength(2);
  });

  it('leaves a stored finding as it stands (acknowledged, notified) and writes what raised it all the same', async () => {
    const { raiser, woken, counted } = raiserWith(1);
    const f = finding('acked');
    await raiser.raiseOne(f);
    const outbox = new Outbox(store);
    for (const row of (await outbox.due(Date.now())).filter((r) => r.findingId === f.id)) await outbox.delivered(row);
    await new FindingsRepo(store).setStatus(f.id, 'acked', 'known incident', 1_700_000_100);
    const extra = { type: 'put' as const, key: key(Bucket.META, new Uint8Array(Buffer.from('raise-test'))), value: new Uint8Array([1]) };
    const [again] = await raiser.raise([{ ...f, message: 'again' }], [extra]);
    expect(again).toMatchObject({ raised: false, finding: { status: 'acked', statusReason: 'known incident', message: 'acked' } });
    expect((await outbox.due(Date.now())).filter((r) => r.findingId === f.id)).toEqual([]);
    expect(await store.db.get(extra.key)).toBeDefined();
    expect(woken).toHaveLength(1);
    expect(await counted()).toBe(1);
  });

  it('raises a batch atomically, a repeated ID in it once, and does not deadlock on overlapping batches', async () => {
    const { raiser, counted } = raiserWith(0);
    const [a, b, c] = ['batch-a', 'batch-b', 'batch-c'].map((s) => finding(s));
    const [first, second] = await Promise.all([raiser.raise([a!, b!, a!]), raiser.raise([c!, b!, a!])]);
    expect(first.map((r) => r.raised)).toEqual([true, true, false]);
    expect(second.map((r) => r.raised)).toEqual([true, false, false]);
    expect(await counted()).toBe(3);
  });

  it('raises one split view for one signed tree head, whichever way it reached the mirror', () => {
    const root = 'ab'.repeat(32);
    const fromSource = splitViewFinding('sim', forkedTreeSubject(0, 120n, root), 'a checkpoint source shows …', {}, 1);
    const fromBundle = splitViewFinding('sim', forkedTreeSubject(0, 120n, root), 'the log signed a tree head …', {}, 2);
    expect(fromBundle.id).toBe(fromSource.id);
    expect(splitViewFinding('sim', forkedTreeSubject(0, 121n, root), '', {}, 1).id).not.toBe(fromSource.id);
    expect(splitViewFinding('sim', forkedTreeSubject(1, 120n, root), '', {}, 1).id).not.toBe(fromSource.id);
  });
});
