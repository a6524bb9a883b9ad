/**
 * The outbox on a real LevelDB: `due` against a model of the rows (fast-check), whatever mix of queueing,
 * failures, deliveries and writes by a tlogwatch that kept no due index (rows put or moved without their
 * index key) came before, mended by `reindex` as the notifier's start runs it; and a pass over a large
 * backlog of rows not yet due reads none of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logger.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { Notifier } from '../../../src/notify/notifier.ts';
import { Outbox, outboxOps, type OutboxRow } from '../../../src/notify/outbox.ts';
import { Bucket, key } from '../../../src/store/keys.ts';
import { FindingsRepo, findingOps } from '../../../src/store/findings.ts';
import { Store } from '../../../src/store/store.ts';
import { finding } from './finding.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-outbox-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A row as a tlogwatch before the due index wrote it: the row alone. */
const bareRow = (channel: number, id: string, row: { attempts: number; nextAt: number }) => ({
  type: 'put' as const,
  key: key(Bucket.OUTBOX, channel, Buffer.from(id, 'hex')),
  value: Buffer.from(JSON.stringify(row)),
});

type Op =
  | { op: 'queue'; id: number; channels: number[]; at: number }
  | { op: 'fail'; pick: number; at: number }
  | { op: 'deliver'; pick: number }
  | { op: 'bare'; id: number; channel: number; at: number }
  | { op: 'reindex' };

const CHANNELS = [0, 1, 7, 255];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('queue' as const), id: fc.nat(15), channels: fc.subarray(CHANNELS, { minLength: 1 }), at: fc.nat(1000) }),
  fc.record({ op: fc.constant('fail' as const), pick: fc.nat(), at: fc.nat(2000) }),
  fc.record({ op: fc.constant('deliver' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('bare' as const), id: fc.nat(15), channel: fc.constantFrom(...CHANNELS), at: fc.nat(2000) }),
  fc.constant({ op: 'reindex' as const }),
);
const hexId = (n: number) => n.toString(16).padStart(32, '0');

describe('the outbox', () => {
  it('returns exactly the rows due, each once, whatever wrote or moved them, once reindexed', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.nat(2000), fc.integer({ min: 0, max: 3 }), async (ops, now, range) => {
        const store = await Store.open(join(tmp, `model-${run++}`));
        try {
          const outbox = new Outbox(store);
          /** The model: channel/id → when due. */
          const model = new Map<string, { channel: number; id: string; nextAt: number; attempts: number }>();
          for (const o of ops) {
            const rows = await outbox.due(Number.MAX_SAFE_INTEGER, 1000);
            if (o.op === 'queue') {
              await store.writeOps(outboxOps(hexId(o.id), o.channels, o.at));
              for (const c of o.channels) model.set(`${c}/${hexId(o.id)}`, { channel: c, id: hexId(o.id), nextAt: o.at, attempts: 0 });
            } else if (o.op === 'bare') {
              const was = model.get(`${o.channel}/${hexId(o.id)}`);
              const attempts = (was?.attempts ?? 0) + 1;
              await store.writeOps([bareRow(o.channel, hexId(o.id), { attempts, nextAt: o.at })]);
              model.set(`${o.channel}/${hexId(o.id)}`, { channel: o.channel, id: hexId(o.id), nextAt: o.at, attempts });
            } else if (o.op === 'reindex') {
              expect(await outbox.reindex()).toBe(model.size);
            } else if (rows.length > 0) {
              // Fail or deliver one of the rows the outbox can see (every row, once reindexed).
              const row = rows[o.pick % rows.length]!;
              const k = `${row.channel}/${row.findingId}`;
              if (o.op === 'deliver') {
                await outbox.delivered(row);
                model.delete(k);
              } else {
                await outbox.failed(row, 'x', o.at);
                model.set(k, { channel: row.channel, id: row.findingId, nextAt: o.at, attempts: row.attempts + 1 });
              }
            }
          }
          await outbox.reindex();
          const ranges = [{ from: 0 }, { from: 0, to: 1 }, { from: 1, to: 8 }, { from: 8 }];
          const r = ranges[range]!;
          const got = await outbox.due(now, 1000, r);
          const want = [...model.values()].filter((m) => m.nextAt <= now && m.channel >= r.from && m.channel < (r.to ?? 256));
          const shape = (rows: Array<{ channel: number; id: string; attempts: number }>) => rows.map((x) => `${x.channel}/${x.id}/${x.attempts}`).sort();
          expect(shape(got.map((g: OutboxRow) => ({ channel: g.channel, id: g.findingId, attempts: g.attempts })))).toEqual(shape(want));
          // Delivered, they are gone; the rest are all there, each once, and the index (mended as it was read)
          // holds one key for each.
          for (const g of got) await outbox.delivered(g);
          for (const g of got) model.delete(`${g.channel}/${g.findingId}`);
          const rest = await outbox.due(Number.MAX_SAFE_INTEGER, 1000);
          expect(shape(rest.map((g) => ({ channel: g.channel, id: g.findingId, attempts: g.attempts })))).toEqual(shape([...model.values()]));
          const indexKeys = await store.db.keys({ gte: key(Bucket.OUTBOX_DUE), lt: key(Bucket.OUTBOX_DUE + 1) }).all();
          expect(indexKeys.length).toBe(model.size);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('reads none of a backlog of rows not yet due to find the one that is', async () => {
    const store = await Store.open(join(tmp, 'backlog'));
    try {
      const now = 1_000_000;
      for (let i = 0; i < 20; i++) await store.writeOps(Array.from({ length: 1000 }, (_, j) => outboxOps(hexId(i * 1000 + j + 1), [0], now + 60_000 + j)).flat());
      await store.writeOps(outboxOps(hexId(0), [0], now - 1));
      const outbox = new Outbox(store);
      // The real reads, counted: a row's value comes through get or an iterator of values.
      const gets = vi.spyOn(store.db, 'get');
      const iterators = vi.spyOn(store.db, 'iterator');
      const rows = await outbox.due(now, 100, { from: 0, to: 1 });
      expect(rows.map((r) => r.findingId)).toEqual([hexId(0)]);
      expect(gets).toHaveBeenCalledTimes(1);
      // Keys only (OUTBOX_DUE), and the one row's value by its key.
      expect(iterators.mock.calls.map(([o]) => (o as { values?: boolean } | undefined)?.values)).toEqual([false]);
      vi.restoreAllMocks();
    } finally {
      await store.close();
    }
  });

  it("rows queued by a tlogwatch that kept no due index are delivered once the notifier starts", async () => {
    const store = await Store.open(join(tmp, 'bare'));
    const posted: string[] = [];
    try {
      await store.writeOps([...findingOps(finding), bareRow(0, finding.id, { attempts: 2, nextAt: 0 })]);
      const channel = {
        name: 'webhook:0',
        send: (f: { id: string }) => {
          posted.push(f.id);
          return Promise.resolve();
        },
      };
      const n = new Notifier([channel], new Outbox(store), new FindingsRepo(store), createMetrics({ defaultMetrics: false }), createLogger({ level: 'silent' }));
      await n.runOnce();
      await n.stop();
      expect(posted).toEqual([finding.id]);
      expect((await new Outbox(store).pending()).size).toBe(0);
    } finally {
      await store.close();
    }
  });
});
