/**
 * Tailing latency (issue 4): the time from a checkpoint being published by the simulator to its new entry
 * being verified, indexed and returned by /v1/search, with the daemon polling every second (the default
 * Rekor v2 checkpoint cadence). Baseline: the same measurement's floor, a /v1/search for an entry that is
 * already mirrored, in the same run.
 *   npx node test/bench/tailing.bench.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator } from '../sim/index.ts';
import { machine } from './machine.ts';

const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 30);
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-tail-'));
const sim = await startSimulator({ api: 'tiles', entries: 1000, seed: 'tail', out: join(tmp, 'sim'), log: () => {} });
const config = parseConfig(`dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: tail, type: tiles, url: '${sim.url}', start: 0, pollInterval: 1s }\n`, 'bench');
const daemon = await startDaemon(config, createLogger({ level: 'silent' }));
const lastDigest = () => (JSON.parse(readFileSync(sim.manifestPath, 'utf8').trim().split('\n').pop()!) as { digests: string[] }).digests[0]!;
const found = async (d: string) => ((await (await fetch(`${daemon.url}/v1/search?digest=${d}`)).json()) as { entries: unknown[] }).entries.length > 0;

while (!(await found(lastDigest()))) await new Promise((r) => setTimeout(r, 100));
const floor: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await found(lastDigest());
  floor.push(performance.now() - t);
}
const latencies: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  await new Promise((r) => setTimeout(r, Math.random() * 1000)); // publish at a random point of the poll cycle
  sim.append(1 + Math.floor(Math.random() * 5));
  await new Promise((r) => setTimeout(r, 20)); // let the manifest line reach the file
  const d = lastDigest();
  const t = performance.now();
  while (!(await found(d))) await new Promise((r) => setTimeout(r, 20));
  latencies.push(performance.now() - t);
}
await daemon.stop();
await sim.close();
rmSync(tmp, { recursive: true, force: true });
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
process.stdout.write(`## Tailing latency

Machine: ${machine()}. Daemon polling a tiles simulator every 1 s; ${SAMPLES} checkpoints published at random
points of the poll cycle, each with 1–5 new entries; latency = checkpoint published → entry returned by /v1/search.

| measurement | p50 | p95 | max | target |
|---|---|---|---|---|
| published → verified, indexed, queryable | ${pct(latencies, 50).toFixed(0)} ms | ${pct(latencies, 95).toFixed(0)} ms | ${Math.max(...latencies).toFixed(0)} ms | p95 ≤ 2000 ms ${pct(latencies, 95) <= 2000 ? '✔' : '✘'} |
| baseline: /v1/search of a mirrored entry (same run) | ${pct(floor, 50).toFixed(1)} ms | ${pct(floor, 95).toFixed(1)} ms | ${Math.max(...floor).toFixed(1)} ms | — |

`);
