/**
 * Errors with a stable code from a closed union and typed data (STYLE.md habit 5).
 *
 * Three kinds of failure are handled differently by the daemon:
 * - `transient`: retry with backoff (a 503, a timeout, a truncated response);
 * - `fatal`: stop that log and say why (bad configuration, unusable store);
 * - `misbehaviour`: the log broke its promises; a `log-integrity` finding that embeds the evidence.
 * Input errors (`input`) are hostile or malformed bytes: rejected with a clear message, never a crash.
 */
export type ErrorKind = 'transient' | 'fatal' | 'misbehaviour' | 'input';

export type ErrorCode =
  // merkle/
  | 'MERKLE_BAD_PROOF'
  | 'MERKLE_ROOT_MISMATCH'
  | 'MERKLE_RANGE'
  | 'MERKLE_BAD_HASHES'
  // note/
  | 'NOTE_MALFORMED'
  | 'NOTE_NO_VERIFIED_SIGNATURE'
  | 'NOTE_BAD_SIGNATURE'
  | 'NOTE_BAD_KEY'
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_WRONG_ORIGIN'
  // entries/, trust/
  | 'ENTRY_MALFORMED'
  | 'ENTRY_UNSUPPORTED_KIND'
  | 'SET_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TRUST_MALFORMED'
  | 'TRUST_UNKNOWN_LOG'
  | 'TRUST_UNAVAILABLE'
  // sources/
  | 'SOURCE_HTTP_STATUS'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_NETWORK'
  | 'SOURCE_MALFORMED'
  | 'SOURCE_TOO_LARGE'
  // mirror/
  | 'VERIFY_ROOT_MISMATCH'
  | 'VERIFY_SIZE_SHRANK'
  | 'VERIFY_FORK'
  | 'VERIFY_TILE_MISMATCH'
  | 'VERIFY_BAD_SET'
  | 'VERIFY_MISSING_ENTRY'
  | 'VERIFY_BAD_CHECKPOINT'
  | 'VERIFY_UNWITNESSED'
  | 'BACKFILL_REFUSED'
  // store/, config/
  | 'STORE_SCHEMA_VERSION'
  | 'STORE_DECODER_EPOCH'
  | 'STORE_CORRUPT'
  | 'STORE_LOCKED'
  | 'STORE_WRITE_FAILED'
  | 'STORE_UNAVAILABLE'
  | 'CONFIG_INVALID'
  // monitor/, notify/, api/
  | 'RULES_INVALID'
  | 'NOTIFY_FAILED'
  | 'API_BAD_REQUEST'
  | 'API_NOT_FOUND'
  | 'API_UNAUTHORIZED'
  | 'API_PAYLOAD_TOO_LARGE'
  | 'API_RATE_LIMITED'
  | 'API_BUSY'
  | 'API_UNPROCESSABLE'
  | 'API_UNAVAILABLE';

export class TlogwatchError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { kind?: ErrorKind; data?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TlogwatchError';
    this.code = code;
    this.kind = options.kind ?? 'input';
    this.data = options.data ?? {};
  }
}

export function isTlogwatchError(e: unknown, code?: ErrorCode): e is TlogwatchError {
  return e instanceof TlogwatchError && (code === undefined || e.code === code);
}

/** A one-line, stack-free description of any thrown value, for logs and CLI output. */
export function describeError(e: unknown): string {
  if (e instanceof TlogwatchError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
