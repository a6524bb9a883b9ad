/**
 * Rule files (monitor-rules/*.yaml): the schema, documented key by key in monitor-rules/README.md, and
 * the source of monitor-rules/schema.json for editors. A file holds `rules:` (tlogwatch's language) or a
 * rekor-monitor config (`monitoredValues:`, reference/rekor.md §4.3), never both.
 */
import { z } from 'zod';
import { isValidTimezone } from './timewindow.ts';

const Pattern = z.union([
  z.string().min(1).max(2048),
  z.object({ regex: z.string().min(1).max(2048).refine((r) => { try { new RegExp(r, 'u'); return true; } catch { return false; } }, 'not a valid regular expression'), anchored: z.boolean().optional() }).strict(),
]);
const Patterns = z.array(Pattern).min(1).max(1000);
const Digest = z.string().regex(/^sha(256|384|512):[0-9a-f]+$/, 'sha256:<hex> (or sha384:, sha512:)');
const Fingerprint = z.string().regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'sha256:<64 hex>');
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');

export const TimeWindowSchema = z
  .object({
    timezone: z.string().refine(isValidTimezone, 'an IANA timezone like Europe/Berlin'),
    weekdays: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1).optional(),
    hours: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/, 'HH:MM-HH:MM').optional(),
    holidays: z.array(Day).optional(),
  })
  .strict();

export const RuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, dot, dash, underscore'),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    severity: z.enum(['info', 'low', 'medium', 'high', 'critical']).default('high'),
    owner: z.string().max(200).optional(),
    labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string().max(200)).optional(),
    notify: z.enum(['violations', 'all']).default('violations').describe('`all` also records every watched entry as an informational finding'),
    watch: z
      .object({
        identities: Patterns.optional().describe('Certificate SANs: exact, glob or {regex}'),
        issuers: Patterns.optional(),
        repositories: Patterns.optional().describe('Source repository URIs (Fulcio .12); scheme optional'),
        owners: Patterns.optional().describe('Repository owner URIs (Fulcio .16)'),
        buildSigners: Patterns.optional().describe('Build signer URIs (Fulcio .9)'),
        fingerprints: z.array(Fingerprint).min(1).optional(),
        digests: z.array(Digest).min(1).optional(),
      })
      .strict()
      .refine((w) => Object.keys(w).length > 0, 'watch needs at least one selector'),
    expect: z
      .object({
        issuers: Patterns.optional(),
        buildSigners: Patterns.optional().describe('workflow@ref patterns'),
        sourceRefs: Patterns.optional().describe('e.g. refs/tags/v*'),
        triggers: z.array(z.string()).min(1).optional().describe('Build triggers (Fulcio .20)'),
        runnerEnvironment: z.array(z.string()).min(1).optional().describe('e.g. github-hosted'),
        visibility: z.array(z.enum(['public', 'private', 'internal'])).min(1).optional(),
        keys: z.array(Fingerprint).min(1).optional().describe('Allowed signer certificate/key fingerprints'),
        kinds: z.array(z.string()).min(1).optional(),
        timeWindow: TimeWindowSchema.optional().describe('Also applied to the provenance startedOn/finishedOn when a statement is known'),
        provenance: z
          .object({
            required: z.boolean().default(false).describe('A watched entry without a known provenance statement breaks this expectation'),
            builders: Patterns.optional().describe('builder.id'),
            buildTypes: Patterns.optional(),
            sourceRepositories: Patterns.optional().describe('externalParameters.workflow.repository / resolvedDependencies / configSource / materials'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
    suppress: z
      .array(
        z
          .object({
            digest: Digest.optional(),
            identity: Pattern.optional(),
            until: Day.optional().describe('Suppress until this date (exclusive, UTC)'),
            reason: z.string().min(1).max(2000),
          })
          .strict()
          .refine((s) => s.digest !== undefined || s.identity !== undefined || s.until !== undefined, 'give digest, identity or until'),
      )
      .default([]),
  })
  .strict();

export const RuleFileSchema = z.object({ rules: z.array(RuleSchema).min(1) }).strict();

/** rekor-monitor's identity config (pkg/notifications, pkg/fulcio/extensions); only monitoredValues is used here. */
const OidMatcher = z.object({ objectIdentifier: z.union([z.array(z.number().int()), z.string()]), extensionValues: z.array(z.string()).min(1) }).strict();
export const RekorMonitorSchema = z
  .object({
    monitoredValues: z
      .object({
        certIdentities: z.array(z.object({ certSubject: z.string(), issuers: z.array(z.string()).optional() }).strict()).optional(),
        subjects: z.array(z.string()).optional(),
        fingerprints: z.array(z.string()).optional(),
        oidMatchers: z
          .object({
            fulcioExtensions: z.record(z.string(), z.array(z.string())).optional(),
            oidExtensions: z.array(OidMatcher).optional(),
            customExtensions: z.array(OidMatcher).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .passthrough();

export type Rule = z.output<typeof RuleSchema>;
export type RuleFile = z.output<typeof RuleFileSchema>;
export type RekorMonitorConfig = z.output<typeof RekorMonitorSchema>;
