/**
 * Sigstore SigningConfig v0.2 (protobuf-specs `sigstore_trustroot.proto` `SigningConfig`, media type
 * `application/vnd.dev.sigstore.signingconfig.v0.2+json`): the only trust material that says which
 * Rekor API a log speaks (`rekorTlogUrls[].majorApiVersion`, rekor.md §3.6). Used to refine the
 * key-based guess of `tlogTypeFromKey`. Pure.
 */
import { z } from 'zod';
import { TlogwatchError } from '../errors.ts';
import type { TlogTrust, TlogType, TrustedRoot } from './trusted-root.ts';

const timestamp = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const Service = z.object({
  url: z.url({ protocol: /^https?$/ }),
  majorApiVersion: z.number().int().min(1),
  validFor: z.strictObject({ start: timestamp.optional(), end: timestamp.optional() }).optional(),
  operator: z.string().optional(),
});
const SigningConfigSchema = z.object({
  mediaType: z.literal('application/vnd.dev.sigstore.signingconfig.v0.2+json'),
  rekorTlogUrls: z.array(Service).default([]),
});

export interface RekorService {
  url: string;
  majorApiVersion: number;
  validFrom?: Date;
  validUntil?: Date;
  operator?: string;
}

export interface SigningConfig {
  rekorTlogUrls: RekorService[];
}

export function parseSigningConfig(json: unknown): SigningConfig {
  const r = SigningConfigSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TlogwatchError('TRUST_MALFORMED', `signing config: ${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : 'invalid'}`);
  }
  return {
    rekorTlogUrls: r.data.rekorTlogUrls.map((s) => ({
      url: s.url,
      majorApiVersion: s.majorApiVersion,
      ...(s.validFor?.start ? { validFrom: s.validFor.start } : {}),
      ...(s.validFor?.end ? { validUntil: s.validFor.end } : {}),
      ...(s.operator !== undefined ? { operator: s.operator } : {}),
    })),
  };
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** The API a signing config gives for `baseUrl`: v1 → `rekor-v1`, v2 → `tiles`; undefined when unlisted. */
export function tlogTypeFromSigningConfig(config: SigningConfig, baseUrl: string): TlogType | undefined {
  const s = config.rekorTlogUrls.find((x) => sameUrl(x.url, baseUrl));
  if (!s) return undefined;
  if (s.majorApiVersion === 1) return 'rekor-v1';
  if (s.majorApiVersion === 2) return 'tiles';
  throw new TlogwatchError('TRUST_MALFORMED', `signing config: ${baseUrl} has unknown Rekor API version ${s.majorApiVersion}`);
}

/**
 * The trusted root with each log's type taken from the signing config where it lists the log (several
 * configs, e.g. the default and the Rekor v2 one, are consulted in order). Unlisted logs keep the type
 * their key ID suggests: the default public-good signing config lists no v2 log at all (rekor.md §3.6).
 */
export function withSigningConfig(root: TrustedRoot, configs: readonly SigningConfig[]): TrustedRoot {
  const typeOf = (t: TlogTrust): TlogType => {
    for (const c of configs) {
      const found = tlogTypeFromSigningConfig(c, t.baseUrl);
      if (found) return found;
    }
    return t.type;
  };
  return { ...root, tlogs: root.tlogs.map((t) => ({ ...t, type: typeOf(t) })) };
}
