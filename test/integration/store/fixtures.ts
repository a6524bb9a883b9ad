/** Synthetic entries and batches for the store tests (cheap to build, shaped like decoded Fulcio entries). */
import type { Entry } from '../../../src/entries/types.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import type { LogState } from '../../../src/store/codec.ts';
import type { Store } from '../../../src/store/store.ts';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const bodyAt = (i: number) => new Uint8Array(Buffer.from(`{"entry":${i}}`));

export function entryAt(i: number, body: Uint8Array = bodyAt(i), log = 'l'): Entry {
  const lh = hex(leafHash(body));
  return {
    log,
    index: i,
    leafHash: lh,
    uuid: lh,
    integratedTime: 1_700_000_000 + i,
    kind: 'hashedrekord',
    apiVersion: '0.0.1',
    digests: [`sha256:${(i % 3).toString(16).padStart(64, '0')}`],
    signer: {
      type: 'x509',
      fingerprint: `sha256:${'f'.repeat(64)}`,
      san: i % 2 ? `https://github.com/acme/repo${i % 4}/.github/workflows/release.yml@refs/tags/v1` : `Dev${i}@Acme.com`,
      issuer: 'https://token.actions.githubusercontent.com',
      fulcio: { sourceRepositoryURI: `https://github.com/acme/repo${i % 4}`, sourceRepositoryOwnerURI: 'https://github.com/acme', buildSignerURI: `https://github.com/acme/repo${i % 4}/.github/workflows/release.yml@refs/tags/v1` },
    },
  };
}

export const stateOf = (range: CompactRange, startIndex = 0n, log = 'l'): LogState => ({
  name: log,
  type: 'tiles',
  url: 'http://127.0.0.1:1',
  origin: 'o',
  status: 'following',
  frontier: range.serialize(),
  startIndex,
});

/**
 * Commits entries [start, n) in batches the way the mirror does: a bootstrap commit with the frontier at
 * `start` (no entries), then each batch with its tile-row nodes, its frontier and a verified checkpoint.
 */
export async function fill(store: Store, n: number, opts: { batch?: number; start?: number; log?: string; isWatched?: (e: Entry) => boolean } = {}) {
  const { batch = 10, start = 0, log = 'l' } = opts;
  const range = CompactRange.empty();
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < start; i++) {
    bodies.push(bodyAt(i));
    range.append(leafHash(bodyAt(i)));
  }
  if (start > 0) await store.commitBatch({ entries: [], nodes: [], state: stateOf(range, BigInt(start), log) });
  for (let lo = start; lo < n; lo += batch) {
    const entries = [];
    const nodes: Array<{ level: number; index: bigint; hash: Uint8Array }> = [];
    for (let i = lo; i < Math.min(n, lo + batch); i++) {
      const body = bodyAt(i);
      bodies.push(body);
      range.append(leafHash(body), (level, index, hash) => level % 8 === 0 && nodes.push({ level, index, hash }));
      entries.push({ record: { entry: entryAt(i, body, log) }, body });
    }
    await store.commitBatch({
      entries,
      nodes,
      state: stateOf(range, BigInt(start), log),
      checkpoint: { size: range.size, rootHash: range.root(), note: `note ${range.size}`, at: 1 },
      ...(opts.isWatched ? { isWatched: opts.isWatched } : {}),
    });
  }
  return { range, bodies };
}
