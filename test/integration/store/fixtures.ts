/** Entries and batches for the store tests: simulator bodies decoded as the mirror would, committed as the mirror does. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { decodeRekorV1Body } from '../../../src/entries/decode.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import { leafHash } from '../../../src/merkle/rfc6962.ts';
import type { LogState } from '../../../src/store/codec.ts';
import type { Store } from '../../../src/store/store.ts';
import { createCA } from '../../sim/certs.ts';
import { EntryGenerator } from '../../sim/generate.ts';
import { BASE_TIME } from '../../sim/log.ts';

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const POOL = 64;
let pool: Uint8Array[] | undefined;

/**
 * Real-shaped Rekor v1 bodies from the simulator (hashedrekord, dsse, intoto signed with Fulcio-style
 * certificates carrying GitHub claims, emails, plain keys): POOL distinct ones, reused cyclically. The
 * store re-decodes bodies on read, so its tests need bodies the decoder understands.
 */
export function bodyAt(i: number): Uint8Array {
  if (!pool) {
    const gen = new EntryGenerator('store-tests', 'v1', createCA('store-test-ca', BASE_TIME - 86400, BASE_TIME + 400 * 86400));
    // One entry per ten-minute certificate slot, so the pool spans many identities.
    pool = Array.from({ length: POOL }, (_, k) => new Uint8Array(Buffer.from(gen.generate(k, BASE_TIME + k * 600).body, 'utf8')));
  }
  return pool[i % POOL]!;
}

/** The entry the mirror would commit for index i: the decoder's output for bodyAt(i). */
export function entryAt(i: number, body: Uint8Array = bodyAt(i), log = 'l'): Entry {
  return decodeRekorV1Body(body, { log, index: i, integratedTime: 1_700_000_000 + i });
}

export const stateOf = (range: CompactRange, startIndex = 0n, log = 'l'): LogState => ({
  name: log,
  type: 'rekor-v1',
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
  const committed: Entry[] = [];
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
      const entry = entryAt(i, body, log);
      committed.push(entry);
      entries.push({ record: { entry }, body });
    }
    await store.commitBatch({
      entries,
      nodes,
      state: stateOf(range, BigInt(start), log),
      checkpoint: { size: range.size, rootHash: range.root(), note: `note ${range.size}`, at: 1 },
      ...(opts.isWatched ? { isWatched: opts.isWatched } : {}),
    });
  }
  return { range, bodies, entries: committed };
}

/** A fresh temporary directory per call, removed after each test of the file that calls this. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
