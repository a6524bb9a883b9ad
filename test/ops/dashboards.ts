/** The provisioned Grafana dashboards (grafana/dashboards/*.json) and the PromQL of every panel. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './tools.ts';

export interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: Target[];
}
export interface Variable {
  name: string;
  query: { query: string };
  allValue?: string;
}
export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

export const DASHBOARD_DIR = join(ROOT, 'grafana/dashboards');
export const DASHBOARDS: Dashboard[] = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ ...(JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')) as Omit<Dashboard, 'file'>), file }));

/** Every panel query, with where it comes from. */
export const QUERIES = DASHBOARDS.flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => ({ dashboard: d, panel: p, target: t, where: `${d.file} › ${p.title} › ${t.refId}` }))));

/** Grafana's own variables that a query may use. */
export const BUILTIN_VARIABLES = ['__rate_interval', '__interval', '__range'];

/**
 * A panel query as Prometheus receives it: dashboard variables at their "All" value, Grafana's rate
 * interval replaced by `rateInterval` (Grafana uses at least four scrape intervals).
 */
export function expand(expr: string, dashboard: Dashboard, rateInterval: string): string {
  let out = expr.replace(/\$__rate_interval|\$__interval|\$__range/g, rateInterval);
  for (const v of dashboard.templating.list) out = out.replaceAll(`$${v.name}`, v.allValue ?? '.+');
  return out;
}
