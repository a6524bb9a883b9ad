/**
 * Structured logs (pino): one JSON line per event, to stderr so stdout stays free for command output.
 * Secrets never reach a log line: the config's secret fields are redacted by path.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'adminToken',
  '*.adminToken',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'config.api.adminToken',
  // A log's header fields (config/log-headers.ts) carry its authentication.
  'logs[*].headers',
  'config.logs[*].headers',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'tlogwatch',
      level: opts.level ?? process.env['TLOGWATCH_LOG_LEVEL'] ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination(2),
  );
}
