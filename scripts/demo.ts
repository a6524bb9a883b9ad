/**
 * `npm run demo`: a growing simulated Rekor v2 log (tiles) plus the tlogwatch daemon mirroring it, with the
 * API on http://127.0.0.1:8080 (DEMO_LISTEN to change). Everything lives under .data/demo and is rebuilt on
 * each run. Ctrl-C stops both.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { startDaemon } from '../src/daemon.ts';
import { describeError } from '../src/errors.ts';
import { createLogger } from '../src/logger.ts';

const root = join('.data', 'demo');
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const listen = process.env['DEMO_LISTEN'] ?? '127.0.0.1:8080';

const sim = spawn(process.execPath, ['test/sim/main.ts', '--api', 'tiles', '--entries', '5000', '--rate', '5', '--witnesses', '1', '--out', join(root, 'sim'), '--port', '0', '--seed', 'demo'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /ready (\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  sim.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
});

const configPath = join(root, 'tlogwatch.yaml');
writeFileSync(
  configPath,
  `# Written by npm run demo\ndataDir: ${join(root, 'data')}\nlisten: ${listen}\ntrustedRoot: ${join(root, 'sim', 'trusted_root.json')}\nlogs:\n  - name: rekor-v2-sim\n    type: tiles\n    url: ${url}\n    start: 0\n    pollInterval: 1s\n`,
);
const config = loadConfig(configPath);
const logger = createLogger({ level: process.env['TLOGWATCH_LOG_LEVEL'] ?? 'info' });
let daemon;
try {
  daemon = await startDaemon(config, logger);
} catch (e) {
  process.stderr.write(`demo: ${describeError(e)}\n`);
  sim.kill();
  process.exit(1);
}
const first = JSON.parse(readFileSync(join(root, 'sim', 'manifest.jsonl'), 'utf8').split('\n')[0]!) as { digests: string[]; repository: string };
process.stdout.write(`
tlogwatch demo: mirroring a simulated Rekor v2 log at ${url} (5 new entries/s)
  API         ${daemon.url}/v1/logs
  search      ${daemon.url}/v1/search?digest=${first.digests[0]}
              ${daemon.url}/v1/search?repository=${encodeURIComponent(first.repository)}
  metrics     ${daemon.url}/metrics
  config      ${configPath}
Ctrl-C to stop.
`);
const stop = () => {
  void daemon.stop().then(() => {
    sim.kill('SIGTERM');
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
