/**
 * The monitor's place in the mirror pipeline: rules evaluate each batch's decoded entries, and the
 * findings join the batch's atomic commit, so a finding exists exactly when its entry does, before any
 * notification is attempted; they are counted and logged once that commit has succeeded.
 */
import type { Metrics } from '../metrics.ts';
import type { MirrorHooks } from '../mirror/types.ts';
import { findingOps } from '../store/findings.ts';
import type { BatchOp } from '../store/level.ts';
import type { RuleSet } from './compile.ts';
import { evaluateEntry, isWatched } from './evaluate.ts';
import type { Finding } from './finding.ts';
import type { Entry } from '../entries/types.ts';
import { certificateOf } from '../entries/signer.ts';
import type { CertificateAuthorities } from '../trust/certificate-authority.ts';
import { signersOf } from './eval/values.ts';

/** Turns a finding into the ops that store it (and queue its notifications). */
export type FindingWriter = (f: Finding) => BatchOp[];

/**
 * Says on each finding of an x509-signed entry whether a CA of the trusted root issued its certificate
 * (trust/certificate-authority.ts): `evidence.certificateIssuers`, one per signer, the CA's name or null.
 * A finding under a certificate no trusted CA issued is a signature Sigstore clients reject, and its
 * message says so, so that whoever triages it knows a spoofed identity from a used one.
 */
export function withCertificateIssuers(found: Finding[], e: Entry, cas: CertificateAuthorities, now: number): Finding[] {
  const certs = signersOf(e).filter((s) => s.type === 'x509');
  if (found.length === 0 || certs.length === 0) return found;
  const at = e.integratedTime ?? now;
  const issuers = certs.map((s) => {
    const der = certificateOf(s);
    return der ? cas.issuerOf(der, s.fingerprint, at) : undefined;
  });
  if (issuers.some((i) => i === undefined)) return found; // a signer read back from the store: no certificate bytes to check
  const untrusted = issuers.includes(null);
  return found.map((f) => ({
    ...f,
    ...(untrusted ? { message: `${f.message} (not issued by a certificate authority of the trusted root: Sigstore clients reject this signature)` } : {}),
    evidence: { ...f.evidence, certificateIssuers: issuers },
  }));
}

/** withCertificateIssuers, and the findings as they are should it fail: an entry must never stop the mirror. */
function annotated(found: Finding[], e: Entry, cas: CertificateAuthorities, now: number): Finding[] {
  try {
    return withCertificateIssuers(found, e, cas, now);
  } catch {
    return found;
  }
}

export function monitorHooks(rules: () => RuleSet, metrics: Metrics, onFindings?: (f: Finding[]) => void, write: FindingWriter = findingOps, cas?: () => CertificateAuthorities | undefined): MirrorHooks {
  return {
    onEntries(_log, entries, now) {
      const rs = rules();
      if (rs.rules.length === 0) return { ops: [] };
      const ops: BatchOp[] = [];
      const found: Finding[] = [];
      const authorities = cas?.();
      for (const { entry } of entries) {
        const fs = evaluateEntry(rs, entry, now);
        for (const f of authorities ? annotated(fs, entry, authorities, now) : fs) {
          ops.push(...write(f));
          found.push(f);
        }
      }
      if (found.length === 0) return { ops };
      // Counted and reported once stored: a batch can still fail verification after its entries are checked.
      const committed = () => {
        for (const f of found) metrics.findings.inc({ rule: f.rule, severity: f.severity });
        onFindings?.(found);
      };
      return { ops, committed };
    },
    isWatched: (e) => isWatched(rules(), e),
  };
}
