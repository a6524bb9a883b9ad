/**
 * Catch-up throughput of the mirror (issue 4): a local tiles simulator (its own process) of N entries,
 * full verification, full decoding with certificate claims, index `all` and `watched`, each in a fresh
 * process for an honest peak RSS; baseline: raw `level` batches with the same number of entries and of
 * index keys per entry, no decoding, measured in the same run. All of it twice where Debian's libjemalloc2
 * is installed: with Node's defaults, and the way the container image runs the daemon (runtime.ts).
 *   BENCH_ENTRIES=1000000 npx node test/bench/ingest.bench.ts     (default 200000)
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { Level } from 'level';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { LogFollower } from '../../src/mirror/follower.ts';
import { Store } from '../../src/store/store.ts';
import { MARKER } from '../../src/store/keys.ts';
import { writeBatch } from '../../src/store/level.ts';
import { checkpointVerifierForTlog, parseTrustedRoot } from '../../src/trust/trusted-root.ts';
import { defaultBatchSize } from '../../src/config/schema.ts';
import { readJson } from '../helpers/realdata.ts';
import { fmt, machine } from './machine.ts';
import { type Runtime, runtimes } from './runtime.ts';
import { readyUrl } from '../helpers/ready-url.ts';

const N = Number(process.env['BENCH_ENTRIES'] ?? 200_000);

interface RunResult {
  seconds: number;
  /** Store.open + the log state after the catch-up: what a restart does before it resumes. */
  reopenMs: number;
  rssMB: number;
  /** RSS 5 s after the catch-up, the store still open and nothing to do: what a daemon keeps while it tails. */
  idleMB: number;
  bytes: number;
  keys: number;
  /** CPU seconds of the catch-up: the whole process (LevelDB's, zlib's and V8's threads too), and its main thread. */
  cpuSeconds: number;
  mainCpuSeconds: number;
}

/** Child mode: mirror the simulator at URL into DIR with the given index mode, print a RunResult. */
async function child(url: string, rootPath: string, dir: string, mode: 'all' | 'watched'): Promise<void> {
  const tlog = parseTrustedRoot(readJson(rootPath)).tlogs[0]!;
  let store = await Store.open(dir, { indexMode: mode });
  let peak = 0;
  let peakMem = process.memoryUsage();
  let peakStatus = '';
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak) {
      peak = m.rss;
      peakMem = m;
      if (process.env['BENCH_DEBUG']) {
        const spaces = getHeapSpaceStatistics().filter((sp) => sp.space_size >= 1 << 20).map((sp) => `${sp.space_name} ${Math.round(sp.space_size / 2 ** 20)}`);
        peakStatus = `${readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^Rss/.test(l)).join(' ')}; V8 spaces (MB): ${spaces.join(', ')}`;
      }
    }
  }, 50);
  const follower = new LogFollower(
    { name: 'bench', type: 'tiles', url, origin: tlog.name, start: 0n, pollIntervalMs: 10, batchSize: Number(process.env['BENCH_BATCH'] ?? defaultBatchSize(mode)), concurrency: 8, requestsPerMinute: 0, compression: process.env['BENCH_COMPRESSION'] === 'none' ? 'none' : 'gzip' },
    {
      store,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'error' }),
      verifiers: [checkpointVerifierForTlog(tlog)],
      hooks: { isWatched: (e) => e.signer?.fulcio?.sourceRepositoryOwnerURI === 'https://github.com/acme' },
    },
  );
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const mainCpu0 = threadCpu();
  while ((await store.getLogState('bench'))?.verified?.size !== BigInt(N)) await follower.round();
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  // Peak RSS of the catch-up itself: maxRSS now, before the compaction and the key count below (an
  // iterator over every key), which are the bench's own work and can peak far higher.
  const catchUpMaxRss = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  const mainCpu = threadCpu(mainCpu0);
  if (process.env['BENCH_DEBUG']) process.stderr.write(`cpu: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, main thread ${((mainCpu.user + mainCpu.system) / 1e6).toFixed(1)} s (user ${(cpu.user / 1e6).toFixed(1)}, system ${(cpu.system / 1e6).toFixed(1)}); maxRSS so far ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
  // What stays resident once the catch-up is over: a tailing daemon's footprint (the allocator may hand
  // freed pages back to the kernel meanwhile; V8 keeps its heap until it next collects).
  await new Promise((r) => setTimeout(r, 5000));
  const idleMB = Math.round(process.memoryUsage().rss / 2 ** 20);
  // A restart at this size: open the store (not compacted, as a daemon leaves it) and read where to resume.
  await store.close();
  const reopenedAt = performance.now();
  store = await Store.open(dir, { indexMode: mode });
  if ((await store.getLogState('bench'))?.verified?.size !== BigInt(N)) throw new Error('the reopened store lost its state');
  const reopenMs = performance.now() - reopenedAt;
  await store.compact();
  // Keys of both databases: the entries' own (entryDb) and everything else's.
  let keys = 0;
  for (const db of [store.db, store.entryDb]) for await (const _ of db.keys()) keys++;
  const bytes = await store.approximateSize();
  await store.close();
  if (process.env['BENCH_DEBUG']) process.stderr.write(`peak memory: ${JSON.stringify(Object.fromEntries(Object.entries(peakMem).map(([k, v]) => [k, Math.round(v / 2 ** 20)])))} MB; ${peakStatus.replace(/\s+/g, ' ')}\n`);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const mainCpuSeconds = (mainCpu.user + mainCpu.system) / 1e6;
  process.stdout.write(JSON.stringify({ seconds, reopenMs, rssMB: Math.round(catchUpMaxRss / 2 ** 20), idleMB, bytes, keys, cpuSeconds, mainCpuSeconds } satisfies RunResult));
}

/** This thread's CPU time (Node ≥ 23.9), since `since` when given. */
function threadCpu(since?: NodeJS.CpuUsage): NodeJS.CpuUsage {
  return (process as unknown as { threadCpuUsage(since?: NodeJS.CpuUsage): NodeJS.CpuUsage }).threadCpuUsage(since);
}

/** CPU seconds a process has used so far (Linux /proc; utime + stime in clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The same number of entries (values of the measured size) and index keys per entry through `level` batches. */
async function baseline(dir: string, keysPerEntry: number, valueBytes: number): Promise<number> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const value = randomBytes(valueBytes);
  const t = performance.now();
  for (let start = 0; start < N; start += 8192) {
    const ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array }> = [];
    for (let i = start; i < Math.min(N, start + 8192); i++) {
      const k = Buffer.alloc(11);
      k[0] = 2;
      k.writeUInt32BE(i, 7);
      ops.push({ type: 'put', key: k, value });
      for (let j = 0; j < keysPerEntry; j++) ops.push({ type: 'put', key: randomBytes(40), value: MARKER });
    }
    // A chained batch, as the store writes (level.ts writeBatch): the cheaper form, so the baseline stays the best raw case.
    await writeBatch(db, ops);
  }
  const s = (performance.now() - t) / 1000;
  await db.close();
  return N / s;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-bench-'));
  const t0 = performance.now();
  const sim = spawn(process.execPath, ['test/sim/main.ts', '--api', 'tiles', '--entries', String(N), '--out', join(tmp, 'sim'), '--port', '0', '--seed', 'bench'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await readyUrl(sim.stdout);
  const buildSeconds = (performance.now() - t0) / 1000;
  const child = (rt: Runtime, args: string[], env: Record<string, string> = {}): string => {
    const out = execFileSync(process.execPath, [...rt.nodeArgs, 'test/bench/ingest.bench.ts', ...args], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, ...rt.env, ...env } });
    rmSync(args.at(-2)!, { recursive: true, force: true });
    return out;
  };
  // The simulator shares the machine's cores with the mirror: its CPU during each run is reported too.
  const run = (rt: Runtime, mode: 'all' | 'watched', compression: 'gzip' | 'none' = 'gzip'): RunResult & { simCpuSeconds: number } => {
    const before = processCpuSeconds(sim.pid!);
    const r = JSON.parse(child(rt, ['--child', url, join(tmp, 'sim', 'trusted_root.json'), join(tmp, mode), mode], { BENCH_COMPRESSION: compression })) as RunResult;
    return { ...r, simCpuSeconds: processCpuSeconds(sim.pid!) - before };
  };
  const cpuPerEntry = (r: RunResult & { simCpuSeconds: number }) => [r.cpuSeconds, r.mainCpuSeconds, r.simCpuSeconds].map((x) => ((x * 1e6) / N).toFixed(0)).join(' / ');
  const rate = (r: RunResult) => N / r.seconds;
  const rows: string[] = [];
  const restarts: string[] = [];
  try {
    for (const rt of runtimes()) {
      const all = run(rt, 'all');
      const watched = run(rt, 'watched');
      // What asking for gzip costs the mirror (and the simulator, which compresses each response).
      const plain = run(rt, 'all', 'none');
      const keysPerEntry = Math.round(Math.max(0, all.keys / N - 1));
      const base = Number(child(rt, ['--baseline', String(keysPerEntry), String(Math.round(all.bytes / N)), join(tmp, 'baseline'), 'baseline']));
      rows.push(
        `| ${rt.name} | raw \`level\` batches, 1 entry + ${keysPerEntry} random index keys, no decoding (baseline) | ${fmt(base)} | 100% | — | — | — | — | — |`,
        `| | \`index: all\` | ${fmt(rate(all))} | ${((rate(all) / base) * 100).toFixed(0)}% | ${all.rssMB} MB | ${all.idleMB} MB | ${fmt(all.bytes / N)} | ${cpuPerEntry(all)} | ≥ 15,000/s and ≥ 60% of baseline, RSS ≤ 300 MB |`,
        `| | \`index: watched\` (full index for github.com/acme only) | ${fmt(rate(watched))} | ${((rate(watched) / base) * 100).toFixed(0)}% | ${watched.rssMB} MB | ${watched.idleMB} MB | ${fmt(watched.bytes / N)} | ${cpuPerEntry(watched)} | ≥ 30,000/s |`,
        `| | \`index: all\`, \`compression: none\` (responses not gzipped) | ${fmt(rate(plain))} | ${((rate(plain) / base) * 100).toFixed(0)}% | ${plain.rssMB} MB | ${plain.idleMB} MB | ${fmt(plain.bytes / N)} | ${cpuPerEntry(plain)} | — |`,
      );
      restarts.push(`${rt.name}: ${all.reopenMs.toFixed(0)} ms (\`all\`), ${watched.reopenMs.toFixed(0)} ms (\`watched\`)`);
    }
    process.stdout.write(`## Ingest (catch-up)

Machine: ${machine()}. ${fmt(N)} entries from a local tiles simulator (separate process, built in ${buildSeconds.toFixed(0)} s),
full verification (root recomputed, level-0 tiles checked), full decoding with certificate claims;
responses gzipped (the default) unless the row says otherwise. Each run, and each baseline, in a fresh
process started the way its first column says. The simulator runs on the same ${availableParallelism()} cores as the mirror; the CPU
column says what each used per entry (the mirror's whole process, of it its main thread, and the simulator).

| runtime | run | entries/s | vs raw LevelDB baseline (same runtime) | peak RSS | RSS 5 s after | bytes/entry on disk (compacted) | CPU µs/entry: mirror / its main thread / simulator | target |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Restart at this size (the store reopened after the catch-up, uncompacted, and the log state read: what
\`serve\` does before it resumes): ${restarts.join('; ')}; target: resume in under 2 s regardless of mirror size.

`);
  } finally {
    sim.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, process.argv[5]!, process.argv[6] as 'all' | 'watched');
else if (process.argv[2] === '--baseline') process.stdout.write(String(await baseline(process.argv[5]!, Number(process.argv[3]), Number(process.argv[4]))));
else await main();
