/**
 * How sources reach a log over HTTP: node:http(s) agents with keep-alive, Node's opt-in proxy support,
 * redirects, and bodies read under a size cap and inflated in one pass. Retries, backoff and budgets are
 * http.ts's; this file makes one request and reads one response.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { brotliDecompress, gunzip, inflate, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { TlogwatchError } from '../errors.ts';

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
export function discard(res: IncomingMessage): Promise<void> {
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

/** Headers that carry credentials: not sent on to another origin than the request's (as fetch does, WHATWG Fetch §4.4 step 13). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Sends the request, following redirects as fetch's `redirect: 'follow'` does (303, and 301/302 of a POST, become a GET).
 * `originBound` names further headers (lower-case) that, like the credential ones, are for the request's
 * origin only: a log's configured `headers` (config/log-headers.ts), which may carry any secret under any name.
 */
export async function sendFollowing(
  url: string,
  opts: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal; originBound?: ReadonlySet<string> },
): Promise<IncomingMessage> {
  let target = new URL(url);
  const origin = target.origin;
  const bound = (k: string) => CREDENTIAL_HEADERS.has(k.toLowerCase()) || opts.originBound?.has(k.toLowerCase()) === true;
  let headers = opts.headers;
  let { method, body } = opts;
  for (let hops = 0; ; hops++) {
    const res = await send(target, method, headers, body, opts.signal);
    const location = res.headers.location;
    if (!REDIRECT_STATUS.has(res.statusCode ?? 0) || location === undefined) return res;
    await discard(res);
    if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, target);
    // A redirect elsewhere does not get the credentials meant for the configured server.
    if (target.origin !== origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !bound(k)));
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

export function headersOf(res: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

const tooLarge = (what: string) => new TlogwatchError('SOURCE_TOO_LARGE', what, { kind: 'transient' });

/**
 * The ArrayBuffers of bodies this module inflated, each made for that body alone: zlib's output chunk (or
 * `trimmed`'s copy, or the join of several chunks), which no other view shares once the call returns. Never
 * one of Node's pool slabs: those are Buffer.poolSize bytes, and a buffer is taken from the pool only when it
 * is under half of that (Buffer.allocUnsafe's documented rule), so anything larger than a slab is not one.
 */
const exclusive = new WeakSet<ArrayBuffer>();

function claimed(out: Buffer): Buffer {
  if (out.buffer instanceof ArrayBuffer && out.buffer.byteLength > Buffer.poolSize) exclusive.add(out.buffer);
  return out;
}

/**
 * Whether `body` (as readCapped returned it) is in memory that no one else views, so that its reader may
 * free it at once when done (util/bytes.ts freeBytes) rather than leave it to V8's next full collection.
 */
export function isExclusiveBody(body: Uint8Array): boolean {
  return body.buffer instanceof ArrayBuffer && exclusive.has(body.buffer);
}

/** A one-pass inflate capped at `maxBytes` of output (zlib refuses to write past maxOutputLength: no inflation bomb). */
function decode(raw: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const opts: ZlibOptions & BrotliOptions = { chunkSize: inflateChunk(raw, encoding), maxOutputLength: Math.max(1, maxBytes) };
  const run = (f: (b: Buffer, o: ZlibOptions & BrotliOptions, cb: (e: Error | null, out: Buffer) => void) => void) =>
    new Promise<Buffer>((resolve, reject) =>
      f(raw, opts, (e, out) => (e ? reject((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge(`response exceeds the ${maxBytes}-byte limit once decompressed`) : e) : resolve(claimed(trimmed(out))))),
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

export async function readCapped(res: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
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
