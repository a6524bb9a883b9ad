/**
 * The mirror's catch-up while clients ask for heavy searches (api.searchEntriesInFlight, src/api/search-gate.ts):
 * a daemon (`startDaemon`, as `serve` runs it) mirrors a local tiles simulator of N entries (its own process)
 * from 0; once WARM entries are mirrored, a load process (its own too) opens CONNECTIONS keep-alive
 * connections, each asking for 1,000-entry issuer pages back to back, and the catch-up rate is measured from
 * then to the end. Runs, each in a fresh process and store: no load (the baseline), the load with no bound
 * (`searchEntriesInFlight: 0`: search.ts's slices alone), the load with the default bound, and with
 * BENCH_BEFORE_TREE the load on the code before both; ROUNDS rounds of them, interleaved, since the cores are
 * shared with other work.
 *   npx node test/bench/search-load.bench.ts     (BENCH_ENTRIES=200000 BENCH_CONNECTIONS=10 BENCH_ROUNDS=2)
 *   git archive 1492ce6 | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/ && cp test/bench/search-load.bench.ts /tmp/before/test/bench/
 *   BENCH_BEFORE_TREE=/tmp/before npx node test/bench/search-load.bench.ts
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { fetchedSize } from '../../src/store/codec.ts';
import { fmt, machine } from './machine.ts';
import { readyUrl } from '../helpers/ready-url.ts';

const N = Number(process.env['BENCH_ENTRIES'] ?? 200_000);
const WARM = 10_000;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const QUERY = `/v1/search?issuer=${encodeURIComponent('https://token.actions.githubusercontent.com')}&limit=1000`;

interface LoadResult {
  seconds: number;
  ok: number;
  busy: number;
  other: number;
  /** Milliseconds per answered page (200), median and 95th percentile. */
  p50: number;
  p95: number;
}

interface RunResult {
  /** Entries per second from WARM (committed) to N (committed and verified). */
  rate: number;
  load?: LoadResult;
  rejectedMetric: number;
}

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);

/** Load mode: CONNECTIONS loops of issuer pages until SIGTERM, then the counts on stdout. */
async function load(url: string): Promise<void> {
  let stop = false;
  const t = performance.now();
  const r = { ok: 0, busy: 0, other: 0 };
  const latencies: number[] = [];
  process.on('SIGTERM', () => (stop = true));
  process.stdout.write('started\n');
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (!stop) {
        const s = performance.now();
        const res = await fetch(url + QUERY).catch(() => undefined);
        await res?.text();
        if (res?.status === 200) {
          r.ok++;
          latencies.push(performance.now() - s);
        } else if (res?.status === 429) r.busy++;
        else r.other++;
      }
    }),
  );
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - t) / 1000, ...r, p50: pct(latencies, 50), p95: pct(latencies, 95) } satisfies LoadResult));
}

/** Child mode: a daemon mirroring the simulator at `url` with the given bound, under the load or not. */
async function child(url: string, root: string, dir: string, bound: number, withLoad: boolean): Promise<void> {
  const config = parseConfig(
    // A negative bound leaves the key out: the bench run against a tree from before it (BENCHMARKS.md says how).
    `dataDir: ${dir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${root}\nlogs:\n  - { name: bench, type: tiles, url: '${url}', start: 0, pollInterval: 100ms }\n${bound >= 0 ? `api:\n  searchEntriesInFlight: ${bound}\n` : ''}`,
    'bench',
  );
  const daemon = await startDaemon(config, createLogger({ level: 'silent' }));
  // Entries committed (hashed into the frontier, indexed): the verified size moves only at the simulator's
  // one checkpoint, at N.
  const fetched = async () => {
    const s = await daemon.store.getLogState('bench');
    return s ? fetchedSize(s) : 0n;
  };
  const verified = async () => (await daemon.store.getLogState('bench'))?.verified?.size ?? 0n;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while ((await fetched()) < BigInt(WARM)) await sleep(20);
  let loader: ChildProcess | undefined;
  let loaded = Promise.resolve('');
  if (withLoad) {
    const l = spawn(process.execPath, ['test/bench/search-load.bench.ts', '--load', daemon.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    loader = l;
    let out = '';
    loaded = new Promise((resolve) => l.on('exit', () => resolve(out.slice(out.indexOf('\n') + 1))));
    await new Promise<void>((resolve) =>
      l.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('started\n')) resolve();
      }),
    );
  }
  const v0 = await fetched();
  const t0 = performance.now();
  while ((await verified()) < BigInt(N)) await sleep(20);
  const rate = Number(BigInt(N) - v0) / ((performance.now() - t0) / 1000);
  loader?.kill('SIGTERM');
  const loadOut = await loaded;
  const rejected = (daemon.metrics as Partial<typeof daemon.metrics>).apiSearchRejected;
  const rejectedMetric = rejected ? ((await rejected.get()).values[0]?.value ?? 0) : 0;
  await daemon.stop();
  process.stdout.write(JSON.stringify({ rate, ...(loadOut ? { load: JSON.parse(loadOut) as LoadResult } : {}), rejectedMetric } satisfies RunResult));
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-search-load-'));
  const sim = spawn(process.execPath, ['test/sim/main.ts', '--api', 'tiles', '--entries', String(N), '--out', join(tmp, 'sim'), '--port', '0', '--seed', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await readyUrl(sim.stdout);
    // BENCH_BEFORE_TREE=DIR: one more run, in DIR, a tree of the code before this bench (`git archive 1492ce6`,
    // node_modules linked, this file copied in): the same load on the code with neither the bound nor the slices.
    const beforeTree = process.env['BENCH_BEFORE_TREE'];
    const runs: Array<[string, number, boolean, string?]> = [
      ['no load (baseline)', 1000, false],
      [`${CONNECTIONS} connections of 1,000-entry issuer pages, no bound (\`searchEntriesInFlight: 0\`)`, 0, true],
      [`${CONNECTIONS} connections of 1,000-entry issuer pages, the default bound (\`searchEntriesInFlight: 1000\`)`, 1000, true],
      ...(beforeTree ? [[`${CONNECTIONS} connections of 1,000-entry issuer pages, the code before (1492ce6: no bound, no slices)`, -1, true, beforeTree] as [string, number, boolean, string]] : []),
    ];
    const results = runs.map(() => [] as RunResult[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [what, bound, withLoad, cwd]] of runs.entries()) {
        const dir = join(tmp, `run-${round}-${i}`);
        const out = execFileSync(process.execPath, ['test/bench/search-load.bench.ts', '--child', url, join(tmp, 'sim', 'trusted_root.json'), dir, String(bound), String(withLoad)], { encoding: 'utf8', maxBuffer: 1 << 20, ...(cwd ? { cwd } : {}) });
        rmSync(dir, { recursive: true, force: true });
        const r = JSON.parse(out) as RunResult;
        results[i]!.push(r);
        process.stderr.write(`search-load: round ${round + 1}, ${what}: ${fmt(r.rate)} entries/s${r.load ? `, ${r.load.ok} pages, ${r.load.busy} refused` : ''}\n`);
      }
    }
    const base = results[0]!.map((r) => r.rate);
    const rows = runs.map(([what], i) => {
      const rs = results[i]!;
      const rates = rs.map((r) => fmt(r.rate)).join(', ');
      const share = rs.map((r, k) => `${((r.rate / base[k]!) * 100).toFixed(0)}%`).join(', ');
      const l = rs.map((r) => r.load).filter((x): x is LoadResult => x !== undefined);
      const pages = l.length ? l.map((x) => (x.ok / x.seconds).toFixed(1)).join(', ') : '—';
      const refused = l.length ? l.map((x) => (x.busy / x.seconds).toFixed(1)).join(', ') : '—';
      const lat = l.length ? l.map((x) => `${x.p50.toFixed(0)} / ${x.p95.toFixed(0)}`).join(', ') : '—';
      return `| ${what} | ${rates} | ${share} | ${pages} | ${refused} | ${lat} |`;
    });
    process.stdout.write(`## Catch-up under heavy searches

Machine: ${machine()}. A daemon (as \`serve\` runs it) mirrors ${fmt(N)} entries from a local tiles simulator
(its own process); from ${fmt(WARM)} entries on, a load process (its own too) keeps ${CONNECTIONS} connections asking for
1,000-entry issuer pages back to back (a refused page is asked again at once). Catch-up rate from then to the end;
${ROUNDS} rounds, each run in a fresh process and store, the runs interleaved (values per round, in order).
All processes share the machine's cores with each other and with other work.

| run | catch-up entries/s | of the baseline in the same round | pages served/s | pages refused (429)/s | page latency p50 / p95 (ms) |
|---|---|---|---|---|---|
${rows.join('\n')}

`);
  } finally {
    sim.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--load') await load(process.argv[3]!);
else if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]), process.argv[7] === 'true');
else await main();
