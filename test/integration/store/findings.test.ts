/**
 * Findings records damaged on disk (a flipped bit: LevelDB does not check block checksums on reads): the
 * damaged one is named, never read as a finding, and holds up nothing else: listings, the open count
 * behind /metrics, notifications of the other findings. `tlogwatch check` finds each.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isTlogwatchError } from '../../../src/errors.ts';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { findingId, type Finding } from '../../../src/monitor/finding.ts';
import { webhookChannel } from '../../../src/notify/channels.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps } from '../../../src/notify/outbox.ts';
import { checkFindingRecords, FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Bucket, key, u64 } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import { tempDirs } from './fixtures.ts';

const tmp = tempDirs('tlogwatch-findings-');

const findingAt = (i: number): Finding => ({
  id: findingId('r', 'l', String(i)),
  rule: 'r',
  kind: 'violation',
  severity: i % 2 ? 'high' : 'low',
  message: `entry ${i}`,
  log: 'l',
  index: i,
  firstSeen: 1_795_000_000 + i,
  status: 'open',
});
const findingKey = (f: Finding) => key(Bucket.FINDING, Buffer.from(f.id, 'hex'));

/** A store with findings 0..n-1, each queued for one channel. */
async function withFindings(n: number): Promise<{ store: Store; found: Finding[] }> {
  const store = await Store.open(tmp());
  const found = Array.from({ length: n }, (_, i) => findingAt(i));
  await store.writeOps(found.flatMap((f) => [...findingOps(f), ...outboxOps(f.id, 1, 0)]));
  return { store, found };
}

/** What a bit flipped in a stored JSON value can leave. */
const DAMAGES: Array<[string, (v: Buffer) => Buffer]> = [
  ['not JSON', (v) => Buffer.concat([v.subarray(0, 10), Buffer.of(0xff), v.subarray(11)])],
  ['a severity no one wrote', (v) => Buffer.from(v.toString('utf8').replace(/"severity":"(high|low)"/, '"severity":"hugh"'))],
  ['a number that is not', (v) => Buffer.from(v.toString('utf8').replace(/"firstSeen":\d/, '"firstSeen":"'))],
];

describe('damaged findings records', () => {
  it.each(DAMAGES)('a finding with %s is named and left out; the rest are listed, counted and checked', async (_, damage) => {
    const { store, found } = await withFindings(6);
    try {
      const victim = found[3]!;
      await store.writeOps([{ type: 'put', key: findingKey(victim), value: damage(Buffer.from(JSON.stringify(victim))) }]);
      const heard: string[] = [];
      const repo = new FindingsRepo(store, (id, e) => heard.push(`${id} ${e.code}`));
      const err = await repo.get(victim.id).catch((e: unknown) => e);
      expect(isTlogwatchError(err, 'STORE_CORRUPT')).toBe(true);
      expect((err as Error).message).toMatch(new RegExp(`the stored finding ${victim.id} is damaged`));
      expect((await repo.list({ limit: 100 })).findings.map((f) => f.index)).toEqual([5, 4, 2, 1, 0]);
      expect(await repo.openBySeverity()).toEqual(new Map([['high', 2], ['low', 3]]));
      expect(heard).toEqual([`${victim.id} STORE_CORRUPT`, `${victim.id} STORE_CORRUPT`]);
      const problems: string[] = [];
      expect(await checkFindingRecords(store, (p) => problems.push(p))).toBe(6);
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^the stored finding ${victim.id} is damaged \\(.+\\)$`))]);
    } finally {
      await store.close();
    }
  });

  it('check finds a time index key without its finding, and a finding without its key', async () => {
    const { store, found } = await withFindings(3);
    try {
      const problems: string[] = [];
      expect(await checkFindingRecords(store, (p) => problems.push(p))).toBe(3);
      expect(problems).toEqual([]);
      await store.writeOps([
        { type: 'del', key: key(Bucket.FINDING_BY_TIME, u64(found[0]!.firstSeen), Buffer.from(found[0]!.id, 'hex')) },
        { type: 'del', key: findingKey(found[1]!) },
      ]);
      await checkFindingRecords(store, (p) => problems.push(p));
      expect(problems.sort()).toEqual([`a time index key for finding ${found[1]!.id}, which is not stored`, `finding ${found[0]!.id} has no time index key: listings leave it out`]);
    } finally {
      await store.close();
    }
  });

  it('a damaged finding or outbox row holds up no other notification', async () => {
    const got: string[] = [];
    const server = createServer((req, res) => {
      req.resume().on('end', () => {
        got.push(String(req.headers['x-tlogwatch-finding']));
        res.end('{}');
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { store, found } = await withFindings(4);
    try {
      await store.writeOps([
        { type: 'put', key: findingKey(found[1]!), value: Buffer.from('{"id":') },
        { type: 'put', key: key(Bucket.OUTBOX, 0, Buffer.from(found[2]!.id, 'hex')), value: Buffer.from('{"attempts":') },
      ]);
      const outbox = new Outbox(store);
      const n = new Notifier([webhookChannel(0, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`)], outbox, new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }), { now: () => 1000 });
      await n.runOnce();
      await n.stop();
      // Delivered from its key alone, the row's bookkeeping being lost: the finding is intact.
      expect(got.sort()).toEqual([found[0]!.id, found[2]!.id, found[3]!.id].sort());
      // The damaged finding's row waits with a backoff, saying why; a restore of the finding lets it go.
      const left = await outbox.due(Number.MAX_SAFE_INTEGER);
      expect(left).toEqual([expect.objectContaining({ findingId: found[1]!.id, attempts: 1, lastError: expect.stringMatching(/STORE_CORRUPT: the stored finding .* is damaged/) })]);
      expect(left[0]!.nextAt).toBeGreaterThan(1000);
    } finally {
      await store.close();
      server.close();
    }
  });
});
