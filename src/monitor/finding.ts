/**
 * Findings: what tlogwatch tells its users. Pure builders; the store persists them (store/findings.ts)
 * in the same atomic batch as the entries or the halt that raised them, before any notification.
 */
import { createHash } from 'node:crypto';
import type { TlogwatchError } from '../errors.ts';
import type { FulcioClaims } from '../entries/types.ts';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
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
}

export function findingId(rule: string, log: string, subject: string): string {
  return createHash('sha256').update(`${rule}\u0000${log}\u0000${subject}`).digest('hex').slice(0, 32);
}

/** The `log-integrity` finding a halt raises, with the misbehaviour's evidence. */
export function integrityFinding(log: string, error: TlogwatchError, now: number): Finding {
  return {
    id: findingId('log-integrity', log, `${error.code}:${now}`),
    rule: 'log-integrity',
    kind: 'integrity',
    severity: 'critical',
    message: `log ${log} misbehaved and was halted at its last verified checkpoint: ${error.message}`,
    log,
    firstSeen: now,
    status: 'open',
    evidence: { code: error.code, ...error.data },
  };
}

/** `mirror-stalled`: upstream moved but no checkpoint verified for longer than allowed (one finding per stall). */
export function evaluateStall(
  log: string,
  s: { upstreamSize?: bigint; verifiedSize?: bigint; verifiedAt?: number; since: number },
  now: number,
  stalledAfterSeconds: number,
): Finding | undefined {
  const behind = (s.upstreamSize ?? 0n) > (s.verifiedSize ?? 0n);
  const last = s.verifiedAt ?? s.since;
  if (!behind || now - last < stalledAfterSeconds) return undefined;
  return {
    id: findingId('mirror-stalled', log, String(last)),
    rule: 'mirror-stalled',
    kind: 'stalled',
    severity: 'high',
    message: `log ${log}: no checkpoint verified for ${Math.round((now - last) / 60)} min while upstream is at ${s.upstreamSize} and the mirror at ${s.verifiedSize ?? 0n}`,
    log,
    firstSeen: now,
    status: 'open',
    evidence: { upstreamSize: String(s.upstreamSize ?? 0n), verifiedSize: String(s.verifiedSize ?? 0n), lastVerifiedAt: last },
  };
}
