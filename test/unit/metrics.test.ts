/** The resident-memory split (src/metrics.ts residentMemoryByKind) against proc(5)'s format and the live process. */
import { describe, expect, it } from 'vitest';
import { createMetrics, residentMemoryByKind } from '../../src/metrics.ts';
import { defaultBatchSize, LogConfig } from '../../src/config/schema.ts';
import { RETRIEVE_MAX } from '../../src/sources/rekor-v1.ts';

const STATUS = `Name:\tnode
VmHWM:\t  512000 kB
VmRSS:\t  493000 kB
RssAnon:\t  405804 kB
RssFile:\t   87196 kB
RssShmem:\t       0 kB
VmData:\t 1200000 kB
`;

describe('tlogwatch_resident_memory_bytes', () => {
  it('reads RssAnon, RssFile and RssShmem from a status file, in bytes', () => {
    expect(residentMemoryByKind(STATUS)).toEqual([
      ['anon', 405804 * 1024],
      ['file', 87196 * 1024],
      ['shmem', 0],
    ]);
    expect(residentMemoryByKind('Name:\tnode\n')).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('exports the live split, which adds up to the process RSS', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const text = await m.registry.getSingleMetricAsString('tlogwatch_resident_memory_bytes');
    const got = Object.fromEntries([...text.matchAll(/^tlogwatch_resident_memory_bytes\{kind="(\w+)"\} (\d+)$/gm)].map(([, k, v]) => [k, Number(v)]));
    expect(Object.keys(got).sort()).toEqual(['anon', 'file', 'shmem']);
    const rss = process.memoryUsage().rss;
    const sum = got['anon']! + got['file']! + got['shmem']!;
    expect(got['anon']).toBeGreaterThan(0);
    expect(got['file']).toBeGreaterThan(0); // the node binary, at least
    expect(Math.abs(sum - rss)).toBeLessThan(rss * 0.1); // read a moment apart
  });
});

describe('tlogwatch_batch_duration_seconds', () => {
  it('has finite buckets for a Rekor v1 batch at the default request budget, ten times over', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.batchDuration.observe({ log: 'rekor' }, 1);
    const buckets = (await m.batchDuration.get()).values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => Number((v.labels as Record<string, string | number>)['le']));
    const top = Math.max(...buckets.filter(Number.isFinite));
    const { requestsPerMinute } = LogConfig.parse({ name: 'rekor', type: 'rekor-v1', url: 'https://rekor.example' });
    for (const index of ['all', 'watched'] as const) {
      // One retrieve request per RETRIEVE_MAX entries, within the budget; slower under 429 backoff.
      const seconds = (Math.ceil(defaultBatchSize(index) / RETRIEVE_MAX) * 60) / requestsPerMinute;
      expect(top, `index: ${index}, ${seconds} s a batch`).toBeGreaterThanOrEqual(10 * seconds);
    }
  });
});

describe('tlogwatch_http_request_duration_seconds', () => {
  it('has finite buckets up to a scrape timeout (10 s by default): /metrics is one of its routes', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.httpRequestDuration.observe({ route: '/metrics', method: 'GET', status: '200' }, 1);
    const buckets = (await m.httpRequestDuration.get()).values.filter((v) => v.metricName?.endsWith('_bucket')).map((v) => Number((v.labels as Record<string, string | number>)['le']));
    expect(Math.max(...buckets.filter(Number.isFinite))).toBeGreaterThanOrEqual(10);
  });
});
