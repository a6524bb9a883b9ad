/** Configuration and hooks of one followed log. */
import type { Finding } from '../monitor/finding.ts';
import type { Entry } from '../entries/types.ts';
import type { LogState } from '../store/codec.ts';
import type { BatchOp } from '../store/level.ts';
import type { IngestedEntry } from './ingest.ts';
import type { TlogwatchError } from '../errors.ts';
import type { WitnessPolicy } from '../note/witness-policy.ts';

export interface FollowConfig {
  name: string;
  type: 'tiles' | 'rekor-v1';
  url: string;
  /** Expected checkpoint origin (tiles); for Rekor v1 the host part, `<host> - <treeID>` is checked per tree. */
  origin: string;
  /** `latest`, or the first (virtual) index to mirror. */
  start: 'latest' | bigint;
  pollIntervalMs: number;
  /** Leaves per committed batch (rounded to whole 256-entry bundles for tiles). */
  batchSize: number;
  concurrency: number;
  requestsPerMinute: number;
  /** Whether to ask the upstream for gzip (the default) or for uncompressed responses (HttpClientOptions). */
  compression?: 'gzip' | 'none';
  /**
   * Header fields for the log's own origin (config/log-headers.ts): its authentication. Secret: never
   * logged or shown, and sent nowhere else (HttpClientOptions `originHeaders`).
   */
  headers?: Readonly<Record<string, string>>;
  /** Tiles: only checkpoints this policy's witnesses cosigned are verified up to (note/witness-policy.ts). */
  witnesses?: WitnessPolicy;
  /**
   * Rekor v1: bytes of entry bodies one batch may hold before it is cut short (rekor-v1.ts fetchLeaves);
   * BATCH_MAX_BYTES by default. Not a configuration key: tests lower it.
   */
  batchMaxBytes?: number;
  /**
   * The HTTP client's retry backoff (HttpClientOptions `baseDelayMs`, `maxDelayMs`, which also caps a
   * Retry-After); its defaults otherwise. Not a configuration key: tests that drive many faults shorten it.
   */
  retryDelays?: { baseMs: number; maxMs: number };
}

/**
 * What the monitor makes of a run of decoded entries: ops that join their batch's atomic commit (findings,
 * stored before any notification), and what to do once that commit has succeeded (count, log). Making it
 * has no side effects: the batch may still fail root verification or its write after it.
 */
export interface EntriesOutcome {
  ops: BatchOp[];
  committed?: () => void;
}

/** What the monitor and findings plug into the pipeline; every op joins the batch's atomic commit. */
export interface MirrorHooks {
  /**
   * Findings for newly decoded entries, called a chunk at a time before the batch's root is checked. An
   * entry's `body` (and its leaf's) is valid only during the call: the batch's memory is freed once it is
   * ingested (BundledLeaves.release), so copy what has to outlive it. `prior`: the findings a rollback
   * marked on these entries' indexes (store/rolled-back-findings.ts), by ID: one raised again for the same
   * entry is the stored one, not a new one.
   */
  onEntries?: (log: string, entries: readonly IngestedEntry[], now: number, prior?: ReadonlyMap<string, Finding>) => EntriesOutcome;
  /** A `log-integrity` finding for misbehaviour, with the evidence. */
  onIntegrity?: (log: string, error: TlogwatchError, state: LogState, now: number) => BatchOp[];
  /** Called after each commit (e.g. to wake the notifier). */
  afterCommit?: (log: string) => void;
  /** Index mode `watched`. */
  isWatched?: (e: Entry) => boolean;
}

/** The error that ended the latest rounds, while they keep failing: what /v1/logs shows of transient faults. */
export interface TransientFault {
  code: string;
  message: string;
  /** Unix seconds of the latest failed round. */
  at: number;
  /** Failed rounds in a row. */
  rounds: number;
}
