/**
 * API throughput and latency (issue 6): autocannon over loopback against a mirror of N entries (default
 * 1,000,000) served by a child process; baseline: a Hono "hello" route on the same server, measured in the
 * same run, and the server process's CPU time per request (utime + stime from /proc, Linux only). The
 * store is a real one: a tiles simulator's log (Fulcio certificates, DSSE/in-toto, plain keys) mirrored by
 * the LogFollower with full verification and `index: all`, in a builder process that exits before the
 * server starts. Queries are drawn from the simulator's manifest: one digest per request (spread over the
 * whole log), and identities that have at least 50 entries. The server runs twice, with Node's defaults
 * and the way the container image runs the daemon (runtime.ts).
 *   BENCH_ENTRIES=1000000 npx node test/bench/api.bench.ts
 * For A/B runs: BENCH_DIR=<dir> builds the store there once and reuses it on later runs (never removed;
 * it must have been built with the same BENCH_ENTRIES), BENCH_SECONDS shortens the rows (default 10),
 * BENCH_RUNTIME=node runs one server runtime only (runtime.ts), and BENCH_SEARCH_GATE=N serves with that
 * api.searchEntriesInFlight instead of the default (0: no bound).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { createApp } from '../../src/api/app.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { LogFollower } from '../../src/mirror/follower.ts';
import { Store } from '../../src/store/store.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../src/trust/trusted-root.ts';
import { startSimulator } from '../sim/index.ts';
import { readJson } from '../helpers/realdata.ts';
import { fmt, machine } from './machine.ts';
import { type Runtime, runtimes } from './runtime.ts';
import { ConfigSchema, defaultBatchSize } from '../../src/config/schema.ts';
import { DEFAULT_SERVER_LIMITS } from '../../src/api/http-server.ts';
import { listen } from '../../src/daemon.ts';

const N = Number(process.env['BENCH_ENTRIES'] ?? 1_000_000);
const LOG = 'bench';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const KEPT_DIR = process.env['BENCH_DIR'];

interface Queries {
  /** The store's size, so that a kept store (BENCH_DIR) is not taken for one of another size. */
  entries: number;
  digests: string[];
  identities: string[];
}

/** Builder mode: simulate, mirror into DIR, write the query lists to DIR/queries.json. */
async function build(dir: string): Promise<void> {
  const out = join(dir, 'sim');
  const t0 = performance.now();
  const sim = await startSimulator({ api: 'tiles', entries: N, out, seed: 'api-bench', log: () => {} });
  const tlog = parseTrustedRoot(readJson(sim.trustedRootPath)).tlogs[0]!;
  const store = await Store.open(join(dir, 'store'));
  const follower = new LogFollower(
    { name: LOG, type: 'tiles', url: sim.url, origin: tlog.name, start: 0n, pollIntervalMs: 10, batchSize: defaultBatchSize('all'), concurrency: 8, requestsPerMinute: 0 },
    { store, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'error' }), verifiers: [checkpointVerifierForTlog(tlog)] },
  );
  while ((await store.getLogState(LOG))?.verified?.size !== BigInt(N)) await follower.round();
  await store.compact();
  await store.close();
  await sim.close();
  // Digests spread over the log; identities with ≥ 50 entries (so a limit-50 page is full).
  const digests: string[] = [];
  const perSan = new Map<string, number>();
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(sim.manifestPath) })) {
    const m = JSON.parse(line) as { digests: string[]; san: string | null };
    if (i++ % Math.max(1, Math.floor(N / 20_000)) === 0 && m.digests[0]) digests.push(m.digests[0]);
    if (m.san) perSan.set(m.san, (perSan.get(m.san) ?? 0) + 1);
  }
  const identities = [...perSan].filter(([, n]) => n >= 50).map(([s]) => s);
  writeFileSync(join(dir, 'queries.json'), JSON.stringify({ entries: N, digests, identities } satisfies Queries));
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`api bench: simulated and mirrored ${fmt(N)} entries in ${((performance.now() - t0) / 1000).toFixed(0)} s; ${identities.length} identities with ≥ 50 entries\n`);
}

/** The `api` settings of a configuration that gives none: what `tlogwatch serve` serves with by default. */
const API_DEFAULTS = ConfigSchema.shape.api.parse(undefined);

/** The bound on search work in flight the server runs with: BENCH_SEARCH_GATE, else the configuration's default. */
const searchGate = (): number => Number(process.env['BENCH_SEARCH_GATE'] ?? API_DEFAULTS.searchEntriesInFlight);

/**
 * The API as `tlogwatch serve` serves it with the default configuration: the daemon's own listener (its
 * connection and time limits, http-server.ts) and the default bound on search work in flight
 * (api.searchEntriesInFlight, search-gate.ts). BENCH_SEARCH_GATE=N overrides that bound (0: none), for A/B runs.
 */
async function server(dir: string): Promise<void> {
  const store = await Store.open(join(dir, 'store'));
  const app = createApp({ store, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), logNames: () => [LOG], searchEntriesInFlight: searchGate(), extend: (a) => a.get('/hello', (c) => c.text('hello')) });
  const { server: s, url } = await listen(app.fetch, '127.0.0.1:0', { ...DEFAULT_SERVER_LIMITS, maxConnections: API_DEFAULTS.maxConnections });
  process.stdout.write(`ready ${url}\n`);
  process.on('SIGTERM', () => s.close(() => void store.close().then(() => process.exit(0))));
}

/** A process's CPU time so far in µs (utime + stime, /proc/<pid>/stat fields 14 and 15), or undefined off Linux. */
function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100; // USER_HZ (sysconf(_SC_CLK_TCK)), 100 on Linux
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

async function load(url: string, serverPid: number, connections: number, paths: (i: number) => string, seconds = SECONDS) {
  let i = 0;
  const cpu0 = cpuMicros(serverPid);
  const r = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths(i++) }) }],
  });
  const cpu1 = cpuMicros(serverPid);
  const cpuPerRequest = cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, bytes: r.throughput.average / Math.max(1, r.requests.average), cpuPerRequest };
}

/** The server, started the way `rt` says, until it prints its URL. */
async function startServer(dir: string, rt: Runtime): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...rt.nodeArgs, 'test/bench/api.bench.ts', '--server', dir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...rt.env } });
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`the API bench server exited with ${code}`)));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
    });
    return { url, pid: child.pid!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main(): Promise<void> {
  const dir = KEPT_DIR ?? mkdtempSync(join(tmpdir(), 'tlogwatch-apibench-'));
  try {
    if (!existsSync(join(dir, 'queries.json'))) execFileSync(process.execPath, ['test/bench/api.bench.ts', '--build', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    const q = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8')) as Queries;
    if (q.entries !== N) throw new Error(`${dir} holds a store of ${q.entries} entries, not BENCH_ENTRIES=${N}`);
    const digest = (i: number) => `/v1/search?digest=${q.digests[(i * 7919) % q.digests.length]}`;
    const identity = (i: number) => `/v1/search?identity=${encodeURIComponent(q.identities[(i * 104729) % q.identities.length]!)}&limit=50`;
    // One entry with its inclusion proof, spread over the whole log (a proof's nodes: store/tree-hashes.ts readNodes).
    const proof = (i: number) => `/v1/entries/${LOG}/${(i * 7919) % N}?include=proof`;
    const rows: string[] = [];
    for (const rt of runtimes()) {
      const server = await startServer(dir, rt);
      try {
        await load(server.url, server.pid, 50, digest, 3); // warm-up: JIT and LevelDB's block cache
        const hello = await load(server.url, server.pid, 50, () => '/hello');
        const d50 = await load(server.url, server.pid, 50, digest);
        const i50 = await load(server.url, server.pid, 50, identity);
        const i10 = await load(server.url, server.pid, 10, identity);
        const i1 = await load(server.url, server.pid, 1, identity);
        const p50 = await load(server.url, server.pid, 50, proof);
        const p1 = await load(server.url, server.pid, 1, proof);
        const row = (first: string, name: string, conns: number, r: Awaited<ReturnType<typeof load>>, target: string) =>
          `| ${first} | ${name} | ${conns} | ${fmt(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${((r.rps / hello.rps) * 100).toFixed(0)}% | ${r.cpuPerRequest === undefined ? '—' : `${fmt(r.cpuPerRequest)} µs`} | ${fmt(r.bytes)} B | ${r.errors} | ${target} |`;
        rows.push(
          row(rt.name, 'Hono "hello" route (baseline)', 50, hello, '—'),
          row('', '/v1/search?digest= (one hit)', 50, d50, '≥ 5,000/s, p99 ≤ 10 ms, ≥ 50% of hello'),
          row('', '/v1/search?identity=…&limit=50', 50, i50, 'p99 ≤ 20 ms'),
          row('', '/v1/search?identity=…&limit=50', 10, i10, 'p99 ≤ 20 ms'),
          row('', '/v1/search?identity=…&limit=50', 1, i1, 'p99 ≤ 20 ms'),
          row('', '/v1/entries/{log}/{index}?include=proof', 50, p50, '—'),
          row('', '/v1/entries/{log}/{index}?include=proof', 1, p1, '—'),
        );
      } finally {
        await server.stop();
      }
    }
    process.stdout.write(`## API (autocannon over loopback, ${SECONDS} s per row)

Machine: ${machine()}. A mirror of ${fmt(N)} entries (a tiles simulator's log mirrored with full verification and \`index: all\`);
server in its own process, started the way the first column says, serving as \`tlogwatch serve\` does with the default
configuration (its listener and limits; api.searchEntriesInFlight ${searchGate()}); autocannon in the bench's process, always
with Node's defaults. Digests are drawn from across the whole log; identities are the ${q.identities.length} signing
identities with at least 50 entries; entries read with their proofs are spread over the whole log. These identity pages flatter real data: the simulator issues one certificate per
identity and time slot, so the read cache answers nearly all of their certificates; with every certificate new, as
Fulcio issues them, a page costs ~2.3 ms of CPU against ~1.6 ms (measured in-process on 2026-11-29, docs/architecture.md
"A digest lookup"). Server CPU is the server process's user and system time (all its threads)
over the row, per request.

| server runtime | route | connections | requests/s | p50 | p99 | vs hello (same runtime) | server CPU per request | response | errors | target |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

`);
  } finally {
    if (!KEPT_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') await server(process.argv[3]!);
else if (process.argv[2] === '--build') await build(process.argv[3]!);
else await main();
