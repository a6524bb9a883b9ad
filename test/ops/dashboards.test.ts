/**
 * The Grafana dashboards, statically: five provisioned dashboards (log health, ingestion, findings, API,
 * process), well-formed panels on the provisioned datasource, queries that use only metrics tlogwatch
 * exports and variables the dashboard defines, and every tlogwatch metric shown somewhere.
 * test/ops/prometheus.e2e.test.ts runs every query against a real Prometheus scraping a live daemon.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BUILTIN_VARIABLES, DASHBOARDS, QUERIES } from './dashboards.ts';
import { METRIC_NAMES, metricNamesIn, TLOGWATCH_METRICS } from './promql.ts';
import { ROOT } from './tools.ts';

const datasource = (parse(readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> }).datasources[0]!;

describe('Grafana dashboards', () => {
  it('are the five dashboards operators need, with unique uids', () => {
    expect(DASHBOARDS.map((d) => d.uid)).toEqual(['tlogwatch-api', 'tlogwatch-findings', 'tlogwatch-ingestion', 'tlogwatch-log-health', 'tlogwatch-process']);
    for (const d of DASHBOARDS) {
      expect(d.file).toBe(`${d.uid}.json`);
      expect(d.title).toMatch(/^tlogwatch \/ /);
    }
  });

  it.each(DASHBOARDS.map((d) => [d.uid, d] as const))('%s: panels are well-formed and fit the 24-column grid', (_, d) => {
    expect(d.panels.length).toBeGreaterThan(0);
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) {
      expect(['timeseries', 'stat']).toContain(p.type);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.datasource).toEqual({ type: datasource.type, uid: datasource.uid });
      expect(p.targets.length).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
      for (const t of p.targets) {
        expect(t.datasource).toEqual(p.datasource);
        expect(t.expr.trim()).not.toBe('');
      }
    }
    // Panels do not overlap.
    const cells = new Set<string>();
    for (const p of d.panels)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
  });

  it.each(QUERIES.map((q) => [q.where, q] as const))('%s: real metrics, defined variables', (_, q) => {
    const names = metricNamesIn(q.target.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(METRIC_NAMES, n).toContain(n);
    const defined = [...q.dashboard.templating.list.map((v) => v.name), ...BUILTIN_VARIABLES];
    for (const [, v] of q.target.expr.matchAll(/\$(\w+)/g)) expect(defined, `$${v}`).toContain(v);
  });

  it('template variables query real metrics', () => {
    for (const d of DASHBOARDS) for (const v of d.templating.list) for (const n of metricNamesIn(v.query.query)) expect(n === 'up' || METRIC_NAMES.has(n), `${d.uid} $${v.name}: ${n}`).toBe(true);
  });

  it('show every metric tlogwatch exports somewhere', () => {
    const used = new Set(QUERIES.flatMap((q) => metricNamesIn(q.target.expr)).map((n) => n.replace(/_(bucket|count|sum)$/, '')));
    expect(TLOGWATCH_METRICS.filter((m) => !used.has(m))).toEqual([]);
  });
});
