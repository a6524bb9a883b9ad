/**
 * Scheduled jobs (node-cron, cadences in the config's `jobs`; one run of each at a time), each counted in
 * tlogwatch_job_runs_total{task,result} (ok, error, skipped) and tlogwatch_job_last_success_timestamp_seconds{task} (the
 * latter also kept in the store, so it survives a restart):
 *
 * - retiredShards (with reverify's cadence): every finished Rekor v1 tree is complete and rebuilds its final root;
 * - reverify: re-hash a rolling window of stored entry bodies and compare them with the tree hashes the
 *   mirror stored when it verified them, check the stored nodes above those leaves against the hashes
 *   under them, and recompute the root of the latest verified checkpoint from the stored tree. A mismatch
 *   means the store changed under us (disk corruption, tampering): a critical `store-integrity` finding,
 *   with what differs;
 * - dailyDigest: one informational finding summarising the last 24 hours' findings, delivered through the
 *   notification channels like any other;
 * - trustedRootRefresh: read the trusted root again (TUF, or the file) and act on what changed for the
 *   followed logs (daemon.ts `refreshTrust`: a newly listed log is followed or reported, a changed key reported);
 * - compaction: LevelDB compaction.
 */
import { createHash } from 'node:crypto';
import cron from 'node-cron';
import type { Config } from './config/schema.ts';
import { describeError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { findingId, type Finding } from './monitor/finding.ts';
import type { FindingRaiser } from './monitor/raise.ts';
import type { FindingsRepo } from './store/findings.ts';
import type { ReverifySweep, Store } from './store/store.ts';
import { checkLeavesIn, checkNodesOver, checkRetiredShards, checkVerifiedRoot } from './store/check-tree.ts';

export interface JobContext {
  config: Config;
  store: Store;
  findings: FindingsRepo;
  metrics: Metrics;
  logger: Logger;
  logNames: string[];
  /** Findings the jobs raise (store-integrity, the daily digest): once per ID, counted and notified. */
  raiser: FindingRaiser;
  /** The `trustedRootRefresh` job: the daemon reads its trust again and acts on the changes. */
  refreshTrust: () => Promise<unknown>;
  now?: () => number;
}

/**
 * Where each log's sweep stands, per store: read from the store once (a restarted daemon carries on with
 * its sweep), then kept here and written back after each window.
 */
const cursors = new WeakMap<Store, Map<string, ReverifySweep>>();
const cursorsOf = (store: Store): Map<string, ReverifySweep> => {
  let m = cursors.get(store);
  if (!m) cursors.set(store, (m = new Map<string, ReverifySweep>()));
  return m;
};

/**
 * Re-hashes the next window of a log's stored bodies against its stored level-0 hashes, checks the nodes
 * over them and the root. The window that ends a sweep of every held entry (begun at the first held
 * entry, which backfill may since have lowered) with nothing found in any of its windows sets
 * tlogwatch_store_verified_sweep_timestamp_seconds.
 */
export async function reverifyLog(ctx: JobContext, log: string): Promise<{ checked: number; problems: string[]; skipped?: string }> {
  const cursors = cursorsOf(ctx.store);
  const run = await whileSteady(ctx.store, async () => {
    const before = cursors.get(log) ?? (await ctx.store.getReverifySweep(log));
    return { before, window: await reverifyWindow(ctx, log, before?.next) };
  });
  if (!run) return { checked: 0, problems: [], skipped: 'the store could not be written or was reopened during the window; it is checked again next time' };
  const { before, window } = run;
  const { first, from, to, end, ...r } = window;
  const cleanAt = before?.cleanAt !== undefined ? { cleanAt: before.cleanAt } : {};
  let sweep: ReverifySweep = from === first || !before ? { next: to, from, clean: true, ...cleanAt } : { ...before, next: to };
  sweep.clean &&= r.problems.length === 0;
  if (to >= end && end > first) {
    const done = sweep.clean && sweep.from <= first ? { cleanAt: Math.floor((ctx.now ?? Date.now)() / 1000) } : cleanAt;
    if (done.cleanAt !== undefined) ctx.metrics.storeVerifiedSweep.set({ log }, done.cleanAt);
    sweep = { next: first, from: first, clean: true, ...done };
  }
  cursors.set(log, sweep);
  // Losing this write costs only a longer sweep after a restart, not a check: said, not thrown.
  await ctx.store.putReverifySweep(log, sweep).catch((e: unknown) => ctx.logger.warn({ job: 'reverify', log, err: describeError(e) }, 'could not store where the reverify sweep stands'));
  return r;
}

/**
 * Runs a check that reads the store, or returns undefined when the store was not steady throughout: one
 * that cannot be written gets closed and reopened (store/write-fault.ts), and reads failing then are not
 * damage, so nothing the check found (or threw) counts.
 */
async function whileSteady<T>(store: JobContext['store'], check: () => Promise<T>): Promise<T | undefined> {
  const steady = store.steadySince();
  if (!steady()) return undefined;
  try {
    const r = await check();
    return steady() ? r : undefined;
  } catch (e) {
    if (!steady()) return undefined;
    throw e;
  }
}

/** One window of reverifyLog: [from, to) of the held entries [first, end) the sweep covers. */
async function reverifyWindow(ctx: JobContext, log: string, next: number | undefined): Promise<{ checked: number; problems: string[]; first: number; from: number; to: number; end: number }> {
  const { store } = ctx;
  const state = await store.getLogState(log);
  if (!state?.verified) return { checked: 0, problems: [], first: 0, from: 0, to: 0, end: 0 };
  const offset = Number(state.shard?.offset ?? 0n);
  const first = Math.max(Number(state.startIndex), offset);
  const end = offset + Number(state.verified.size);
  let from = next ?? first;
  if (from < first || from >= end) from = first;
  const to = Math.min(end, from + ctx.config.jobs.reverifyWindow);
  const tree = { seq: state.shard?.seq ?? 0, offset: BigInt(offset), ...(state.shard ? { treeID: state.shard.treeID } : {}) };
  const { checked, problems } = await checkLeavesIn(store, log, tree, BigInt(from), BigInt(to));
  // The nodes above this window's leaves against the runs under them: proofs read nodes the root does not.
  problems.push(...(await checkNodesOver(store, log, tree, BigInt(from - offset), BigInt(to - offset))).problems);
  // The root rebuilt from the stored hashes, always, and the start's verified frontier node by node.
  problems.push(...(await checkVerifiedRoot(store, log, state)));
  return { checked, problems, first, from, to, end };
}

/** The scheduled jobs, by the `task` label of their metrics. */
export const TASKS = ['reverify', 'retiredShards', 'dailyDigest', 'compaction', 'trustedRootRefresh'] as const;
export type Task = (typeof TASKS)[number];
/** tlogwatch_job_runs_total's results: `skipped` is a run not started because the last one was still going. */
export const JOB_RESULTS = ['ok', 'error', 'skipped'] as const;

/** Runs a job, counts it, and on success publishes and stores when (kept across restarts: restoreJobLastSuccess). */
export async function runJob(ctx: JobContext, job: Task, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    ctx.metrics.jobRuns.inc({ task: job, result: 'error' });
    ctx.logger.error({ job, err: describeError(e) }, 'job failed');
    return;
  }
  const at = Math.floor((ctx.now ?? Date.now)() / 1000);
  ctx.metrics.jobRuns.inc({ task: job, result: 'ok' });
  ctx.metrics.jobLastSuccess.set({ task: job }, at);
  // The job did succeed; losing this write costs only the time shown after a restart: said, not counted as a failure.
  await ctx.store.putJobLastSuccess(job, at).catch((e: unknown) => ctx.logger.warn({ job, err: describeError(e) }, 'could not store when the job last succeeded'));
}

/**
 * Sets tlogwatch_job_last_success_timestamp_seconds from the successes the store recorded, so a restarted
 * daemon says when each job last succeeded from its first scrape: without it the series were absent until
 * each job succeeded again (a day for the daily ones), and anything watching their age was blind meanwhile.
 */
export async function restoreJobLastSuccess(store: Store, metrics: Metrics): Promise<void> {
  for (const task of TASKS) {
    const at = await store.getJobLastSuccess(task);
    if (at !== undefined) metrics.jobLastSuccess.set({ task }, at);
  }
}

/**
 * A critical `store-integrity` finding: the store no longer holds what the mirror verified. Its ID names
 * the problems found, so a damage that stays (a root that no longer rebuilds is found by every run) is
 * one finding, notified once, while the runs go on counting it (`tlogwatch_verification_failures_total`)
 * and logging it; other damage is another finding.
 */
async function raiseStoreIntegrity(ctx: JobContext, log: string, check: 'reverify' | 'retired', message: string, problems: string[], now: number): Promise<void> {
  const episode = `${check}:${createHash('sha256').update(problems.join('\n')).digest('hex')}`;
  const f: Finding = { id: findingId('store-integrity', log, episode), rule: 'store-integrity', kind: 'integrity', severity: 'critical', message, log, firstSeen: now, status: 'open', evidence: { problems: problems.slice(0, 100) } };
  const r = await ctx.raiser.raiseOne(f);
  ctx.logger.error({ job: check === 'retired' ? 'retiredShards' : 'reverify', log, finding: f.id, raised: r.raised, problems: problems.length }, message);
}

/**
 * Sets tlogwatch_store_verified_sweep_timestamp_seconds from the sweeps the store recorded, so a restarted
 * daemon says how old the last full check of each log is before its own first sweep ends (hours or days
 * on a large store, a window a run).
 */
export async function restoreSweepMetrics(store: Store, metrics: Metrics, logNames: readonly string[]): Promise<void> {
  for (const log of logNames) {
    const at = (await store.getReverifySweep(log))?.cleanAt;
    if (at !== undefined) metrics.storeVerifiedSweep.set({ log }, at);
  }
}

export async function reverify(ctx: JobContext): Promise<void> {
  const now = Math.floor((ctx.now ?? Date.now)() / 1000);
  for (const log of ctx.logNames) {
    const r = await reverifyLog(ctx, log);
    if (r.skipped) {
      ctx.logger.info({ job: 'reverify', log, reason: r.skipped }, 'reverify window skipped');
      continue;
    }
    ctx.logger.info({ job: 'reverify', log, checked: r.checked, problems: r.problems.length }, 'reverify window done');
    if (r.problems.length === 0) continue;
    const more = r.problems.length > 3 ? ` (+${r.problems.length - 3} more)` : '';
    await raiseStoreIntegrity(ctx, log, 'reverify', `the stored mirror of ${log} no longer matches what was verified: ${r.problems.slice(0, 3).join('; ')}${more}`, r.problems, now);
    ctx.metrics.verificationFailures.inc({ log, reason: 'STORE_INTEGRITY' });
  }
}

export async function retiredShards(ctx: JobContext): Promise<void> {
  const now = Math.floor((ctx.now ?? Date.now)() / 1000);
  for (const log of ctx.logNames) {
    const problems = await whileSteady(ctx.store, () => checkRetiredShards(ctx.store, log));
    if (!problems) {
      ctx.logger.info({ job: 'retiredShards', log }, 'retired shards check skipped: the store could not be written or was reopened during it');
      continue;
    }
    if (problems.length === 0) continue;
    await raiseStoreIntegrity(ctx, log, 'retired', `retired shards of ${log} are incomplete: ${problems.slice(0, 3).join('; ')}`, problems, now);
    ctx.metrics.verificationFailures.inc({ log, reason: 'STORE_INTEGRITY' });
  }
}

export async function dailyDigest(ctx: JobContext): Promise<void> {
  const now = Math.floor((ctx.now ?? Date.now)() / 1000);
  const { findings } = await ctx.findings.list({ since: now - 86_400, limit: 1000 });
  const real = findings.filter((f) => f.rule !== 'daily-digest');
  const bySeverity = new Map<string, number>();
  for (const f of real) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
  const open = real.filter((f) => f.status === 'open').length;
  const f: Finding = {
    id: findingId('daily-digest', '*', new Date(now * 1000).toISOString().slice(0, 10)),
    rule: 'daily-digest',
    kind: 'info',
    severity: 'info',
    message: real.length === 0 ? 'no findings in the last 24 hours' : `${real.length} finding(s) in the last 24 hours (${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ')}), ${open} still open`,
    log: '*',
    firstSeen: now,
    status: 'open',
    evidence: { findings: real.slice(0, 50).map((x) => ({ id: x.id, rule: x.rule, severity: x.severity, log: x.log, index: x.index, status: x.status })) },
  };
  await ctx.raiser.raiseOne(f);
}

export function scheduleJobs(ctx: JobContext): Array<{ stop(): void | Promise<void> }> {
  const j = ctx.config.jobs;
  // Every scheduled task's run counters exist from the start at 0, so a first failure is an increase
  // Prometheus can see (a series born at 1 has no earlier sample to rise from).
  for (const task of TASKS) {
    for (const result of JOB_RESULTS) ctx.metrics.jobRuns.inc({ task, result }, 0);
  }
  const schedule = (expr: string, task: Task, fn: () => Promise<void>) => {
    // One run of a task at a time: a run still going when the next is due (a retiredShards count over a
    // large retired tree, a reverify window on a slow volume, a hung request) would otherwise be joined
    // by another over the same records every time it comes due. The skipped run is counted
    // (result="skipped", TlogwatchScheduledJobFailing) and said, so a job that never finishes is seen.
    const t = cron.schedule(expr, () => runJob(ctx, task, fn), { noOverlap: true, name: task });
    t.on('execution:overlap', () => {
      ctx.metrics.jobRuns.inc({ task, result: 'skipped' });
      ctx.logger.warn({ job: task }, 'job still running from its last start: this run is skipped');
    });
    return t;
  };
  return [
    schedule(j.reverify, 'reverify', () => reverify(ctx)),
    schedule(j.reverify, 'retiredShards', () => retiredShards(ctx)),
    schedule(j.dailyDigest, 'dailyDigest', () => dailyDigest(ctx)),
    schedule(j.compaction, 'compaction', () => ctx.store.compact()),
    schedule(j.trustedRootRefresh, 'trustedRootRefresh', async () => void (await ctx.refreshTrust())),
  ];
}
