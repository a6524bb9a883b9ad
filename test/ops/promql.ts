/**
 * What the alert rules and dashboards may query: the metric names tlogwatch exports (src/metrics.ts,
 * including prom-client's default process and Node.js metrics and the series a histogram expands to).
 */
import { createMetrics } from '../../src/metrics.ts';

function exported(defaultMetrics: boolean): Set<string> {
  const names = new Set<string>();
  for (const m of createMetrics({ defaultMetrics }).registry.getMetricsAsArray()) {
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}

/** Every series name /metrics can have. */
export const METRIC_NAMES = exported(true);
/** tlogwatch's own metric names (as declared, histograms not expanded). */
export const TLOGWATCH_METRICS = createMetrics({ defaultMetrics: false })
  .registry.getMetricsAsArray()
  .map((m) => m.name);

/** Metric-looking names in a PromQL expression: tlogwatch_*, process_*, nodejs_* and up. */
export function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(tlogwatch_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1]!);
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
