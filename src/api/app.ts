/**
 * The HTTP face of tlogwatch (Hono): the /v1 query API, Rekor-compatible reads over the mirrored Rekor v1
 * log, /metrics, health and OpenAPI (DESIGN.md "Stable contracts"). Handlers are thin over store
 * queries and views; errors become JSON in `onError` only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { z } from 'zod';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { VERSION } from '../version.ts';
import { bodyLimit } from './body-limit.ts';
import { apiError, errorJson, errorResponse, isRekorPath } from './errors.ts';
import { buildOpenApi } from './openapi.ts';
import { EntryQuery, Index, LogName, NoQuery, PAGE_DEFAULT_LIMIT, PageQuery, parseQuery, SEARCH_DEFAULT_LIMIT, SearchQuery, Uuid } from './params.ts';
import { rateLimit } from './rate-limit.ts';
import { rekorRoutes } from './rekor.ts';
import { bundleRoutes } from './bundle.ts';
import { searchEntries } from './search.ts';
import { createSearchGate, holdOf, pageCost, scanCost, type SearchGate, searchGate } from './search-gate.ts';
import { securityHeaders } from './security-headers.ts';
import { entryView, inclusionProofView, logView, noEntryError } from './views.ts';
import { toBase64 } from '../util/bytes.ts';
import type { Logger } from '../logger.ts';
import { fetchedSize, logPhase, type LogState } from '../store/codec.ts';
import type { TransientFault } from '../mirror/types.ts';
import { logStateOf } from '../mirror/follower.ts';
import type { WitnessPolicy } from '../note/witness-policy.ts';
import type { SourceStatus } from '../monitor/checkpoint-sources.ts';

export interface ApiOptions {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Names of the logs this daemon follows (those not yet bootstrapped are listed too). */
  logNames: () => string[];
  adminToken?: string;
  maxBodyBytes?: number;
  /** The transient error ending a log's latest rounds, if they keep failing (the daemon's followers). */
  transientFault?: (log: string) => Readonly<TransientFault> | undefined;
  /** A log's witness policy (config `logs[].witnesses`), shown in /v1/logs with the verified checkpoint's cosigners. */
  witnessPolicy?: (log: string) => WitnessPolicy | undefined;
  /** The latest comparison of each checkpoint source with a log (config `checkpointSources`), shown in /v1/logs. */
  checkpointSources?: (log: string) => readonly SourceStatus[];
  /** Why a log counts as stale for /readyz and /v1/logs (the daemon's `mirror-stalled` rule), or undefined. */
  stalled?: (state: Readonly<LogState>) => string | undefined;
  /** What the daemon's follower saw of a log the store holds no state of (never bootstrapped, or never reached), listed and judged as any other. */
  unstoredState?: (log: string) => Readonly<LogState> | undefined;
  corsOrigins?: string[];
  rateLimitPerMinute?: number;
  /** Entries of search pages served at once (api.searchEntriesInFlight; search-gate.ts); 0 or unset = no bound. */
  searchEntriesInFlight?: number;
  /** The search gate itself (tests hold it full); default: one for `searchEntriesInFlight` (createSearchGate). */
  searchGate?: SearchGate;
  /** Proxies whose X-Forwarded-For names the client the rate limit counts (api.rateLimit.trustedProxies). */
  trustedProxies?: string[];
  /** Extra routes (findings, bundles) mounted by other modules. */
  extend?: (app: Hono, h: ApiHelpers) => void;
  /** The log's key ID (for bundles of tiles logs, whose entries do not carry it). */
  logKeyId?: (log: string) => Uint8Array | undefined;
  /** The log's public key (DER SubjectPublicKeyInfo, from the trusted root), for GET /api/v1/log/publicKey. */
  logPublicKey?: (log: string) => Uint8Array | undefined;
  /** Refreshes point-in-time gauges (e.g. open findings) before /metrics is rendered. */
  beforeMetrics?: () => Promise<void>;
}

export interface ApiHelpers {
  query<T extends z.ZodType>(c: Context, schema: T): z.output<T>;
  requireAdmin(c: Context): void;
}

function queryOf<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  return parseQuery(c.req.url, schema);
}

function param<T extends z.ZodType>(value: string | undefined, schema: T, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw apiError('API_BAD_REQUEST', `${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

const digestOf = (s: string) => createHash('sha256').update(s).digest();

export function createApp(o: ApiOptions): Hono {
  const app = new Hono();
  const { store, metrics } = o;
  if (!o.adminToken) o.logger.warn('no admin token configured: admin endpoints are disabled');
  const tokenDigest = o.adminToken ? digestOf(o.adminToken) : undefined;
  const requireAdmin = (c: Context) => {
    const header = c.req.header('authorization') ?? '';
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    const given = /^bearer +(\S+) *$/i.exec(header)?.[1];
    // Constant-time: compare fixed-length digests, never the raw strings.
    if (!tokenDigest || !given || !timingSafeEqual(digestOf(given), tokenDigest)) {
      // RFC 6750 §3: name the scheme; `invalid_token` only for a bearer token that was given and refused
      // (§3.1: none for a request without one, or with another scheme).
      c.header('WWW-Authenticate', tokenDigest && given ? 'Bearer realm="tlogwatch", error="invalid_token"' : 'Bearer realm="tlogwatch"');
      throw apiError('API_UNAUTHORIZED', tokenDigest ? 'a valid admin bearer token is required' : 'admin endpoints are disabled: no admin token configured');
    }
  };
  // Bounded: a page's cost grows with its entries and takes the mirror's event loop (search-gate.ts).
  // /healthz, /readyz and /metrics never pass through it.
  const searches = o.searchGate ?? createSearchGate(o.searchEntriesInFlight ?? 0, metrics);
  const helpers: ApiHelpers = { query: queryOf, requireAdmin };

  app.onError((e, c) => {
    const res = errorResponse(c, e);
    // A 500 says only "internal error" to the client (a coded error's code at most): the log is where an
    // operator finds what it was (docs/operations.md, TlogwatchApiErrors).
    if (res.status === 500) {
      const code = e instanceof Error && 'code' in e ? String(e.code) : undefined;
      o.logger.error({ err: e instanceof Error ? e.message : String(e), ...(code ? { code } : {}), path: c.req.path, status: res.status }, 'unhandled API error');
    }
    return res;
  });
  // go-swagger's answer for a path Rekor does not route: `path … was not found`.
  app.notFound((c) => (isRekorPath(c.req.path) ? errorJson(c, 404, 'API_NOT_FOUND', `path ${c.req.path} was not found`) : errorJson(c, 404, 'API_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)));

  app.use('*', async (c, next) => {
    const t = performance.now();
    await next();
    metrics.httpRequestDuration.observe({ route: c.req.routePath, method: c.req.method, status: String(c.res.status) }, (performance.now() - t) / 1000);
  });
  app.use('*', securityHeaders());
  if (o.corsOrigins?.length) app.use('*', cors({ origin: o.corsOrigins }));
  // Before the body limit: a client over its budget is answered before anything of its body is read.
  if (o.rateLimitPerMinute) app.use('*', rateLimit({ perMinute: o.rateLimitPerMinute, ...(o.trustedProxies ? { trustedProxies: o.trustedProxies } : {}) }));
  // Only POST routes read a body. Checking one on GET would build a WHATWG Request for every read
  // (a tenth of a digest lookup's time); a body sent with a GET is never read, so it cannot cost memory.
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '*', bodyLimit(o.maxBodyBytes ?? 1 << 20));
  app.use('*', async (c, next) => {
    if (c.req.url.length > 8192) throw apiError('API_BAD_REQUEST', 'URL too long');
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok', version: VERSION }));
  app.get('/readyz', async (c) => {
    const problems: string[] = [];
    const fault = store.writeFault;
    if (fault) problems.push(`store: cannot be written since ${new Date(fault.at * 1000).toISOString()} (${fault.message})${fault.lastAttempt ? `; ${fault.lastAttempt}` : ''}`);
    if (!store.isOpen) problems.push('store: not open');
    for (const name of o.logNames()) {
      // While a reopen after a write fault has not succeeded, the store is closed: say so per log.
      const read = await logStateOf(store, name, o.unstoredState).catch((e: unknown) => {
        problems.push(`${name}: state unreadable (${e instanceof Error ? e.message.slice(0, 200) : 'store unavailable'})`);
        return null;
      });
      if (read === null) continue;
      const { state: judged, stored } = read;
      const s = stored ? judged : undefined;
      if (s?.status === 'halted') {
        problems.push(`${name}: halted (${s.halt?.code}: ${s.halt?.message})`);
        continue;
      }
      // A log not bootstrapped is not ready, and may be stalled too (a witness policy no checkpoint meets): say both.
      const stalled = judged && o.stalled?.(judged);
      const why = stalled ? `stalled (${stalled})` : undefined;
      if (!s) problems.push(`${name}: not bootstrapped yet${why ? `; ${why}` : ''}`);
      else if (logPhase(s) === 'bootstrapping') problems.push(`${name}: bootstrapping: no checkpoint verified yet (${fetchedSize(s) - s.startIndex} entries stored from ${s.startIndex}${s.upstream ? `, the log has ${s.upstream.size}` : ''})${why ? `; ${why}` : ''}`);
      else if (why) problems.push(`${name}: ${why}`);
    }
    return problems.length ? c.json({ status: 'unavailable', problems }, 503) : c.json({ status: 'ready' });
  });
  app.get('/metrics', async (c) => {
    // A store that is being reopened cannot say its size; the scrape still answers, with the last one.
    await store.approximateSize().then((n) => metrics.storeBytes.set(n), () => undefined);
    metrics.storeWritable.set(store.writeFault ? 0 : 1);
    const volume = await store.volume();
    if (volume) {
      metrics.storeVolumeAvailable.set(volume.available);
      metrics.storeVolumeSize.set(volume.size);
    }
    // So do the gauges refreshed from the store (open findings): a failed scrape would make Prometheus
    // page "down" and let tlogwatch_store_writable, the metric that says what is wrong, go stale.
    await o.beforeMetrics?.().catch((e: unknown) => o.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'metrics: store-backed gauges not refreshed'));
    return c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });
  // Built once: the document is fixed for the process, and building it (zod to JSON Schema for every route)
  // took ~1.2 ms of the event loop the mirror runs on per unauthenticated request, 10-20 times a /healthz.
  const openApi = JSON.stringify(buildOpenApi());
  app.get('/openapi.json', (c) => c.body(openApi, 200, { 'content-type': 'application/json' }));

  app.get('/v1/logs', async (c) => {
    queryOf(c, NoQuery);
    const out = [];
    for (const name of o.logNames()) {
      // A log never bootstrapped has no stored state: listed from what its follower saw, its configuration
      // until a checkpoint is seen (an upstream that refuses, answers 401…: its transientError says so).
      const { state: s, stored } = await logStateOf(store, name, o.unstoredState);
      if (s) out.push(logView(s, { fault: o.transientFault?.(name), witnesses: o.witnessPolicy?.(name), sources: o.checkpointSources?.(name), stalled: o.stalled?.(s), stored }));
    }
    return c.json(out);
  });
  // A page of up to 1,000 signed notes, read and serialised in one stretch: under 10 connections of
  // 1,000-note pages the catch-up kept 10-20 points more of its rate bounded than not (BENCHMARKS.md
  // "Catch-up under heavy reads of the other routes"). /v1/findings is not bounded: it reads a finding at a
  // time, and bounding it changed nothing measurable but its 429s.
  app.get('/v1/logs/:log/checkpoints', searchGate(searches, pageCost(PAGE_DEFAULT_LIMIT)), async (c) => {
    const log = param(c.req.param('log'), LogName, 'log');
    const q = queryOf(c, PageQuery);
    const s = await store.readLogState(log);
    if (!s) throw apiError('API_NOT_FOUND', `no log named ${log}`);
    const page = await store.listCheckpoints(log, { limit: q.limit, tree: s.shard?.seq ?? 0, ...(q.cursor ? { cursor: q.cursor } : {}) });
    return c.json({
      checkpoints: page.checkpoints.map((cp) => ({ size: Number(cp.size), rootHash: toBase64(cp.rootHash), note: cp.note, verifiedAt: new Date(cp.at * 1000).toISOString() })),
      next: page.next,
    });
  });
  // A page holds what its index scan reads, then the entries it found (search.ts resizes its hold). An
  // identity prefix scan reads each key's entry to list it once (store.ts search): it holds its limit.
  const scan = scanCost(SEARCH_DEFAULT_LIMIT);
  const page = pageCost(SEARCH_DEFAULT_LIMIT);
  const searchCost = (c: Context) => (c.req.query('identity')?.endsWith('*') ? page(c) : scan(c));
  app.get('/v1/search', searchGate(searches, searchCost), async (c) => c.json(await searchEntries(store, queryOf(c, SearchQuery), holdOf(c))));
  app.get('/v1/entries/by-uuid/:uuid', async (c) => {
    const id = param(c.req.param('uuid'), Uuid, 'uuid').toLowerCase();
    const uuid = id.slice(-64);
    // An 80-hex Rekor v1 entry ID names its tree (rekor.md §1.4): only that tree's entry is it.
    const tree = id.length === 80 ? id.slice(0, 16) : undefined;
    queryOf(c, NoQuery);
    const out = [];
    for (const ref of await store.getByUuid(uuid)) {
      const [got, s] = await Promise.all([store.getEntry(ref.log, ref.index), store.readLogState(ref.log)]);
      if (tree !== undefined && (got?.record.v1?.treeID === undefined || BigInt(got.record.v1.treeID).toString(16).padStart(16, '0') !== tree)) continue;
      if (got && s) out.push(entryView(s, got.record));
    }
    if (out.length === 0) throw apiError('API_NOT_FOUND', `no mirrored entry has ${tree !== undefined ? `entry ID ${id}` : `uuid ${uuid}`}`);
    return c.json({ entries: out });
  });
  app.get('/v1/entries/:log/:index', async (c) => {
    const log = param(c.req.param('log'), LogName, 'log');
    const index = param(c.req.param('index'), Index, 'index');
    const include = new Set((queryOf(c, EntryQuery).include ?? '').split(',').filter(Boolean));
    const [got, s] = await Promise.all([store.getEntry(log, index), store.readLogState(log)]);
    if (!got || !s) throw noEntryError(store, log, index, s);
    const view = entryView(s, got.record, include.has('body') ? got.body : undefined);
    if (include.has('proof')) {
      const p = await inclusionProofView(store, s, got.record);
      view['inclusionProof'] = { ...p, rootHash: toBase64(p.rootHash), hashes: p.hashes.map(toBase64) };
    }
    return c.json(view);
  });

  bundleRoutes(app, store, o.logKeyId ?? (() => undefined));
  rekorRoutes(app, o, searches);
  o.extend?.(app, helpers);
  return app;
}
