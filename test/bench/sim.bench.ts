/**
 * The simulator (issue 3): build time and RSS for N entries (a child process per size), and serving speed
 * over loopback — entry bundles from tiles and the Rekor v1 retrieve endpoint — against a baseline of a
 * static buffer of the same size served by node:http, measured in the same run.
 *   BENCH_SIM_SIZES=100000,1000000 npx node test/bench/sim.bench.ts     (default 100000)
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../sim/index.ts';
import { SimLog } from '../sim/log.ts';
import { fmt, machine } from './machine.ts';

if (process.argv[2] === '--build') {
  const t = performance.now();
  const log = await SimLog.create({ api: 'tiles', entries: Number(process.argv[3]), seed: 'bench', out: process.argv[4]!, log: () => {} });
  const seconds = (performance.now() - t) / 1000;
  await log.close();
  process.stdout.write(JSON.stringify({ seconds, rssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  process.exit(0);
}

const sizes = (process.env['BENCH_SIM_SIZES'] ?? '100000').split(',').map(Number);
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-simbench-'));
const builds = sizes.map((n) => ({ n, ...(JSON.parse(execFileSync(process.execPath, ['test/bench/sim.bench.ts', '--build', String(n), join(tmp, `b${n}`)], { encoding: 'utf8' })) as { seconds: number; rssMB: number }) }));

/** Fetches `paths()` with `concurrency` requests in flight for `ms`; returns the count of items (entries) per second. */
async function pump(next: () => Promise<number>, ms = 5000, concurrency = 8): Promise<number> {
  let items = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) items += await next(); }));
  return items / ((performance.now() - start) / 1000);
}

const tiles = await startSimulator({ api: 'tiles', entries: 65_536, seed: 'serve', out: join(tmp, 'tiles'), log: () => {} });
const v1 = await startSimulator({ api: 'v1', entries: 5_000, seed: 'serve', out: join(tmp, 'v1'), log: () => {} });
const bundleBytes = (await (await fetch(`${tiles.url}/tile/entries/000`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
const staticBody = Buffer.alloc(bundleBytes, 0x61);
const baseline = createServer((_req, res) => res.writeHead(200, { 'content-length': String(staticBody.length) }).end(staticBody));
await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', r));
const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}`;

let k = 0;
const base = await pump(async () => { await (await fetch(`${baseUrl}/x`)).arrayBuffer(); return 256; });
const tilesRate = await pump(async () => {
  const n = k++ % 256;
  await (await fetch(`${tiles.url}/tile/entries/${String(n).padStart(3, '0')}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer();
  return 256;
});
const retrieve = await pump(async () => {
  const start = (k++ * 10) % 4990;
  const res = await fetch(`${v1.url}/api/v1/log/entries/retrieve`, { method: 'POST', body: JSON.stringify({ logIndexes: Array.from({ length: 10 }, (_, i) => start + i) }), headers: { 'content-type': 'application/json' } });
  return ((await res.json()) as unknown[]).length;
});
await tiles.close();
await v1.close();
baseline.close();
rmSync(tmp, { recursive: true, force: true });

process.stdout.write(`## Simulator

Machine: ${machine()}.

| measurement | result | baseline (same run) | target |
|---|---|---|---|
${builds.map((b) => `| build ${fmt(b.n)} entries (tiles, certificates and signatures included) | ${b.seconds.toFixed(1)} s (${fmt(b.n / b.seconds)}/s), peak RSS ${b.rssMB} MB | — | 1,000,000 in < 60 s; RSS flat |`).join('\n')}
| entries served from tiles (full 256-entry bundles, 8 in flight) | ${fmt(tilesRate)} entries/s | static ${fmt(bundleBytes)}-byte buffer via node:http: ${fmt(base)} entries/s equivalent | ≥ 200,000/s |
| entries served by v1 \`entries/retrieve\` (10 per request, 8 in flight) | ${fmt(retrieve)} entries/s | — | ≥ 5,000/s |

`);
