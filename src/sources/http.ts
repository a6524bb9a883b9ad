/**
 * The one HTTP helper every source uses (STYLE.md habit 3): timeouts, retries with exponential backoff
 * and full jitter, Retry-After, a requests-per-minute budget, response size caps and a User-Agent.
 *
 * Contract: a response with a 2xx status whose body passes `parse` is returned; 404 is returned as
 * `undefined` (the caller decides whether "not there" is normal, e.g. a tile not yet published);
 * 408/425/429/5xx, network errors, timeouts, truncated bodies and bodies that `parse` rejects are
 * transient and retried up to `retries` times; any other status is final. Exhausted retries throw a
 * TlogwatchError of kind `transient`: the mirror keeps its state and tries again next round, so a
 * flaky log delays entries but never loses or skips one.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompress, gunzip, inflate, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { TlogwatchError, isTlogwatchError } from '../errors.ts';
import { USER_AGENT } from '../version.ts';

export interface HttpAttempt {
  endpoint: string;
  /** HTTP status, or a short error code for failures without one (`timeout`, `network`, `malformed`, `too_large`). */
  outcome: string;
  seconds: number;
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
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
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

/**
 * The transport: node:http(s) with keep-alive sockets, not `fetch`. fetch reads a body through web streams
 * and inflates it chunk by chunk, each chunk a trip to the thread pool; here a body is read as Node
 * buffers and inflated in one pass, into one output chunk when the gzip trailer is honest. Measured on 600
 * entry bundles (BENCHMARKS.md "Ingest"): 19–20 µs of CPU per entry with fetch, 11–12 µs this way.
 */
const TRANSPORTS: Record<string, { agent: HttpAgent; request: typeof httpRequest }> = (() => {
  // Node's built-in proxy support, opt-in as Node makes it (NODE_USE_ENV_PROXY=1 or --use-env-proxy): the
  // global agents and fetch honour HTTP(S)_PROXY and NO_PROXY then, but an agent of our own only when
  // given `proxyEnv`, so webhooks (fetch) and log sources go through the same proxy.
  const proxyEnv = useEnvProxy(process.env, process.execArgv) ? { proxyEnv: process.env } : {};
  return {
    'http:': { agent: new HttpAgent({ keepAlive: true, ...proxyEnv }), request: httpRequest },
    'https:': { agent: new HttpsAgent({ keepAlive: true, ...proxyEnv }), request: httpsRequest },
  };
})();

/** Whether Node is configured to use the proxy environment variables (Node's "Built-in Proxy Support"). */
export function useEnvProxy(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  const flag = (args: readonly string[]) => args.includes('--use-env-proxy');
  return env['NODE_USE_ENV_PROXY'] === '1' || flag(execArgv) || flag((env['NODE_OPTIONS'] ?? '').split(/\s+/));
}

/** The proxy configuration the agents run with, for the start-up log. Credentials in a proxy URL are never shown. */
export interface ProxySettings {
  enabled: boolean;
  http?: string;
  https?: string;
  noProxy?: string;
  /** Variables that are set but not used, because the opt-in is missing. */
  ignored?: string[];
}

/** A proxy URL without its credentials. */
function redactProxy(value: string): string {
  try {
    const u = new URL(value);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.href;
  } catch {
    return '(not a URL)';
  }
}

export function proxySettings(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): ProxySettings {
  // Node reads the lower-case spelling first (its "Built-in Proxy Support" docs).
  const read = (name: string): [string, string] | undefined => {
    for (const n of [name.toLowerCase(), name]) if (env[n]) return [n, env[n]];
    return undefined;
  };
  const http = read('HTTP_PROXY');
  const https = read('HTTPS_PROXY');
  const noProxy = read('NO_PROXY');
  if (!useEnvProxy(env, execArgv)) {
    const ignored = [http, https].filter((v) => v !== undefined).map(([n]) => n);
    return ignored.length > 0 ? { enabled: false, ignored } : { enabled: false };
  }
  return {
    enabled: true,
    ...(http ? { http: redactProxy(http[1]) } : {}),
    ...(https ? { https: redactProxy(https[1]) } : {}),
    ...(noProxy ? { noProxy: noProxy[1] } : {}),
  };
}

/** fetch's limit (WHATWG Fetch §4.4 "HTTP-redirect fetch", step 5). */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const INFLATE_CHUNK = 1 << 20;
/** The smallest output chunk a gzip size hint can ask for (a lying hint then costs more trips, never more memory). */
const MIN_INFLATE_CHUNK = 1 << 10;

/**
 * Output chunk size for inflating `raw`. Node returns a body that fits one chunk as a view of that chunk,
 * so with 1 MB chunks a 508 KB entry bundle kept 1 MB alive, and an 8 KB level-0 tile 1 MB, for as long as
 * the pipeline holds the batch (BENCHMARKS.md "Ingest", memory). A gzip member ends with ISIZE, its input's
 * length mod 2^32 (RFC 1952 §2.3.1), so an honest server's body fits a chunk of ISIZE + 1 bytes (one more,
 * so zlib never fills it and allocates a spare). It is the sender's claim: only a hint, clamped, and
 * maxOutputLength still caps the output; a short hint only costs extra chunks.
 */
function inflateChunk(raw: Buffer, encoding: string): number {
  if ((encoding !== 'gzip' && encoding !== 'x-gzip') || raw.length < 18) return INFLATE_CHUNK;
  return Math.min(INFLATE_CHUNK, Math.max(MIN_INFLATE_CHUNK, raw.readUInt32LE(raw.length - 4) + 1));
}

/**
 * `out` alone, copied out of a larger output chunk (deflate, brotli, a gzip hint that was off) that it would
 * keep alive. Into memory of its own: Buffer.from would take a small body from Node's 64 KB pool, whose
 * slab the body would then keep alive instead.
 */
function trimmed(out: Buffer): Buffer {
  if (out.buffer.byteLength - out.length <= (out.length >> 3) + 4096) return out;
  const own = Buffer.allocUnsafeSlow(out.length);
  out.copy(own);
  return own;
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const transport = TRANSPORTS[url.protocol];
  if (!transport) return Promise.reject(new Error(`unsupported protocol ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method, headers, agent: transport.agent, signal }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** Small bodies of redirects and errors are drained, so their keep-alive socket (and its TLS session) is reused. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Done with a response without reading it: drain a small body (declared or chunked), so the socket goes
 * back to the pool; past DRAIN_LIMIT, close the connection instead. Resolves once the socket is free again,
 * so a redirect's next request can reuse it.
 */
function discard(res: IncomingMessage): Promise<void> {
  if (Number(res.headers['content-length'] ?? 0) > DRAIN_LIMIT) {
    res.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let drained = 0;
    res.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT) res.destroy();
    });
    res.on('end', resolve).on('close', resolve).on('error', resolve);
  });
}

/** Sends the request, following redirects as fetch's `redirect: 'follow'` does (303, and 301/302 of a POST, become a GET). */
async function sendFollowing(url: string, opts: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal }): Promise<IncomingMessage> {
  let target = new URL(url);
  let { method, body } = opts;
  for (let hops = 0; ; hops++) {
    const res = await send(target, method, opts.headers, body, opts.signal);
    const location = res.headers.location;
    if (!REDIRECT_STATUS.has(res.statusCode ?? 0) || location === undefined) return res;
    await discard(res);
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, target);
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

const tooLarge = (what: string) => new TlogwatchError('SOURCE_TOO_LARGE', what, { kind: 'transient' });

/** A one-pass inflate capped at `maxBytes` of output (zlib refuses to write past maxOutputLength: no inflation bomb). */
function decode(raw: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const opts: ZlibOptions & BrotliOptions = { chunkSize: inflateChunk(raw, encoding), maxOutputLength: Math.max(1, maxBytes) };
  const run = (f: (b: Buffer, o: ZlibOptions & BrotliOptions, cb: (e: Error | null, out: Buffer) => void) => void) =>
    new Promise<Buffer>((resolve, reject) =>
      f(raw, opts, (e, out) => (e ? reject((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(`response exceeds the ${maxBytes}-byte limit once decompressed`) : e) : resolve(trimmed(out)))),
    );
  switch (encoding) {
    case '':
    case 'identity':
      return Promise.resolve(raw);
    case 'gzip':
    case 'x-gzip':
      return run(gunzip);
    case 'deflate':
      return run(inflate);
    case 'br':
      return run(brotliDecompress);
    default:
      return Promise.reject(new Error(`unsupported content-encoding ${encoding}`));
  }
}

async function readCapped(res: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  // The cap is on decoded bytes; a compressed body's Content-Length can exceed it (random hashes grow
  // under gzip), so the declared length is only trusted for an early refusal when not encoded.
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const declared = encoding ? NaN : Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw tooLarge(`response of ${declared} bytes exceeds the ${maxBytes}-byte limit`);
  }
  // Compressed bytes are capped too (a little over the decoded cap: incompressible data grows under gzip).
  const rawCap = encoding ? maxBytes + (maxBytes >> 6) + 1024 : maxBytes;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > rawCap) {
      res.destroy();
      throw tooLarge(`response exceeds the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  // A connection closed before the declared length (or the last chunk) arrived: truncated.
  if (!res.complete) throw new Error('response body truncated');
  const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  return decode(raw, encoding, maxBytes);
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
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(opts: HttpClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.retries = opts.retries ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    this.budget = new RateBudget(opts.requestsPerMinute ?? 0);
    this.acceptEncoding = opts.compression === 'none' ? 'identity' : 'gzip';
    this.onAttempt = opts.onAttempt ?? (() => {});
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
      this.onAttempt({ endpoint: opts.endpoint, outcome: result.outcome, seconds: (performance.now() - started) / 1000 });
      if (result.ok) return result.value;
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
      res = await sendFollowing(url, {
        method: opts.method ?? 'GET',
        headers: { 'user-agent': USER_AGENT, 'accept-encoding': this.acceptEncoding, ...opts.headers },
        body: opts.body,
        signal,
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
        error: new TlogwatchError('SOURCE_HTTP_STATUS', `HTTP ${status} from ${url}`, {
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
      return {
        ok: false,
        outcome: tooLarge ? 'too_large' : timeout.aborted ? 'timeout' : 'malformed',
        error: new TlogwatchError(tooLarge ? 'SOURCE_TOO_LARGE' : 'SOURCE_MALFORMED', `bad response from ${url}: ${(e as Error).message}`, { kind: 'transient', cause: e }),
      };
    }
  }
}
