/** Test harness: a simulator plus a follower on a temp LevelDB, and a check of the store against the manifest. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { LogFollower } from '../../src/mirror/follower.ts';
import type { FollowConfig, MirrorHooks } from '../../src/mirror/types.ts';
import { Store } from '../../src/store/store.ts';
import type { IndexMode } from '../../src/store/index-values.ts';
import { checkpointVerifierForTlog, parseTrustedRoot, setKeyForTlog, type TlogTrust } from '../../src/trust/trusted-root.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../sim/index.ts';
import type { GcPacer } from '../../src/mirror/gc-pacer.ts';
import { readJson } from './realdata.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { JobContext } from '../../src/jobs.ts';
import { findingOps, type FindingsRepo } from '../../src/store/findings.ts';
import { FindingRaiser } from '../../src/monitor/raise.ts';

export interface Harness {
  sim: Simulator;
  store: Store;
  follower: LogFollower;
  metrics: ReturnType<typeof createMetrics>;
  dataDir: string;
  /** Where the store is: dataDir itself, or `<dataDir>/store` (the CLI's layout) with `{ cliLayout: true }`. */
  storeDir: string;
  /** The simulator's log in its trusted root (keys that verify its checkpoints). */
  tlog: TlogTrust;
  cleanup(): Promise<void>;
}

/** `dataDir` set up before the store opens in it and torn down after it closes (e.g. a small filesystem mounted there). */
export interface DataDirHooks {
  setUp(dir: string): void;
  tearDown(dir: string): void;
}

export async function harness(sim: Omit<SimulatorOptions, 'out'>, follow: Partial<FollowConfig> = {}, hooks?: MirrorHooks, opts: { cliLayout?: boolean; dataDir?: DataDirHooks; gcPacer?: GcPacer; indexMode?: IndexMode } = {}): Promise<Harness> {
  const out = mkdtempSync(join(tmpdir(), 'tlogwatch-sim-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'tlogwatch-data-'));
  opts.dataDir?.setUp(dataDir);
  const s = await startSimulator({ ...sim, out, log: () => {} });
  const root = parseTrustedRoot(readJson(s.trustedRootPath));
  const tlog = root.tlogs[0]!;
  const storeDir = opts.cliLayout ? join(dataDir, 'store') : dataDir;
  const store = await Store.open(storeDir, opts.indexMode ? { indexMode: opts.indexMode } : {});
  const metrics = createMetrics({ defaultMetrics: false });
  const follower = new LogFollower(
    {
      name: 'sim',
      type: tlog.type,
      url: s.url,
      origin: tlog.name,
      start: 0n,
      pollIntervalMs: 50,
      batchSize: 512,
      concurrency: 4,
      requestsPerMinute: 0,
      ...follow,
    },
    { store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(tlog)], setKey: setKeyForTlog(tlog), ...(hooks ? { hooks } : {}), ...(opts.gcPacer ? { gcPacer: opts.gcPacer } : {}) },
  );
  return {
    sim: s,
    store,
    follower,
    metrics,
    dataDir,
    storeDir,
    tlog,
    async cleanup() {
      await s.close();
      await store.close().catch(() => undefined);
      opts.dataDir?.tearDown(dataDir);
      rmSync(out, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Another follower of the harness's log and store, at `url` (a proxy in front of the simulator), with metrics of its own (and `hooks`). */
export function followerAt(h: Harness, url: string, more: Partial<FollowConfig> = {}, hooks?: MirrorHooks): { follower: LogFollower; metrics: ReturnType<typeof createMetrics> } {
  const metrics = createMetrics({ defaultMetrics: false });
  const follower = new LogFollower({ ...h.follower.cfg, url, ...more }, { store: h.store, metrics, logger: createLogger({ level: 'silent' }), verifiers: [checkpointVerifierForTlog(h.tlog)], setKey: setKeyForTlog(h.tlog), ...(hooks ? { hooks } : {}) });
  return { follower, metrics };
}

/** The scheduled jobs' context over a harness's store, for its one log `sim` (no TUF fetch: the cache dir is never read). */
export const jobContext = (h: Harness, findings: FindingsRepo): JobContext => ({
  config: parseConfig('', 'x'),
  store: h.store,
  findings,
  metrics: h.metrics,
  logger: createLogger({ level: 'silent' }),
  logNames: ['sim'],
  raiser: new FindingRaiser({ store: h.store, write: findingOps, metrics: h.metrics }),
  refreshTrust: () => Promise.reject(new Error('no trust to refresh in this test')),
});

export function manifestOf(s: Simulator): any[] {
  return readFileSync(s.manifestPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** Every manifest entry in [from, to) is in the store with the same uuid, kind, digests and identity. */
export async function expectStoreMatchesManifest(store: Store, s: Simulator, log = 'sim', from = 0, to?: number): Promise<number> {
  const m = manifestOf(s).slice(from, to);
  for (const line of m) {
    const got = await store.getEntry(log, line.index);
    expect(got, `entry ${line.index}`).toBeDefined();
    const e = got!.record.entry;
    expect(e.uuid).toBe(line.uuid);
    expect(e.kind).toBe(line.kind);
    for (const d of line.digests) expect(e.digests).toContain(d);
    expect(e.signer?.san ?? null).toBe(line.san);
    expect(e.signer?.issuer ?? null).toBe(line.issuer);
    expect(e.signer?.fulcio?.sourceRepositoryURI ?? null).toBe(line.repository);
    expect(e.signer?.fulcio?.buildSignerURI ?? null).toBe(line.buildSigner);
    if (e.integratedTime !== undefined) expect(e.integratedTime).toBe(line.integratedTime);
  }
  return m.length;
}

export async function roundsUntil(h: Harness, done: () => Promise<boolean> | boolean, max = 200): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    await h.follower.round();
  }
  throw new Error('condition not reached');
}
