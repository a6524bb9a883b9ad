/**
 * The `tlogwatch serve` configuration: a YAML file validated with zod before anything starts. Every key has
 * a default and is documented here (`.describe`) and in docs/configuration.md; unknown keys are rejected
 * (`.strict()`), so a typo is an error rather than a silently ignored setting.
 */
import { isIP } from 'node:net';
import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { parseVerifierKey } from '../note/keys.ts';
import { hasCredentials } from '../util/url.ts';
import { checkLogHeaderSources, LogHeaderFiles, LogHeaders } from './log-headers.ts';
import { SHARED_KEY_WHY, sharedWitnessKey, WITNESS_KEY_TYPES } from '../note/witness-policy.ts';
import { tufRootRequired } from '../trust/tuf.ts';
import { SEVERITIES } from '../monitor/rules/schema.ts';

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Entries per atomic batch unless configured, by index mode. The catch-up holds about three batches'
 * buffers at once (one fetched, one verified, one written), and with `index: all` each entry brings ~9
 * index keys to its write batch, so the batch size sets much of the peak memory:
 * - 2,048 (4,096 until 2026-11-27) peaked 25–45 MB lower than 4,096 at 1M entries, for 5–8% of the speed.
 * - With `index: all`, 1,024 peaked 20–35 MB lower than 2,048 at 1M, 275–280 MB against 309–311 at 4M,
 *   at the same speed at 1M and 7–10% less at 4M (2026-11-28, BENCHMARKS.md "Ingest").
 * - With `index: watched` (a few keys per entry, 230–260 MB at 1M either way) 1,024 cost ~5% of the speed.
 */
export function defaultBatchSize(index: 'all' | 'watched'): number {
  return index === 'all' ? 1024 : 2048;
}

/** `500ms`, `5s`, `10m`, `2h`, `1d`, or a number of milliseconds; parsed to milliseconds. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,9}(ms|s|m|h|d)$/, 'a duration like 500ms, 5s, 10m, 2h or 1d')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
    return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  });

const durationAtLeast = (ms: number, what: string) => Duration.pipe(z.number().min(ms, `${what} must be at least ${ms} ms`));

/** `latest`, or a log index (a number, or a quoted string for indexes past 2^53). */
/** The largest log index: Rekor's are int64 (rekor.md §1), and the store keys indexes as 64-bit numbers. */
const MAX_INDEX = 2n ** 63n - 1n;

export const Start = z
  .union([z.literal('latest'), z.number().int().nonnegative(), z.bigint().nonnegative(), z.string().regex(/^(0|[1-9]\d{0,19})$/, '"latest" or a log index')])
  .transform((v) => (v === 'latest' ? ('latest' as const) : BigInt(v)))
  .refine((v) => v === 'latest' || v <= MAX_INDEX, `a log index is at most 2^63 - 1 (${MAX_INDEX})`);

/** pino's levels; `log.level`, or TLOGWATCH_LOG_LEVEL over it (load.ts). */
export const LogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

const Cron = z.string().refine((s) => validCron(s), 'a cron expression such as "*/30 * * * *" (minute hour day month weekday)');
/**
 * An http(s) URL without credentials (util/url.ts): every one of these is shown somewhere (a log's in GET
 * /v1/logs, /readyz and error messages, any in log lines), and fetch, which notifications use, would not send
 * them but put the whole URL in its error. A webhook's own secret goes in its path or query, never shown
 * (notifications name only the host).
 */
const HttpUrl = z
  .url({ protocol: /^https?$/, error: (iss) => (iss.input === undefined ? 'required' : 'an http:// or https:// URL') })
  .refine(
    (u) => !hasCredentials(u),
    'credentials in a URL (user:password@host) are refused: tlogwatch shows its URLs (GET /v1/logs, /readyz, log lines, error messages); remove them (a log authenticates with `headers`, a checkpoint source with `token`, a webhook with the secret in its path)',
  );

const WitnessKeys = z
  .array(
    z.string().superRefine((k, ctx) => {
      try {
        const v = parseVerifierKey(k);
        if (v.kind !== 'cosignature') ctx.addIssue({ code: 'custom', message: `not a witness key: ${v.name}'s key is type ${v.kind}, a witness cosigns with ${WITNESS_KEY_TYPES}` });
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
      }
    }),
  )
  .min(1)
  .describe(
    'Verifier keys of the witnesses (`name+hash+base64`): Ed25519 cosignature/v1 (type 0x04) or ML-DSA-44 (type 0x06, tlog-cosignature v1.1), as their operators publish them (witness-network.org lists them). One key under two names is refused.',
  );
const WitnessQuorum = z.number().int().min(1).describe('How many of those witnesses must have cosigned a checkpoint before the mirror verifies up to it.');
const Witnesses = z.object({ keys: WitnessKeys, quorum: WitnessQuorum }).strict();

/** A quorum the keys can meet, and each witness once: by name, and by key (note/witness-policy.ts sharedWitnessKey says why). */
function checkWitnessSet(w: { keys: readonly string[]; quorum: number }, ctx: z.RefinementCtx, at: PropertyKey[]): void {
  if (w.quorum > w.keys.length) ctx.addIssue({ code: 'custom', path: [...at, 'quorum'], message: `${w.quorum} is more than the ${w.keys.length} witnesses listed` });
  const names = w.keys.map((k) => k.slice(0, k.indexOf('+')));
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [...at, 'keys', i], message: `witness ${n} is listed twice` });
  });
  const shared = sharedWitnessKey(w.keys);
  if (shared && names[shared.first] !== names[shared.second]) {
    const [a, b] = [names[shared.first], names[shared.second]];
    ctx.addIssue({ code: 'custom', path: [...at, 'keys', shared.second], message: `witnesses ${a} and ${b} have the same public key: ${SHARED_KEY_WHY}` });
  }
}

const WitnessPolicyConfig = z
  .object({
    origins: z
      .array(z.string().min(1))
      .min(1)
      .describe('Checkpoint origins of the tiles logs this policy applies to: exact (`log2025-alpha3.rekor.sigstage.dev`) or globs (`*.rekor.sigstage.dev`), so it also covers shards the trusted root lists later.'),
    keys: WitnessKeys,
    quorum: WitnessQuorum,
  })
  .strict();

export const LogConfig = z
  .object({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (at most 64)')
      .describe('Name of the log in this mirror: API paths (/v1/entries/{log}/…), metric labels, store keys. Changing it starts a new mirror.'),
    type: z.enum(['tiles', 'rekor-v1']).describe('`tiles` for C2SP tlog-tiles logs (Rekor v2), `rekor-v1` for the Rekor v1 REST API.'),
    url: HttpUrl.describe('Tiles: the URL prefix the tiles live under (e.g. https://log2025-1.rekor.sigstore.dev). Rekor v1: the server URL (e.g. https://rekor.sigstore.dev).'),
    origin: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Checkpoint origin line (tiles) or signer name (Rekor v1, without the " - <treeID>" each checkpoint adds). Default: the name of the trusted root log with this URL. With another URL (a proxy), the trusted root log of this name is followed. One the trusted root contradicts is refused at start.',
      ),
    start: Start.default('latest').describe('Where a new mirror begins: `latest` (from the current tree size on), or an index (0 = the whole log). Ignored once the mirror has state; `tlogwatch backfill` fills in the entries before it later.'),
    pollInterval: durationAtLeast(100, 'pollInterval').default(5000).describe('How often to poll for a new checkpoint when caught up.'),
    concurrency: z.number().int().min(1).max(64).default(8).describe('Requests in flight at once for this log.'),
    requestsPerMinute: z.number().int().min(0).default(500).describe('Request budget for this log (public Rekor v1 throttles around 500/min); 0 = unlimited.'),
    batchSize: z.number().int().min(10).max(100_000).optional().describe('Entries fetched, verified and committed per atomic batch. Default: 1024 with `index: all`, 2048 with `index: watched`.'),
    compression: z
      .enum(['gzip', 'none'])
      .default('gzip')
      .describe('Ask the log for gzip-compressed responses, or (`none`) for uncompressed ones: on a fast link, such as a log on the same host or network, `none` saves the CPU of inflating every entry (BENCHMARKS.md "Ingest").'),
    headers: LogHeaders.optional(),
    headerFiles: LogHeaderFiles.optional(),
    witnesses: Witnesses.optional().describe(
      'Tiles logs: accept only checkpoints cosigned by a quorum of these witnesses, so the mirror sees the tree the witnesses (and clients that require them) see. A checkpoint short of the quorum is not used; the mirror waits for one that reaches it. Overrides `witnessPolicies`.',
    ),
  })
  .strict()
  .superRefine((l, ctx) => {
    checkLogHeaderSources(l, ctx);
    if (!l.witnesses) return;
    if (l.type !== 'tiles') ctx.addIssue({ code: 'custom', path: ['witnesses'], message: 'only tiles logs have cosigned checkpoints (Rekor v1 signs its own only)' });
    checkWitnessSet(l.witnesses, ctx, ['witnesses']);
  });

/** Placeholders a `checkpoint` source's URL may hold, filled per log (src/sources/checkpoint-source.ts). */
export const CHECKPOINT_URL_PLACEHOLDERS = ['{log}', '{origin}', '{originSha256}'] as const;

const CheckpointSourceConfig = z
  .object({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (at most 64)')
      .describe('Name of the source in metric labels, findings and logs.'),
    kind: z
      .enum(['tlogwatch', 'distributor', 'rekor', 'checkpoint'])
      .describe(
        '`tlogwatch`: another tlogwatch (its latest verified checkpoint of each log, GET /v1/logs/{log}/checkpoints). `distributor`: a transparency-dev checkpoint distributor (GET /distributor/v0/logs/<SHA-256("o:" + origin)>/checkpoint.<witnesses>). `rekor`: a Rekor v1 API (GET /api/v1/log: its signedTreeHead, and its inactive shards\' final ones): a Rekor v1 log through another network path, or another mirror\'s Rekor-compatible API. `checkpoint`: a URL that serves a checkpoint as a signed note: a tiles log seen through another network path, a witness, a file published elsewhere.',
      ),
    url: HttpUrl.describe('Base URL (tlogwatch, distributor, rekor), or for `checkpoint` the URL itself, which may hold {log}, {origin} and {originSha256} (hex SHA-256 of the checkpoint origin).'),
    logs: z.array(z.string().min(1)).min(1).optional().describe('Names of the followed logs to compare with this source. Default: every followed log.'),
    witnesses: z.number().int().min(0).max(100).optional().describe('Distributor only: ask for a checkpoint cosigned by at least this many witnesses (default 1).'),
    token: z
      .string()
      .min(16, 'at least 16 characters')
      // A bearer token is one run of non-space characters (RFC 6750 §2.1, b64token), so a token holding
      // whitespace matches no request, and admin endpoints would refuse every caller with no clue why.
      .regex(/^\S+$/, 'contains whitespace (a trailing newline from a secret file or `echo`?): a bearer token cannot, so no request could match it')
      .optional()
      .describe('Bearer token sent to the source (a peer behind an authenticating proxy). Write `${PEER_TOKEN}` rather than the secret. Not sent on to another origin a redirect points at.'),
    interval: durationAtLeast(10_000, 'interval').default(300_000).describe('How often to fetch and compare this source\'s checkpoints.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.witnesses !== undefined && c.kind !== 'distributor') ctx.addIssue({ code: 'custom', path: ['witnesses'], message: 'only a distributor serves checkpoints by number of witnesses' });
    if (c.kind === 'checkpoint' && !CHECKPOINT_URL_PLACEHOLDERS.some((p) => c.url.includes(p)) && c.logs?.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['logs'], message: `a checkpoint URL without ${CHECKPOINT_URL_PLACEHOLDERS.join(', ')} serves one log: name exactly one` });
    }
  });

/**
 * A channel's floor: findings below it are not queued for it (daemon.ts findingWriter). Every finding goes to
 * every channel otherwise, `info` and `low` ones included, so a pager can take only what pages.
 */
const minSeverity = z.enum(SEVERITIES).optional().describe('Only findings of this severity or higher are sent here (info, low, medium, high, critical); default every finding.');

const Webhook = z
  .object({
    url: HttpUrl.describe('Endpoint that receives findings as JSON POSTs.'),
    minSeverity,
    secret: z.string().min(16, 'at least 16 characters').optional().describe('HMAC-SHA256 key: each request carries a signature header of the body. Use ${ENV} interpolation.'),
  })
  .strict();

/** How long one notification may take (an email, a command's run): 1 s to 10 minutes. */
const sendTimeout = Duration.pipe(z.number().min(1000, 'timeout must be at least 1000 ms').max(600_000, 'timeout must be at most 600000 ms (10m)'));

const Email = z
  .object({
    smtp: z.url({ protocol: /^smtps?$/, error: (iss) => (iss.input === undefined ? 'required' : 'an smtp:// or smtps:// URL (credentials may be in it, via ${ENV})') }).describe('SMTP server URL, e.g. smtps://user:${SMTP_PASSWORD}@smtp.example.com:465.'),
    from: z.email().describe('Sender address.'),
    to: z.array(z.email()).min(1).describe('Recipients.'),
    timeout: sendTimeout
      .default(120_000)
      .describe('How long sending one email may take (connecting, the SMTP dialogue, the server confirming it) before it is abandoned and counted as a failure, to be retried.'),
    minSeverity,
  })
  .strict();

/**
 * Names the configured environment of a command may set: any but TLOGWATCH_*, which tlogwatch sets for
 * each finding (src/notify/command.ts), so a variable of that name always describes the finding.
 */
const CommandEnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name (letters, digits and _, at most 128)')
  .refine((n) => !n.startsWith('TLOGWATCH_'), 'TLOGWATCH_* variables are set by tlogwatch for each finding');
/** execve(2) takes NUL-terminated strings: an argument or a variable with a NUL in it would fail every run. */
const noNul = [(s: string) => !s.includes('\0'), 'a NUL character cannot be passed to a process'] as const;

const Command = z
  .object({
    command: z
      .array(z.string().min(1, 'an empty argument').max(4096).refine(...noNul), {
        error: (iss) => (iss.code === 'invalid_type' && iss.input !== undefined ? 'a list, [program, arguments…]: it runs without a shell, so a command line in one string is not split' : undefined),
      })
      .min(1, 'the program to run, then its arguments')
      .max(64)
      .describe('The program and its arguments, run directly (no shell). Prefer an absolute path; a bare name is looked up in PATH.'),
    timeout: sendTimeout
      .default(30_000)
      .describe('How long one run may take before it is killed (SIGTERM, then SIGKILL 5 s later) and counted as a failure.'),
    env: z
      .record(CommandEnvName, z.string().max(8192).refine(...noNul))
      .refine((e) => Object.keys(e).length <= 64, 'at most 64 variables')
      .default({})
      .describe('Environment variables for the command, besides PATH, HOME, LANG, LC_ALL and TZ (passed on from the daemon) and the TLOGWATCH_* ones that describe the finding.'),
    minSeverity,
  })
  .strict();

/**
 * A browser's Origin header, `scheme://host[:port]`, exactly as it is compared: `https://dash.example.com/`
 * (a trailing slash), a path or `*` would never equal one, and the dashboard would be refused in silence.
 */
const CorsOrigin = z.string().refine((o) => {
  try {
    return new URL(o).origin === o;
  } catch {
    return false;
  }
}, 'an origin as browsers send it, scheme://host[:port] with no path or trailing slash, e.g. https://dash.example.com');

/** An IP address or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`), as node:net's BlockList takes it. */
const ProxyAddress = z.string().refine((v) => {
  const [address = '', bits, ...rest] = v.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}, 'an IP address or a CIDR range, e.g. 10.0.0.5, 10.0.0.0/8 or fd00::/8');

/** The admin bearer token, from `api.adminToken` or the file `api.adminTokenFile` names (config/admin-token.ts). */
export const AdminToken = z
  .string()
  .min(16, 'at least 16 characters')
  // A bearer token is one run of non-space characters (RFC 6750 §2.1, b64token), so a token holding
  // whitespace matches no request, and admin endpoints would refuse every caller with no clue why.
  .regex(/^\S+$/, 'contains whitespace (a trailing newline from a secret file or `echo`?): a bearer token cannot, so no request could match it');

const Api = z
  .object({
    adminToken: AdminToken.optional().describe(
      'Bearer token for the admin endpoints (POST /v1/findings/{id}/ack, POST /v1/bundles, POST /v1/checkpoints). Write `${TLOGWATCH_ADMIN_TOKEN}` rather than the secret, or use adminTokenFile. Unset (and no adminTokenFile) = admin endpoints disabled.',
    ),
    adminTokenFile: z
      .string()
      .min(1)
      .optional()
      .describe('A file holding the admin bearer token (a Docker or Kubernetes secret), read when serve starts; one trailing newline is dropped. Instead of adminToken.'),
    maxBodyBytes: z.number().int().min(1024).max(64 << 20).default(1 << 20).describe('Largest request body accepted, in bytes.'),
    maxConnections: z
      .number()
      .int()
      .min(16)
      .max(65_536)
      .default(1024)
      .describe('Open API connections at most; one more is closed at once and counted in tlogwatch_http_connections_dropped_total. Bounds the file descriptors and memory clients can hold.'),
    searchEntriesInFlight: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(1000)
      .describe(
        'Entries of pages being served at once, across all clients (a /v1/search page counts its index scan, its `limit` at eight keys an entry, then the entries it found; checkpoint pages their `limit`; Rekor\'s POST /api/v1/index/retrieve a page of its scan, then each page of entries it decodes, and its POST /api/v1/log/entries/retrieve 40 an item, an entry with its proof); 0 = no bound. A page that finds no room within 2 s (or 64 already waiting) is answered 429 with Retry-After and counted in tlogwatch_api_search_rejected_total. Keeps heavy searches from taking the event loop the mirror runs on.',
      ),
    rateLimit: z
      .object({
        requestsPerMinute: z.number().int().min(1).describe('Requests per minute per client (an IPv4 address, an IPv6 /64).'),
        trustedProxies: z
          .array(ProxyAddress)
          .default([])
          .describe('Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client; from anyone else the header is ignored. Without them, every client behind a proxy shares its budget.'),
      })
      .strict()
      .optional()
      .describe('Per-client request budget for the API; unset = no limit.'),
    cors: z
      .object({ origins: z.array(CorsOrigin).describe('Origins allowed to call the API from a browser, e.g. https://dash.example.com.') })
      .strict()
      .optional()
      .describe('CORS; unset = no cross-origin access.'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.adminToken !== undefined && a.adminTokenFile !== undefined) ctx.addIssue({ code: 'custom', path: ['adminTokenFile'], message: 'adminToken is set too: give the token one way' });
  });

const Notify = z
  .object({
    webhooks: z.array(Webhook).default([]).describe('Generic JSON webhooks.'),
    slack: z.array(z.object({ url: HttpUrl.describe('Slack incoming-webhook URL.'), minSeverity }).strict()).default([]).describe('Slack incoming webhooks.'),
    alertmanager: z.array(z.object({ url: HttpUrl.describe('Alertmanager base URL (alerts go to /api/v2/alerts).'), minSeverity }).strict()).default([]).describe('Prometheus Alertmanager instances.'),
    email: z.array(Email).default([]).describe('Email via SMTP.'),
    commands: z.array(Command).default([]).describe('Programs run once per finding, with the finding as JSON on stdin and TLOGWATCH_* environment variables.'),
  })
  .strict()
  .superRefine((n, ctx) => {
    // The outbox keys a row by its channel's index in one byte (notify/outbox.ts).
    const count = n.webhooks.length + n.slack.length + n.alertmanager.length + n.email.length + n.commands.length;
    if (count > 256) ctx.addIssue({ code: 'custom', message: `${count} channels; at most 256 in all` });
  });

const JOB_DEFAULTS = { reverify: '*/30 * * * *', reverifyWindow: 65_536, trustedRootRefresh: '17 */6 * * *', dailyDigest: '0 8 * * *', compaction: '40 3 * * *' };

const Jobs = z
  .object({
    reverify: Cron.default(JOB_DEFAULTS.reverify).describe('Cron: re-hash a window of stored entries against the stored tree hashes and verified roots; the retiredShards job (finished Rekor v1 trees complete, their final roots rebuilt) runs on the same schedule.'),
    reverifyWindow: z
      .number()
      .int()
      .min(256)
      .max(100_000_000)
      .default(JOB_DEFAULTS.reverifyWindow)
      .describe('Entries per log each reverify run re-hashes, carrying on where the last run stopped: a sweep of N entries takes N / reverifyWindow runs.'),
    trustedRootRefresh: Cron.default(JOB_DEFAULTS.trustedRootRefresh).describe('Cron: read the trusted root again (via TUF, or the `trustedRoot` file) and follow or report the logs it newly lists.'),
    dailyDigest: Cron.default(JOB_DEFAULTS.dailyDigest).describe('Cron: daily digest of findings to the notification channels.'),
    compaction: Cron.default(JOB_DEFAULTS.compaction).describe('Cron: LevelDB compaction.'),
  })
  .strict();

/** A log URL as the daemon matches it to the trusted root (daemon.ts `sameUrl`), host case and default port aside. */
export function sameLogUrl(url: string): string {
  return new URL(url).href.replace(/\/+$/, '');
}

export const ConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./data').describe('Directory for the LevelDB store and the TUF cache.'),
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080')
      .refine((s) => !/:\d+$/.test(s) || Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535')
      .default('127.0.0.1:8080')
      .describe('Address of the HTTP API and /metrics. Loopback by default; put a TLS proxy in front to expose it.'),
    trustedRoot: z.string().min(1).optional().describe('Path of a Sigstore trusted_root.json. Default: Sigstore public-good, fetched and verified via TUF.'),
    tufCacheDir: z.string().min(1).optional().describe('Where the TUF client caches metadata. Default: <dataDir>/tuf.'),
    tufMirror: HttpUrl.optional().describe(
      "TUF repository the trusted root (and signing config) come from: a private Sigstore deployment's, or staging's. Default: Sigstore public-good, https://tuf-repo-cdn.sigstore.dev, whose first root is built in. Not with `trustedRoot`.",
    ),
    tufRoot: z
      .string()
      .min(1)
      .optional()
      .describe("Path of the TUF repository's root.json to start the chain of trust from (trusted as given on the cache's first use; TUF verifies every later root). Needed with a `tufMirror` other than public-good's. Not with `trustedRoot`."),
    signingConfigs: z
      .array(z.string().min(1))
      .default([])
      .describe("Paths of Sigstore signing_config.json (v0.2) files: they say which Rekor API each log speaks (majorApiVersion 1 = rekor-v1, 2 = tiles) for the logs followed from the trusted root. Default: none with `trustedRoot`, else the public-good one via TUF; without one, a log's type is guessed from its key."),
    logs: z
      .array(LogConfig)
      .default([])
      .describe('Logs to follow. Each must be in the trusted root (its key verifies the checkpoints). Empty = every log of the trusted root valid now, from `latest`, the others the store mirrors, and each log the root lists later, from its first entry (jobs.trustedRootRefresh).'),
    witnessPolicies: z
      .array(WitnessPolicyConfig)
      .default([])
      .describe('Witness policies by log origin, for tiles logs followed without their own `logs[].witnesses`: those from the trusted root included, and the shards it lists later. The first policy whose origins match applies.'),
    checkpointSources: z
      .array(CheckpointSourceConfig)
      .default([])
      .describe(
        "Other places to get the logs' checkpoints from (peers, distributors, witnesses, another network path). Each checkpoint the log signed is compared with the history it published to this mirror: another root at the same size is a split view, a critical log-integrity finding with both signed checkpoints as evidence.",
      ),
    index: z
      .enum(['all', 'watched'])
      .default('all')
      .describe('`all`: full indexes (digest, identity, issuer, repository, owner, build signer, fingerprint, time) for every entry. `watched`: full indexes only for entries the rules watch; digests for all.'),
    rules: z.string().min(1).optional().describe('Directory of monitor rule files (YAML), reloaded when they change. Unset = no rules.'),
    stalledAfter: durationAtLeast(1000, 'stalledAfter').default(600_000).describe('Raise a mirror-stalled finding when no checkpoint verified and no entries were stored for this long while the log grows, or when the log has shown the mirror the same tree this long while a checkpoint source has a larger one the log signed (a frozen view).'),
    api: Api.default({ maxBodyBytes: 1 << 20, maxConnections: 1024, searchEntriesInFlight: 1000 }).describe('HTTP API settings.'),
    notify: Notify.default({ webhooks: [], slack: [], alertmanager: [], email: [], commands: [] }).describe('Where findings are pushed (each through a durable outbox with retries).'),
    jobs: Jobs.default(JOB_DEFAULTS).describe('Scheduled jobs (node-cron expressions, local time).'),
    log: z
      .object({ level: LogLevel.default('info').describe('pino log level; TLOGWATCH_LOG_LEVEL in the environment overrides it.') })
      .strict()
      .default({ level: 'info' })
      .describe('Daemon logging (JSON lines on stderr).'),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.witnessPolicies.forEach((w, i) => checkWitnessSet(w, ctx, ['witnessPolicies', i]));
    for (const k of ['tufMirror', 'tufRoot'] as const) {
      if (c.trustedRoot && c[k]) ctx.addIssue({ code: 'custom', path: [k], message: 'has no effect with trustedRoot (the trusted root is then read from that file, not TUF)' });
    }
    if (!c.tufRoot && tufRootRequired(c.tufMirror)) {
      ctx.addIssue({ code: 'custom', path: ['tufRoot'], message: `required with tufMirror ${c.tufMirror}: only the public-good repository's first root is built in` });
    }
    const sourceNames = new Map<string, number>();
    c.checkpointSources.forEach((src, i) => {
      const first = sourceNames.get(src.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['checkpointSources', i, 'name'], message: `duplicate source name (also checkpointSources.${first}.name)` });
      else sourceNames.set(src.name, i);
      if (c.logs.length === 0) return;
      src.logs?.forEach((l, j) => {
        if (!c.logs.some((x) => x.name === l)) ctx.addIssue({ code: 'custom', path: ['checkpointSources', i, 'logs', j], message: `no log named ${l} in \`logs\`` });
      });
    });
    const seen = new Map<string, number>();
    const urls = new Map<string, number>();
    c.logs.forEach((l, i) => {
      const first = seen.get(l.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['logs', i, 'name'], message: `duplicate log name (also logs.${first}.name)` });
      else seen.set(l.name, i);
      // The same log under two names would be mirrored twice: twice the requests, every finding raised and
      // sent twice, under names that look like two logs. Zod runs these checks even when a field failed its
      // own (HttpUrl has said what is wrong with a url that is none), so a url here may be any string.
      if (!URL.canParse(l.url)) return;
      const url = sameLogUrl(l.url);
      const firstUrl = urls.get(url);
      if (firstUrl !== undefined) ctx.addIssue({ code: 'custom', path: ['logs', i, 'url'], message: `the same log as logs.${firstUrl} (${c.logs[firstUrl]!.name}): each log once` });
      else urls.set(url, i);
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type LogConfigT = z.infer<typeof LogConfig>;
export type CheckpointSourceConfigT = z.infer<typeof CheckpointSourceConfig>;
