/**
 * The entry values rules look at, read defensively: evaluation must never throw, even on an Entry-shaped
 * object whose fields have the wrong types (a bug upstream, or a hand-written record).
 * Fulcio claim names and OIDs: reference/rekor.md §6 (src/entries/types.ts FULCIO_OIDS).
 */
import { FULCIO_OIDS, type Entry, type FulcioClaimName, type Signer } from '../../entries/types.ts';
import type { WatchField } from '../rules/compiled.ts';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function isSigner(s: unknown): s is Signer {
  return typeof s === 'object' && s !== null;
}

/** All signers (DSSE may have several); `signer` alone when `signers` is absent. */
export function signersOf(e: Entry): readonly Signer[] {
  const many: unknown = e.signers;
  if (Array.isArray(many)) return many.every(isSigner) ? many : many.filter(isSigner);
  const one: unknown = e.signer;
  return isSigner(one) ? [one] : [];
}

const NONE: readonly string[] = [];
const isString = (x: unknown): x is string => typeof x === 'string';

/** The entry's digests (as given when well-formed: this runs for every entry, so no copy). */
export function digestsOf(e: Entry): readonly string[] {
  const d: unknown = e.digests;
  if (!Array.isArray(d)) return NONE;
  return d.every(isString) ? d : d.filter(isString);
}

export function claimOf(s: Signer | undefined, name: FulcioClaimName): string | undefined {
  const f: unknown = s?.fulcio;
  return typeof f === 'object' && f !== null ? str((f as Record<string, unknown>)[name]) : undefined;
}

export interface ClaimValue {
  value: string | undefined;
  /** Where it came from, for finding details. */
  field: string;
}

const describeClaim = (name: FulcioClaimName) => `signer.fulcio.${name} (${FULCIO_OIDS[name]})`;

/**
 * A claim, falling back to its deprecated twin (.1 issuer, .2 trigger, .6 ref) which carries the same
 * token claim in older certificates. Beyond those, only the repository and owner (githubLegacy) and the build
 * signer (buildSignerClaim) of old GitHub Actions certificates are derived: a missing claim stays missing.
 */
export function claimWithFallback(s: Signer | undefined, name: FulcioClaimName, deprecated?: FulcioClaimName): ClaimValue {
  const v = claimOf(s, name);
  if (v !== undefined || deprecated === undefined) return { value: v, field: describeClaim(name) };
  const old = claimOf(s, deprecated);
  return { value: old, field: old === undefined ? describeClaim(name) : describeClaim(deprecated) };
}

/** The OIDC issuer as decoded (.8, else .1). */
export function issuerOf(s: Signer | undefined): string | undefined {
  return str(s?.issuer) ?? claimOf(s, 'issuer') ?? claimOf(s, 'issuerV1');
}

/**
 * The issuer issuerOf reads, with the extension it came from: .8, else .1 (a record that gives only the
 * decoded `signer.issuer` says so). Missing, it names .8, the one Fulcio issues today.
 */
export function issuerClaim(s: Signer | undefined): ClaimValue {
  const value = issuerOf(s);
  if (value === undefined || value === claimOf(s, 'issuer')) return { value, field: describeClaim('issuer') };
  return { value, field: value === claimOf(s, 'issuerV1') ? describeClaim('issuerV1') : 'signer.issuer' };
}

/**
 * Values a watch selector compares. Certificates GitHub issued before Fulcio had .12/.16 carry only
 * `.5` (`owner/repo`); for them the repository and owner URIs are derived, so a repository watch does
 * not miss old entries (a missed entry is the failure a monitor must not have).
 */
export function watchValue(s: Signer, field: WatchField): string | undefined {
  switch (field) {
    case 'identity':
      // The primary SAN; a watch compares every SAN a certificate names (watch-index.ts, sansOf).
      return str(s.san);
    case 'issuer':
      return issuerOf(s);
    case 'buildSigner':
      return buildSignerClaim(s).value;
    case 'repository':
      return claimOf(s, 'sourceRepositoryURI') ?? githubLegacy(s)?.repository;
    case 'owner':
      return claimOf(s, 'sourceRepositoryOwnerURI') ?? githubLegacy(s)?.owner;
  }
}

/**
 * The source repository URI (.12) or its owner's (.16) as `watch.repositories`/`watch.owners` read it,
 * derived from `.5` in old GitHub certificates, with the field it came from.
 */
export function repositoryClaim(s: Signer | undefined, part: 'repository' | 'owner'): ClaimValue {
  const name = part === 'repository' ? 'sourceRepositoryURI' : 'sourceRepositoryOwnerURI';
  const v = claimOf(s, name);
  const legacy = v === undefined && s !== undefined ? githubLegacy(s)?.[part] : undefined;
  return legacy === undefined ? { value: v, field: describeClaim(name) } : { value: legacy, field: `derived from ${describeClaim('githubWorkflowRepository')}` };
}

/**
 * The build signer URI (.9), or, in a GitHub Actions certificate issued before Fulcio had .9 (one with the
 * deprecated .5 and no .9), its SAN: Fulcio has always written that as `https://github.com/` + the token's
 * `job_workflow_ref`, which is what .9 holds (reference/rekor.md §6), so a build signer watch does not miss
 * the workflows' signatures of 2021–2023.
 */
export function buildSignerClaim(s: Signer | undefined): ClaimValue {
  const v = claimOf(s, 'buildSignerURI');
  if (v !== undefined || s === undefined || claimOf(s, 'githubWorkflowRepository') === undefined || issuerOf(s) !== GITHUB_ACTIONS_ISSUER) return { value: v, field: describeClaim('buildSignerURI') };
  const san = str(s.san);
  if (san === undefined || !/^https:\/\/github\.com\/[^/]+\/[^/]+\/[^@]+@.+$/.test(san)) return { value: undefined, field: describeClaim('buildSignerURI') };
  return { value: san, field: 'derived from the SAN (a GitHub Actions certificate older than 1.3.6.1.4.1.57264.1.9)' };
}

function githubLegacy(s: Signer): { repository: string; owner: string } | undefined {
  const repo = claimOf(s, 'githubWorkflowRepository');
  if (repo === undefined || issuerOf(s) !== GITHUB_ACTIONS_ISSUER) return undefined;
  const m = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repo);
  return m ? { repository: `https://github.com/${m[1]!}/${m[2]!}`, owner: `https://github.com/${m[1]!}` } : undefined;
}
