/** A log's upstream client, as the follower and `backfill` both build it: one HttpClient (retries, timeouts, Retry-After, rate budget) per log. */
import { STATUS_CODES } from 'node:http';
import type { Metrics } from '../metrics.ts';
import { HttpClient } from '../sources/http.ts';
import { RekorV1Source } from '../sources/rekor-v1.ts';
import { TilesSource } from '../sources/tiles.ts';
import type { SourceSignal } from '../sources/types.ts';
import type { FollowConfig } from './types.ts';

export interface Upstream {
  http: HttpClient;
  tiles?: TilesSource;
  v1?: RekorV1Source;
}

/**
 * Endpoints where a 404 is an answer the sources act on: a partial tile or entry bundle the log has
 * replaced by the full one (tlog-tiles), entries a Rekor v1 retrieve did not find (each then asked for
 * alone, and missing for good is misbehaviour). Anywhere else (the checkpoint, LogInfo, a consistency
 * proof) a 404 is a failed request: the log is not where the configuration says, and every round fails.
 * So is a 404 for what a verified checkpoint says exists (a full tile, an entry asked for alone), which
 * the client retries (`mustExist`).
 */
const NOT_FOUND_IS_AN_ANSWER: ReadonlySet<string> = new Set(['tile', 'entries', 'retrieve', 'entry']);

/** `signal` aborts the sources' requests (a follower passes its current round's). */
export function createUpstream(cfg: FollowConfig, metrics: Metrics, signal?: SourceSignal): Upstream {
  const http = new HttpClient({
    requestsPerMinute: cfg.type === 'rekor-v1' ? cfg.requestsPerMinute : 0,
    compression: cfg.compression ?? 'gzip',
    // The log's own headers (its authentication) go to its URL's origin and nowhere else.
    ...(cfg.headers ? { originHeaders: { origin: cfg.url, headers: cfg.headers } } : {}),
    ...(cfg.retryDelays ? { baseDelayMs: cfg.retryDelays.baseMs, maxDelayMs: cfg.retryDelays.maxMs } : {}),
    onAttempt: (a) => {
      metrics.fetchDuration.observe({ log: cfg.name, endpoint: a.endpoint }, a.seconds);
      if (!/^2\d\d$/.test(a.outcome) && !(a.outcome === '404' && !a.mustExist && NOT_FOUND_IS_AN_ANSWER.has(a.endpoint))) metrics.upstreamErrors.inc({ log: cfg.name, code: upstreamErrorCode(a.outcome) });
    },
  });
  return cfg.type === 'tiles'
    ? { http, tiles: new TilesSource({ url: cfg.url, http, concurrency: cfg.concurrency, ...(signal ? { signal } : {}) }) }
    : { http, v1: new RekorV1Source({ url: cfg.url, http, concurrency: cfg.concurrency, ...(signal ? { signal } : {}) }) };
}

/**
 * The `code` label of `tlogwatch_upstream_errors_total`: an HTTP status Node names (429, 503…), or the
 * client's own code for a failure without one (`timeout`, `network`, `malformed`, `too_large`). Any other
 * status, which a server may send from 100 to 999, is `other`, so the upstream cannot add label values.
 */
export function upstreamErrorCode(outcome: string): string {
  return /^\d+$/.test(outcome) && STATUS_CODES[outcome] === undefined ? 'other' : outcome;
}
