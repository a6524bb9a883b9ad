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
 *
 * BENCH_MODE=routes (BENCH_ROUTES=a,b: only those rows) measures the other routes whose work grows with what they read, each under the same load
 * (CONNECTIONS connections back to back): GET /v1/findings (1,000-finding pages, and a filter that matches
 * none, which reads every finding), GET /v1/logs/{log}/checkpoints (1,000-checkpoint pages), and Rekor's
 * POST /api/v1/log/entries/retrieve (10 indexes, each with its inclusion proof) and /api/v1/index/retrieve
 * (the subject with the most entries). The daemon then follows a Rekor v1 log too, of V1 entries, mirrored
 * before the runs into a store each run starts from a copy of, with a finding for every entry GitHub's
 * issuer signed (a rule) and CHECKPOINT_HISTORY copies of its verified checkpoint in its history; the
 * baseline runs with it as well.
 *   BENCH_MODE=routes npx node test/bench/search-load.bench.ts     (BENCH_V1_ENTRIES=20000)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { fetchedSize } from '../../src/store/codec.ts';
import { FindingsRepo } from '../../src/store/findings.ts';
import { checkpointKey } from '../../src/store/keys.ts';
import { Store } from '../../src/store/store.ts';
import { fmt, machine } from './machine.ts';
import { readyUrl } from '../helpers/ready-url.ts';

const N = Number(process.env['BENCH_ENTRIES'] ?? 200_000);
const WARM = 10_000;
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const GITHUB = 'https://token.actions.githubusercontent.com';
const MODE = process.env['BENCH_MODE'] ?? 'search';
const V1 = Number(process.env['BENCH_V1_ENTRIES'] ?? 20_000);
const CHECKPOINT_HISTORY = 2_000;
/** Routes mode: only these routes' rows (and the baseline), e.g. `BENCH_ROUTES=healthz,entries-retrieve`. */
const ONLY = process.env['BENCH_ROUTES']?.split(',');
/** The Rekor v1 log's name in routes mode. */
const REKOR = 'rekor';

/** What one load request asks: `subject` is the Rekor v1 log's most common SAN (routes mode). */
type Route = 'healthz' | 'entry' | 'issuer' | 'findings' | 'findings-scan' | 'checkpoints' | 'entries-retrieve' | 'index-retrieve';
const ROUTES: Record<Route, (subject: string) => { path: string; body?: string }> = {
  healthz: () => ({ path: '/healthz' }),
  entry: () => ({ path: `/v1/entries/${REKOR}/${Math.floor(Math.random() * V1)}` }),
  issuer: () => ({ path: `/v1/search?issuer=${encodeURIComponent(GITHUB)}&limit=1000` }),
  findings: () => ({ path: '/v1/findings?limit=1000' }),
  'findings-scan': () => ({ path: '/v1/findings?rule=no-such-rule&limit=1000' }),
  checkpoints: () => ({ path: `/v1/logs/${REKOR}/checkpoints?limit=1000` }),
  'entries-retrieve': () => ({ path: '/api/v1/log/entries/retrieve', body: JSON.stringify({ logIndexes: Array.from({ length: 10 }, () => Math.floor(Math.random() * V1)) }) }),
  'index-retrieve': (subject: string) => ({ path: '/api/v1/index/retrieve', body: JSON.stringify({ subject }) }),
};

/** A child run: the daemon's bound, the load's route (none: the baseline), and in routes mode the Rekor v1 log. */
interface ChildSpec {
  url: string;
  root: string;
  dir: string;
  bound: number;
  route?: Route;
  rekor?: { url: string; template: string; subject: string };
}

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
  /** The daemon's event-loop delay from then to the end (perf_hooks, ms): how long its callbacks waited. */
  loopDelay: { p99: number; max: number };
}

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);

/** Load mode: CONNECTIONS loops of `route`'s requests until SIGTERM, then the counts on stdout. */
async function load(url: string, route: Route, subject: string): Promise<void> {
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
        const q = ROUTES[route](subject);
        const res = await fetch(url + q.path, q.body === undefined ? {} : { method: 'POST', body: q.body, headers: { 'content-type': 'application/json' } }).catch(() => undefined);
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

/** The Rekor v1 log's entry in a config (routes mode): mirrored already in the store the run starts from. */
const rekorLog = (url: string) => `  - { name: ${REKOR}, type: rekor-v1, url: '${url}', start: 0, pollInterval: 1s, requestsPerMinute: 0 }\n`;

/** Child mode: a daemon mirroring the simulator at `url` with the given bound, under the load or not. */
async function child({ url, root, dir, bound, route, rekor }: ChildSpec): Promise<void> {
  if (rekor) cpSync(rekor.template, dir, { recursive: true });
  const config = parseConfig(
    // A negative bound leaves the key out: the bench run against a tree from before it (BENCHMARKS.md says how).
    `dataDir: ${dir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${root}\nlogs:\n  - { name: bench, type: tiles, url: '${url}', start: 0, pollInterval: 100ms }\n${rekor ? rekorLog(rekor.url) : ''}${bound >= 0 ? `api:\n  searchEntriesInFlight: ${bound}\n` : ''}`,
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
  if (route) {
    const l = spawn(process.execPath, ['test/bench/search-load.bench.ts', '--load', daemon.url, route, rekor?.subject ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  while ((await verified()) < BigInt(N)) await sleep(20);
  const rate = Number(BigInt(N) - v0) / ((performance.now() - t0) / 1000);
  delay.disable();
  const loopDelay = { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
  loader?.kill('SIGTERM');
  const loadOut = await loaded;
  const rejected = (daemon.metrics as Partial<typeof daemon.metrics>).apiSearchRejected;
  const rejectedMetric = rejected ? ((await rejected.get()).values[0]?.value ?? 0) : 0;
  await daemon.stop();
  process.stdout.write(JSON.stringify({ rate, ...(loadOut ? { load: JSON.parse(loadOut) as LoadResult } : {}), rejectedMetric, loopDelay } satisfies RunResult));
}

/**
 * Template mode (routes mode): a daemon with a rule that finds every entry GitHub's issuer signed mirrors the
 * Rekor v1 simulator at `url` whole into `dir`; then its verified checkpoint is copied into its history
 * CHECKPOINT_HISTORY times (at smaller sizes: the route reads records, it does not verify them). Prints the
 * number of findings.
 */
async function template(url: string, root: string, dir: string): Promise<void> {
  const rules = join(dir, '..', 'rules');
  mkdirSync(rules, { recursive: true });
  writeFileSync(join(rules, 'github.yaml'), `rules:\n  - id: github\n    severity: low\n    watch: { issuers: ['${GITHUB}'] }\n    expect: { issuers: ['https://issuer.invalid'] }\n`);
  const config = parseConfig(`dataDir: ${dir}\nlisten: 127.0.0.1:0\ntrustedRoot: ${root}\nrules: ${rules}\nlogs:\n${rekorLog(url)}`, 'bench');
  const daemon = await startDaemon(config, createLogger({ level: 'silent' }));
  while ((await daemon.store.getLogState(REKOR))?.verified?.size !== BigInt(V1)) await new Promise((r) => setTimeout(r, 100));
  await daemon.stop();
  const store = await Store.open(join(dir, 'store'));
  const s = (await store.getLogState(REKOR))!;
  const id = await store.logId(REKOR);
  const tree = s.shard?.seq ?? 0;
  const record = await store.db.get(checkpointKey(id, tree, s.verified!.size));
  for (let size = 1n; size <= BigInt(CHECKPOINT_HISTORY); size++) await store.db.put(checkpointKey(id, tree, size), record);
  const findings = [...(await new FindingsRepo(store).openBySeverity()).values()].reduce((a, b) => a + b, 0);
  await store.close();
  process.stdout.write(String(findings));
}

/** The SAN with the most entries in a simulator's manifest (at most index-retrieve.ts MAX_SCANNED of them). */
function topSubject(manifest: string): { subject: string; entries: number } {
  const counts = new Map<string, number>();
  for (const line of readFileSync(manifest, 'utf8').split('\n')) {
    const san = line ? (JSON.parse(line) as { san: string | null }).san : null;
    if (san) counts.set(san.toLowerCase(), (counts.get(san.toLowerCase()) ?? 0) + 1);
  }
  const [subject, entries] = [...counts].filter(([, n]) => n <= 10_000).sort((a, b) => b[1] - a[1])[0]!;
  return { subject, entries };
}

/** A simulator in its own process, and its URL once it serves. */
async function simulator(api: 'tiles' | 'v1', entries: number, out: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['test/sim/main.ts', '--api', api, '--entries', String(entries), '--out', out, '--port', '0', '--seed', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { proc, url: await readyUrl(proc.stdout) };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-search-load-'));
  const sims: ChildProcess[] = [];
  try {
    const tiles = await simulator('tiles', N, join(tmp, 'sim'));
    sims.push(tiles.proc);
    const url = tiles.url;
    let root = join(tmp, 'sim', 'trusted_root.json');
    let rekor: ChildSpec['rekor'];
    let setup = '';
    if (MODE === 'routes') {
      const v1 = await simulator('v1', V1, join(tmp, 'sim-v1'));
      sims.push(v1.proc);
      // One trusted root with both simulators' logs.
      const a = JSON.parse(readFileSync(root, 'utf8')) as { tlogs: unknown[] };
      const b = JSON.parse(readFileSync(join(tmp, 'sim-v1', 'trusted_root.json'), 'utf8')) as { tlogs: unknown[] };
      root = join(tmp, 'trusted_root.json');
      writeFileSync(root, JSON.stringify({ ...a, tlogs: [...a.tlogs, ...b.tlogs] }));
      const dir = join(tmp, 'template', 'data');
      const t0 = performance.now();
      const findings = Number(execFileSync(process.execPath, ['test/bench/search-load.bench.ts', '--template', v1.url, root, dir], { encoding: 'utf8' }));
      const top = topSubject(join(tmp, 'sim-v1', 'manifest.jsonl'));
      rekor = { url: v1.url, template: dir, subject: top.subject };
      setup = `The daemon also follows a Rekor v1 simulator's log of ${fmt(V1)} entries, mirrored before the runs (${((performance.now() - t0) / 1000).toFixed(0)} s) into a store each run starts from a copy of: ${fmt(findings)} findings (a rule finds every entry GitHub's issuer signed), ${fmt(CHECKPOINT_HISTORY)} copies of its verified checkpoint in its history; index/retrieve asks for the subject with the most entries (${fmt(top.entries)}).`;
      process.stderr.write(`search-load: ${setup}\n`);
    }
    // BENCH_BEFORE_TREE=DIR: one more run, in DIR, a tree of the code before this bench (`git archive 1492ce6`,
    // node_modules linked, this file copied in): the same load on the code with neither the bound nor the slices.
    const beforeTree = process.env['BENCH_BEFORE_TREE'];
    const load = (what: string) => `${CONNECTIONS} connections of ${what}`;
    // Routes mode: the routes this bench brought under the bound, each also run on the code before with BENCH_BEFORE_TREE.
    const changed: Array<[string, number, Route]> = [
      ['1,000-finding pages (`GET /v1/findings?limit=1000`)', 1000, 'findings'],
      ['finding pages a filter matches none of (`GET /v1/findings?rule=…`: every finding read)', 1000, 'findings-scan'],
      [`1,000-checkpoint pages (\`GET /v1/logs/${REKOR}/checkpoints?limit=1000\`)`, 1000, 'checkpoints'],
      ['Rekor index searches (`POST /api/v1/index/retrieve`, under the bound)', 1000, 'index-retrieve'],
      ['10-index Rekor retrieves with proofs (`POST /api/v1/log/entries/retrieve`)', 1000, 'entries-retrieve'],
    ];
    type Run = [string, number, Route?, string?];
    const runs: Run[] =
      MODE === 'routes'
        ? ([
            ['no load (baseline)', 1000],
            [load('`GET /healthz` (no work: what any request costs)'), 1000, 'healthz'],
            [load('single entries (`GET /v1/entries/{log}/{index}`)'), 1000, 'entry'],
            [load('1,000-entry issuer pages (`GET /v1/search`, under the bound)'), 1000, 'issuer'],
            ...changed.flatMap(([what, bound, route]): Array<[string, number, Route, string?]> => [
              [load(what), bound, route],
              ...(beforeTree ? [[load(`${what}, the code before`), bound, route, beforeTree] as [string, number, Route, string]] : []),
            ]),
            [load('Rekor index searches, no bound (`searchEntriesInFlight: 0`)'), 0, 'index-retrieve'],
          ] as Run[]).filter(([, , route]) => !ONLY || route === undefined || ONLY.includes(route))
        : [
            ['no load (baseline)', 1000],
            [load('1,000-entry issuer pages, no bound (`searchEntriesInFlight: 0`)'), 0, 'issuer'],
            [load('1,000-entry issuer pages, the default bound (`searchEntriesInFlight: 1000`)'), 1000, 'issuer'],
            ...(beforeTree ? [[load('1,000-entry issuer pages, the code before (1492ce6: no bound, no slices)'), -1, 'issuer', beforeTree] as [string, number, Route, string]] : []),
          ];
    const results = runs.map(() => [] as RunResult[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [what, bound, route, cwd]] of runs.entries()) {
        const dir = join(tmp, `run-${round}-${i}`);
        const spec: ChildSpec = { url, root, dir, bound, ...(route ? { route } : {}), ...(rekor ? { rekor } : {}) };
        const out = execFileSync(process.execPath, ['test/bench/search-load.bench.ts', '--child', JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 20, ...(cwd ? { cwd } : {}) });
        rmSync(dir, { recursive: true, force: true });
        const r = JSON.parse(out) as RunResult;
        results[i]!.push(r);
        process.stderr.write(`search-load: round ${round + 1}, ${what}: ${fmt(r.rate)} entries/s${r.load ? `, ${r.load.ok} answered, ${r.load.busy} refused, ${r.load.other} other` : ''}\n`);
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
      const loop = rs.map((r) => `${r.loopDelay.p99.toFixed(0)} / ${r.loopDelay.max.toFixed(0)}`).join(', ');
      return `| ${what} | ${rates} | ${share} | ${pages} | ${refused} | ${lat} | ${loop} |`;
    });
    const title = MODE === 'routes' ? 'Catch-up under heavy reads of the other routes' : 'Catch-up under heavy searches';
    const asked = MODE === 'routes' ? "each route's requests" : '1,000-entry issuer pages';
    process.stdout.write(`## ${title}

Machine: ${machine()}. A daemon (as \`serve\` runs it) mirrors ${fmt(N)} entries from a local tiles simulator
(its own process); from ${fmt(WARM)} entries on, a load process (its own too) keeps ${CONNECTIONS} connections asking for
${asked} back to back (a refused request is asked again at once). Catch-up rate from then to the end;
${ROUNDS} rounds, each run in a fresh process and store, the runs interleaved (values per round, in order).
All processes share the machine's cores with each other and with other work.${setup ? `\n${setup}` : ''}

| run | catch-up entries/s | of the baseline in the same round | answered/s | refused (429)/s | latency p50 / p95 (ms) | mirror's event-loop delay p99 / max (ms) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

`);
  } finally {
    for (const p of sims) p.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--load') await load(process.argv[3]!, process.argv[4] as Route, process.argv[5] ?? '');
else if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!) as ChildSpec);
else if (process.argv[2] === '--template') await template(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
