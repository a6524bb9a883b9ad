/**
 * The `tlogwatch serve` configuration: a YAML file validated with zod before anything starts. Every key is
 * documented here (`.describe`) and in docs/configuration.md; unknown keys are rejected (`.strict()`).
 */
import { z } from 'zod';

/** `5s`, `10m`, `2h`, `500ms` or a number of milliseconds. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 500ms, 5s, 10m, 2h or 1d')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
    return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  });

const Start = z
  .union([z.literal('latest'), z.number().int().nonnegative(), z.string().regex(/^\d+$/, '"latest" or an index')])
  .transform((v) => (v === 'latest' ? ('latest' as const) : BigInt(v)));

export const LogConfig = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore').describe('Name of the log in this mirror (API paths, metric labels).'),
    type: z.enum(['tiles', 'rekor-v1']).describe('`tiles` for C2SP tlog-tiles logs (Rekor v2), `rekor-v1` for the Rekor v1 REST API.'),
    url: z.url({ protocol: /^https?$/ }).describe('Tiles: the URL prefix (e.g. https://log2025-1.rekor.sigstore.dev). Rekor v1: the server URL.'),
    origin: z.string().min(1).optional().describe('Checkpoint origin (tiles) or signer host (Rekor v1); default: derived from the URL.'),
    start: Start.default('latest').describe('`latest` (mirror from now on), or the first index to mirror (0 = everything).'),
    pollInterval: Duration.default(5000).describe('How often to poll for a new checkpoint.'),
    concurrency: z.number().int().min(1).max(64).default(8).describe('Requests in flight at once for this log.'),
    requestsPerMinute: z.number().int().min(0).default(500).describe('Rekor v1 request budget (public Rekor throttles around 500/min); 0 = unlimited.'),
    batchSize: z.number().int().min(10).max(100_000).default(4096).describe('Entries per committed batch.'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    dataDir: z.string().default('./data').describe('Directory of the LevelDB store.'),
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[a-zA-Z0-9.-]+):\d{1,5}$/, 'HOST:PORT')
      .default('127.0.0.1:8080')
      .describe('Address of the HTTP API and /metrics. Loopback by default.'),
    trustedRoot: z.string().optional().describe('Path of a Sigstore trusted_root.json; default: Sigstore public-good via TUF.'),
    tufCacheDir: z.string().optional().describe('Where the TUF client caches metadata (default: <dataDir>/tuf).'),
    logs: z.array(LogConfig).default([]).describe('Logs to follow; empty = the logs of the trusted root.'),
    index: z.enum(['all', 'watched']).default('all').describe('`all`: full indexes for every entry; `watched`: full indexes only for entries the rules watch, digests for all.'),
    rules: z.string().optional().describe('Directory of monitor rule files (YAML).'),
    stalledAfter: Duration.default(600_000).describe('Raise mirror-stalled when no checkpoint verified for this long while upstream moves.'),
    api: z
      .object({
        adminToken: z.string().min(16, 'at least 16 characters').optional().describe('Bearer token for admin endpoints; use ${TLOGWATCH_ADMIN_TOKEN}. Unset = admin endpoints disabled.'),
        maxBodyBytes: z.number().int().min(1024).default(1 << 20).describe('Largest request body accepted.'),
        rateLimit: z.object({ requestsPerMinute: z.number().int().min(1) }).strict().optional().describe('Per-client request budget.'),
        cors: z.object({ origins: z.array(z.string()) }).strict().optional().describe('Origins allowed by CORS; none by default.'),
      })
      .strict()
      .default({ maxBodyBytes: 1 << 20 }),
    notify: z
      .object({
        webhooks: z.array(z.object({ url: z.url(), secret: z.string().optional() }).strict()).default([]),
        slack: z.array(z.object({ url: z.url() }).strict()).default([]),
        alertmanager: z.array(z.object({ url: z.url() }).strict()).default([]),
        email: z.array(z.object({ smtp: z.string(), from: z.string(), to: z.array(z.string()).min(1) }).strict()).default([]),
      })
      .strict()
      .default({ webhooks: [], slack: [], alertmanager: [], email: [] }),
    jobs: z
      .object({
        reverify: z.string().default('*/30 * * * *').describe('Cron: re-hash a window of stored entries against stored tree hashes.'),
        trustedRootRefresh: z.string().default('17 */6 * * *').describe('Cron: refresh the trusted root via TUF.'),
        dailyDigest: z.string().default('0 8 * * *').describe('Cron: daily digest of findings to the notification channels.'),
        compaction: z.string().default('40 3 * * *').describe('Cron: LevelDB compaction.'),
      })
      .strict()
      .default({ reverify: '*/30 * * * *', trustedRootRefresh: '17 */6 * * *', dailyDigest: '0 8 * * *', compaction: '40 3 * * *' }),
    log: z.object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).strict().default({ level: 'info' }),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type LogConfigT = z.infer<typeof LogConfig>;
