/**
 * Suppressions: known-good exceptions. A suppression applies when every condition it gives holds
 * (digest carried, identity signed, expectation broken, `now` before `until`). Suppressed findings are
 * still returned, marked, with the reason, so every exception stays auditable.
 *
 * An identity condition holds for the signer that broke the expectation (for a break of the whole entry,
 * a time window say, for every signer), never for another signer of the same entry: a co-signer with the
 * excepted identity must not hide what the other signer did. Nor for a certificate that no CA of the
 * trusted root issued, when that is known: anyone can log a certificate with any identity in Rekor v1. Nor
 * for a certificate that names any identity besides the excepted one (`namesOnly`).
 */
import { sansOf } from '../../entries/subject-alt-name.ts';
import type { Entry, Signer } from '../../entries/types.ts';
import type { PatternSet } from '../rules/pattern.ts';
import type { CompiledRule } from '../rules/compiled.ts';
import type { Suppression } from './finding.ts';
import { digestsOf, signersOf } from './values.ts';

/**
 * Whether every identity the signer's certificate names matches the suppression's (and it names one): a
 * certificate that names an excepted identity beside another is not the excepted signer, and taking any
 * one of its SANs would let whoever can make such a certificate silence the rule.
 */
function namesOnly(identity: PatternSet, signer: Signer): boolean {
  const sans = sansOf(signer);
  return sans.length > 0 && sans.every((san) => identity.match(san) !== undefined);
}

/** Which CA of the trusted root issued signer `i`'s certificate: its name, null for none, undefined when not known. */
export type SignerIssuer = (i: number) => string | null | undefined;

/**
 * `extraDigests`: the provenance statement's subjects, which count as the entry's digests. `signer`: the
 * index (in signersOf) of the signer that broke the expectation, when one did.
 */
export function suppressionFor(
  rule: CompiledRule,
  e: Entry,
  now: number,
  expectation: string | undefined,
  extraDigests: readonly string[],
  signer: number | undefined,
  issuer?: SignerIssuer,
): Suppression | undefined {
  for (const s of rule.suppress) {
    if (s.until !== undefined && !(now < s.until)) continue;
    if (s.expectations && (expectation === undefined || !s.expectations.has(expectation))) continue;
    if (s.digest !== undefined && !digestsOf(e).includes(s.digest) && !extraDigests.includes(s.digest)) continue;
    if (s.identity) {
      const signers = signersOf(e);
      const involved = signer !== undefined ? [signer] : signers.map((_, i) => i);
      const excepted = (i: number) => signers[i] !== undefined && namesOnly(s.identity!, signers[i]) && issuer?.(i) !== null;
      if (involved.length === 0 || !involved.every(excepted)) continue;
    }
    return { reason: s.reason, index: s.index, ...(s.until !== undefined ? { until: s.until } : {}) };
  }
  return undefined;
}
