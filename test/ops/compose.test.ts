/**
 * docker-compose.yml without a Docker engine: valid against the Compose Specification JSON schema (the
 * copy dclint ships, compiled with ajv, every error reported), clean under dclint's rules, and wired
 * consistently: every bind mount exists, Prometheus scrapes the tlogwatch service on the port the image
 * exposes and loads the alert rules, Grafana's provisioning finds the dashboards and the datasource.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { byKeyword, execForm, stage } from './dockerfile.ts';
import { ROOT } from './tools.ts';

interface Service {
  build?: { context: string } | string;
  image?: string;
  volumes?: string[];
  ports?: string[];
  command?: string[];
  user?: string;
  read_only?: boolean;
  environment?: Record<string, string>;
}
const COMPOSE_PATH = join(ROOT, 'docker-compose.yml');
const compose = parse(readFileSync(COMPOSE_PATH, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const svc = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
const yamlFile = <T>(rel: string) => parse(readFileSync(join(ROOT, rel), 'utf8')) as T;
/** host path → container path of a service's bind mounts (relative host paths only), and their mode. */
const bindList = (s: Service) =>
  (s.volumes ?? [])
    .filter((v) => v.startsWith('./'))
    .map((v) => {
      const [host, target, mode] = v.split(':');
      return { host: host!.slice(2), target: target!, mode };
    });
const binds = (s: Service) => new Map(bindList(s).map((b) => [b.host, b.target]));
const mountedAt = (s: Service, host: string) => binds(s).get(host);

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema', () => {
    const require = createRequire(import.meta.url);
    const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const { $schema, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    expect(schema['title']).toBe('Compose Specification');
    // A draft-07 schema (ajv's default dialect) that names its meta-schema by an https URL ajv does not
    // register; the dialect is what matters.
    expect($schema).toMatch(/json-schema\.org\/draft-07\/schema/);
    // strict: false because the spec uses annotation keywords ajv does not know (deprecated, …).
    const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
    const ok = validate(compose);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.message ?? ''}`) ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('has no dclint errors or warnings (all rules on)', () => {
    const [result] = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] }).lintFiles([COMPOSE_PATH], false);
    expect(result?.messages.map((m: { line: number; rule: string; message: string }) => `${m.line}: ${m.rule}: ${m.message}`)).toEqual([]);
  });

  it('runs tlogwatch, Prometheus, Alertmanager and Grafana, publishing ports on loopback only', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'grafana', 'prometheus', 'tlogwatch']);
    for (const [name, s] of Object.entries(compose.services)) for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('bind-mounts only files and directories that exist in the repository, read-only', () => {
    for (const [name, s] of Object.entries(compose.services))
      for (const b of bindList(s)) {
        expect(existsSync(join(ROOT, b.host)), `${name}: ./${b.host}`).toBe(true);
        expect(b.mode, `${name}: ./${b.host}`).toBe('ro');
      }
  });

  it('builds tlogwatch from this Dockerfile and runs it read-only as the image user, state in the image volume', () => {
    const t = svc('tlogwatch');
    expect(t.build).toEqual({ context: '.', args: { VERSION: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version } });
    expect(t.read_only).toBe(true);
    const runtime = stage('runtime');
    expect(t.user).toBe(byKeyword(runtime, 'USER')[0]?.getArgumentsContent());
    const [volume] = byKeyword(runtime, 'VOLUME').map((v) => execForm(v)[0]);
    expect(t.volumes).toContain(`tlogwatch-data:${volume}`);
    expect(compose.volumes).toHaveProperty('tlogwatch-data');
    const cmd = t.command ?? [];
    expect(cmd[0]).toBe('serve');
    expect(cmd[cmd.indexOf('--data-dir') + 1]).toBe(volume);
    expect(cmd[cmd.indexOf('--listen') + 1]).toBe(`0.0.0.0:${byKeyword(runtime, 'EXPOSE')[0]?.getArgumentsContent()}`);
    // The example rules are mounted where --rules points.
    expect(cmd[cmd.indexOf('--rules') + 1]).toBe(mountedAt(t, 'monitor-rules/examples'));
  });

  it('Prometheus scrapes the tlogwatch service on its port, loads the alert rules and alerts Alertmanager', () => {
    const p = svc('prometheus');
    const cfgTarget = mountedAt(p, 'grafana/prometheus.yml');
    expect(p.command).toContain(`--config.file=${cfgTarget}`);
    const cfg = yamlFile<{ rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>; alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> } }>('grafana/prometheus.yml');
    // Rule files are relative to the config file's directory, where compose mounts alerts.yml too.
    for (const r of cfg.rule_files) expect(mountedAt(p, `grafana/${r}`)).toBe(join(dirname(cfgTarget!), r));
    const job = cfg.scrape_configs.find((j) => j.job_name === 'tlogwatch');
    expect(job?.static_configs.flatMap((s) => s.targets)).toEqual([`tlogwatch:${byKeyword(stage('runtime'), 'EXPOSE')[0]?.getArgumentsContent()}`]);
    expect(cfg.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets))).toEqual(['alertmanager:9093']);
    expect(mountedAt(svc('alertmanager'), 'grafana/alertmanager.yml')).toBe('/etc/alertmanager/alertmanager.yml');
  });

  it('Grafana gets the provisioned datasource and the dashboards where the provider looks for them', () => {
    const g = svc('grafana');
    expect(mountedAt(g, 'grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const provider = yamlFile<{ providers: Array<{ options: { path: string } }> }>('grafana/provisioning/dashboards/tlogwatch.yml');
    expect(mountedAt(g, 'grafana/dashboards')).toBe(provider.providers[0]?.options.path);
    const ds = yamlFile<{ datasources: Array<{ url: string; uid: string }> }>('grafana/provisioning/datasources/prometheus.yml');
    expect(ds.datasources[0]?.url).toBe('http://prometheus:9090');
    const home = g.environment?.['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '';
    expect(existsSync(join(ROOT, 'grafana/dashboards', home.slice(provider.providers[0]!.options.path.length)))).toBe(true);
  });
});
