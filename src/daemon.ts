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
import type { Server } from 'node:http';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createApp } from './api/app.ts';
import { closeServer, createApiServer, DEFAULT_SERVER_LIMITS, type ServerLimits } from './api/http-server.ts';
import { adapterErrorResponse } from './api/errors.ts';
import { adminTokenOf } from './config/admin-token.ts';
import { logHeadersOf } from './config/log-headers.ts';
import { defaultBatchSize, type Config } from './config/schema.ts';
import { TlogwatchError, describeError, isTlogwatchError } from './errors.ts';
import type { Logger } from './logger.ts';
import { countFindings, createMetrics, setLogStalled, setLogState, type Metrics } from './metrics.ts';
import { merkleBackend } from './merkle/native.ts';
import { processMalloc } from './util/malloc.ts';
import { withoutCredentials } from './util/url.ts';
import { processGcPacer } from './mirror/gc-pacer.ts';
import { VERSION } from './version.ts';
import { LogFollower, logStateOf } from './mirror/follower.ts';
import type { FollowConfig, MirrorHooks, TransientFault } from './mirror/types.ts';
import { Store } from './store/store.ts';
import { accessHint } from './store/level.ts';
import { runReindex, type ReindexTuning } from './reindex-task.ts';
import { runHistoryTrim } from './history-trim-task.ts';
import { restoreJobLastSuccess, restoreSweepMetrics, scheduleJobs } from './jobs.ts';
import { FindingsRepo, findingOps } from './store/findings.ts';
import { evaluateStall, integrityFinding, SEVERITIES, trustChangeFinding, withIntegrityConfig, type Finding } from './monitor/finding.ts';
import { severityRank, type Severity } from './monitor/rules/schema.ts';
import { mirrorSizes, type LogState } from './store/codec.ts';
import type { StallState } from './monitor/eval/builtin.ts';
import { findingsRoutes } from './api/findings.ts';
import { bundleIntakeRoutes } from './api/bundles-post.ts';
import { checkpointIntakeRoutes } from './api/checkpoints-post.ts';
import type { BuiltinRules, MirrorStalledConfig, RuleSet } from './monitor/compile.ts';
import { monitorHooks, type FindingWriter } from './monitor/hooks.ts';
import { alertmanagerChannel, emailChannel, slackChannel, webhookChannel, type Channel } from './notify/channels.ts';
import { commandChannel } from './notify/command.ts';
import { Notifier } from './notify/notifier.ts';
import { FindingRaiser } from './monitor/raise.ts';
import { Outbox, outboxOps } from './notify/outbox.ts';
import { watchRules } from './monitor/load.ts';
import { resolveTrust } from './trust/tuf.ts';
import { checkpointVerifierForTlog, setKeyForTlog, signerNameFromUrl, tlogsValidAt, type TlogTrust, type TrustedRoot } from './trust/trusted-root.ts';
import { configuredOriginProblem } from './trust/configured-origin.ts';
import { caChanges, defaultLogName, describeTrustChange, TRUSTED_ROOT, trustChanges, type TrustChange } from './trust/changes.ts';
import { proxySettings } from './sources/transport.ts';
import { CertificateAuthorities } from './trust/certificate-authority.ts';
import { parseVerifierKey, type CosignatureVerifier } from './note/keys.ts';
import type { WitnessPolicy } from './note/witness-policy.ts';
import { compilePattern } from './monitor/rules/pattern.ts';
import { CheckpointSources } from './monitor/checkpoint-sources.ts';

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** A log's configured witnesses (keys validated by the config schema) as the policy its follower checks. */
export function witnessPolicy(w: { keys: string[]; quorum: number }): WitnessPolicy {
  return { witnesses: w.keys.map((k) => parseVerifierKey(k) as CosignatureVerifier), quorum: w.quorum };
}

/**
 * The `witnessPolicies` entry for a tiles log of this origin (the first whose origins match, exactly or as
 * a glob), as the follower's policy. Rekor v1 checkpoints are never cosigned, so they get none.
 */
export function witnessPolicyFor(config: Config, type: FollowConfig['type'], origin: string): WitnessPolicy | undefined {
  if (type !== 'tiles') return undefined;
  const p = config.witnessPolicies.find((w) => w.origins.some((o) => compilePattern(o, 'text').test(origin)));
  return p && witnessPolicy(p);
}

/**
 * Why the daemon cannot verify a log of the trusted root (a Merkle hash other than SHA-256, a key it does
 * not support, a key ID that does not match the key), or undefined when it can. Without configured logs
 * such a log is left out with a warning: one log of the root the daemon cannot check must not keep it
 * from mirroring the others, nor a refresh from reporting what else changed.
 */
function unverifiable(t: TlogTrust): string | undefined {
  try {
    checkpointVerifierForTlog(t);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Why the log the store mirrors under a configured name is not the configured log (another origin or type),
 * or undefined when it is (or nothing is stored). `serve` refuses to start and `backfill` skips the log:
 * judged against another log's history, its first checkpoint would look like a fork.
 */
export function anotherLogUnder(s: Readonly<LogState> | undefined, follow: FollowConfig): string | undefined {
  if (!s || (s.origin === follow.origin && s.type === follow.type)) return undefined;
  const said = `log ${follow.name}: the store mirrors ${s.type} log ${s.origin} (${withoutCredentials(s.url)}) under this name, and the configuration gives it ${follow.type} log ${follow.origin} (${follow.url})`;
  // The same URL under another origin is most often an origin corrected after it halted the log: the hint
  // to restore the URL would send the operator looking for a change they did not make.
  if (sameUrl(s.url, follow.url)) return `${said}; the stored history was judged under the old origin, so follow the log under the new one with a name of its own (a new mirror), or restore the old origin`;
  return `${said}; a new log needs a name of its own (a new mirror), or restore the old url`;
}

/**
 * What to do about a configured log the trusted root does not list. Most often its url is mistyped (a
 * path left out, another port), so the logs the root does list are named: the right one is then plain.
 */
function notInRootAdvice(trust: TrustedRoot): string {
  const shown = 6;
  const urls = trust.tlogs.slice(0, shown).map((t) => t.baseUrl);
  const listed = trust.tlogs.length === 0 ? 'it lists no logs' : `it lists ${urls.join(', ')}${trust.tlogs.length > shown ? ` and ${trust.tlogs.length - shown} more` : ''}`;
  return `${listed}. Correct its url (for a proxy in front of one of them, set \`origin\` to that log's), add it to the trusted root, or pass the right --trusted-root`;
}

/** How the daemon follows a log of the trusted root it was not configured with. */
function defaultFollow(config: Config, tlog: TlogTrust, start: FollowConfig['start']): FollowConfig {
  const witnesses = witnessPolicyFor(config, tlog.type, tlog.name);
  return { name: defaultLogName(tlog), type: tlog.type, url: tlog.baseUrl, origin: tlog.name, start, pollIntervalMs: 5000, batchSize: defaultBatchSize(config.index), concurrency: 8, requestsPerMinute: 500, ...(witnesses ? { witnesses } : {}) };
}

/**
 * The logs to follow: configured ones (keys from the trusted root); else every log of the root valid now,
 * from `latest`, and every other log of the root the store already mirrors (`mirrored`, by name): a shard
 * whose key has expired since is followed still, so the entries it took before it froze are not lost to
 * a restart. One log per name, a key valid now first. A configured log's `headerFiles` are read here, as
 * `serve` and `backfill` start, so a secret file that cannot be used is a configuration error before the
 * store opens.
 */
export function followedLogs(config: Config, trust: TrustedRoot, now: Date, mirrored: ReadonlySet<string> = new Set()): Array<{ follow: FollowConfig; tlog: TlogTrust }> {
  if (config.logs.length === 0) {
    const chosen = new Map<string, TlogTrust>();
    for (const t of tlogsValidAt(trust, now)) if (!chosen.has(defaultLogName(t))) chosen.set(defaultLogName(t), t);
    for (const t of trust.tlogs) if (!chosen.has(defaultLogName(t)) && mirrored.has(defaultLogName(t))) chosen.set(defaultLogName(t), t);
    return [...chosen.values()].map((tlog) => ({ tlog, follow: defaultFollow(config, tlog, 'latest') }));
  }
  return config.logs.map((l) => {
    const tlog = trust.tlogs.find((t) => sameUrl(t.baseUrl, l.url)) ?? trust.tlogs.find((t) => t.name === (l.origin ?? signerNameFromUrl(l.url)));
    if (!tlog) throw new TlogwatchError('CONFIG_INVALID', `log ${l.name} (${l.url}) is not in the trusted root, so its checkpoints cannot be verified; ${notInRootAdvice(trust)}`, { kind: 'fatal', data: { log: l.name } });
    // The operator's mistake, said here: followed, every checkpoint would be refused and the log halted as misbehaving.
    const wrongOrigin = configuredOriginProblem(l, tlog, trust);
    if (wrongOrigin) throw new TlogwatchError('CONFIG_INVALID', wrongOrigin, { kind: 'fatal', data: { log: l.name } });
    const origin = l.origin ?? tlog.name;
    const witnesses = l.witnesses ? witnessPolicy(l.witnesses) : witnessPolicyFor(config, l.type, origin);
    const headers = logHeadersOf(l);
    return {
      tlog,
      follow: { name: l.name, type: l.type, url: l.url, origin, start: l.start, pollIntervalMs: l.pollInterval, batchSize: l.batchSize ?? defaultBatchSize(config.index), concurrency: l.concurrency, requestsPerMinute: l.requestsPerMinute, compression: l.compression, ...(headers ? { headers } : {}), ...(witnesses ? { witnesses } : {}) },
    };
  });
}

/**
 * Findings the mirror itself raises: `log-integrity` on a halt, counted when built (they commit with the
 * halt), with the severity, owner and labels the rules' `builtins.log-integrity` gives.
 */
export function integrityHooks(metrics: Metrics, extra?: MirrorHooks, write: FindingWriter = findingOps, builtins?: () => BuiltinRules | undefined): MirrorHooks {
  return {
    ...extra,
    ...(extra?.onEntries ? { onEntries: extra.onEntries } : {}),
    onIntegrity: (log, error, state, now) => {
      const f = integrityFinding(log, error, now, builtins?.()?.logIntegrity);
      countFindings(metrics, [f]);
      return [...write(f), ...(extra?.onIntegrity?.(log, error, state, now) ?? [])];
    },
  };
}

/**
 * How findings are written: stored, and queued once per notification channel whose `minSeverity` it meets,
 * unless suppressed.
 */
export function findingWriter(channels: readonly Channel[]): FindingWriter {
  const takes = (c: Channel, f: Finding) => c.minSeverity === undefined || severityRank(f.severity) >= severityRank(c.minSeverity);
  return (f) => [...findingOps(f), ...(f.status === 'suppressed' ? [] : outboxOps(f.id, channels.flatMap((c, i) => (takes(c, f) ? [i] : [])), Date.now()))];
}

/**
 * The mirror's hooks, for the daemon's followers and for `backfill`: the rules evaluate each verified
 * batch, and misbehaviour raises `log-integrity`; every finding commits with the batch or the halt.
 */
export function mirrorHooks(rules: () => RuleSet, metrics: Metrics, logger: Logger, write: FindingWriter, extra?: MirrorHooks, cas?: () => CertificateAuthorities | undefined): MirrorHooks {
  const monitor = monitorHooks(rules, metrics, (found) => logger.info({ findings: found.map((f) => ({ id: f.id, rule: f.rule, severity: f.severity, log: f.log, index: f.index })) }, 'findings'), write, cas);
  return integrityHooks(metrics, { ...monitor, ...extra }, write, () => rules().builtins);
}

/**
 * Channels in a fixed order: their index is the outbox's channel byte. A new kind goes last, so the rows
 * a store already holds keep pointing at the channels they were queued for.
 */
export function channelsOf(config: Config): Channel[] {
  const n = config.notify;
  const floor = (c: Channel, o: { minSeverity?: Severity | undefined }): Channel => (o.minSeverity ? { ...c, minSeverity: o.minSeverity } : c);
  return [
    ...n.webhooks.map((w, i) => floor(webhookChannel(i, w.url, w.secret), w)),
    ...n.slack.map((w, i) => floor(slackChannel(i, w.url), w)),
    ...n.alertmanager.map((w, i) => floor(alertmanagerChannel(i, w.url), w)),
    ...n.email.map((e, i) => floor(emailChannel(i, e.smtp, e.from, e.to, e.timeout), e)),
    ...n.commands.map((c, i) => floor(commandChannel(i, c), c)),
  ];
}

/** The `mirror-stalled` finding a log's state calls for now (one definition for the job, /readyz and the metric). */
export function stallOf(
  s: Readonly<LogState>,
  now: number,
  stalledAfterMs: number,
  since: number,
  /** What the daemon knows beyond the stored state: how its follower's rounds end, a larger tree seen elsewhere, its last committed batch. */
  seen: { fault?: Readonly<TransientFault> | undefined; seenElsewhere?: StallState['seenElsewhere'] | undefined; storedAt?: number | undefined } = {},
  /** The rules' `builtins.mirror-stalled` (severity, owner, labels, logs, and a delay that overrides `stalledAfterMs`). */
  config?: MirrorStalledConfig,
): Finding | undefined {
  const { fault, seenElsewhere, storedAt } = seen;
  if (s.status === 'halted') return undefined;
  // The sizes /v1/logs and the gauges give (a Rekor v1 tree after the first counts the trees before it as verified).
  const sizes = mirrorSizes(s);
  return evaluateStall(
    s.name,
    {
      ...(sizes.upstream !== undefined ? { upstreamSize: sizes.upstream } : {}),
      ...(sizes.verified !== undefined ? { verifiedSize: sizes.verified } : {}),
      ...(s.verified ? { verifiedAt: s.verified.at } : {}),
      ...(storedAt !== undefined ? { storedAt } : {}),
      since,
      ...(fault ? { lastError: { code: fault.code, message: fault.message } } : {}),
      ...(seenElsewhere ? { seenElsewhere } : {}),
    },
    now,
    stalledAfterMs / 1000,
    config,
  );
}

/** What the stall judgement reads of a log: its stored state, or, for one that never bootstrapped, what its follower saw (LogFollower.unstoredState). */
type UnstoredState = (log: string) => Readonly<LogState> | undefined;

/** `mirror-stalled`: checked every 30 s for each log; one finding per stall episode. */
async function checkStalls(store: Store, raiser: FindingRaiser, names: string[], logger: Logger, stallFor: (s: Readonly<LogState>, now: number) => Finding | undefined, unstored: UnstoredState): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  for (const name of names) {
    const { state: s } = await logStateOf(store, name, unstored);
    const f = s && stallFor(s, now);
    if (!f) continue;
    if ((await raiser.raiseOne(f)).raised) logger.warn({ log: name, finding: f.id }, f.message);
  }
}

/**
 * Judges the `mirror-stalled` condition for each log before a scrape, with the definition /readyz and the
 * stall check use, so `tlogwatch_log_state` says `stalled` exactly while it holds. Set only by the 30 s
 * stall check it was wrong both ways: the next round that found the log unchanged said `following` (a
 * frozen view never showed), and a stall that ended in stored batches (a catch-up verifies only when it
 * reaches its checkpoint) stayed `stalled` until the next verification.
 */
async function judgeStalls(store: Store, metrics: Metrics, names: readonly string[], stallFor: (s: Readonly<LogState>, now: number) => Finding | undefined, unstored: UnstoredState): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  for (const name of names) {
    // A store being reopened cannot say: the last judgement stands.
    const read = await logStateOf(store, name, unstored).catch(() => null);
    if (read === null) continue;
    setLogStalled(metrics, name, read.state !== undefined && stallFor(read.state, now) !== undefined);
  }
}

/**
 * The names of the root's logs that are not valid now but that the store mirrors (for `followedLogs`): in
 * default mode a daemon keeps following a shard it mirrored after the shard's key expired.
 */
export async function mirroredLogs(store: Store, trust: TrustedRoot, now: Date): Promise<Set<string>> {
  const valid = new Set(tlogsValidAt(trust, now));
  const out = new Set<string>();
  for (const t of trust.tlogs) if (!valid.has(t) && (await store.readLogState(defaultLogName(t)))) out.add(defaultLogName(t));
  return out;
}

/** What a trusted-root refresh found and did (`Daemon.refreshTrust`). */
export interface TrustRefresh {
  changes: TrustChange[];
  /** Logs the daemon began to follow. */
  followed: string[];
  /** Findings raised (a change already reported at an earlier refresh raises none). */
  raised: Finding[];
}

export interface Daemon {
  url: string;
  store: Store;
  metrics: Metrics;
  followers: LogFollower[];
  /**
   * Settles when the background re-index of a store indexed by an older decoder has ended (at once when
   * none was needed) or was stopped (src/reindex-task.ts).
   */
  reindexed: Promise<void>;
  /** Settles when the checkpoint histories kept before only verified lines were kept have been trimmed, or that was stopped (src/history-trim-task.ts). */
  historyTrimmed: Promise<void>;
  /** Reads the trusted root again (TUF, or the file) and acts on what changed (the `trustedRootRefresh` job). */
  refreshTrust(): Promise<TrustRefresh>;
  stop(): Promise<void>;
}

/** Where `serve` and `backfill` take their trust from: the configured file, else TUF (public-good's, or `tufMirror`). */
export function trustOptionsOf(config: Config, logger: Logger): Parameters<typeof resolveTrust>[0] {
  return {
    ...(config.trustedRoot ? { trustedRoot: config.trustedRoot } : {}),
    signingConfigs: config.signingConfigs,
    cachePath: config.tufCacheDir ?? join(config.dataDir, 'tuf'),
    tuf: { ...(config.tufMirror ? { mirrorURL: config.tufMirror } : {}), ...(config.tufRoot ? { rootPath: config.tufRoot } : {}) },
    onWarning: (message: string) => logger.warn(message),
  };
}

/**
 * Binds the API to `HOST:PORT` (`[IPv6]:PORT`). A bind that fails (the address in use, not local, or a
 * port below 1024 without the privilege) is a start-up error that names `listen` and the address.
 * Built as @hono/node-server's `serve` builds its server, but with an error handler for the requests it
 * cannot hand the app (`adapterErrorResponse`): `serve` does not pass one on; and with the limits on slow,
 * idle and too many clients (api/http-server.ts), connections dropped at the cap counted in `onDrop`.
 */
export async function listen(
  fetch: Parameters<typeof getRequestListener>[0],
  address: string,
  limits: Readonly<ServerLimits> = DEFAULT_SERVER_LIMITS,
  onDrop: () => void = () => undefined,
): Promise<{ server: Server; url: string }> {
  const sep = address.lastIndexOf(':');
  const hostname = address.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(sep + 1));
  const server: Server = await new Promise((resolve, reject) => {
    const handle = getRequestListener(fetch, { hostname, errorHandler: adapterErrorResponse });
    const s = createApiServer((req, res) => void handle(req, res), limits, onDrop);
    s.listen(port, hostname, () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'the address is in use (another tlogwatch, or another program?)' : e.code === 'EACCES' ? 'permission denied (a port below 1024 needs privileges)' : e.code === 'EADDRNOTAVAIL' ? 'no interface of this host has that address' : e.message;
      reject(new TlogwatchError('CONFIG_INVALID', `listen ${address}: cannot listen there: ${why}; choose another with \`listen\` or --listen`, { kind: 'fatal', data: { listen: address, reason: why }, cause: e }));
    });
  });
  const bound = server.address();
  return { server, url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${typeof bound === 'object' && bound ? bound.port : port}` };
}

/** Creates `dataDir` if missing; one that cannot be made says which key, why, and what to do, not a bare EACCES. */
function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TlogwatchError('STORE_UNAVAILABLE', `dataDir ${dir}: cannot create it: ${why}: ${accessHint(why) ?? 'check the volume it is on'}`, { kind: 'fatal', cause: e });
  }
}

export async function startDaemon(config: Config, logger: Logger, extraHooks?: MirrorHooks, tuning: { reindex?: ReindexTuning } = {}): Promise<Daemon> {
  // An unreadable api.adminTokenFile is a configuration error, said before anything is opened.
  const adminToken = adminTokenOf(config.api);
  makeDataDir(config.dataDir);
  const trustOptions = trustOptionsOf(config, logger);
  const trust = await resolveTrust({ ...trustOptions, cachedWhenUnavailable: true });
  const startedOn = new Date();
  // Configured logs are checked against the root before the store opens (a config error touches nothing).
  const configured = config.logs.length ? followedLogs(config, trust, startedOn) : undefined;
  for (const l of configured ?? []) {
    const why = unverifiable(l.tlog);
    if (why) throw new TlogwatchError('CONFIG_INVALID', `log ${l.follow.name} (${l.follow.url}): tlogwatch cannot verify its checkpoints: ${why}`, { kind: 'fatal' });
  }
  // Rules are configuration too: read (and their watch set up) before the store opens, so bad rules touch nothing.
  let rules: RuleSet = { rules: [] };
  let rulesWatch: { close(): void } | undefined;
  if (config.rules) {
    const w = watchRules(
      config.rules,
      (rs) => {
        rules = rs;
        logger.info({ rules: rs.rules.length, dir: config.rules }, 'rules reloaded');
      },
      (message) => logger.error({ dir: config.rules }, message),
      { onWarnings: (message) => logger.warn({ dir: config.rules }, message) },
    );
    rules = w.current;
    rulesWatch = w;
  }
  const store = await Store.open(join(config.dataDir, 'store'), { indexMode: config.index, onUpgrade: (message, data) => logger.info(data, message) }).catch((e: unknown) => {
    rulesWatch?.close();
    // Two daemons on one store: the other one (or a backfill, check or backup) holds LevelDB's LOCK.
    if (isTlogwatchError(e, 'STORE_LOCKED')) throw new TlogwatchError('STORE_LOCKED', `${e.message}: one store has one tlogwatch at a time; stop the other one, or give this one its own dataDir (--data-dir)`, { kind: 'fatal', cause: e });
    throw e;
  });
  /** Undoes the start-up so far when a later step fails: a failed start leaves nothing open or running. */
  const release = async () => {
    rulesWatch?.close();
    await store.close();
  };
  // Entries already stored keep the index keys they were written with: a search misses what they lack.
  const recorded = store.recordedIndexMode;
  if (recorded !== undefined && recorded !== config.index) {
    logger.warn(
      { index: config.index, storeIndex: recorded },
      recorded === 'watched'
        ? 'index: all, on a store written with index: watched: the entries stored before are indexed only where a rule watched them, so searches by digest or identity miss the others (tlogwatch check says so too)'
        : 'index: watched, on a store written with index: all: entries from now on are indexed only where a rule watches them, and the store counts as watched from then on (tlogwatch check)',
    );
  }
  // A configured log whose name the store already mirrors must be that same log: another under the name
  // (its url edited to the next shard, --log flags given in another order) would be judged against the
  // first one's history, and its first checkpoint reported as a fork, a false critical finding.
  for (const l of configured ?? []) {
    const other = anotherLogUnder(await store.readLogState(l.follow.name).catch(() => undefined), l.follow);
    if (other) {
      await release();
      throw new TlogwatchError('CONFIG_INVALID', other, { kind: 'fatal', data: { log: l.follow.name } });
    }
  }
  const fromRoot = configured ?? followedLogs(config, trust, startedOn, await mirroredLogs(store, trust, startedOn).catch(async (e: unknown) => {
    await release();
    throw e;
  }));
  // Configured logs were checked above; of the root's, those tlogwatch cannot verify are left out, said once each.
  const skipped: string[] = [];
  const initial =
    configured ??
    fromRoot.filter((l) => {
      const why = unverifiable(l.tlog);
      if (why !== undefined) skipped.push(why);
      return why === undefined;
    });
  for (const why of skipped) logger.warn(`not following a log of the trusted root that tlogwatch cannot verify: ${why}`);
  if (initial.length === 0) {
    await release();
    throw new TlogwatchError('CONFIG_INVALID', `no logs to follow: configure \`logs\` or use a trusted root that lists some${skipped.length ? ` tlogwatch can verify (${skipped.join('; ')})` : ''}`, { kind: 'fatal' });
  }
  const metrics = createMetrics();
  // A damaged finding is left out of listings and counts (store/findings.ts); said once per finding, not per scrape.
  const damagedFindings = new Set<string>();
  const findings = new FindingsRepo(store, (id, e) => {
    if (damagedFindings.has(id)) return;
    damagedFindings.add(id);
    logger.error({ finding: id, err: describeError(e) }, 'a stored finding is damaged and left out of listings and counts: run tlogwatch check');
  });
  const channels = channelsOf(config);
  const write = findingWriter(channels);
  const notifier = new Notifier(channels, new Outbox(store), findings, metrics, logger);
  const notifyNow = () => void notifier.runOnce().catch((e: unknown) => logger.error({ err: describeError(e) }, 'notifier pass failed'));
  // Findings raised outside a mirror batch (stalls, trust changes, split views, jobs): once per ID, counted, notified.
  const raiser = new FindingRaiser({ store, write, metrics, onRaised: notifyNow, shape: (f) => withIntegrityConfig(f, rules.builtins?.logIntegrity) });
  // Which CA issued a finding's certificate is checked against the trusted root's CAs, refreshed with it.
  let authorities = new CertificateAuthorities(trust.certificateAuthorities);
  /** The root the last refresh (or start-up) read: what the next one's CA changes are relative to. */
  let currentRoot = trust;
  const hooks = mirrorHooks(() => rules, metrics, logger, write, { afterCommit: notifyNow, ...extraHooks }, () => authorities);
  // Series with a known label set exist from the start at 0 (dashboards show 0, not "no data", and a
  // first increase is visible to rate() and increase()).
  for (const c of channels) for (const result of ['delivered', 'failed', 'skipped']) metrics.notifications.inc({ channel: c.name, result }, 0);
  // (tlogwatch_findings_open is read from the store before every scrape: see beforeMetrics below.)
  const malloc = processMalloc();
  metrics.buildInfo.set({ version: VERSION, merkle: merkleBackend.name, malloc }, 1);
  const startedAt = Math.floor(Date.now() / 1000);

  // The followed logs grow when a refreshed trusted root lists a new one (refreshTrust below), so these
  // are the live lists the API, the jobs and the stall check read.
  const logs: Array<{ follow: FollowConfig; tlog: TlogTrust }> = [];
  const followers: LogFollower[] = [];
  const names: string[] = [];
  /** The logs `POST /v1/bundles` judges bundles against (bundles-post.ts reads it per request). */
  const intake: Array<{ name: string; tlog: TlogTrust; origin: string }> = [];
  const runs: Array<Promise<void>> = [];
  const abort = new AbortController();
  let running = false;
  const run = (f: LogFollower) => runs.push(f.run(abort.signal).catch((e: unknown) => logger.error({ log: f.cfg.name, err: describeError(e) }, 'follower stopped')));
  const follow = (l: { follow: FollowConfig; tlog: TlogTrust }) => {
    setLogState(metrics, l.follow.name, 'bootstrapping');
    const f = new LogFollower(l.follow, { store, metrics, logger, verifiers: [checkpointVerifierForTlog(l.tlog)], setKey: setKeyForTlog(l.tlog), hooks });
    logs.push(l);
    names.push(l.follow.name);
    intake.push({ name: l.follow.name, tlog: l.tlog, origin: l.follow.origin });
    followers.push(f);
    if (running) run(f);
  };
  for (const l of initial) follow(l);
  // A restarted daemon's gauges say what the store holds before the first scrape, not `bootstrapping`
  // (a state it cannot read now is published by the log's first round instead).
  await Promise.all(followers.map((f) => f.restoreMetrics().catch(() => undefined)));
  await restoreSweepMetrics(store, metrics, names).catch(() => undefined);
  await restoreJobLastSuccess(store, metrics).catch(() => undefined);
  const followerOf = (log: string) => followers.find((f) => f.cfg.name === log);
  const faultOf = (log: string) => followerOf(log)?.transientFault;
  const unstoredOf = (log: string) => followerOf(log)?.unstoredState;
  // The mirror's view of each log compared with checkpoints from elsewhere (a split view shows only there).
  const sources = new CheckpointSources({
    sources: config.checkpointSources,
    logs: () => logs.map((l) => ({ name: l.follow.name, origin: l.follow.origin, tlog: l.tlog })),
    store,
    metrics,
    logger,
    raiser,
  });
  /** The `mirror-stalled` finding a log's state calls for now (the stall check, /readyz), a frozen view included. */
  const stallFor = (s: Readonly<LogState>, now: number) => stallOf(s, now, config.stalledAfter, startedAt, { fault: faultOf(s.name), seenElsewhere: sources.aheadOf(s.name), storedAt: followerOf(s.name)?.lastStoredAt }, rules.builtins?.mirrorStalled);

  const refreshOnce = async (): Promise<TrustRefresh> => {
    const root = await resolveTrust(trustOptions);
    authorities = new CertificateAuthorities(root.certificateAuthorities);
    const now = new Date();
    const changes = [
      ...trustChanges(
        logs.map((l) => ({ name: l.follow.name, url: l.follow.url, origin: l.follow.origin, keyId: l.tlog.keyId })),
        root,
        now,
      ),
      ...caChanges(currentRoot.certificateAuthorities, root.certificateAuthorities),
    ];
    currentRoot = root;
    const followed: string[] = [];
    const raised: Finding[] = [];
    for (const c of changes) {
      let name: string;
      let following = false;
      let why: string | undefined;
      if (c.kind === 'listed') {
        name = defaultLogName(c.tlog);
        // Without configured logs the daemon follows the root's logs, so a new one is followed now, from its
        // first entry: it was listed since the last refresh, and what it took since is what is watched for.
        why = unverifiable(c.tlog);
        if (config.logs.length === 0 && !abort.signal.aborted && !names.includes(name) && why === undefined) {
          follow({ tlog: c.tlog, follow: defaultFollow(config, c.tlog, 0n) });
          followed.push(name);
          following = true;
          logger.info({ job: 'trustedRootRefresh', log: name, url: c.tlog.baseUrl, type: c.tlog.type }, `${describeTrustChange(c)}: following it from index 0`);
        } else {
          logger.warn({ job: 'trustedRootRefresh', url: c.tlog.baseUrl }, `${describeTrustChange(c)}${why !== undefined ? `; not followed, as tlogwatch cannot verify it: ${why}` : config.logs.length ? '; add it to `logs` to watch it' : ''}`);
        }
      } else if (c.kind === 'ca-listed' || c.kind === 'ca-unlisted') {
        name = TRUSTED_ROOT;
        logger.warn({ job: 'trustedRootRefresh' }, describeTrustChange(c));
      } else {
        name = c.log.name;
        logger[c.kind === 'key-changed' ? 'error' : 'warn']({ job: 'trustedRootRefresh', log: name }, describeTrustChange(c));
      }
      const r = await raiser.raiseOne(trustChangeFinding(c, name, following, Math.floor(now.getTime() / 1000), why));
      if (r.raised) raised.push(r.finding);
    }
    if (changes.length === 0) logger.info({ job: 'trustedRootRefresh', tlogs: root.tlogs.map((t) => t.baseUrl) }, 'trusted root refreshed: no change for the followed logs or the certificate authorities');
    return { changes, followed, raised };
  };
  // One refresh at a time (the schedule and a caller may overlap): each compares with what the one before
  // it left, so a newly listed log is followed once and never reported as unfollowed by a second refresh.
  let refreshing: Promise<unknown> = Promise.resolve();
  const refreshTrust = (): Promise<TrustRefresh> => {
    const next = refreshing.then(refreshOnce, refreshOnce);
    refreshing = next.catch(() => undefined);
    return next;
  };

  const app = createApp({
    store,
    metrics,
    logger,
    logNames: () => names,
    extend: (a, h) => {
      findingsRoutes(a, h, findings);
      bundleIntakeRoutes(a, h, { store, logs: intake, rules: () => rules, raiser, cas: () => authorities });
      checkpointIntakeRoutes(a, h, { store, logger, raiser, logs: intake });
    },
    logKeyId: (log) => logs.find((l) => l.follow.name === log)?.tlog.keyId,
    logPublicKey: (log) => logs.find((l) => l.follow.name === log)?.tlog.spki,
    witnessPolicy: (log) => logs.find((l) => l.follow.name === log)?.follow.witnesses,
    checkpointSources: (log) => sources.latest(log),
    beforeMetrics: async () => {
      await judgeStalls(store, metrics, names, stallFor, unstoredOf);
      const open = await findings.openBySeverity();
      for (const sev of SEVERITIES) metrics.findingsOpen.set({ severity: sev }, open.get(sev) ?? 0);
    },
    transientFault: faultOf,
    stalled: (s) => stallFor(s, Math.floor(Date.now() / 1000))?.message,
    unstoredState: unstoredOf,
    maxBodyBytes: config.api.maxBodyBytes,
    ...(adminToken ? { adminToken } : {}),
    ...(config.api.cors ? { corsOrigins: config.api.cors.origins } : {}),
    searchEntriesInFlight: config.api.searchEntriesInFlight,
    ...(config.api.rateLimit ? { rateLimitPerMinute: config.api.rateLimit.requestsPerMinute, trustedProxies: config.api.rateLimit.trustedProxies } : {}),
  });
  // Nothing has run yet (no follower, job, source or notifier pass): a listener that cannot bind ends the
  // start here, with everything opened so far released, rather than a process that said why it failed
  // and then stayed up on its rules watch and notifier timers, serving nothing.
  const { server, url } = await listen(app.fetch, config.listen, { ...DEFAULT_SERVER_LIMITS, maxConnections: config.api.maxConnections }, () => metrics.httpConnectionsDropped.inc()).catch(async (e: unknown) => {
    await notifier.stop();
    await release();
    throw e;
  });

  // Said only now that the start cannot fail: said when read, before the store lock or the address was
  // taken, it was a line of progress an operator read ahead of the STORE_LOCKED or listen error that ended
  // the start. Bad rules were refused (and said) when read, above.
  if (config.rules) logger.info({ rules: rules.rules.length, dir: config.rules }, 'rules loaded');
  running = true;
  if (channels.length) notifier.start();
  for (const f of followers) run(f);
  // Entries indexed by an older decoder get the keys this one implies, alongside the followers' commits.
  // Each followed log's series starts at 0 (none awaiting), as the other gauges with known labels do.
  for (const name of names) metrics.storeReindexRemaining.set({ log: name }, 0);
  const reindexed = runReindex(store, metrics, logger, abort.signal, tuning.reindex);
  // Checkpoint records kept whole before only verified lines were kept shrink to those lines, once per log.
  const historyTrimmed = runHistoryTrim(
    store,
    logs.map((l) => ({ name: l.follow.name, verifiers: [checkpointVerifierForTlog(l.tlog)], ...(l.follow.witnesses ? { witnesses: l.follow.witnesses } : {}) })),
    logger,
    abort.signal,
  );
  sources.start(abort.signal);
  for (const s of config.checkpointSources) {
    // Configured logs were checked by the schema; the trusted root's names are known only now.
    const unknown = s.logs?.filter((l) => !names.includes(l)) ?? [];
    if (unknown.length) logger.warn({ source: s.name, logs: unknown, followed: names }, `checkpoint source ${s.name} names logs this daemon does not follow (yet): ${unknown.join(', ')}`);
  }
  const jobs = scheduleJobs({ config, store, findings, metrics, logger, logNames: names, raiser, refreshTrust });
  const stallTimer = setInterval(() => {
    checkStalls(store, raiser, names, logger, stallFor, unstoredOf).catch((e: unknown) => logger.error({ err: describeError(e) }, 'stall check failed'));
  }, 30_000);
  stallTimer.unref();
  // Which hashing path verifies proofs: the native addon, or node:crypto with the reason (not built, ...).
  const proxy = proxySettings();
  logger.info(
    {
      url,
      logs: logs.map((l) => ({ name: l.follow.name, type: l.follow.type, url: l.follow.url })),
      // Where the logs' checkpoints are compared from (tokens stay out of the log).
      checkpointSources: config.checkpointSources.map((c) => ({ name: c.name, kind: c.kind, url: c.url, ...(c.logs ? { logs: c.logs } : {}) })),
      merkle: merkleBackend,
      malloc,
      gcPacing: processGcPacer.enabled,
      proxy,
    },
    'tlogwatch serving',
  );
  // A halt is stored and outlives restarts; the start-up would otherwise say nothing of it, and a restart
  // after a configuration fix (a corrected key) looks like a daemon that follows the log again.
  for (const name of names) {
    const halt = (await store.readLogState(name))?.halt;
    if (halt) logger.warn({ log: name, code: halt.code, haltedAt: new Date(halt.at * 1000).toISOString() }, `log ${name} is halted (${halt.code}: ${halt.message}) and stays halted across restarts: see docs/operations.md "TlogwatchLogIntegrityFailure" for what to do, and tlogwatch resume ${name} once the cause is understood`);
  }
  if (proxy.ignored) {
    logger.warn({ ignored: proxy.ignored }, `${proxy.ignored.join(' and ')} set, but logs and webhooks connect directly: Node's proxy support needs NODE_USE_ENV_PROXY=1 (docs/operations.md "Egress proxies and private CAs")`);
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    store,
    metrics,
    followers,
    reindexed,
    historyTrimmed,
    refreshTrust,
    stop() {
      stopping ??= (async () => {
        logger.info('stopping: finishing current batches');
        abort.abort(new Error('shutdown'));
        clearInterval(stallTimer);
        rulesWatch?.close();
        // Followers first: their last commit may still start a notifier pass, which stop() then awaits
        // (and later passes are no-ops), so nothing touches the store once it closes.
        await Promise.all(runs);
        await reindexed;
        await historyTrimmed;
        await sources.stopped();
        await notifier.stop();
        for (const j of jobs) await j.stop();
        await closeServer(server);
        await store.close();
        logger.info('stopped');
      })();
      return stopping;
    },
  };
}
