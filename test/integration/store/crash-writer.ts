/**
 * Child process for the crash test: resumes from the store's state and commits batches of random size
 * (entries, tile-row nodes, frontier, a checkpoint and a marker key joined through extraOps) until it is
 * killed, or until `target` entries are stored. Prints `committed N` after each batch.
 *
 *   node test/integration/store/crash-writer.ts DIR [TARGET]
 */
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { fetchedSize } from '../../../src/store/codec.ts';
import { Bucket, key, u64 } from '../../../src/store/keys.ts';
import { Store } from '../../../src/store/store.ts';
import { bodyAt, entryAt, stateOf } from './fixtures.ts';

export const MARKER = key(Bucket.RULE_STATE, 'crash-test:fetched');

const [dir, targetArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-writer.ts DIR [TARGET]');
const target = targetArg ? Number(targetArg) : Infinity;
const store = await Store.open(dir);
const state = await store.getLogState('l');
const range = state ? CompactRange.deserialize(state.frontier) : CompactRange.empty();
let next = state ? Number(fetchedSize(state)) : 0;
while (next < target) {
  const n = Math.min(target - next, 1 + Math.floor(Math.random() * 3000));
  const entries = [];
  const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
  for (let i = next; i < next + n; i++) {
    const body = bodyAt(i);
    range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
    entries.push({ record: { entry: entryAt(i, body) }, body });
  }
  next += n;
  await store.commitBatch({
    entries,
    nodes,
    state: stateOf(range),
    checkpoint: { size: range.size, rootHash: range.root(), note: `note ${range.size}`, at: 1 },
    extraOps: [{ type: 'put', key: MARKER, value: u64(next) }],
  });
  process.stdout.write(`committed ${next}\n`);
}
await store.close();
