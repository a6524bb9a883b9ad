/**
 * Rule files (monitor-rules/*.yaml): the zod schema, documented key by key in monitor-rules/README.md,
 * and the source of monitor-rules/schema.json (json-schema.ts). A file holds tlogwatch rules (`rules:`
 * and/or `builtins:`) or a sigstore/rekor-monitor identity config (`monitoredValues:`, reference/rekor.md
 * §4.3), never both. Shapes only: patterns and timezones are checked when compiled, with their location.
 */
import { z } from 'zod';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** A severity's place in SEVERITIES, for comparing two: `info` 0 up to `critical` 4. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Every expectation a rule can state; findings name the one that broke (`expect.sourceRefs`). */
export const EXPECTATIONS = [
  'expect.issuers',
  'expect.buildSigners',
  'expect.buildConfigs',
  'expect.repositories',
  'expect.owners',
  'expect.sourceRefs',
  'expect.triggers',
  'expect.runnerEnvironment',
  'expect.visibility',
  'expect.keys',
  'expect.kinds',
  'expect.timeWindow',
  'expect.provenance',
  'expect.provenance.predicateTypes',
  'expect.provenance.builders',
  'expect.provenance.buildTypes',
  'expect.provenance.sourceRepositories',
  'expect.provenance.sourceRefs',
  'expect.provenance.sourceDigest',
  'expect.provenance.startedOn',
  'expect.provenance.finishedOn',
] as const;
export type ExpectationName = (typeof EXPECTATIONS)[number];

const Pattern = z.union([
  z.string().min(1).max(2048).describe('Exact value, or an anchored glob: `*` = any run of characters except `/`, `**` = any run'),
  z.strictObject({ regex: z.string().min(1).max(2048).describe('RE2 regular expression (github.com/google/re2/wiki/Syntax), matched against the whole value as if anchored ^(?:…)$') }),
]);
const Patterns = z.array(Pattern).min(1).max(10_000);
const Texts = z.array(z.string().min(1).max(2048)).min(1).max(1000);
const Digest = z
  .string()
  .regex(/^(sha256|sha384|sha512):[0-9a-fA-F]+$/, 'a digest like sha256:<64 hex> (or sha384:, sha512:)')
  .describe('Artifact, payload, envelope or attestation subject digest');
const Fingerprint = z
  .string()
  .regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'a fingerprint like sha256:<64 hex>')
  .describe('SHA-256 of the DER certificate or DER SubjectPublicKeyInfo');
const daysInMonth = (year: number, month: number): number =>
  month === 2 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * Whether a date the patterns below allow (`YYYY-MM-DD…` or an every-year `MM-DD`) is a day of the calendar:
 * they allow 02-30 and 04-31, which Date.parse rolls over into the next month (an `until: 2027-02-30`
 * suppression held until March 3) and which a holiday could never be. An every-year 02-29 is a day.
 */
function isCalendarDay(s: string): boolean {
  const everyYear = /^\d\d-\d\d$/.test(s);
  if (!everyYear && !/^\d{4}-\d\d-\d\d/.test(s)) return true; // the pattern's message says what is wrong
  const [month, day] = (everyYear ? s : s.slice(5, 10)).split('-').map(Number) as [number, number];
  return day <= daysInMonth(everyYear ? 2000 : Number(s.slice(0, 4)), month);
}
const NO_SUCH_DAY = { message: 'no such day: that month is shorter' };
const Holiday = z
  .string()
  .regex(/^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a date YYYY-MM-DD, or MM-DD for every year')
  .refine(isCalendarDay, NO_SUCH_DAY);
const Hours = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'local hours HH:MM-HH:MM (end exclusive; may wrap midnight)');
const Instant = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/, 'a date YYYY-MM-DD (through the end of that day, UTC) or an RFC 3339 time')
  .refine(isCalendarDay, NO_SUCH_DAY);
export const Duration = z.string().regex(/^\d{1,9}(s|m|h|d)$/, 'a duration like 90s, 10m, 2h or 1d');
const Labels = z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'label names are [a-zA-Z_][a-zA-Z0-9_]*'), z.string().max(200));

export const TimeWindowSchema = z
  .strictObject({
    timezone: z.string().min(1).describe('IANA timezone, e.g. Europe/Berlin; local time comes from Intl, DST included'),
    weekdays: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1).optional().describe('Allowed local weekdays; default every day'),
    hours: z.union([Hours, z.array(Hours).min(1)]).optional().describe('Allowed local hours; default all day'),
    holidays: z.array(Holiday).optional().describe('Local dates with no signing expected: YYYY-MM-DD, or MM-DD every year'),
  })
  .describe('When signing is expected. Applies to the entry time (integratedTime, else the Fulcio certificate notBefore, else observedAt when the mirror observed the entry live, else provenance finishedOn/startedOn (the signer\'s claim), else observedAt; tlogwatch verify --rules: a signed time only, the SET-signed integratedTime else the earliest verified RFC 3161 timestamp)');

const Watch = z
  .strictObject({
    identities: Patterns.optional().describe('Certificate SANs: workflow URIs, emails (*@acme.com), other names'),
    issuers: Patterns.optional().describe('OIDC issuers (Fulcio .8, else .1); alone, watches everything that issuer signs'),
    repositories: Patterns.optional().describe('Source repository URIs (Fulcio .12); a scheme-less pattern means https://'),
    owners: Patterns.optional().describe('Source repository owner URIs (Fulcio .16)'),
    buildSigners: Patterns.optional().describe('Build signer URIs (Fulcio .9; in GitHub Actions certificates older than .9, the SAN)'),
    fingerprints: z.array(Fingerprint).min(1).optional().describe('Signer certificate or key fingerprints; a certificate also matches by its key\'s'),
    digests: z.array(Digest).min(1).optional().describe('Digests the entry carries'),
  })
  .refine((w) => Object.values(w).some((v) => v !== undefined), 'watch needs at least one selector')
  .describe('Which entries are yours: an entry is watched when ANY selector matches ANY of its signers');

const Provenance = z
  .strictObject({
    required: z.boolean().default(false).describe('A watched entry with no known in-toto statement breaks expect.provenance'),
    predicateTypes: Texts.optional().describe('Allowed predicate types'),
    builders: Patterns.optional().describe('SLSA builder.id'),
    buildTypes: Patterns.optional().describe('SLSA buildType'),
    sourceRepositories: Patterns.optional().describe('v1 externalParameters.workflow.repository / resolvedDependencies; v0.2 invocation.configSource / materials'),
    sourceRefs: Patterns.optional().describe('Source ref named by the statement'),
    matchCertificate: z.boolean().default(true).describe("The statement's source repository and commit must equal the certificate's (Fulcio .12, .13; in GitHub certificates older than those, .5 and .3) when both are known"),
  })
  .describe('What the build provenance statement must say; startedOn/finishedOn are also checked against timeWindow');

const Expect = z
  .strictObject({
    issuers: Patterns.optional().describe('OIDC issuer (Fulcio .8, else .1)'),
    buildSigners: Patterns.optional().describe('Build signer URI (Fulcio .9; in GitHub Actions certificates older than .9, the SAN): workflow@ref patterns'),
    buildConfigs: Patterns.optional().describe('Build config URI (Fulcio .18): the top-level workflow@ref that ran; with a reusable workflow, the caller\'s workflow file, where buildSigners names the reusable one'),
    repositories: Patterns.optional().describe('Source repository URI (Fulcio .12; GitHub certificates with only .5 derive it), as watch.repositories: with a reusable workflow it is the caller, not the build signer'),
    owners: Patterns.optional().describe('Source repository owner URI (Fulcio .16; GitHub certificates with only .5 derive it), as watch.owners'),
    sourceRefs: Patterns.optional().describe('Source repository ref (Fulcio .14, else .6), e.g. refs/tags/v*'),
    triggers: Patterns.optional().describe('Build trigger (Fulcio .20, else .2), e.g. push, release'),
    runnerEnvironment: Patterns.optional().describe('Runner environment (Fulcio .11), e.g. github-hosted'),
    visibility: z.array(z.enum(['public', 'private', 'internal'])).min(1).optional().describe('Repository visibility at signing (Fulcio .22)'),
    keys: z.array(Fingerprint).min(1).optional().describe('Allowed fingerprints: every signer, by its own or (a certificate) its key\'s, must be one of these'),
    kinds: Texts.optional().describe('Allowed entry kinds (hashedrekord, dsse, intoto, …)'),
    timeWindow: TimeWindowSchema.optional(),
    provenance: Provenance.optional(),
  })
  .describe('What a legitimate entry of yours looks like: a watched entry must satisfy ALL of these');

const Suppression = z
  .strictObject({
    digest: Digest.optional().describe('Only entries carrying this digest'),
    identity: Pattern.optional().describe('Only entries signed by this identity (SAN)'),
    expectations: z.array(z.enum(EXPECTATIONS)).min(1).optional().describe('Only these broken expectations'),
    until: Instant.optional().describe('Only until then (a bare date includes that whole day, UTC)'),
    reason: z.string().min(1).max(2000).describe('Why this is known-good; kept on every suppressed finding'),
  })
  .refine((s) => s.digest !== undefined || s.identity !== undefined || s.expectations !== undefined || s.until !== undefined, 'give digest, identity, expectations or until')
  .describe('A known-good exception: matching findings are still returned, marked suppressed with the reason');

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'an id of lower-case letters, digits, dot, dash, underscore (max 64)'),
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(4000).optional(),
  severity: z.enum(SEVERITIES).default('high'),
  owner: z.string().min(1).max(200).optional().describe('Who answers for this rule (a team or an address)'),
  labels: Labels.optional(),
  notify: z.enum(['violations', 'all']).default('violations').describe('`all` also records every watched entry as an info finding'),
  watch: Watch,
  expect: Expect.default({}),
  suppress: z.array(Suppression).default([]),
});

const BuiltinCommon = { owner: z.string().min(1).max(200).optional(), labels: Labels.optional() };
export const BuiltinsSchema = z
  .strictObject({
    'log-integrity': z
      .strictObject({ severity: z.enum(SEVERITIES).default('critical'), ...BuiltinCommon })
      .optional()
      .describe('Raised by the mirror when a log misbehaves (bad signature, fork, shrinking tree, rewritten entry)'),
    'mirror-stalled': z
      .strictObject({
        severity: z.enum(SEVERITIES).default('high'),
        after: Duration.optional().describe('No newly verified checkpoint and no entries stored for this long while upstream grows; default: the daemon\'s stalledAfter (10m)'),
        logs: Texts.optional().describe('Only these logs (mirror names); default all'),
        ...BuiltinCommon,
      })
      .optional(),
    'undecoded-entry': z
      .strictObject({
        enabled: z.boolean().default(true),
        severity: z.enum(SEVERITIES).default('low').describe("For an entry whose body names nothing a rule watches; one that names a watched value takes that rule's severity when higher"),
        watchedOnly: z.boolean().default(true).describe('Raise it only for an entry whose body names a value a rule watches (the default: anyone can log undecodable entries to Rekor, and every finding is sent to every channel); false raises every such entry, as certspotter does'),
        logs: Texts.optional().describe('Only these logs (mirror names); default all'),
        ...BuiltinCommon,
      })
      .optional()
      .describe('Raised for each entry whose body the decoder did not fully understand (its signer may be lost to the rules), as certspotter notifies about each certificate it cannot parse'),
  })
  .describe('Settings of the rules the mirror raises itself');

export const RuleFileSchema = z
  .strictObject({ rules: z.array(RuleSchema).min(1).optional(), builtins: BuiltinsSchema.optional() })
  .refine((f) => f.rules !== undefined || f.builtins !== undefined, 'a rule file needs `rules:` or `builtins:` (or is a rekor-monitor config with `monitoredValues:`)');

/** rekor-monitor's matchers of one OID (pkg/fulcio/extensions OIDExtension, CustomExtension). */
const ExtensionValues = z.array(z.string().min(1)).min(1);
const OidExtension = z.strictObject({ objectIdentifier: z.array(z.number().int().nonnegative()).min(2), extensionValues: ExtensionValues });
const CustomExtension = z.strictObject({ objectIdentifier: z.string().regex(/^\d+(\.\d+)+$/, 'a dotted OID like 1.3.6.1.4.1.57264.1.9'), extensionValues: ExtensionValues });
const Re2 = z.string().min(1).max(2048).describe('RE2 regular expression, unanchored as in rekor-monitor');

/**
 * rekor-monitor's identity config. Only `monitoredValues` drives matching; its other keys (startIndex,
 * outputIdentities, githubIssue, emailNotification*, …) are accepted and ignored, so the same file keeps
 * working in rekor-monitor. The optional `tlogwatch:` key names the rule (yaml.v2 ignores unknown keys).
 */
export const RekorMonitorSchema = z.looseObject({
  monitoredValues: z
    .strictObject({
      certIdentities: z.array(z.strictObject({ certSubject: Re2, issuers: z.array(Re2).optional() })).optional(),
      subjects: z.array(Re2).optional(),
      fingerprints: z.array(z.string().min(1)).optional(),
      oidMatchers: z
        .strictObject({
          fulcioExtensions: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
          oidExtensions: z.array(OidExtension).optional(),
          customExtensions: z.array(CustomExtension).optional(),
        })
        .optional(),
    })
    .refine((m) => Object.values(m).some((v) => v !== undefined), 'no identities provided to monitor'),
  tlogwatch: z
    .strictObject({
      id: RuleSchema.shape.id.optional(),
      name: z.string().min(1).max(200).optional(),
      severity: z.enum(SEVERITIES).default('medium'),
      owner: z.string().min(1).max(200).optional(),
      labels: Labels.optional(),
    })
    .optional()
    .describe('tlogwatch settings for this rekor-monitor config'),
});

export type Rule = z.output<typeof RuleSchema>;
export type RuleFile = z.output<typeof RuleFileSchema>;
export type Builtins = z.output<typeof BuiltinsSchema>;
export type TimeWindowSpec = z.output<typeof TimeWindowSchema>;
export type RekorMonitorConfig = z.output<typeof RekorMonitorSchema>;
export type PatternSpecs = z.output<typeof Patterns>;
