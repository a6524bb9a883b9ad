/**
 * The monitor's place in the mirror pipeline: rules evaluate each batch's decoded entries, and the
 * findings join the batch's atomic commit, so a finding exists exactly when its entry does, before any
 * notification is attempted; they are counted and logged once that commit has succeeded.
 */
import { countFindings, type Metrics } from '../metrics.ts';
import type { MirrorHooks } from '../mirror/types.ts';
import { findingOps, findingTimeKey } from '../store/findings.ts';
import type { BatchOp } from '../store/level.ts';
import type { RuleSet } from './compile.ts';
import { evaluateLogged, isWatched } from './evaluate.ts';
import type { Finding } from './finding.ts';
import type { CertificateAuthorities } from '../trust/certificate-authority.ts';

/** Turns a finding into the ops that store it (and queue its notifications). */
export type FindingWriter = (f: Finding) => BatchOp[];

export function monitorHooks(rules: () => RuleSet, metrics: Metrics, onFindings?: (f: Finding[]) => void, write: FindingWriter = findingOps, cas?: () => CertificateAuthorities | undefined): MirrorHooks {
  return {
    onEntries(_log, entries, now, prior) {
      const rs = rules();
      // No watches, nothing to miss: `undecoded-entry` asks whether an entry could have concerned one, and
      // with none it could not (tlogwatch_entries_undecoded_total still counts it).
      if (rs.rules.length === 0) return { ops: [] };
      const ops: BatchOp[] = [];
      const found: Finding[] = [];
      const authorities = cas?.();
      // The body is the batch's, read (for an entry the decoder could not fully read) and not kept.
      for (const { entry, body } of entries) {
        for (const f of evaluateLogged(rs, entry, body, now, { cas: authorities })) {
          const before = prior?.get(f.id);
          if (before && before.uuid === f.uuid) {
            // The entry a rollback dropped, back as it was: its finding stands as stored (status,
            // acknowledgement, notifications already sent), no longer marked, and is not raised again.
            const { entryRolledBack: _cleared, ...kept } = before;
            ops.push(...findingOps(kept));
            continue;
          }
          // Another entry at that index: its finding replaces the marked one, whose time key goes with it.
          if (before && before.firstSeen !== f.firstSeen) ops.push({ type: 'del', key: findingTimeKey(before) });
          ops.push(...write(f));
          found.push(f);
        }
      }
      if (found.length === 0) return { ops };
      // Counted and reported once stored: a batch can still fail verification after its entries are checked.
      const committed = () => {
        countFindings(metrics, found);
        onFindings?.(found);
      };
      return { ops, committed };
    },
    isWatched: (e) => isWatched(rules(), e),
  };
}
