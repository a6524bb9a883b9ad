/**
 * The findings a rollback marks (store/rollback.ts markFindings): those of the rolled-back log raised on the
 * dropped entries, marked once each and filed under their entries (rolled-back-findings.ts), the findings'
 * time index read once per rollback rather than once per chunk. A real LevelDB store.
 */
import { describe, expect, it } from 'vitest';
import { findingId, type Finding } from '../../../src/monitor/finding.ts';
import { findingOps, FindingsRepo } from '../../../src/store/findings.ts';
import { Bucket } from '../../../src/store/keys.ts';
import { rollBackTree } from '../../../src/store/rollback.ts';
import { rolledBackIn } from '../../../src/store/rolled-back-findings.ts';
import { Store } from '../../../src/store/store.ts';
import { fill, stateOf, tempDirs } from './fixtures.ts';

const tmp = tempDirs('tlogwatch-rollback-findings-');
const MARK = { at: 1_800_000_000, reason: 'VERIFY_ROOT_MISMATCH' };

function finding(log: string, index: number, uuid: string | undefined, firstSeen: number, kind: Finding['kind'] = 'violation'): Finding {
  return { id: findingId('r', log, String(index)), rule: 'r', kind, severity: 'high', message: 'm', log, index, ...(uuid ? { uuid } : {}), firstSeen, status: 'open' };
}

describe('a rollback marks the findings raised on the entries it drops', () => {
  it('each once, filed under its entry, reading the time index of findings once however many chunks it takes', async () => {
    const store = await Store.open(tmp());
    try {
      const { range, entries } = await fill(store, 1000, { batch: 100 });
      // The fixture's entries carry no observation time, so every chunk asks from time 0: the whole index.
      const raised = [
        ...entries.filter((_, i) => i % 3 === 0).map((e, k) => finding('l', Number(e.index), e.uuid, 1_700_000_000 + k)),
        ...Array.from({ length: 300 }, (_, i) => finding('other', i * 3 + 1, undefined, 1_700_000_000 + i)),
        finding('l', 901, undefined, 1_700_000_500, 'integrity'),
        // Raised on another entry once at that index (its UUID differs): not this entry's, left alone.
        finding('l', 902, 'ab'.repeat(32), 1_700_000_501),
      ];
      await store.db.batch(raised.flatMap(findingOps));
      let findingReads = 0;
      const get = store.db.get.bind(store.db);
      store.db.get = ((k: Uint8Array, ...rest: []) => {
        if (k[0] === Bucket.FINDING) findingReads++;
        return get(k, ...rest);
      });

      const out = await rollBackTree(store, stateOf(range), { size: 200n }, { chunk: 100n, mark: MARK });
      expect(out.entries).toBe(800n);
      const reads = findingReads;
      const repo = new FindingsRepo(store);
      const dropped = raised.filter((f) => f.log === 'l' && f.kind !== 'integrity' && f.index! >= 200 && f.index !== 902);
      expect(dropped).toHaveLength(267);
      for (const f of raised) {
        const now = await repo.get(f.id);
        expect(now?.entryRolledBack, `${f.log} ${f.index}`).toEqual(dropped.includes(f) ? MARK : undefined);
      }
      const filed = await rolledBackIn(store, 'l', 0n, 1000n);
      expect([...filed.findings.keys()].sort()).toEqual(dropped.map((f) => f.id).sort());
      // The time index once (each of its findings read to see whose it is), then the log's on the dropped entries
      // again, fresh, as their chunk marks them (902's too, to find it is another entry's); read per chunk from
      // the start, as it was, the 8 chunks read all 636 findings 8 times over.
      expect(reads).toBe(raised.length + dropped.length + 1);
    } finally {
      await store.close();
    }
  });
});
