/**
 * The selectors of GET /v1/search, in one table: each one's query parameter and schema (params.ts, and so
 * /openapi.json), the index it scans when it drives the search, the filter it applies to a page's entries
 * when another one drives it (search.ts), and its `tlogwatch search` flag (commands/search.ts). A selector
 * added here is accepted, documented, searched and offered on the command line at once.
 *
 * The table's order is the order in which the first selector given drives the scan: the most selective
 * first (a digest or fingerprint usually names one entry), the broadest last.
 */
import { z } from 'zod';
import type { Entry, Signer } from '../entries/types.ts';
import { digestToBytes } from '../store/codec.ts';
import { claimValue, normaliseIdentity, normaliseUri, type ClaimField } from '../store/index-values.ts';
import { sansOf } from '../entries/subject-alt-name.ts';
import type { FieldName } from '../store/keys.ts';
import { apiError } from './errors.ts';

export type SelectorParam = 'digest' | 'fingerprint' | 'identity' | 'repository' | 'owner' | 'buildSigner' | 'issuer';

export interface Selector {
  /** The /v1/search query parameter. */
  readonly param: SelectorParam;
  /** The `tlogwatch search` flag (without the dashes). */
  readonly flag: string;
  /** The secondary index it scans when it drives the search (store/keys.ts Field). */
  readonly field: FieldName;
  readonly schema: z.ZodOptional<z.ZodString>;
  /** The index value to scan for `v` (prefix: every value starting with it); API_BAD_REQUEST if there is none. */
  lookup(v: string): { value: Uint8Array; prefix: boolean };
  /** Whether an entry, with these signers, matches `v` (when another selector drove the scan). */
  matches(entry: Entry, signers: readonly Signer[], v: string): boolean;
}

const HEX_LENGTH = { sha256: 64, sha384: 96, sha512: 128 } as const;

/** `sha256:HEX`, `sha384:HEX`, `sha512:HEX` or 64 bare hex digits (sha256), in the store's lower-case form. */
export function normaliseDigest(d: string): `sha256:${string}` | `sha384:${string}` | `sha512:${string}` {
  const v = d.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(v)) return `sha256:${v}`;
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(v);
  if (!m || m[2]!.length !== HEX_LENGTH[m[1] as keyof typeof HEX_LENGTH]) throw apiError('API_BAD_REQUEST', 'digest must be sha256:HEX, sha384:HEX, sha512:HEX or 64 bare hex digits');
  return `${m[1] as 'sha256'}:${m[2]!}`;
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const bareFingerprint = (v: string) => v.replace(/^sha256:/, '');
const text = (description: string) => z.string().min(1).max(2048).optional().describe(description);

/** An identity selector's value: a trailing `*` makes it a prefix; the rest is compared normalised. */
function identityPattern(v: string): { want: string; prefix: boolean } {
  const prefix = v.endsWith('*');
  return { want: prefix ? v.slice(0, -1) : v, prefix };
}

/**
 * A selector on a certificate's repository, owner or build signer URI: indexed and matched as the rules see
 * it (store/index-values.ts claimValue: derived from an old GitHub Actions certificate where Fulcio had no
 * such claim yet, and compared with scheme, host and a github.com owner and repository in any case).
 */
function claim(param: SelectorParam & ClaimField, flag: string, field: FieldName, description: string): Selector {
  return {
    param,
    flag,
    field,
    schema: text(description),
    lookup: (v) => ({ value: utf8(normaliseUri(v)), prefix: false }),
    matches: (_e, signers, v) => {
      const want = normaliseUri(v);
      return signers.some((s) => claimValue(s, param) === want);
    },
  };
}

export const SELECTORS: readonly Selector[] = [
  {
    param: 'digest',
    flag: 'digest',
    field: 'DIGEST',
    schema: z.string().max(140).optional().describe('sha256:HEX (bare 64-hex accepted), sha384:HEX or sha512:HEX'),
    lookup: (v) => ({ value: digestToBytes(normaliseDigest(v)), prefix: false }),
    // The index also holds attestation subjects, which are among an entry's digests.
    matches: (e, _signers, v) => e.digests.includes(normaliseDigest(v)),
  },
  {
    param: 'fingerprint',
    flag: 'fingerprint',
    field: 'FINGERPRINT',
    schema: z
      .string()
      .regex(/^(sha256:)?[0-9a-f]{64}$/, 'sha256:HEX or 64 bare hex digits, lower case')
      .optional()
      .describe("SHA-256 of the signing certificate or key: a certificate is found by its own and by its key's (its DER SubjectPublicKeyInfo's, a key signer's fingerprint for that key)"),
    lookup: (v) => ({ value: new Uint8Array(Buffer.from(bareFingerprint(v), 'hex')), prefix: false }),
    // A certificate by its key's too, as the index files it (index-values.ts) and watch.fingerprints sees it.
    matches: (_e, signers, v) => {
      const want = `sha256:${bareFingerprint(v)}`;
      return signers.some((s) => s.fingerprint === want || s.keyFingerprint === want);
    },
  },
  {
    param: 'identity',
    flag: 'identity',
    field: 'SAN',
    schema: text('Any SAN of the signing certificate (each one a certificate names); exact, or a prefix ending in *'),
    lookup: (v) => {
      const { want, prefix } = identityPattern(v);
      if (want.includes('*')) throw apiError('API_BAD_REQUEST', 'identity: only a trailing * is supported');
      if (prefix && want.length < 3) throw apiError('API_BAD_REQUEST', 'identity: a prefix needs at least 3 characters');
      return { value: utf8(normaliseIdentity(want)), prefix };
    },
    matches: (_e, signers, v) => {
      const { want, prefix } = identityPattern(v);
      const w = normaliseIdentity(want);
      // Any identity the certificate names, as the SAN index files every one (index-values.ts).
      return signers.some((s) => sansOf(s).some((san) => (prefix ? normaliseIdentity(san).startsWith(w) : normaliseIdentity(san) === w)));
    },
  },
  claim('repository', 'repository', 'REPOSITORY', 'Source repository URI (Fulcio .12; in a GitHub Actions certificate older than .12, derived from .5), e.g. https://github.com/acme/api. Scheme, host and a github.com owner and repository compare in any case'),
  claim('owner', 'owner', 'OWNER', 'Source repository owner URI (Fulcio .16; in a GitHub Actions certificate older than .16, derived from .5), e.g. https://github.com/acme. Scheme, host and a github.com owner compare in any case'),
  claim('buildSigner', 'build-signer', 'BUILD_SIGNER', 'Build signer URI (Fulcio .9; in a GitHub Actions certificate older than .9, its SAN, which Fulcio always wrote as .9 is written). Scheme, host and a github.com owner and repository compare in any case; the workflow path and ref exactly'),
  {
    param: 'issuer',
    flag: 'issuer',
    field: 'ISSUER',
    schema: text('OIDC issuer'),
    lookup: (v) => ({ value: utf8(v), prefix: false }),
    matches: (_e, signers, v) => signers.some((s) => s.issuer === v),
  },
];

/** The selectors' query schemas, by parameter, for SearchQuery (params.ts). */
export const selectorSchemas = Object.fromEntries(SELECTORS.map((s) => [s.param, s.schema])) as Record<SelectorParam, z.ZodOptional<z.ZodString>>;
