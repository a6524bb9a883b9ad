/**
 * The one HTTP helper every source uses (STYLE.md habit 3): timeouts, retries with exponential backoff
 * and full jitter, Retry-After, a requests-per-minute budget, response size caps and a User-Agent.
 *
 * Contract: a response with a 2xx status whose body passes `parse` is returned; 404 is returned as
 * `undefined` (the caller decides whether "not there" is normal, e.g. a tile not yet published), at once,
 * or with `notFound: 'retry'` only when every attempt was a 404;
 * 408/425/429/5xx, network errors, timeouts, truncated bodies and bodies that `parse` rejects are
 * transient and retried up to `retries` times; any other status is final. Exhausted retries throw a
 * TlogwatchError of kind `transient`: the mirror keeps its state and tries again next round, so a
 * flaky log delays entries but never loses or skips one.
 */
import type { IncomingMessage } from 'node:http';
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import { USER_AGENT } from '../version.ts';
import { discard, headersOf, readCapped, sendFollowing } from './transport.ts';

export interface HttpAttempt {
  endpoint: string;
  /** HTTP status, or a short error code for failures without one (`timeout`, `network`, `malformed`, `too_large`). */
  outcome: string;
  seconds: number;
  /** The request asked for what a verified checkpoint says exists (`notFound: 'retry'`): a 404 is a failure. */
  mustExist?: true;
}

export interface HttpClientOptions {
  timeoutMs?: number;
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Default cap for response bodies. */
  maxBytes?: number;
  /** Requests per minute across all calls of this client (0 = unlimited). */
  requestsPerMinute?: number;
  /**
   * `gzip` (default) asks for compressed responses; `none` asks for them as they are (`identity`), which
   * spares the CPU of inflating them where the link is fast (BENCHMARKS.md "Ingest"). A server may still
   * compress: such responses are decompressed either way.
   */
  compression?: 'gzip' | 'none';
  /**
   * Header fields for one origin only (a log's configured `headers`, its authentication): added to requests
   * whose URL has exactly this origin, and dropped on a redirect to any other (transport.ts sendFollowing).
   * A request to another origin through this client (none today) would go without them.
   */
  originHeaders?: { origin: string; headers: Readonly<Record<string, string>> };
  /** Observes every attempt, for metrics. */
  onAttempt?: (a: HttpAttempt) => void;
  /** Sleep function (tests may shorten it); defaults to a timer that honours the abort signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RequestOptions<T> {
  /** A bounded metric label naming the endpoint kind, e.g. `checkpoint`, `tile`, `entries`. */
  endpoint: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  maxBytes?: number;
  signal?: AbortSignal;
  /** Turns the body into a value; a thrown error makes the attempt transient (e.g. garbage, truncation). */
  parse: (body: Uint8Array, headers: Headers) => T;
  /**
   * `absent` (default): a 404 is an answer, returned as `undefined` at once. `retry`: for what a verified
   * checkpoint says exists, where the caller takes a 404 as the log withholding it: one from a cache or a
   * replica behind is retried like a 503, and `undefined` comes back only when every attempt was a 404.
   */
  notFound?: 'absent' | 'retry';
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * What a refusal of authentication means here (RFC 9110 §15.5.2, §15.5.4): the configuration's to fix, as
 * credentials in a URL are refused. The headers themselves are never named: they may hold the secret.
 */
const AUTH_HINT: Readonly<Record<number, string>> = {
  401: ': the server asks for authentication (a log\'s goes in logs[].headers or headerFiles, or --log-header-file beside --log; a checkpoint source\'s in its token)',
  403: ': the server refuses these credentials or this client (a log\'s go in logs[].headers or headerFiles, or --log-header-file beside --log; a checkpoint source\'s in its token)',
};

/**
 * setTimeout's longest delay, 2^31 - 1 ms (~24.8 days). A longer one is not an error: Node fires it after
 * 1 ms (with a TimeoutOverflowWarning), so a configured `pollInterval` or a checkpoint source's `interval`
 * of 30d would poll in a tight loop. Longer sleeps are taken in steps of at most this.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    let left = ms;
    let t: NodeJS.Timeout | undefined;
    const step = () => {
      const now = Math.min(left, MAX_TIMER_MS);
      left -= now;
      t = setTimeout(() => {
        if (left > 0) return step();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, now);
    };
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    step();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds, capped. */
export function parseRetryAfter(value: string | null, nowMs: number, capMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, capMs);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - nowMs), capMs);
}

/** Token bucket spreading `perMinute` requests evenly; `take()` waits for the next slot. */
class RateBudget {
  private next = 0;
  private readonly intervalMs: number;
  constructor(perMinute: number) {
    this.intervalMs = perMinute > 0 ? 60_000 / perMinute : 0;
  }
  async take(sleep: (ms: number, s?: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
    if (this.intervalMs === 0) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await sleep(at - now, signal);
  }
}

export class HttpClient {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxBytes: number;
  private readonly budget: RateBudget;
  private readonly acceptEncoding: string;
  private readonly onAttempt: (a: HttpAttempt) => void;
  private readonly originHeaders: { origin: string; headers: Readonly<Record<string, string>>; names: ReadonlySet<string> } | undefined;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(opts: HttpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.retries = opts.retries ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.budget = new RateBudget(opts.requestsPerMinute ?? 0);
    // tlog-tiles §"Log entries": clients SHOULD include both gzip and identity.
    this.acceptEncoding = opts.compression === 'none' ? 'identity' : 'gzip, identity';
    this.onAttempt = opts.onAttempt ?? (() => {});
    const oh = opts.originHeaders;
    this.originHeaders = oh && { origin: new URL(oh.origin).origin, headers: oh.headers, names: new Set(Object.keys(oh.headers).map((k) => k.toLowerCase())) };
    this.sleep = opts.sleep ?? abortableSleep;
  }

  /** Returns the parsed body, or `undefined` on 404. Throws a transient TlogwatchError when retries run out. */
  async request<T>(url: string, opts: RequestOptions<T>): Promise<T | undefined> {
    let lastError: TlogwatchError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        const jittered = Math.random() * backoff; // full jitter (AWS architecture blog): spreads retry storms
        const retryAfter = typeof lastError?.data['retryAfterMs'] === 'number' ? lastError.data['retryAfterMs'] : 0;
        await this.sleep(Math.max(jittered, retryAfter), opts.signal);
      }
      await this.budget.take(this.sleep, opts.signal);
      const started = performance.now();
      const result = await this.attempt(url, opts);
      this.onAttempt({ endpoint: opts.endpoint, outcome: result.outcome, seconds: (performance.now() - started) / 1000, ...(opts.notFound === 'retry' ? { mustExist: true as const } : {}) });
      if (result.ok) {
        if (result.outcome !== '404' || opts.notFound !== 'retry' || attempt === this.retries) return result.value;
        lastError = undefined;
        if (opts.signal?.aborted) break;
        continue;
      }
      if (!result.error || result.error.kind !== 'transient') throw result.error;
      lastError = result.error;
      if (opts.signal?.aborted) break;
    }
    throw new TlogwatchError(
      lastError?.code ?? 'SOURCE_NETWORK',
      `${opts.endpoint} ${url}: gave up after ${this.retries + 1} attempts: ${lastError?.message ?? 'aborted'}`,
      { kind: 'transient', data: { url, ...(lastError?.data ?? {}) }, cause: lastError },
    );
  }

  private async attempt<T>(
    url: string,
    opts: RequestOptions<T>,
  ): Promise<{ ok: true; value: T | undefined; outcome: string } | { ok: false; error: TlogwatchError; outcome: string }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: IncomingMessage;
    try {
      const own = this.originHeaders && new URL(url).origin === this.originHeaders.origin ? this.originHeaders.headers : {};
      res = await sendFollowing(url, {
        method: opts.method ?? 'GET',
        headers: { 'user-agent': USER_AGENT, 'accept-encoding': this.acceptEncoding, ...own, ...opts.headers },
        body: opts.body,
        signal,
        ...(this.originHeaders ? { originBound: this.originHeaders.names } : {}),
      });
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const timedOut = timeout.aborted;
      return {
        ok: false,
        outcome: timedOut ? 'timeout' : 'network',
        error: new TlogwatchError(timedOut ? 'SOURCE_TIMEOUT' : 'SOURCE_NETWORK', timedOut ? `timed out after ${this.timeoutMs} ms` : `network error: ${(e as Error).message}`, { kind: 'transient', cause: e }),
      };
    }
    const status = res.statusCode ?? 0;
    const outcome = String(status);
    if (status === 404) {
      await discard(res);
      return { ok: true, value: undefined, outcome };
    }
    if (status < 200 || status > 299) {
      await discard(res);
      const retryAfter = res.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(retryAfter ?? null, Date.now(), this.maxDelayMs);
      return {
        ok: false,
        outcome,
        error: new TlogwatchError('SOURCE_HTTP_STATUS', `HTTP ${status} from ${url}${AUTH_HINT[status] ?? ''}`, {
          kind: RETRYABLE_STATUS.has(status) ? 'transient' : 'fatal',
          data: { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
        }),
      };
    }
    try {
      const body = await readCapped(res, opts.maxBytes ?? this.maxBytes);
      return { ok: true, value: opts.parse(body, headersOf(res)), outcome };
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const tooLarge = isTlogwatchError(e, 'SOURCE_TOO_LARGE');
      // Headers then a stalled or trickling body: the timeout destroyed the response, which Node reports as
      // "aborted". That is the log being slow, not its bytes being wrong, and the error says so.
      if (!tooLarge && timeout.aborted) {
        return { ok: false, outcome: 'timeout', error: new TlogwatchError('SOURCE_TIMEOUT', `timed out after ${this.timeoutMs} ms reading the body of ${url}`, { kind: 'transient', cause: e }) };
      }
      return {
        ok: false,
        outcome: tooLarge ? 'too_large' : 'malformed',
        error: new TlogwatchError(tooLarge ? 'SOURCE_TOO_LARGE' : 'SOURCE_MALFORMED', `bad response from ${url}: ${(e as Error).message}`, { kind: 'transient', cause: e }),
      };
    }
  }
}
