/** A log's upstream client, as the follower and `backfill` both build it: one HttpClient (retries, timeouts, Retry-After, rate budget) per log. */
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

/** `signal` aborts the sources' requests (a follower passes its current round's). */
export function createUpstream(cfg: FollowConfig, metrics: Metrics, signal?: SourceSignal): Upstream {
  const http = new HttpClient({
    requestsPerMinute: cfg.type === 'rekor-v1' ? cfg.requestsPerMinute : 0,
    compression: cfg.compression ?? 'gzip',
    onAttempt: (a) => {
      metrics.fetchDuration.observe({ log: cfg.name, endpoint: a.endpoint }, a.seconds);
      if (!/^2\d\d$|^404$/.test(a.outcome)) metrics.upstreamErrors.inc({ log: cfg.name, code: a.outcome });
    },
  });
  return cfg.type === 'tiles'
    ? { http, tiles: new TilesSource({ url: cfg.url, http, concurrency: cfg.concurrency, ...(signal ? { signal } : {}) }) }
    : { http, v1: new RekorV1Source({ url: cfg.url, http, concurrency: cfg.concurrency, ...(signal ? { signal } : {}) }) };
}
