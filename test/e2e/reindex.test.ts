/**
 * A store indexed by an older decoder (entries/decoder-epoch.ts): the state an older tlogwatch left for a
 * certificate with a malformed Fulcio extension value, which it read as no signer at all (digest and time
 * keys only, no decoder epoch recorded). `tlogwatch check` says the store awaits re-indexing instead of
 * reporting the entry as damage; `serve` re-indexes it in the background, after which a search by the
 * SAN finds the entry and `check` compares every key again. A re-index stopped part-way resumes where its
 * progress stands.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { DECODER_EPOCH, mayHoldStaleKeys } from '../../src/entries/decoder-epoch.ts';
import { createLogger } from '../../src/logger.ts';
import { checkLog } from '../../src/store/check.ts';
import { impliedKeys } from '../../src/store/implied-keys.ts';
import type { Entry } from '../../src/entries/types.ts';
import { createApp } from '../../src/api/app.ts';
import { createMetrics } from '../../src/metrics.ts';
import { digestToBytes } from '../../src/store/codec.ts';
import { Bucket, entryKey, Field, indexKey, key, MARKER, u16, u64 } from '../../src/store/keys.ts';
import { reindexLog, reindexStore } from '../../src/store/reindex.ts';
import { Store } from '../../src/store/store.ts';
import { cli as tlogwatch } from '../helpers/cli.ts';
import { harness, roundsUntil, type DataDirHooks, type Harness } from '../helpers/mirror.ts';
import { canMountTmpfs, tmpfsDataDir } from '../helpers/tmpfs.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const SAN = 'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main';
const ENTRIES = 40;
const AT = 10;

/**
 * A tiles log whose entry AT has a certificate with a cut buildTrigger value (a TLV shorter than it says),
 * mirrored, then made what an older tlogwatch left: the entry's signer keys (SAN, issuer, fingerprint,
 * Fulcio claims) deleted, its digest and time keys kept, and no decoder epoch. `everySigner`: every
 * entry's signer keys deleted, as a decoder that read no signers would have left (a re-index batch then
 * writes kilobytes). Returns the keys deleted.
 */
async function olderStore(seed: string, watched?: (e: Entry) => boolean, opts: { dataDir?: DataDirHooks; everySigner?: boolean } = {}): Promise<number> {
  h = await harness(
    {
      api: 'tiles',
      entries: ENTRIES,
      seed,
      inject: [{ at: AT, cert: { san: SAN, issuer: 'https://token.actions.githubusercontent.com', extensions: { sourceRepositoryURI: 'https://github.com/acme/api' }, rawExtensions: { buildTrigger: '0c0561' } } }],
    },
    { batchSize: 100 },
    watched && { isWatched: watched },
    { cliLayout: true, ...(watched ? { indexMode: 'watched' as const } : {}), ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) },
  );
  await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === BigInt(ENTRIES));
  const got = (await h.store.getEntry('sim', AT))!.record.entry;
  // Today's decoder keeps the signer, less the value it cannot read.
  expect(got.signer?.san).toBe(SAN);
  expect(got.problem?.message).toMatch(/buildTrigger/);
  expect(h.store.indexedEpoch).toBe(DECODER_EPOCH);
  const id = await h.store.logId('sim');
  const signerKeysOf = async (i: number) => {
    const { indexKeys } = impliedKeys(await h!.store.entryDb.get(entryKey(id, i)), 'sim', id, BigInt(i), true);
    return { indexKeys, signerKeys: indexKeys.filter((k) => k[1] !== Field.DIGEST && k[1] !== Field.TIME) };
  };
  const { indexKeys, signerKeys } = await signerKeysOf(AT);
  // The certificate's fingerprint and its key's (decoder epoch 4).
  expect(signerKeys.map((k) => k[1]).sort()).toEqual([Field.SAN, Field.ISSUER, Field.REPOSITORY, Field.FINGERPRINT, Field.FINGERPRINT].sort());
  const deleted = opts.everySigner ? (await Promise.all(Array.from({ length: ENTRIES }, (_, i) => signerKeysOf(i)))).flatMap((k) => k.signerKeys) : signerKeys;
  await h.store.writeOps([...deleted.map((k) => ({ type: 'del' as const, key: k })), { type: 'del', key: key(Bucket.META, 'decoderEpoch') }]);
  // What check compared before epochs: the entry reads with a signer the index does not have.
  expect((await checkLog(h.store, 'sim', 'recorded')).problems).toContain(`entry ${AT}: index keys differ from what it implies (expected ${indexKeys.length}, found ${indexKeys.length - signerKeys.length})`);
  await h.store.close();
  return deleted.length;
}

/** Lines a logger wrote, parsed; `onLine` sees each as it is written (synchronously, inside the logging call). */
function capturingLogger(level: string, onLine: (l: LogLine) => void = () => {}) {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level,
    destination: new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const l = JSON.parse(chunk.toString()) as LogLine;
        lines.push(l);
        onLine(l);
        done();
      },
    }),
  });
  return { lines, logger };
}
type LogLine = { msg: string } & Record<string, unknown>;

const serveConfig = (hh: Harness, pollInterval = '200ms') =>
  parseConfig(`dataDir: ${hh.dataDir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${hh.sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: '${hh.sim.url}', start: 0, requestsPerMinute: 0, pollInterval: ${pollInterval} }\n`, 'serve.yaml', {});

describe('re-indexing a store indexed by an older decoder', () => {
  it('check says it awaits re-indexing; serve re-indexes it in the background; then search finds the entry and check compares every key', async () => {
    const deleted = await olderStore('reindex-serve');
    const before = await tlogwatch(['check', '--data-dir', h!.dataDir]);
    expect(before.code).toBe(0);
    expect(before.stderr).toContain(`tlogwatch check: the store awaits re-indexing (indexed by decoder epoch 0, this tlogwatch's is ${DECODER_EPOCH}): index keys are not compared`);
    expect(before.stdout).toMatch(/^ok\tsim\t40 entries, .*\n\tnot checked: whether the index keys are those the entries imply: the store was indexed by an older decoder .* tlogwatch serve does in the background/);
    // --from/--to says the same.
    const part = await tlogwatch(['check', '--data-dir', h!.dataDir, '--only', 'sim', '--from', '5', '--to', '15']);
    expect(part.code).toBe(0);
    expect(part.stdout).toContain('\tnot checked: whether the index keys are those the entries imply');

    const { lines, logger } = capturingLogger('info');
    const d = await startDaemon(serveConfig(h!), logger);
    try {
      await d.reindexed;
      expect(d.store.indexedEpoch).toBe(DECODER_EPOCH);
      const res = await fetch(`${d.url}/v1/search?identity=${encodeURIComponent(SAN)}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { entries: Array<{ log: string; index: number }> };
      expect(body.entries.map((e) => [e.log, e.index])).toEqual([['sim', AT]]);
      expect((await d.metrics.storeReindexRemaining.get()).values).toEqual([{ labels: { log: 'sim' }, value: 0 }]);
    } finally {
      await d.stop();
    }
    const started = lines.find((l) => l.msg.startsWith('re-indexing the store in the background'));
    expect(started).toMatchObject({ fromEpoch: 0, toEpoch: DECODER_EPOCH, logs: 1, entries: ENTRIES });
    expect(lines.find((l) => l.msg.startsWith('re-indexing done'))).toMatchObject({ epoch: DECODER_EPOCH, logs: 1, entries: ENTRIES, keysAdded: deleted, undecodable: 0 });

    const after = await tlogwatch(['check', '--data-dir', h!.dataDir]);
    expect(after).toMatchObject({ code: 0, stderr: '1 log(s) consistent\n' });
    expect(after.stdout).not.toContain('not checked');
  });

  it('resumes after a restart from the progress it kept, and records the epoch only once every log is done', async () => {
    const deleted = await olderStore('reindex-resume');
    let store = await Store.open(h!.storeDir);
    expect(store.indexedEpoch).toBe(0);
    // Stopped after its first chunk of 8 (entries 0..7), as a daemon stopped then would be.
    const stop = new AbortController();
    expect(await reindexLog(store, 'sim', { chunk: 8, signal: stop.signal, progress: () => stop.abort() })).toBeUndefined();
    expect((await store.getReindexProgress('sim', DECODER_EPOCH))?.next).toBe(8n);
    // Progress kept for another epoch's re-index does not count for this one.
    expect(await store.getReindexProgress('sim', DECODER_EPOCH + 1)).toBeUndefined();
    await store.close();

    store = await Store.open(h!.storeDir);
    try {
      expect(store.indexedEpoch).toBe(0);
      // A search before leaves an open iterator on the index for the next one: it must not hide the new keys.
      expect((await store.search('SAN', Buffer.from(SAN), { limit: 10 })).refs).toEqual([]);
      const done = await reindexStore(store, { chunk: 8 });
      // The restart went over entries 8.. only, and wrote the keys entry AT lacked.
      expect(done).toEqual({ logs: 1, entries: ENTRIES - 8, added: deleted, removed: 0, undecodable: 0 });
      expect(store.indexedEpoch).toBe(DECODER_EPOCH);
      expect(await store.getReindexProgress('sim', DECODER_EPOCH)).toBeUndefined();
      expect((await store.search('SAN', Buffer.from(SAN), { limit: 10 })).refs.map((r) => r.index)).toEqual([AT]);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await store.close();
    }
    // Recorded on disk: a store opened again needs no re-index.
    store = await Store.open(h!.storeDir);
    expect(store.indexedEpoch).toBe(DECODER_EPOCH);
    expect(await reindexStore(store)).toBeUndefined();
    await store.close();
  });

  it('with index: watched, gives the new keys only to the entries fully indexed before (their time key), the others their digests alone', async () => {
    // Entry AT and every third entry watched; the rest were written with their digests alone.
    const deleted = await olderStore('reindex-watched', (e) => e.index === AT || e.index % 3 === 0);
    const store = await Store.open(h!.storeDir, { indexMode: 'watched' });
    try {
      expect(store.recordedIndexMode).toBe('watched');
      const keysBefore = await store.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) }).all();
      const done = await reindexStore(store, { chunk: 16 });
      expect(done).toEqual({ logs: 1, entries: ENTRIES, added: deleted, removed: 0, undecodable: 0 });
      const keysAfter = await store.db.keys({ gte: new Uint8Array([Bucket.INDEX]), lt: new Uint8Array([Bucket.INDEX + 1]) }).all();
      expect(keysAfter.length).toBe(keysBefore.length + deleted);
      expect((await store.search('SAN', Buffer.from(SAN), { limit: 10 })).refs.map((r) => r.index)).toEqual([AT]);
      // Not one entry partly indexed: each has its digests alone or every key.
      expect((await checkLog(store, 'sim', 'recorded')).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

/** Fills the filesystem holding `path` with the file `path`, to the last page: the next write that needs a page fails with ENOSPC. */
function fillVolume(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [2 ** 20, 4096, 1]) {
      const block = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, block);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const mountable = canMountTmpfs();
if (!mountable) process.stderr.write('re-index write-fault tests skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)\n');

describe('the background re-index, stopped and failing', () => {
  it.skipIf(!mountable)('a pass whose write fails (the disk full) is logged and retried from the progress kept, once the store has room again, while the daemon serves', async () => {
    // 80 MiB: the store reopens after a write fault only with 64 MiB free (write-fault.ts).
    const deleted = await olderStore('reindex-fault', undefined, { dataDir: tmpfsDataDir(80), everySigner: true });
    const filler = join(h!.dataDir, 'filler');
    // The disk fills as the first pass starts, and is freed once its failure is logged.
    const { lines, logger } = capturingLogger('info', (l) => {
      if (l.msg.startsWith('re-indexing the store in the background') && l['attempt'] === 1) fillVolume(filler);
      if (l.msg.startsWith('re-indexing failed')) rmSync(filler, { force: true });
    });
    // The follower, caught up, polls once an hour: the re-index reopens the store itself, not waiting for a round.
    const d = await startDaemon(serveConfig(h!, '1h'), logger, undefined, { reindex: { retryMs: 100 } });
    try {
      // Bounded: a re-index that never gets the store back must fail here, and the daemon still stop.
      await Promise.race([d.reindexed, new Promise((r) => setTimeout(r, 20_000))]);
      expect(d.store.indexedEpoch).toBe(DECODER_EPOCH);
      const failed = lines.filter((l) => l.msg.startsWith('re-indexing failed'));
      expect(failed).toEqual([expect.objectContaining({ level: 50, attempt: 1, retryInMs: 100, err: expect.stringMatching(/^STORE_WRITE_FAILED: .*No space left on device/) as unknown })]);
      expect(lines.filter((l) => l.msg.startsWith('re-indexing the store in the background')).map((l) => l['attempt'])).toEqual([1, 2]);
      expect(lines.find((l) => l.msg.startsWith('re-indexing done'))).toMatchObject({ epoch: DECODER_EPOCH, entries: ENTRIES, keysAdded: deleted, undecodable: 0 });
      // The daemon served throughout and still does.
      expect((await fetch(`${d.url}/healthz`)).status).toBe(200);
      const res = await fetch(`${d.url}/v1/search?identity=${encodeURIComponent(SAN)}`);
      expect(((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index)).toEqual([AT]);
    } finally {
      await d.stop();
    }
    const store = await Store.open(h!.storeDir);
    try {
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!mountable)('stopping the daemon while a failed pass waits for its retry ends the wait at once; the next start re-indexes', async () => {
    const deleted = await olderStore('reindex-fault-stop', undefined, { dataDir: tmpfsDataDir(80), everySigner: true });
    const filler = join(h!.dataDir, 'filler');
    let failed!: () => void;
    const failure = new Promise<void>((resolve) => (failed = resolve));
    const first = capturingLogger('info', (l) => {
      if (l.msg.startsWith('re-indexing the store in the background')) fillVolume(filler);
      if (l.msg.startsWith('re-indexing failed')) failed();
    });
    const d = await startDaemon(serveConfig(h!), first.logger, undefined, { reindex: { retryMs: 600_000 } });
    await failure;
    rmSync(filler);
    const t = performance.now();
    await d.stop();
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(first.lines.filter((l) => l.msg.startsWith('re-indexing the store in the background'))).toHaveLength(1);

    const again = capturingLogger('info');
    const d2 = await startDaemon(serveConfig(h!), again.logger);
    try {
      await d2.reindexed;
      expect(d2.store.indexedEpoch).toBe(DECODER_EPOCH);
      expect(again.lines.find((l) => l.msg.startsWith('re-indexing done'))).toMatchObject({ keysAdded: deleted });
    } finally {
      await d2.stop();
    }
  });

  it('stopping the daemon during a pass ends it after its current batch; the next start resumes from the progress kept', async () => {
    await olderStore('reindex-stop');
    const chunk = 4;
    let batched!: () => void;
    const firstBatch = new Promise<void>((resolve) => (batched = resolve));
    const first = capturingLogger('debug', (l) => void (l.msg === 're-indexed a batch' && batched()));
    const d = await startDaemon(serveConfig(h!), first.logger, undefined, { reindex: { chunk } });
    await firstBatch;
    await d.stop();
    expect(first.lines.find((l) => l.msg.startsWith('re-indexing done'))).toBeUndefined();
    let store = await Store.open(h!.storeDir);
    const kept = (await store.getReindexProgress('sim', DECODER_EPOCH))?.next;
    expect(store.indexedEpoch).toBe(0);
    await store.close();
    // Stopped after its first batch or the one in flight then, well before the end.
    expect(kept === BigInt(chunk) || kept === BigInt(2 * chunk)).toBe(true);

    const again = capturingLogger('info');
    const d2 = await startDaemon(serveConfig(h!), again.logger, undefined, { reindex: { chunk } });
    try {
      await d2.reindexed;
    } finally {
      await d2.stop();
    }
    expect(again.lines.find((l) => l.msg.startsWith('re-indexing the store in the background'))).toMatchObject({ entries: ENTRIES - Number(kept) });
    expect(again.lines.find((l) => l.msg.startsWith('re-indexing done'))).toMatchObject({ entries: ENTRIES - Number(kept) });
    store = await Store.open(h!.storeDir);
    try {
      expect(store.indexedEpoch).toBe(DECODER_EPOCH);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('stale keys: index keys an older decoder wrote that no entry implies any more', () => {
  const EVIL = 'https://github.com/evil/api/.github/workflows/release.yml@refs/heads/main';
  const STALE_DIGEST = `sha256:${'ab'.repeat(32)}`;

  /** The older store with entry AT also filed under an identity and a digest it does not have (as a decoder bug would have filed it). */
  async function withStaleKeys(seed: string): Promise<{ store: Store; stale: Uint8Array[] }> {
    await olderStore(seed);
    const store = await Store.open(h!.storeDir);
    const id = await store.logId('sim');
    const e = (await store.getEntry('sim', AT))!.record.entry;
    const time = e.integratedTime ?? e.observedAt ?? 0;
    const stale = [indexKey(Field.SAN, Buffer.from(EVIL), time, id, AT), indexKey(Field.DIGEST, digestToBytes(STALE_DIGEST), time, id, AT)];
    await store.writeOps(stale.map((k) => ({ type: 'put', key: k, value: MARKER })));
    return { store, stale };
  }

  const searchOf = async (app: ReturnType<typeof createApp>, q: string) => {
    const res = await app.request(`/v1/search?${q}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { entries: Array<{ index: number }> }).entries.map((e) => e.index);
  };

  it('search does not answer an entry under a value it no longer has, exact or prefix, before any re-index', async () => {
    const { store } = await withStaleKeys('stale-search');
    try {
      const app = createApp({ store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), logNames: () => ['sim'] });
      expect(await searchOf(app, `identity=${encodeURIComponent(EVIL)}`)).toEqual([]);
      expect(await searchOf(app, `identity=${encodeURIComponent('https://github.com/evil/*')}`)).toEqual([]);
      expect(await searchOf(app, `digest=${STALE_DIGEST}`)).toEqual([]);
      // Its real digest still finds it.
      const digest = (await store.getEntry('sim', AT))!.record.entry.digests[0]!;
      expect(await searchOf(app, `digest=${digest}`)).toEqual([AT]);
    } finally {
      await store.close();
    }
  });

  it('the re-index deletes them, keeps a digest a posted bundle may have lent, and check then finds the index exact', async () => {
    const { store, stale } = await withStaleKeys('stale-reindex');
    try {
      // Entry 3 has a posted bundle: a digest key its body does not imply is kept (bundles-post.ts writes such keys).
      const id = await store.logId('sim');
      const e3 = (await store.getEntry('sim', 3))!.record.entry;
      const lent = indexKey(Field.DIGEST, digestToBytes(`sha256:${'cd'.repeat(32)}`), e3.integratedTime ?? e3.observedAt ?? 0, id, 3);
      await store.writeOps([
        { type: 'put', key: key(Bucket.BUNDLE, u16(id), u64(3)), value: Buffer.from('{}') },
        { type: 'put', key: lent, value: MARKER },
      ]);
      // Epoch 4 drops keys (decoder-epoch.ts), so a store indexed before it is swept; one indexed at it is not
      // unless asked, as here.
      expect(mayHoldStaleKeys(0)).toBe(true);
      expect(mayHoldStaleKeys(3)).toBe(true);
      expect(mayHoldStaleKeys(0, [])).toBe(false);
      expect(mayHoldStaleKeys(0, [DECODER_EPOCH])).toBe(true);
      expect(mayHoldStaleKeys(DECODER_EPOCH, [DECODER_EPOCH])).toBe(false);
      const done = await reindexStore(store, { chunk: 16, sweep: true });
      expect(done).toMatchObject({ logs: 1, entries: ENTRIES, removed: stale.length });
      expect(await store.db.hasMany(stale)).toEqual(stale.map(() => false));
      expect(await store.db.has(lent)).toBe(true);
      expect(await store.getReindexProgress('sim', DECODER_EPOCH)).toBeUndefined();
      await store.writeOps([{ type: 'del', key: lent }]);
      expect((await checkLog(store, 'sim')).problems).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('a store a newer tlogwatch indexed (a downgrade)', () => {
  it('is refused by serve and check, saying both epochs and what to do, and left as it was', async () => {
    h = await harness({ api: 'tiles', entries: 8, seed: 'reindex-downgrade' }, {}, undefined, { cliLayout: true });
    await roundsUntil(h, async () => (await h!.store.getLogState('sim'))?.verified?.size === 8n);
    const newer = DECODER_EPOCH + 1;
    await h.store.writeOps([{ type: 'put', key: key(Bucket.META, 'decoderEpoch'), value: u16(newer) }]);
    await h.store.close();
    const refusal = `the store at ${h.storeDir} was indexed by a newer tlogwatch (decoder epoch ${newer}, this one's is ${DECODER_EPOCH}): run a tlogwatch of that decoder epoch or later, or restore the backup taken before the upgrade`;
    await expect(Store.open(h.storeDir)).rejects.toMatchObject({ code: 'STORE_DECODER_EPOCH', kind: 'fatal', message: expect.stringContaining(refusal) as unknown });

    const serve = await tlogwatch(['serve', '--data-dir', h.dataDir, '--listen', '127.0.0.1:0', '--trusted-root', h.sim.trustedRootPath, '--log', `tiles=${h.sim.url}`, '--start', '0']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain(`STORE_DECODER_EPOCH: ${refusal}`);
    const check = await tlogwatch(['check', '--data-dir', h.dataDir]);
    expect(check).toMatchObject({ code: 2, stdout: '' });
    expect(check.stderr).toContain(`tlogwatch check: STORE_DECODER_EPOCH: ${refusal}`);

    // So is a store a newer tlogwatch had begun to re-index, its epoch not yet recorded.
    await withRawDb(h.storeDir, (db) => db.batch([{ type: 'del', key: key(Bucket.META, 'decoderEpoch') }, { type: 'put', key: key(Bucket.META, 'reindex:', 'sim'), value: Buffer.from(JSON.stringify({ epoch: newer, next: '3', implied: {}, done: false })) }]));
    await expect(Store.open(h.storeDir)).rejects.toMatchObject({ code: 'STORE_DECODER_EPOCH', message: expect.stringContaining(`was being re-indexed by a newer tlogwatch (decoder epoch ${newer}, this one's is ${DECODER_EPOCH})`) as unknown });
    await withRawDb(h.storeDir, (db) => db.put(key(Bucket.META, 'decoderEpoch'), u16(newer)));

    // Nothing was written: the recorded epoch is still the newer one.
    await withRawDb(h.storeDir, async (db) => expect([...(await db.get(key(Bucket.META, 'decoderEpoch'))) ?? []]).toEqual([...u16(newer)]));
  });
});

/** The store's main database opened without the Store's checks. */
async function withRawDb(dir: string, f: (db: Level<Uint8Array, Uint8Array>) => Promise<unknown>): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    await f(db);
  } finally {
    await db.close();
  }
}

describe('check while the re-index is under way', () => {
  it('compares the index keys of a log whose re-index has finished, though the store awaits the others', async () => {
    await olderStore('reindex-check-per-log');
    const store = await Store.open(h!.storeDir);
    // The one log re-indexed; the store's epoch is recorded only once every log is (reindexStore).
    expect(await reindexLog(store, 'sim')).toMatchObject({ entries: ENTRIES, removed: 0 });
    expect((await store.getReindexProgress('sim', DECODER_EPOCH))?.done).toBe(true);
    expect(store.indexedEpoch).toBe(0);
    // Damage after the re-index: a key the entry implies, lost.
    const id = await store.logId('sim');
    const lost = impliedKeys(await store.entryDb.get(entryKey(id, AT)), 'sim', id, BigInt(AT), true).indexKeys.find((k) => k[1] === Field.SAN)!;
    await store.writeOps([{ type: 'del', key: lost }]);
    await store.close();
    const r = await tlogwatch(['check', '--data-dir', h!.dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`entry ${AT}: index keys differ from what it implies`);
    expect(r.stdout).not.toContain('not checked: whether the index keys');
    const part = await tlogwatch(['check', '--data-dir', h!.dataDir, '--only', 'sim', '--from', '5', '--to', '15']);
    expect(part.code).toBe(1);
    expect(part.stdout).toContain(`entry ${AT}: index keys differ from what it implies`);
  });
});
