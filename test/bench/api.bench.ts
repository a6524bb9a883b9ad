/**
 * API throughput and latency (issue 6): autocannon over loopback, 50 connections, against a store of N
 * entries (default 1,000,000) served by a child process; baseline: a Hono "hello" route on the same server,
 * measured in the same run. Entries are synthetic Entry records committed through Store.commitBatch (the
 * same writes the mirror makes), with realistic identities and digests.
 *   BENCH_ENTRIES=1000000 npx node test/bench/api.bench.ts
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { serve } from '@hono/node-server';
import { createApp } from '../../src/api/app.ts';
import type { Entry } from '../../src/entries/types.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { CompactRange } from '../../src/merkle/compact.ts';
import type { LogState } from '../../src/store/codec.ts';
import { Store } from '../../src/store/store.ts';
import { fmt, machine } from './machine.ts';

const N = Number(process.env['BENCH_ENTRIES'] ?? 1_000_000);
const digestOf = (i: number) => `sha256:${createHash('sha256').update(`artifact-${i}`).digest('hex')}` as const;
const identityOf = (i: number) => `https://github.com/org${i % 500}/repo${i % 37}/.github/workflows/release.yml@refs/tags/v1.${i % 9}.0`;

async function server(dir: string): Promise<void> {
  const store = await Store.open(dir);
  const range = CompactRange.empty();
  const body = new Uint8Array(1500).fill(0x61);
  const t = performance.now();
  for (let start = 0; start < N; start += 4096) {
    const entries = [];
    for (let i = start; i < Math.min(N, start + 4096); i++) {
      const e: Entry = {
        log: 'bench',
        index: i,
        leafHash: createHash('sha256').update(`leaf-${i}`).digest('hex'),
        uuid: createHash('sha256').update(`leaf-${i}`).digest('hex'),
        integratedTime: 1_790_000_000 + i,
        kind: 'hashedrekord',
        apiVersion: '0.0.1',
        digests: [digestOf(i)],
        signer: { type: 'x509', fingerprint: `sha256:${'ab'.repeat(32)}`, san: identityOf(i), issuer: 'https://token.actions.githubusercontent.com', fulcio: { sourceRepositoryURI: `https://github.com/org${i % 500}/repo${i % 37}`, buildSignerURI: identityOf(i), runnerEnvironment: 'github-hosted' } },
      };
      entries.push({ record: { entry: e }, body });
    }
    const state: LogState = { name: 'bench', type: 'tiles', url: 'http://bench', origin: 'bench', status: 'following', frontier: range.serialize(), startIndex: 0n };
    await store.commitBatch({ entries, nodes: [], state });
  }
  process.stderr.write(`api bench: filled ${N} entries in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  const app = createApp({ store, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), logNames: () => ['bench'], extend: (a) => a.get('/hello', (c) => c.text('hello')) });
  const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => process.stdout.write(`ready http://127.0.0.1:${info.port}\n`));
  process.on('SIGTERM', () => s.close(() => void store.close().then(() => process.exit(0))));
}

async function load(url: string, paths: (i: number) => string, seconds = 10) {
  let i = 0;
  const r = await autocannon({
    url,
    connections: 50,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths(i++) }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-apibench-'));
  const child = spawn(process.execPath, ['test/bench/api.bench.ts', '--server', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
    });
    const hello = await load(url, () => '/hello');
    const digest = await load(url, (i) => `/v1/search?digest=${digestOf((i * 7919) % N)}`);
    const identity = await load(url, (i) => `/v1/search?identity=${encodeURIComponent(identityOf((i * 104729) % N))}&limit=50`);
    const row = (name: string, r: Awaited<ReturnType<typeof load>>, target: string) => `| ${name} | ${fmt(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${((r.rps / hello.rps) * 100).toFixed(0)}% | ${r.errors} | ${target} |`;
    process.stdout.write(`## API (autocannon, 50 connections, 10 s each)

Machine: ${machine()}. Store of ${fmt(N)} entries; server in its own process, autocannon in another.

| route | requests/s | p50 | p99 | vs hello (same run) | errors | target |
|---|---|---|---|---|---|---|
${row('Hono "hello" route (baseline)', hello, '—')}
${row('/v1/search?digest= (one hit)', digest, '≥ 5,000/s, p99 ≤ 10 ms, ≥ 50% of hello')}
${row('/v1/search?identity=…&limit=50', identity, 'p99 ≤ 20 ms')}

`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') await server(process.argv[3]!);
else await main();
