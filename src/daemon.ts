/**
 * `tlogwatch serve`: wires config, trust, store, one follower per log, the API and scheduled jobs.
 *
 *   config ─▶ trusted root (file or TUF) ─▶ logs + checkpoint verifiers
 *   store (LevelDB) ◀── followers (one task per log, src/mirror) ──▶ metrics
 *   API (Hono on node:http) ─▶ store, metrics
 *
 * Shutdown (SIGTERM/SIGINT): followers finish and commit their current batch, the server stops
 * accepting requests, then the store closes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import cron from 'node-cron';
import { createApp } from './api/app.ts';
import type { Config } from './config/schema.ts';
import { TlogwatchError, describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import { createMetrics, setLogState, type Metrics } from './metrics.ts';
import { LogFollower } from './mirror/follower.ts';
import type { FollowConfig, MirrorHooks } from './mirror/types.ts';
import { Store } from './store/store.ts';
import { resolveTrustedRoot } from './trust/tuf.ts';
import { checkpointVerifierForTlog, signerNameFromUrl, tlogsValidAt, type TlogTrust, type TrustedRoot } from './trust/trusted-root.ts';

export interface Daemon {
  url: string;
  store: Store;
  metrics: Metrics;
  followers: LogFollower[];
  stop(): Promise<void>;
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** The logs to follow: configured ones (keys from the trusted root), else every currently valid log of the root. */
export function followedLogs(config: Config, trust: TrustedRoot, now: Date): Array<{ follow: FollowConfig; tlog: TlogTrust }> {
  if (config.logs.length === 0) {
    return tlogsValidAt(trust, now).map((tlog) => ({
      tlog,
      follow: { name: tlog.name.replace(/[^a-zA-Z0-9._-]/g, '_'), type: tlog.type, url: tlog.baseUrl, origin: tlog.name, start: 'latest', pollIntervalMs: 5000, batchSize: 4096, concurrency: 8, requestsPerMinute: 500 },
    }));
  }
  return config.logs.map((l) => {
    const tlog = trust.tlogs.find((t) => sameUrl(t.baseUrl, l.url)) ?? trust.tlogs.find((t) => t.name === (l.origin ?? signerNameFromUrl(l.url)));
    if (!tlog) throw new TlogwatchError('CONFIG_INVALID', `log ${l.name} (${l.url}) is not in the trusted root, so its checkpoints cannot be verified; add it to the trusted root or pass the right --trusted-root`, { kind: 'fatal' });
    return {
      tlog,
      follow: { name: l.name, type: l.type, url: l.url, origin: l.origin ?? tlog.name, start: l.start, pollIntervalMs: l.pollInterval, batchSize: l.batchSize, concurrency: l.concurrency, requestsPerMinute: l.requestsPerMinute },
    };
  });
}

export async function startDaemon(config: Config, logger: Logger, hooks?: MirrorHooks): Promise<Daemon> {
  mkdirSync(config.dataDir, { recursive: true });
  const trust = await resolveTrustedRoot(config.trustedRoot, config.tufCacheDir ?? join(config.dataDir, 'tuf'));
  const logs = followedLogs(config, trust, new Date());
  if (logs.length === 0) throw new TlogwatchError('CONFIG_INVALID', 'no logs to follow: configure `logs` or use a trusted root that lists some', { kind: 'fatal' });
  const store = await Store.open(join(config.dataDir, 'store'), { indexMode: config.index });
  const metrics = createMetrics();
  const followers = logs.map(({ follow, tlog }) => {
    setLogState(metrics, follow.name, 'bootstrapping');
    return new LogFollower(follow, { store, metrics, logger: logger.child({ log: follow.name }), verifiers: [checkpointVerifierForTlog(tlog)], ...(hooks ? { hooks } : {}) });
  });
  const names = followers.map((f) => f.cfg.name);
  const app = createApp({
    store,
    metrics,
    logger,
    logNames: () => names,
    maxBodyBytes: config.api.maxBodyBytes,
    ...(config.api.adminToken ? { adminToken: config.api.adminToken } : {}),
    ...(config.api.cors ? { corsOrigins: config.api.cors.origins } : {}),
    ...(config.api.rateLimit ? { rateLimitPerMinute: config.api.rateLimit.requestsPerMinute } : {}),
  });
  const sep = config.listen.lastIndexOf(':');
  const hostname = config.listen.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(config.listen.slice(sep + 1));
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${typeof address === 'object' && address ? address.port : port}`;

  const abort = new AbortController();
  const runs = followers.map((f) =>
    f.run(abort.signal).catch((e: unknown) => logger.error({ log: f.cfg.name, err: describeError(e) }, 'follower stopped')),
  );
  const jobs = [
    cron.schedule(config.jobs.compaction, async () => {
      const t = Date.now();
      try {
        await store.compact();
        metrics.jobRuns.inc({ job: 'compaction', result: 'ok' });
        metrics.jobLastSuccess.set({ job: 'compaction' }, Math.floor(Date.now() / 1000));
        logger.info({ job: 'compaction', ms: Date.now() - t }, 'job done');
      } catch (e) {
        metrics.jobRuns.inc({ job: 'compaction', result: 'error' });
        logger.error({ job: 'compaction', err: describeError(e) }, 'job failed');
      }
    }),
  ];
  logger.info({ url, logs: logs.map((l) => ({ name: l.follow.name, type: l.follow.type, url: l.follow.url })) }, 'tlogwatch serving');

  let stopping: Promise<void> | undefined;
  return {
    url,
    store,
    metrics,
    followers,
    stop() {
      stopping ??= (async () => {
        logger.info('stopping: finishing current batches');
        abort.abort(new Error('shutdown'));
        for (const j of jobs) await j.stop();
        await Promise.all(runs);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
