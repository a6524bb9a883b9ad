/**
 * Real Prometheus (Debian's `prometheus`) against a live `tlogwatch serve` mirroring two simulated
 * Rekor v2 logs, with the shipped grafana/prometheus.yml (targets pointed at the daemon, 1 s scrape and
 * evaluation intervals) and the shipped grafana/alerts.yml, unchanged:
 *
 *   sim-a  healthy and growing, every 5th request answered 503 (upstream errors, retries), one rogue
 *          signature under a watched repository (the example acme-release rule: a high finding), and
 *          one whose certificate has a malformed Fulcio claim (tlogwatch_entries_undecoded_total, and a
 *          low undecoded-entry finding, which pages nobody)
 *   sim-b  healthy until its checkpoints get a bad signature (`bad-sig`, injected in-process)
 *   sim-c  behind a loopback proxy: three times, it grows with one entry rewritten (its entry bundle and
 *          level-0 tile agree) while the proxy refuses the bundles past it, so a catch-up commits the
 *          rewritten entry and stops; then both are lifted, the root does not match, the entries fetched
 *          beyond the verified checkpoint are rolled back and fetched again (tlogwatch_entries_rolled_back_total,
 *          and tlogwatch_verification_unconfirmed_total born at 1 and counted to 3)
 *   a webhook that fails its first delivery, then accepts (notifications by result)
 *   the reverify job every 2 s (job metrics); API traffic all along, including 4xx and /readyz 503s
 *
 * Asserts: a healthy start fires nothing but the page for the injected finding; the integrity,
 * open-critical-finding and new-high-finding alerts fire (and only for
 * sim-b / the injected finding), the rolled-back-entries and unconfirmed-failures alerts fire (for
 * sim-c only), and every dashboard panel query (variables at "All") returns data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.ts';
import { refusingFrom } from '../helpers/stall-proxy.ts';
import { cosignatureVkey, rawEd25519 } from '../../src/note/keys.ts';
import { DASHBOARDS, expand, QUERIES } from './dashboards.ts';
import { freePort, ROOT, tool, waitFor } from './tools.ts';

const prometheusBin = tool('prometheus');
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-prom-'));
const RATE_INTERVAL = '10s';
const rogue = 'https://github.com/acme/api/.github/workflows/evil.yml@refs/heads/main';

let simA: Simulator;
let simB: Simulator;
let simC: Simulator;
let proxyC: HostileProxy;
let hook: Server;
const hookHits: number[] = [];
let daemon: ChildProcess | undefined;
let daemonUrl = '';
let daemonOut = '';
let prom: ChildProcess | undefined;
let promUrl = '';
let promOut = '';
let traffic: NodeJS.Timeout | undefined;

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
async function promApi<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as PromResponse<T>;
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}
const instant = (q: string) => promApi<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(q)}`);
interface Alert {
  labels: Record<string, string>;
  state: string;
}
const firing = async () => (await promApi<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.filter((a) => a.state === 'firing');

function spawnLogged(bin: string, argv: string[], onOut: (s: string) => void, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(bin, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => onOut(d.toString()));
  child.stderr.on('data', (d: Buffer) => onOut(d.toString()));
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  if (!prometheusBin) return;
  const gha = { issuer: 'https://token.actions.githubusercontent.com', extensions: { buildSignerURI: rogue, sourceRepositoryURI: 'https://github.com/acme/api', sourceRepositoryOwnerURI: 'https://github.com/acme', sourceRepositoryRef: 'refs/heads/main', buildTrigger: 'push', runnerEnvironment: 'github-hosted' } };
  [simA, simB, simC] = await Promise.all([
    startSimulator({ api: 'tiles', entries: 400, rate: 20, seed: 'prom-a', witnesses: 2, out: join(tmp, 'sim-a'), faults: [{ name: 'http-503', param: 5 }], inject: [{ at: 50, cert: { san: rogue, ...gha } }, { at: 60, cert: { san: 'someone@unwatched.example', rawExtensions: { buildTrigger: 'ff' } } }], log: () => {} }),
    startSimulator({ api: 'tiles', entries: 200, rate: 2, seed: 'prom-b', out: join(tmp, 'sim-b'), log: () => {} }),
    startSimulator({ api: 'tiles', entries: 300, seed: 'prom-c', out: join(tmp, 'sim-c'), log: () => {} }),
  ]);
  proxyC = await startHostileProxy(simC.url);
  // The proxy's URL is not the one the trusted root lists: the log is named by its checkpoint origin.
  const originC = (await (await fetch(`${simC.url}/checkpoint`)).text()).split('\n')[0]!;
  // One trusted root with both logs (and both simulated Fulcio CAs).
  const roots = [simA, simB, simC].map((s) => JSON.parse(readFileSync(s.trustedRootPath, 'utf8')) as Record<string, unknown[]>);
  const merged = { ...roots[0], tlogs: roots.flatMap((r) => r['tlogs'] ?? []), certificateAuthorities: roots.flatMap((r) => r['certificateAuthorities'] ?? []) };
  writeFileSync(join(tmp, 'trusted_root.json'), JSON.stringify(merged));

  hook = createServer((req, res) => {
    req.resume();
    hookHits.push(Date.now());
    res.writeHead(hookHits.length === 1 ? 500 : 200).end();
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));

  const config = {
    dataDir: join(tmp, 'data'),
    trustedRoot: join(tmp, 'trusted_root.json'),
    rules: join(ROOT, 'monitor-rules/examples'),
    logs: [
      // sim-a with a witness policy its two witnesses meet (the witness panels have data).
      { name: 'sim-a', type: 'tiles', url: simA.url, start: 0, pollInterval: '200ms', witnesses: { quorum: 2, keys: simA.log.witnesses.map((w) => cosignatureVkey(w.name, rawEd25519(w.publicKey))) } },
      { name: 'sim-b', type: 'tiles', url: simB.url, start: 0, pollInterval: '200ms' },
      // Batches of 256 (one entry bundle), so a catch-up commits some and stops at the refused ones.
      { name: 'sim-c', type: 'tiles', url: proxyC.url, origin: originC, start: 0, pollInterval: '200ms', batchSize: 256, requestsPerMinute: 0 },
    ],
    // sim-a's own checkpoint as a checkpoint source (the checkpoint-source panels have data).
    checkpointSources: [{ name: 'direct', kind: 'checkpoint', url: `${simA.url}/checkpoint`, logs: ['sim-a'], interval: '10s' }],
    notify: { webhooks: [{ url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` }] },
    jobs: { reverify: '*/2 * * * * *' },
  };
  writeFileSync(join(tmp, 'tlogwatch.yaml'), stringify(config));
  daemon = spawnLogged(process.execPath, ['src/cli.ts', 'serve', '--config', join(tmp, 'tlogwatch.yaml'), '--listen', '127.0.0.1:0'], (s) => (daemonOut += s), { ...process.env, TLOGWATCH_LOG_LEVEL: 'warn' });
  daemonUrl = await waitFor("tlogwatch listening", () => Promise.resolve(/listening (\S+)/.exec(daemonOut)?.[1]), 20_000, 50).catch((e) => { console.error("DAEMONOUT", daemonOut); throw e; });

  // The shipped Prometheus config, pointed at this daemon, with test intervals and no Alertmanager.
  const promCfg = parse(readFileSync(join(ROOT, 'grafana/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    alerting?: unknown;
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  promCfg.global = { ...promCfg.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
  promCfg.rule_files = promCfg.rule_files.map((f) => join(ROOT, 'grafana', f));
  delete promCfg.alerting;
  const job = promCfg.scrape_configs.find((j) => j.job_name === 'tlogwatch')!;
  job.static_configs = [{ targets: [new URL(daemonUrl).host] }];
  writeFileSync(join(tmp, 'prometheus.yml'), stringify(promCfg));
  mkdirSync(join(tmp, 'tsdb'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawnLogged(prometheusBin, [`--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], (s) => (promOut += s));
  await waitFor('Prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 20_000, 100);

  // API traffic, including client errors (bad digest) and, once sim-b halts, /readyz 503s.
  const digest = (JSON.parse(readFileSync(simA.manifestPath, 'utf8').split('\n')[0]!) as { digests: string[] }).digests[0]!;
  const paths = ['/v1/logs', `/v1/search?digest=${digest}`, '/v1/search?digest=sha256:nothex', '/healthz', '/readyz', '/v1/findings?limit=5', '/openapi.json'];
  traffic = setInterval(() => {
    for (const p of paths) void fetch(`${daemonUrl}${p}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.arrayBuffer(), () => undefined);
  }, 200);
}, 90_000);

afterAll(async () => {
  if (traffic) clearInterval(traffic);
  await stop(prom);
  await stop(daemon);
  await Promise.all([proxyC?.close(), simA?.close(), simB?.close(), simC?.close(), hook && new Promise<void>((r) => hook.close(() => r()))]);
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

interface LogView {
  name: string;
  verifiedSize: number;
  state: string;
}
const logs = async () => (await (await fetch(`${daemonUrl}/v1/logs`)).json()) as LogView[];

describe.skipIf(!prometheusBin)('Prometheus against a live tlogwatch', () => {
  it('scrapes tlogwatch and loads every alert rule of grafana/alerts.yml', { timeout: 30_000 }, async () => {
    const rules = parse(readFileSync(join(ROOT, 'grafana/alerts.yml'), 'utf8')) as { groups: Array<{ rules: unknown[] }> };
    const loaded = await promApi<{ groups: Array<{ rules: Array<{ name: string; health: string }> }> }>('/api/v1/rules');
    const all = loaded.groups.flatMap((g) => g.rules);
    expect(all).toHaveLength(rules.groups.flatMap((g) => g.rules).length);
    await waitFor('target up', async () => ((await instant('up{job="tlogwatch"} == 1')).result.length === 1 ? true : undefined), 15_000);
    await waitFor('rules evaluated without errors', async () => {
      const g = await promApi<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
      const bad = g.groups.flatMap((x) => x.rules).filter((r) => r.health !== 'ok');
      return bad.length === 0 ? true : undefined;
    }, 15_000);
  });

  it('fires the integrity alert for the log that served a bad signature, and the finding alerts', { timeout: 60_000 }, async () => {
    // Both logs mirrored and verified first; nothing fires while they are healthy.
    await waitFor('sim-a and sim-b verified', async () => ((await logs()).filter((l) => ['sim-a', 'sim-b'].includes(l.name) && l.verifiedSize > 0 && l.state === 'following').length === 2 ? true : undefined), 30_000);
    // A healthy start fires nothing but the page for the rogue signature sim-a logged on purpose.
    expect((await firing()).filter((a) => !(a.labels['alertname'] === 'TlogwatchHighSeverityFinding' && a.labels['rule'] === 'acme-release')).map((a) => a.labels['alertname'])).toEqual([]);
    simB.log.faults.enable('bad-sig');
    const alerts = await waitFor(
      'TlogwatchLogIntegrityFailure, TlogwatchCriticalFindingOpen and TlogwatchHighSeverityFinding firing',
      async () => {
        const f = await firing();
        const names = new Set(f.map((a) => a.labels['alertname']));
        return ['TlogwatchLogIntegrityFailure', 'TlogwatchCriticalFindingOpen', 'TlogwatchHighSeverityFinding'].every((n) => names.has(n)) ? f : undefined;
      },
      30_000,
      500,
    );
    const integrity = alerts.filter((a) => a.labels['alertname'] === 'TlogwatchLogIntegrityFailure');
    expect(integrity.map((a) => [a.labels['log'], a.labels['severity']])).toEqual([['sim-b', 'page']]);
    const findings = alerts.filter((a) => a.labels['alertname'] === 'TlogwatchHighSeverityFinding').map((a) => `${a.labels['rule']}/${a.labels['finding_severity']}`);
    expect(findings).toContain('log-integrity/critical');
    expect(findings).toContain('acme-release/high');
    expect(alerts.map((a) => a.labels['alertname'])).not.toContain('TlogwatchDown');
    expect((await logs()).find((l) => l.name === 'sim-b')?.state).toBe('halted');
  });

  it('fires the rolled-back-entries and unconfirmed-failures alerts for the log served rewritten entries, three times', { timeout: 90_000 }, async () => {
    const sizeOf = async (name: string) => (await logs()).find((l) => l.name === name && l.state === 'following')?.verifiedSize;
    let size = await waitFor('sim-c verified', async () => ((await sizeOf('sim-c')) === 300 ? 300 : undefined), 30_000);
    let refusing = false;
    for (let round = 1; round <= 3; round++) {
      // Entry size+100 rewritten, bundles from `refuse` on refused: the catch-up commits [size, refuse) and stops.
      const refuse = (Math.floor(size / 256) + 3) * 256;
      simC.log.faults.enable('rewrite', size + 100);
      refusing = true;
      proxyC.set(refusingFrom(refuse, () => refusing));
      simC.append(1200);
      await waitFor(`sim-c entries up to ${refuse} committed (round ${round})`, async () => ((await fetch(`${daemonUrl}/v1/entries/sim-c/${refuse - 1}`)).ok ? true : undefined), 30_000, 100);
      // Lifted: the next round reaches the signed root, which the rewritten entry keeps from matching.
      simC.log.faults.disable('rewrite');
      refusing = false;
      const next = size + 1200;
      await waitFor(`sim-c verified at ${next} (round ${round})`, async () => ((await sizeOf('sim-c')) === next ? true : undefined), 30_000, 100);
      size = next;
    }
    const alerts = await waitFor(
      'TlogwatchEntriesRolledBack and TlogwatchUnconfirmedVerificationFailures firing',
      async () => {
        const f = (await firing()).filter((a) => ['TlogwatchEntriesRolledBack', 'TlogwatchUnconfirmedVerificationFailures'].includes(a.labels['alertname']!));
        return new Set(f.map((a) => a.labels['alertname'])).size === 2 ? f : undefined;
      },
      20_000,
      500,
    );
    expect(alerts.map((a) => [a.labels['alertname'], a.labels['log'], a.labels['severity']]).sort()).toEqual([
      ['TlogwatchEntriesRolledBack', 'sim-c', 'warning'],
      ['TlogwatchUnconfirmedVerificationFailures', 'sim-c', 'warning'],
    ]);
    // What the alerts read: three rounds that met the mismatch, each dropping what it had committed.
    const unconfirmed = await instant('tlogwatch_verification_unconfirmed_total{log="sim-c"}');
    expect(unconfirmed.result.map((r) => [r.metric['reason'], r.value[1]])).toEqual([['VERIFY_ROOT_MISMATCH', '3']]);
    const dropped = Number((await instant('tlogwatch_entries_rolled_back_total{log="sim-c"}')).result[0]?.value[1]);
    expect(dropped).toBeGreaterThan(0);
    expect((await logs()).find((l) => l.name === 'sim-c')?.state).toBe('following');
  });

  it('returns data for every dashboard panel query and every template variable', { timeout: 60_000 }, async () => {
    const pending = new Map(QUERIES.map((q) => [q.where, expand(q.target.expr, q.dashboard, RATE_INTERVAL)]));
    for (const d of DASHBOARDS)
      for (const v of d.templating.list) {
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query.query);
        expect(m, `${d.uid} $${v.name}`).not.toBeNull();
        pending.set(`${d.file} › $${v.name}`, expand(`count by (${m![2]}) (${m![1]})`, d, RATE_INTERVAL));
      }
    const problems = new Map<string, string>();
    // Rates and quantiles need a few scrapes of fresh traffic; keep asking until every query has data.
    await waitFor(
      'every panel query to return data',
      async () => {
        for (const [where, q] of pending) {
          try {
            const r = await instant(q);
            if (r.result.length > 0 && r.result.some((s) => s.value[1] !== 'NaN')) {
              pending.delete(where);
              problems.delete(where);
            } else problems.set(where, `no data: ${q}`);
          } catch (e) {
            problems.set(where, `${e instanceof Error ? e.message : String(e)}: ${q}`);
          }
        }
        return pending.size === 0 ? true : undefined;
      },
      45_000,
      1000,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${[...problems].map(([w, p]) => `  ${w}: ${p}`).join('\n')}`, { cause: e });
    });
    expect(hookHits.length).toBeGreaterThan(1);
    console.log(`${QUERIES.length} panel queries and ${DASHBOARDS.reduce((n, d) => n + d.templating.list.length, 0)} template variables returned data`);
  });
});

// Keep the processes' output for a failing run.
afterAll(() => {
  if (process.exitCode) console.error(`tlogwatch output:\n${daemonOut.slice(-4000)}\nprometheus output:\n${promOut.slice(-4000)}`);
});
