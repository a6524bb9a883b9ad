/**
 * Every metric tlogwatch exports, defined in one place (STYLE.md habit 9; Prometheus naming practices:
 * one `tlogwatch_` prefix, base units, `_total` only on counters, bounded labels). A private registry,
 * so tests can create independent instances and nothing leaks into prom-client's global one.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type LogStateLabel = 'following' | 'bootstrapping' | 'halted' | 'stalled';
export const LOG_STATES: readonly LogStateLabel[] = ['following', 'bootstrapping', 'halted', 'stalled'];

/** A log's phase as its mirror knows it; `stalled` is a condition judged apart (setLogStalled). */
export type LogPhaseLabel = Exclude<LogStateLabel, 'stalled'>;

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: '' });
  const r = [registry];
  const phases = new Map<string, LogPhaseLabel>();
  const stalled = new Set<string>();
  return {
    registry,
    /** Each log's phase as its follower last set it (setLogState). */
    logPhases: phases,
    /** The logs the `mirror-stalled` condition held for when last judged (setLogStalled). */
    stalledLogs: stalled,
    upstreamTreeSize: new Gauge({ name: 'tlogwatch_upstream_tree_size', help: 'Size of the latest checkpoint seen upstream (signature verified), from the first poll on.', labelNames: ['log'], registers: r }),
    verifiedTreeSize: new Gauge({ name: 'tlogwatch_verified_tree_size', help: 'Size of the latest checkpoint whose root the mirror recomputed.', labelNames: ['log'], registers: r }),
    mirrorLagEntries: new Gauge({ name: 'tlogwatch_mirror_lag_entries', help: 'Entries left to verify: upstream tree size minus verified tree size (before the first verified checkpoint, minus the index the mirror started at).', labelNames: ['log'], registers: r }),
    lastVerifiedCheckpointTimestamp: new Gauge({ name: 'tlogwatch_last_verified_checkpoint_timestamp_seconds', help: 'Unix time at which the latest checkpoint was verified.', labelNames: ['log'], registers: r }),
    entriesIngested: new Counter({ name: 'tlogwatch_entries_ingested_total', help: 'Entries verified, decoded and committed to the store.', labelNames: ['log', 'kind'], registers: r }),
    entriesUndecoded: new Counter({
      name: 'tlogwatch_entries_undecoded_total',
      help: 'Entries committed whose body the decoder did not fully understand (a decode problem): rules may not see their signer.',
      labelNames: ['log', 'kind'],
      registers: r,
    }),
    checkpointsUnwitnessed: new Counter({
      name: 'tlogwatch_checkpoints_unwitnessed_total',
      help: "Checkpoints not verified up to because fewer of the log's configured witnesses cosigned them than its quorum (each counted once).",
      labelNames: ['log'],
      registers: r,
    }),
    witnessCosignatureTimestamp: new Gauge({
      name: 'tlogwatch_witness_cosignature_timestamp_seconds',
      help: "Time in each configured witness's latest valid cosignature on a checkpoint of the log.",
      labelNames: ['log', 'witness'],
      registers: r,
    }),
    checkpointSourceChecks: new Counter({
      name: 'tlogwatch_checkpoint_source_checks_total',
      help: "Comparisons of each configured checkpoint source's checkpoints with the mirror, by result: consistent, pending (past what the mirror verified; counted again when judged), split_view, not_comparable, invalid (not signed by the log), absent, unavailable.",
      labelNames: ['source', 'log', 'result'],
      registers: r,
    }),
    checkpointSourceTreeSize: new Gauge({
      name: 'tlogwatch_checkpoint_source_tree_size',
      help: "Size of the latest checkpoint of the log's current tree that the source served and the log signed (compare with tlogwatch_upstream_tree_size: a source ahead of what the log shows this mirror for long is a sign of a frozen view).",
      labelNames: ['source', 'log'],
      registers: r,
    }),
    checkpointSourceConsistent: new Gauge({
      name: 'tlogwatch_checkpoint_source_consistent_timestamp_seconds',
      help: "Unix time a checkpoint from the source last proved consistent with the mirror's history (same root at its size).",
      labelNames: ['source', 'log'],
      registers: r,
    }),
    verificationFailures: new Counter({ name: 'tlogwatch_verification_failures_total', help: 'Verification failures by reason (a log halts on each).', labelNames: ['log', 'reason'], registers: r }),
    verificationUnconfirmed: new Counter({
      name: 'tlogwatch_verification_unconfirmed_total',
      help: 'Rounds that met a verification failure resting on bytes nobody signed, not yet seen in enough rounds in a row to halt the log (mirror/confirm-halt.ts).',
      labelNames: ['log', 'reason'],
      registers: r,
    }),
    entriesRolledBack: new Counter({
      name: 'tlogwatch_entries_rolled_back_total',
      help: 'Entries committed beyond the verified checkpoint and then dropped, because the root recomputed over them did not match the signed one (store/rollback.ts); fetched again by the next round.',
      labelNames: ['log'],
      registers: r,
    }),
    logState: new Gauge({
      name: 'tlogwatch_log_state',
      help: '1 for the current state of each log, 0 for the others.',
      labelNames: ['log', 'state'],
      registers: r,
      // Synchronous, in the scrape itself: the phase and the stall condition have separate writers (the
      // follower's rounds, the daemon's stall judgement), and neither overwrites what the other knows.
      collect() {
        for (const [log, phase] of phases) {
          const state = phase !== 'halted' && stalled.has(log) ? 'stalled' : phase;
          for (const s of LOG_STATES) this.set({ log, state: s }, s === state ? 1 : 0);
        }
      },
    }),
    fetchDuration: new Histogram({ name: 'tlogwatch_fetch_duration_seconds', help: 'Duration of requests to the upstream log.', labelNames: ['log', 'endpoint'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r }),
    upstreamErrors: new Counter({ name: 'tlogwatch_upstream_errors_total', help: 'Failed upstream requests by HTTP status or error code.', labelNames: ['log', 'code'], registers: r }),
    batchDuration: new Histogram({
      name: 'tlogwatch_batch_duration_seconds',
      help: 'Time to fetch, verify, decode and commit one batch.',
      labelNames: ['log'],
      // A Rekor v1 batch is fetched 10 entries a request within the log's request budget: 1,024 entries at
      // 500 requests/min take ~12 s, 2,048 ~25 s, and minutes under 429 backoff. Tiles batches take well
      // under a second.
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: r,
    }),
    findings: new Counter({ name: 'tlogwatch_findings_total', help: 'Findings raised, by rule and severity.', labelNames: ['rule', 'severity'], registers: r }),
    findingsOpen: new Gauge({ name: 'tlogwatch_findings_open', help: 'Findings not yet acknowledged or suppressed.', labelNames: ['severity'], registers: r }),
    notifications: new Counter({ name: 'tlogwatch_notifications_total', help: 'Notification delivery attempts by channel and result.', labelNames: ['channel', 'result'], registers: r }),
    notificationChannelUp: new Gauge({
      name: 'tlogwatch_notification_channel_up',
      help: "1 while a notification channel's sends go out, 0 while its sends kept failing and it is held: one probe at its backoff (notify/breaker.ts).",
      labelNames: ['channel'],
      registers: r,
    }),
    outboxPending: new Gauge({ name: 'tlogwatch_notification_outbox_pending', help: 'Notifications waiting in the durable outbox.', labelNames: ['channel'], registers: r }),
    httpRequestDuration: new Histogram({
      name: 'tlogwatch_http_request_duration_seconds',
      help: 'API request duration by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      // Up to Prometheus's default scrape timeout (10 s): the first /metrics after a finding changed reads
      // every stored finding (2.3 s with 200k of them), and a request that slow should show as what it
      // took, not as "over 1 s".
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    apiSearchRejected: new Counter({
      name: 'tlogwatch_api_search_rejected_total',
      help: 'Search pages answered 429 because api.searchEntriesInFlight were in flight and the page found no room in time (or too many waiting).',
      registers: r,
    }),
    httpConnectionsDropped: new Counter({
      name: 'tlogwatch_http_connections_dropped_total',
      help: 'API connections closed on arrival because api.maxConnections were open.',
      registers: r,
    }),
    storeBytes: new Gauge({ name: 'tlogwatch_store_bytes', help: 'Approximate size of the LevelDB store on disk.', registers: r }),
    storeVolumeAvailable: new Gauge({ name: 'tlogwatch_store_volume_available_bytes', help: 'Bytes available to tlogwatch on the filesystem holding the store.', registers: r }),
    storeVolumeSize: new Gauge({ name: 'tlogwatch_store_volume_size_bytes', help: 'Size of the filesystem holding the store.', registers: r }),
    storeWritable: new Gauge({ name: 'tlogwatch_store_writable', help: '1 while the store accepts writes; 0 after a write failed with an I/O error (a full disk) until tlogwatch has reopened it.', registers: r }),
    jobRuns: new Counter({ name: 'tlogwatch_job_runs_total', help: 'Scheduled job runs by task (the scheduled job) and result.', labelNames: ['task', 'result'], registers: r }),
    buildInfo: new Gauge({
      name: 'tlogwatch_build_info',
      help: 'Always 1; the labels say which version runs, which SHA-256 path verifies proofs (native addon or node:crypto) and which malloc the process runs on.',
      labelNames: ['version', 'merkle', 'malloc'],
      registers: r,
    }),
    storeVerifiedSweep: new Gauge({
      name: 'tlogwatch_store_verified_sweep_timestamp_seconds',
      help: "Unix time the reverify job last finished a sweep of all of a log's held entries (bodies re-hashed, the stored nodes over them and the root checked) that found nothing.",
      labelNames: ['log'],
      registers: r,
    }),
    storeReindexRemaining: new Gauge({
      name: 'tlogwatch_store_reindex_remaining_entries',
      help: 'Entries of a log indexed by an older decoder that the background re-index has still to go over (store/reindex.ts); 0 when none are, or once it is done.',
      labelNames: ['log'],
      registers: r,
    }),
    jobLastSuccess: new Gauge({ name: 'tlogwatch_job_last_success_timestamp_seconds', help: 'Unix time of the last successful run of each scheduled job.', labelNames: ['task'], registers: r }),
    residentMemory: new Gauge({
      name: 'tlogwatch_resident_memory_bytes',
      help: 'Resident memory by kind (Linux only): anon is the heap and native allocations; file is mapped files, LevelDB tables and the node binary, page cache the kernel can reclaim.',
      labelNames: ['kind'],
      registers: r,
      collect() {
        for (const [kind, bytes] of residentMemoryByKind()) this.set({ kind }, bytes);
      },
    }),
  };
}

const RSS_KINDS = { RssAnon: 'anon', RssFile: 'file', RssShmem: 'shmem' } as const;

/**
 * The parts of the resident set (proc(5), /proc/pid/status: RssAnon + RssFile + RssShmem = VmRSS), empty
 * where there is no /proc. process_resident_memory_bytes alone misleads on a mirror: LevelDB maps its
 * tables, so every table page a compaction or a lookup has read counts as resident while it stays
 * mapped (~640 MB of a 1M-entry store after the API bench, against ~150–190 MB anonymous).
 */
export function residentMemoryByKind(status?: string): Array<[kind: string, bytes: number]> {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return [];
    }
  }
  const out: Array<[string, number]> = [];
  for (const [, field, kb] of text.matchAll(/^(RssAnon|RssFile|RssShmem):\s+(\d+) kB$/gm)) out.push([RSS_KINDS[field as keyof typeof RSS_KINDS], Number(kb) * 1024]);
  return out;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Counts raised findings in `tlogwatch_findings_total`. A finding a rule's suppression marks known-good is
 * stored and listed, and notifies nobody; it is not counted either: the counter feeds the new-finding
 * alerts, which would otherwise page for exactly what the suppression says needs nobody.
 */
export function countFindings(m: Pick<Metrics, 'findings'>, found: Iterable<{ rule: string; severity: string; status: string }>): void {
  for (const f of found) if (f.status !== 'suppressed') m.findings.inc({ rule: f.rule, severity: f.severity });
}

/**
 * Records a log's phase for the one-hot `tlogwatch_log_state` gauge. It shows `stalled` instead while
 * setLogStalled says so, unless the log is halted.
 */
export function setLogState(m: Metrics, log: string, phase: LogPhaseLabel): void {
  m.logPhases.set(log, phase);
}

/**
 * Whether the `mirror-stalled` condition holds for a log now. Kept apart from the phase: a round that finds
 * the log unchanged says `following` every poll, which must not hide a stall (a frozen view is one).
 */
export function setLogStalled(m: Metrics, log: string, stalled: boolean): void {
  if (stalled) m.stalledLogs.add(log);
  else m.stalledLogs.delete(log);
}
