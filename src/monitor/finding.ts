/**
 * Findings: what tlogwatch tells its users. Pure builders; the store persists them (store/findings.ts)
 * in the same atomic batch as the entries or the halt that raised them, before any notification.
 */
import { createHash } from 'node:crypto';
import type { TlogwatchError } from '../errors.ts';
import type { Entry, FulcioClaims } from '../entries/types.ts';
import { evaluateIntegrity, evaluateStall as evaluateStallCandidate, type BuiltinFinding, type StallState } from './eval/builtin.ts';
import type { UndecodedCandidate } from './eval/undecoded.ts';
import { DEFAULT_BUILTINS, type LogIntegrityConfig, type MirrorStalledConfig, type UndecodedEntryConfig } from './rules/compiled.ts';
import { describeTrustChange, trustChangeSubject, type TrustChange } from '../trust/changes.ts';
import { toBase64, toHex } from '../util/bytes.ts';

export { SEVERITIES, type Severity } from './rules/schema.ts';
import type { Severity } from './rules/schema.ts';
export type FindingStatus = 'open' | 'acked' | 'suppressed';

export interface Finding {
  /** 32 hex: SHA-256(rule, log, subject)[:16], so one entry (or one halt) raises one finding per rule. */
  id: string;
  rule: string;
  kind: 'violation' | 'info' | 'integrity' | 'stalled';
  /** The expectation that broke (e.g. `expect.sourceRefs`), for violations. */
  expectation?: string;
  severity: Severity;
  message: string;
  log: string;
  index?: number;
  uuid?: string;
  digest?: string;
  identity?: string;
  issuer?: string;
  fulcio?: FulcioClaims;
  integratedTime?: number;
  /** Unix seconds when the mirror raised it. */
  firstSeen: number;
  status: FindingStatus;
  statusReason?: string;
  statusAt?: number;
  labels?: Record<string, string>;
  owner?: string;
  /** Data that lets anyone re-check the finding offline (signed notes, proofs, recomputed roots). */
  evidence?: Record<string, unknown>;
  /**
   * Set when the entry it was raised on, fetched beyond the verified checkpoint, was dropped because the root
   * recomputed over those entries was not the signed one (store/rollback.ts): the log never verified it.
   * Unix seconds, and the error code. Raised again when the entry fetched again matches again, without it.
   */
  entryRolledBack?: { at: number; reason: string };
}

export function findingId(rule: string, log: string, subject: string): string {
  return createHash('sha256').update(`${rule}\u0000${log}\u0000${subject}`).digest('hex').slice(0, 32);
}

/** A built-in rule's candidate (./eval/builtin.ts) as a stored finding, identified by its episode. */
function fromBuiltin(b: BuiltinFinding, log: string, kind: Finding['kind'], now: number): Finding {
  return {
    id: findingId(b.ruleId, log, b.episode),
    rule: b.ruleId,
    kind,
    severity: b.severity,
    message: b.message,
    log,
    firstSeen: now,
    status: 'open',
    evidence: b.details,
    ...(Object.keys(b.labels).length ? { labels: { ...b.labels } } : {}),
    ...(b.owner !== undefined ? { owner: b.owner } : {}),
  };
}

/** The `log-integrity` finding a halt raises, with the misbehaviour's evidence (./eval/builtin.ts). */
export function integrityFinding(log: string, error: TlogwatchError, now: number, config?: LogIntegrityConfig): Finding {
  const b = evaluateIntegrity({ log, code: error.code, message: error.message, evidence: { ...error.data } }, now, config);
  return fromBuiltin(b, log, 'integrity', now);
}

/**
 * A `log-integrity` finding raised outside a halt (a split view a checkpoint source or a posted bundle
 * shows) with what the rules' `builtins.log-integrity` sets: its severity, owner and labels.
 */
export function withIntegrityConfig(f: Finding, config: LogIntegrityConfig | undefined): Finding {
  if (f.rule !== 'log-integrity' || !config) return f;
  const { labels: _, owner: __, ...rest } = f;
  return { ...rest, severity: config.severity, ...(Object.keys(config.labels).length ? { labels: { ...config.labels } } : {}), ...(config.owner !== undefined ? { owner: config.owner } : {}) };
}

/**
 * `undecoded-entry` (./eval/undecoded.ts) as a stored finding, one per entry. Routed as the built-in's
 * settings say, else as the rule whose watched value the body names.
 */
export function undecodedFinding(e: Entry, c: UndecodedCandidate, config: UndecodedEntryConfig, now: number): Finding {
  const labels = Object.keys(config.labels).length ? config.labels : (c.lead?.labels ?? {});
  const owner = config.owner ?? c.lead?.owner;
  return {
    id: findingId('undecoded-entry', e.log, String(e.index)),
    rule: 'undecoded-entry',
    kind: 'violation',
    expectation: 'undecoded-entry',
    severity: c.severity,
    message: `undecoded entry: ${c.message}`,
    log: e.log,
    index: e.index,
    uuid: e.uuid,
    firstSeen: now,
    status: 'open',
    evidence: { problem: { ...e.problem }, kind: e.kind, watched: c.watched, scannedWhole: c.scannedWhole },
    ...(e.digests[0] ? { digest: e.digests[0] } : {}),
    ...(e.signer?.san !== undefined ? { identity: e.signer.san } : {}),
    ...(e.integratedTime !== undefined ? { integratedTime: e.integratedTime } : {}),
    ...(Object.keys(labels).length ? { labels: { ...labels } } : {}),
    ...(owner !== undefined ? { owner } : {}),
  };
}

/** `mirror-stalled` (./eval/builtin.ts evaluateStall): one finding per stall, identified by its last progress. */
export function evaluateStall(
  log: string,
  s: { upstreamSize?: bigint; verifiedSize?: bigint; verifiedAt?: number; storedAt?: number; since: number; lastError?: { code: string; message: string }; seenElsewhere?: StallState['seenElsewhere'] },
  now: number,
  stalledAfterSeconds: number,
  config?: MirrorStalledConfig,
): Finding | undefined {
  const state: StallState = { log, since: s.since, ...(s.upstreamSize !== undefined ? { upstreamSize: s.upstreamSize } : {}), ...(s.verifiedSize !== undefined ? { verifiedSize: s.verifiedSize } : {}), ...(s.verifiedAt !== undefined ? { lastVerifiedAt: s.verifiedAt } : {}), ...(s.storedAt !== undefined ? { lastStoredAt: s.storedAt } : {}), ...(s.lastError ? { lastError: s.lastError } : {}), ...(s.seenElsewhere ? { seenElsewhere: s.seenElsewhere } : {}) };
  // The rules' own delay when a file sets one (builtins.mirror-stalled.after), else the daemon's stalledAfter.
  const b = evaluateStallCandidate(state, now, { ...(config ?? DEFAULT_BUILTINS.mirrorStalled), after: config?.after ?? stalledAfterSeconds });
  if (!b) return undefined;
  return fromBuiltin(b, log, 'stalled', now);
}

/**
 * `trust-changed`: a refreshed trusted root changes what the daemon should follow (trust/changes.ts). A newly
 * listed log is `info` when the daemon now follows it, `medium` when its configuration does not (the
 * operator decides), a removed log `low` (it is still followed), and a followed log whose key is no longer
 * listed `high`: its checkpoints are still verified with the old key, and a log that changed keys in place
 * is not how Sigstore rotates (a new key is a new log).
 */
export function trustChangeFinding(c: TrustChange, log: string, followed: boolean, now: number, /** Why a listed log cannot be followed at all (trust/trusted-root.ts `checkpointVerifierForTlog`). */ unverifiable?: string): Finding {
  const severity: Severity =
    c.kind === 'key-changed' ? 'high' : c.kind === 'unlisted' ? 'low' : c.kind === 'ca-listed' ? 'medium' : c.kind === 'ca-unlisted' ? 'info' : followed ? 'info' : 'medium';
  const message =
    c.kind === 'listed'
      ? followed
        ? `now following ${log} from its first entry: ${describeTrustChange(c).replace(/^the trusted root lists a log this daemon does not follow: /, 'the trusted root lists a new log, ')}`
        : unverifiable !== undefined
          ? `${describeTrustChange(c)}; tlogwatch cannot verify it, so it is not followed: ${unverifiable}`
          : `${describeTrustChange(c)}; add it to \`logs\` to watch it`
      : describeTrustChange(c);
  return {
    id: findingId('trust-changed', log, trustChangeSubject(c)),
    rule: 'trust-changed',
    kind: c.kind === 'key-changed' ? 'integrity' : 'info',
    severity,
    message,
    log,
    firstSeen: now,
    status: 'open',
    evidence: {
      change: c.kind,
      followed,
      ...(c.kind === 'listed'
        ? { baseUrl: c.tlog.baseUrl, type: c.tlog.type, keyId: toHex(c.tlog.keyId), ...(c.tlog.validFrom ? { validFrom: c.tlog.validFrom.toISOString() } : {}), ...(c.tlog.validUntil ? { validUntil: c.tlog.validUntil.toISOString() } : {}) }
        : c.kind === 'ca-listed' || c.kind === 'ca-unlisted'
          ? {
              certificateAuthority: {
                ...(c.ca.organization ? { organization: c.ca.organization } : {}),
                ...(c.ca.commonName ? { commonName: c.ca.commonName } : {}),
                ...(c.ca.uri ? { uri: c.ca.uri } : {}),
                ...(c.ca.validFrom ? { validFrom: c.ca.validFrom.toISOString() } : {}),
                ...(c.ca.validUntil ? { validUntil: c.ca.validUntil.toISOString() } : {}),
                chain: c.ca.chain.map((d) => toBase64(d)),
              },
            }
          : { baseUrl: c.log.url, keyId: toHex(c.log.keyId) }),
      ...(c.kind === 'key-changed' ? { listedKeyIds: c.listed.map((t) => toHex(t.keyId)) } : {}),
    },
  };
}

/**
 * A split view: the log signed something (an entry at an index, or a tree head) that is not in the history
 * it published to this mirror. Critical `log-integrity`; its ID names what the log signed (`subject`), so the
 * same evidence handed over again finds the same finding instead of raising another. The evidence holds
 * both sides, each signed by the log: portable proof (c2sp.md §5, "Monitor recipe").
 */
export function splitViewFinding(log: string, subject: string, message: string, evidence: Record<string, unknown>, now: number, index?: number): Finding {
  return {
    id: findingId('log-integrity', log, subject),
    rule: 'log-integrity',
    kind: 'integrity',
    severity: 'critical',
    message: `log ${log}: ${message}`,
    log,
    ...(index !== undefined ? { index } : {}),
    firstSeen: now,
    status: 'open',
    evidence,
  };
}

/**
 * The subject of a split view whose evidence is a tree head the log signed (a checkpoint source's, a posted
 * checkpoint's or a posted bundle's): the tree, its size and the signed root. However it reached the
 * mirror, the same signed tree head is the same split view, and it is raised once.
 */
export const forkedTreeSubject = (tree: number, size: bigint, root: string): string => `tree:${tree}:${size}:${root}`;
