/**
 * Entries whose bodies are not what a Rekor body should be: the mirror stores whatever bytes a log
 * publishes (entries/decode.ts), so every read route must answer them with a 2xx or 4xx, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.ts';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import { createLogger } from '../../../src/logger.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import { Store } from '../../../src/store/store.ts';
import { stateOf, tempDirs } from '../store/fixtures.ts';

const tempDir = tempDirs('tlogwatch-hostile-bodies-');

const BODIES: Array<[string, Uint8Array]> = [
  ['not JSON', new Uint8Array(Buffer.from('not json at all'))],
  ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
  ['a JSON array', new Uint8Array(Buffer.from('[1,2,3]'))],
  ['a hashedrekord of the wrong types', new Uint8Array(Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: { data: 7, signature: 'x' } })))],
];

describe('read routes over entries with hostile bodies', () => {
  it('answer every such entry without a 5xx; a bundle of a body that is not JSON is a 404 saying why', async () => {
    const store = await Store.open(tempDir());
    try {
      const range = CompactRange.empty();
      const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
      const entries = BODIES.map(([, body], i) => {
        range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
        return { record: { entry: decodeRekorV1Body(body, { log: 'l', index: i, integratedTime: 1_700_000_000 }) }, body };
      });
      const head = { size: range.size, rootHash: range.root(), note: `note ${range.size}`, at: 1 };
      await store.commitBatch({ entries, nodes, state: { ...stateOf(range), verified: head }, checkpoint: head });
      const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['l'], logKeyId: () => new Uint8Array(32) });
      for (const [i, [what]] of BODIES.entries()) {
        for (const path of [`/v1/entries/l/${i}`, `/v1/entries/l/${i}?include=proof`, `/v1/entries/l/${i}/bundle`, `/api/v1/log/entries?logIndex=${i}`]) {
          const res = await app.request(path);
          expect(res.status, `${what}: ${path}`).toBeLessThan(500);
        }
      }
      const notJson = await app.request('/v1/entries/l/0/bundle');
      expect(notJson.status).toBe(404);
      expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(/body is not JSON/);
    } finally {
      await store.close();
    }
  });
});
