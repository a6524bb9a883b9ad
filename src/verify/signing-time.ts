/**
 * The one time `tlogwatch verify --rules` judges time rules and the certificate's issuing CA at: a time
 * something the trusted root vouches for signed (offline.ts `signedTimes`), never one the bundle merely
 * states. Pure.
 *
 * - The SET's integrated time first: it is the time the mirror itself records for the same Rekor v1 entry
 *   (checked with the SET at ingest), so `verify --rules` and the daemon judge an entry alike.
 * - Else the earliest verified RFC 3161 timestamp. Each one proves the signature existed at its time
 *   (client spec §4.2.1), so the earliest is the closest bound on when it was made; a signer can get a
 *   later one by holding the signature back, never an earlier one. Sigstore clients check the certificate
 *   at every verified time (§4.3), so all of them lie inside its ten-minute validity anyway.
 * - Else null: the time is unknown. An integrated time no SET signs, a certificate's notBefore (its chain
 *   is not checked here) and a provenance statement's dates are all the signer's to write.
 */
import type { SignedTime } from './offline.ts';

export interface RuleTime {
  /** Unix seconds. */
  t: number;
  /** What signed it, for `details.timeSource`. */
  source: string;
}

export function signingTimeOf(times: readonly SignedTime[]): RuleTime | null {
  const at = (s: SignedTime) => s.time.getTime() / 1000;
  const set = times.find((s) => s.by === 'set' && Number.isFinite(at(s)));
  if (set?.by === 'set') return { t: at(set), source: `integratedTime (signed by the SET of ${set.log})` };
  let first: (SignedTime & { by: 'tsa' }) | undefined;
  for (const s of times) if (s.by === 'tsa' && Number.isFinite(at(s)) && (!first || at(s) < at(first))) first = s;
  return first ? { t: at(first), source: `RFC 3161 timestamp (${first.tsa})` } : null;
}
