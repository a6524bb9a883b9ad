/**
 * What a refreshed trusted root changes for the logs a daemon follows. Pure: the daemon refreshes the root
 * (TUF or the file, tuf.ts) and acts on the answer (src/daemon.ts `refreshTrust`).
 *
 * Sigstore adds a log to the trusted root when it opens a new shard: Rekor v2 is sharded by time
 * (log2025-1, then the next), and staging's root shows the rotation (log2025-alpha1 … log2026-1, each
 * with its own key and validity; rekor.md §3.6). A daemon that followed only the logs it started with
 * would never see the entries of a shard opened after its start: the signatures an organisation watches
 * for move to the new log while the mirror stays complete and green on the old one.
 *
 * The root's certificate authorities change too (caChanges): a new Fulcio CA is one more issuer clients
 * trust, worth a security team's notice.
 *
 * A log is the same log when its base URL is (a configured log may also be matched by its origin, as at
 * start-up: daemon.ts `followedLogs`). Its key is the one the follower verifies checkpoints with; the
 * running follower never changes it, so a root that no longer lists that key for the log is reported,
 * not adopted.
 */
import { bytesEqual, toHex } from '../util/bytes.ts';
import { createHash } from 'node:crypto';
import { tlogsValidAt, type CertificateAuthority, type TlogTrust, type TrustedRoot } from './trusted-root.ts';

/** A log the daemon follows, as the trust side knows it. */
export interface FollowedTlog {
  name: string;
  url: string;
  /** Checkpoint origin (tiles) or signer name (Rekor v1). */
  origin: string;
  /** The key ID its checkpoints are verified under. */
  keyId: Uint8Array;
}

export type TrustChange =
  /** A log the root lists as valid now that the daemon does not follow. */
  | { kind: 'listed'; tlog: TlogTrust }
  /** A followed log whose key the root no longer lists; `listed` are the keys it lists for that log now. */
  | { kind: 'key-changed'; log: FollowedTlog; listed: TlogTrust[] }
  /** A followed log the root no longer lists at all. */
  | { kind: 'unlisted'; log: FollowedTlog }
  /** A certificate authority the root lists now and did not before: Sigstore clients trust what it issues. */
  | { kind: 'ca-listed'; ca: CertificateAuthority }
  /** A certificate authority the root listed before and no longer does. */
  | { kind: 'ca-unlisted'; ca: CertificateAuthority };

/** What findings about the root's CAs are filed under: they belong to no log. */
export const TRUSTED_ROOT = 'trusted-root';

/** A CA is the certificate it issues with (the first of its chain), whatever the root says of it otherwise. */
const caId = (ca: CertificateAuthority) => (ca.chain[0] ? createHash('sha256').update(ca.chain[0]).digest('hex') : '');

/**
 * The certificate authorities one root lists and the other does not, by issuing certificate: Fulcio
 * rotates its intermediate by listing a new CA (staging's root has one valid from 2026-06-12).
 */
export function caChanges(before: readonly CertificateAuthority[], after: readonly CertificateAuthority[]): TrustChange[] {
  const was = new Set(before.map(caId));
  const is = new Set(after.map(caId));
  return [...after.filter((ca) => !was.has(caId(ca))).map((ca) => ({ kind: 'ca-listed' as const, ca })), ...before.filter((ca) => !is.has(caId(ca))).map((ca) => ({ kind: 'ca-unlisted' as const, ca }))];
}

const caName = (ca: CertificateAuthority) => `${[ca.organization, ca.commonName].filter(Boolean).join(' / ') || 'unnamed'}${ca.uri ? ` (${ca.uri})` : ''}`;
const caDescription = (ca: CertificateAuthority) =>
  `${caName(ca)}, issuing certificate sha256 ${caId(ca).slice(0, 16)}…${ca.validFrom ? `, valid from ${ca.validFrom.toISOString()}` : ''}${ca.validUntil ? ` until ${ca.validUntil.toISOString()}` : ''}`;

const trimUrl = (u: string) => u.replace(/\/+$/, '');

/** The root's entries for a followed log: by base URL, else (a configured log) by origin. */
function entriesFor(root: TrustedRoot, log: FollowedTlog): TlogTrust[] {
  const byUrl = root.tlogs.filter((t) => trimUrl(t.baseUrl) === trimUrl(log.url));
  return byUrl.length ? byUrl : root.tlogs.filter((t) => t.name === log.origin);
}

/**
 * The changes, in a stable order: newly listed logs (in the root's order), then per followed log a
 * changed key or its removal. A listed log counts once per base URL, with the first key valid now; a log
 * whose every key has expired (a frozen shard) is not new, and one whose key is valid only from a later
 * date becomes new at a refresh after that date.
 */
export function trustChanges(followed: readonly FollowedTlog[], root: TrustedRoot, now: Date): TrustChange[] {
  const out: TrustChange[] = [];
  const seen = new Set<string>();
  const known = (t: TlogTrust) => followed.some((f) => entriesFor(root, f).includes(t));
  for (const t of tlogsValidAt(root, now)) {
    const url = trimUrl(t.baseUrl);
    if (seen.has(url) || known(t)) continue;
    seen.add(url);
    out.push({ kind: 'listed', tlog: t });
  }
  for (const log of followed) {
    const listed = entriesFor(root, log);
    if (listed.length === 0) out.push({ kind: 'unlisted', log });
    else if (!listed.some((t) => bytesEqual(t.keyId, log.keyId))) out.push({ kind: 'key-changed', log, listed });
  }
  return out;
}

/** The name a log of the root gets when the daemon follows it without configuration (stable across restarts). */
export function defaultLogName(t: Pick<TlogTrust, 'name'>): string {
  return t.name.replace(/[^a-zA-Z0-9._-]/g, '_');
}

/** One line for logs and findings. */
export function describeTrustChange(c: TrustChange): string {
  switch (c.kind) {
    case 'listed':
      return `the trusted root lists a log this daemon does not follow: ${c.tlog.baseUrl} (${c.tlog.type}, key ${toHex(c.tlog.keyId).slice(0, 16)}…${c.tlog.validFrom ? `, valid from ${c.tlog.validFrom.toISOString()}` : ''})`;
    case 'key-changed':
      return `the trusted root no longer lists the key log ${c.log.name} (${c.log.url}) is verified with (${toHex(c.log.keyId).slice(0, 16)}…); it lists ${c.listed.map((t) => `${toHex(t.keyId).slice(0, 16)}…`).join(', ')}. The mirror keeps verifying with the key it started with`;
    case 'unlisted':
      return `the trusted root no longer lists log ${c.log.name} (${c.log.url}); the mirror keeps following it with the key it started with`;
    case 'ca-listed':
      return `the trusted root lists a new certificate authority: ${caDescription(c.ca)}; Sigstore clients trust the certificates it issues`;
    case 'ca-unlisted':
      return `the trusted root no longer lists certificate authority ${caDescription(c.ca)}`;
  }
}

/** What makes a change the same change at the next refresh (a finding's subject). */
export function trustChangeSubject(c: TrustChange): string {
  switch (c.kind) {
    case 'listed':
      return `listed:${trimUrl(c.tlog.baseUrl)}:${toHex(c.tlog.keyId)}`;
    case 'key-changed':
      return `key-changed:${trimUrl(c.log.url)}:${toHex(c.log.keyId)}:${c.listed.map((t) => toHex(t.keyId)).join(',')}`;
    case 'unlisted':
      return `unlisted:${trimUrl(c.log.url)}:${toHex(c.log.keyId)}`;
    case 'ca-listed':
    case 'ca-unlisted':
      return `${c.kind}:${caId(c.ca)}`;
  }
}
