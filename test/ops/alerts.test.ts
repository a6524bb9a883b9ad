/**
 * The Prometheus alert rules with the real tools from Debian's prometheus and prometheus-alertmanager
 * packages: `promtool check rules`, `promtool test rules` (alerts.test.yml must make every alert fire
 * and also show it silent), `promtool check config` on the compose Prometheus config and
 * `amtool check-config` on the Alertmanager config. Every alert has a severity, a summary, a
 * description and a runbook link to a section of docs/operations.md, and queries only real metrics.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { githubAnchor, METRIC_NAMES, metricNamesIn } from './promql.ts';
import { ROOT, tool } from './tools.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
}
const rules = (parse(readFileSync(join(ROOT, 'grafana/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const unitTests = (parse(readFileSync(join(ROOT, 'grafana/alerts.test.yml'), 'utf8')) as { tests: RuleTest[] }).tests.flatMap((t) => t.alert_rule_test ?? []);

/** Runs a tool and returns its output; a non-zero exit fails with the tool's own output. */
function run(bin: string, argv: string[]): string {
  try {
    return execFileSync(bin, argv, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${bin} ${argv.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`, { cause: e });
  }
}

const promtool = tool('promtool');
const amtool = tool('amtool');

describe.skipIf(!promtool)('promtool', () => {
  it('check rules: alerts.yml is valid', () => {
    expect(run(promtool!, ['check', 'rules', 'grafana/alerts.yml'])).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('test rules: every unit test in alerts.test.yml passes', () => {
    expect(run(promtool!, ['test', 'rules', 'grafana/alerts.test.yml'])).toContain('SUCCESS');
  });

  it('check config: the compose Prometheus config (with its rule files) is valid', () => {
    expect(run(promtool!, ['check', 'config', 'grafana/prometheus.yml'])).toContain('is valid prometheus config file syntax');
  });
});

describe.skipIf(!amtool)('amtool', () => {
  it('check-config: the compose Alertmanager config is valid and routes severity="page" to the pager', () => {
    expect(run(amtool!, ['check-config', 'grafana/alertmanager.yml'])).toContain('SUCCESS');
    const cfg = parse(readFileSync(join(ROOT, 'grafana/alertmanager.yml'), 'utf8')) as { route: { routes: Array<{ matchers: string[]; receiver: string }> } };
    expect(cfg.route.routes.find((r) => r.matchers.includes('severity="page"'))?.receiver).toBe('pager');
  });
});

describe('Alertmanager inhibit rules', () => {
  const cfg = parse(readFileSync(join(ROOT, 'grafana/alertmanager.yml'), 'utf8')) as { inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[] }> };
  /** The alert names a matcher selects: `alertname="X"` or `alertname=~"X|Y"`. */
  const named = (matchers: string[]) => matchers.flatMap((m) => /^alertname=~?"(.+)"$/.exec(m)?.[1]?.split('|') ?? []);

  it.each(cfg.inhibit_rules.map((r, i) => [i, r] as const))('rule %i names only alerts that exist (a renamed alert would silently stop inhibiting)', (_, r) => {
    const names = [...named(r.source_matchers), ...named(r.target_matchers)];
    expect(names.length).toBeGreaterThan(1);
    for (const n of names) expect(rules.map((x) => x.alert), n).toContain(n);
  });
});

describe('alert rules', () => {
  it('cover what operators need: down, restarting, integrity, failures on unsigned bytes, rolled-back entries, findings new and left open, API server errors, staleness, lag growing or a catch-up that takes long, upstream errors, a witness that stopped cosigning, notifications, jobs, a store that cannot be written or whose volume is filling up, a trusted root that changed, checkpoint sources ahead of the mirror or failing', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'TlogwatchApiErrors',
        'TlogwatchCheckpointSourceAhead',
        'TlogwatchCheckpointSourceFailing',
        'TlogwatchCriticalFindingOpen',
        'TlogwatchDown',
        'TlogwatchEntriesRolledBack',
        'TlogwatchHighFindingsOpen',
        'TlogwatchHighSeverityFinding',
        'TlogwatchLogIntegrityFailure',
        'TlogwatchMirrorBehind',
        'TlogwatchMirrorLagGrowing',
        'TlogwatchNoVerifiedCheckpoint',
        'TlogwatchNotificationBacklog',
        'TlogwatchNotificationsFailing',
        'TlogwatchRestarting',
        'TlogwatchScheduledJobFailing',
        'TlogwatchStoreNotWritable',
        'TlogwatchStoreVolumeFillingUp',
        'TlogwatchUpstreamErrors',
        'TlogwatchUnconfirmedVerificationFailures',
        'TlogwatchTrustedRootChanged',
        'TlogwatchWitnessCosignatureStale',
      ].sort(),
    );
    const pages = rules.filter((r) => r.labels['severity'] === 'page').map((r) => r.alert);
    expect(pages.sort()).toEqual(['TlogwatchCriticalFindingOpen', 'TlogwatchDown', 'TlogwatchHighSeverityFinding', 'TlogwatchLogIntegrityFailure', 'TlogwatchStoreNotWritable']);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s: has a unit test where it fires and one where it stays silent', (name) => {
    const cases = unitTests.filter((t) => t.alertname === name);
    expect(cases.some((t) => (t.exp_alerts ?? []).length > 0), 'fires').toBe(true);
    expect(cases.some((t) => (t.exp_alerts ?? []).length === 0), 'silent').toBe(true);
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s: severity, summary, description, runbook section, real metrics', (name, r) => {
    expect(['page', 'warning']).toContain(r.labels['severity']);
    expect(r.annotations['summary']).toBeTruthy();
    expect(r.annotations['description']).toBeTruthy();
    const url = r.annotations['runbook_url'] ?? '';
    expect(url).toBe(`https://github.com/tlogwatch/tlogwatch/blob/main/docs/operations.md#${name.toLowerCase()}`);
    const headings = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => githubAnchor(l.replace(/^#+ /, '')));
    expect(headings).toContain(url.split('#')[1]);
    const names = metricNamesIn(r.expr);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) if (n !== 'up') expect(METRIC_NAMES, n).toContain(n);
  });
});
