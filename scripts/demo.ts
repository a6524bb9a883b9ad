/**
 * `npm run demo`: a growing simulated Rekor v2 log (tiles) with a few rogue signatures under acme's name,
 * plus the tlogwatch daemon mirroring it with the example rules (monitor-rules/examples), with the
 * API on http://127.0.0.1:8080 (DEMO_LISTEN to change). Everything lives under .data/demo (DEMO_DIR to change)
 * and is rebuilt on each run. It prints where to look, then each high or critical finding as it is raised,
 * one line each; the daemon's JSON logs only from warnings up (TLOGWATCH_LOG_LEVEL to change), as at info
 * the catch-up's findings bury the banner. Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { startDaemon, type Daemon } from '../src/daemon.ts';
import { describeError, isTlogwatchError } from '../src/errors.ts';
import { createLogger } from '../src/logger.ts';
import { forTerminal } from '../src/util/terminal.ts';
import { whenLauncherExits } from '../src/util/launcher.ts';

/** Ends the demo with one line on stderr, not a stack trace, and the simulator with it once it runs: nothing is left running. */
function fail(message: string, sim?: ChildProcess): never {
  process.stderr.write(`demo: ${message}\n`);
  sim?.kill();
  process.exit(1);
}

const root = process.env['DEMO_DIR'] ?? join('.data', 'demo');
const listen = process.env['DEMO_LISTEN'] ?? '127.0.0.1:8080';
// Checked before anything starts: found in the config the demo writes, it would be a stack trace after the simulator is up.
const listenOk = ConfigSchema.shape.listen.safeParse(listen);
if (!listenOk.success) fail(`DEMO_LISTEN=${listen}: ${listenOk.error.issues[0]?.message ?? 'not HOST:PORT'}`);
/** How to run the demo elsewhere, for when its address cannot be used (the demo's config is rewritten on each run). */
const elsewhere = 'choose another with DEMO_LISTEN, e.g. DEMO_LISTEN=127.0.0.1:8081 npm run demo';
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });

// A few rogue signatures under acme's name among the simulated traffic, for the example rules to catch:
// three in the log's history, and one in the first entries appended while the demo runs.
const gha = (repo: string, workflow: string, ref: string, over: Record<string, string> = {}) => ({
  san: `https://github.com/acme/${repo}/.github/workflows/${workflow}@${ref}`,
  issuer: 'https://token.actions.githubusercontent.com',
  extensions: {
    buildSignerURI: `https://github.com/acme/${repo}/.github/workflows/${workflow}@${ref}`,
    sourceRepositoryURI: `https://github.com/acme/${repo}`,
    sourceRepositoryOwnerURI: 'https://github.com/acme',
    sourceRepositoryRef: ref,
    buildTrigger: 'push',
    runnerEnvironment: 'github-hosted',
    ...over,
  },
});
const injectPath = join(root, 'inject.jsonl');
writeFileSync(
  injectPath,
  [
    { at: 1200, cert: gha('api', 'exfiltrate.yml', 'refs/heads/main') }, // a workflow the release policy does not know
    { at: 2500, cert: gha('api', 'release.yml', 'refs/tags/v2.4.0', { runnerEnvironment: 'self-hosted' }) }, // a self-hosted runner
    { at: 4000, cert: gha('cli', 'release.yml', 'refs/heads/hotfix', { sourceRepositoryRef: 'refs/heads/hotfix' }) }, // a release from a branch
    { at: 'next', cert: gha('payments', 'release.yml', 'refs/tags/v3.0.0', { buildTrigger: 'pull_request_target' }) }, // appended live
  ]
    .map((l) => JSON.stringify(l))
    .join('\n') + '\n',
);
const sim = spawn(process.execPath, ['test/sim/main.ts', '--api', 'tiles', '--entries', '5000', '--rate', '5', '--witnesses', '1', '--inject', injectPath, '--out', join(root, 'sim'), '--port', '0', '--seed', 'demo'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
// `npm run demo` runs this under `sh -c`, which does not pass on a SIGTERM sent to npm: without this the
// demo's daemon and simulator outlived it (src/util/launcher.ts). Until everything runs, ending is this.
let end = (): void => {
  sim.kill();
  process.exit(0);
};
whenLauncherExits(() => end());
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /ready (\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  sim.once('exit', (code) => reject(new Error(`the simulator exited with ${code} before it was ready`)));
}).catch((e: unknown) => fail(describeError(e), sim));

// An admin token, so the findings can be acknowledged as in production (POST /v1/findings/{id}/ack):
// one of the environment's, as docs/configuration.md has it, else one made up for this run.
const ownToken = process.env['TLOGWATCH_ADMIN_TOKEN'] === undefined;
const token = (process.env['TLOGWATCH_ADMIN_TOKEN'] ??= randomBytes(16).toString('hex'));
/** The token as the banner shows it: one of the environment's is not printed. */
const shownToken = ownToken ? token : '$TLOGWATCH_ADMIN_TOKEN';
const configPath = join(root, 'tlogwatch.yaml');
writeFileSync(
  configPath,
  `# Written by npm run demo\ndataDir: ${join(root, 'data')}\nlisten: ${listen}\ntrustedRoot: ${join(root, 'sim', 'trusted_root.json')}\nrules: monitor-rules/examples\napi:\n  adminToken: \${TLOGWATCH_ADMIN_TOKEN}\nlogs:\n  - name: rekor-v2-sim\n    type: tiles\n    url: ${url}\n    start: 0\n    pollInterval: 1s\n# The log's checkpoint fetched again, on its own timer, as a second vantage point would serve it\n# (docs/operations.md "Comparing checkpoints with other sources"): /v1/logs shows the comparison.\ncheckpointSources:\n  - { name: second-path, kind: checkpoint, url: '${url}/checkpoint', logs: [rekor-v2-sim], interval: 30s }\n`,
);
const logLevel = process.env['TLOGWATCH_LOG_LEVEL'] ?? 'warn';
const logger = createLogger({ level: logLevel });
let daemon: Daemon;
try {
  daemon = await startDaemon(loadConfig(configPath), logger);
} catch (e) {
  // The daemon's advice for an address it cannot bind names `listen` and --listen, which the demo does not take.
  const bind = isTlogwatchError(e) && typeof e.data['listen'] === 'string' ? e.data : undefined;
  fail(bind ? `DEMO_LISTEN=${String(bind['listen'])}: cannot listen there: ${String(bind['reason'])}; ${elsewhere}` : describeError(e), sim);
}
const first = JSON.parse(readFileSync(join(root, 'sim', 'manifest.jsonl'), 'utf8').split('\n')[0]!) as { digests: string[]; repository: string };
process.stdout.write(`
tlogwatch demo: mirroring a simulated Rekor v2 log at ${url} (5 new entries/s)
  API         ${daemon.url}/v1/logs
  search      ${daemon.url}/v1/search?digest=${first.digests[0]}
              ${daemon.url}/v1/search?repository=${encodeURIComponent(first.repository)}
  findings    ${daemon.url}/v1/findings?rule=acme-release   (the four rogue acme signatures)
              ${daemon.url}/v1/findings   (everything the example rules in monitor-rules/examples flag)
  metrics     ${daemon.url}/metrics
  CLI         npx tlogwatch search --server ${daemon.url} --owner https://github.com/acme
  ack         curl -H 'authorization: Bearer ${shownToken}' -d '{"reason":"seen"}' ${daemon.url}/v1/findings/ID/ack   (ID: a finding's, as listed below)
  config      ${configPath}
  logs        ${logLevel === 'warn' ? "the daemon's warnings and errors (TLOGWATCH_LOG_LEVEL=info npm run demo for all)" : `the daemon's, from ${logLevel} up`}
Ctrl-C to stop. High and critical findings as they are raised:
`);

// The high and critical findings, read from the API as a client would, each printed once as it appears:
// the rogue acme signatures of the history, then the one appended while the demo runs.
interface Listed {
  id: string;
  severity: string;
  rule: string;
  log: string;
  index?: number;
  message: string;
}
const shown = new Set<string>();
let polling = false;
async function showFindings(): Promise<void> {
  if (polling) return;
  polling = true;
  try {
    const found: Listed[] = [];
    for (const severity of ['critical', 'high']) {
      const res = await fetch(`${daemon.url}/v1/findings?severity=${severity}&limit=100`);
      found.push(...((await res.json()) as { findings: Listed[] }).findings);
    }
    for (const f of found.filter((x) => !shown.has(x.id)).sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
      shown.add(f.id);
      // A message quotes what a logged certificate says: made safe for the terminal, as the CLI prints it.
      process.stdout.write(`  ${f.severity.toUpperCase()}  ${forTerminal(f.rule)}  ${forTerminal(f.log)}${f.index === undefined ? '' : `#${f.index}`}  ${forTerminal(f.message)}  [${forTerminal(f.id)}]\n`);
    }
  } catch {
    // Stopping, or a round that failed: the next one reads them again.
  } finally {
    polling = false;
  }
}
const watching = setInterval(() => void showFindings(), 1000);
const stop = () => {
  clearInterval(watching);
  void daemon.stop().then(() => {
    sim.kill('SIGTERM');
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
end = stop;
