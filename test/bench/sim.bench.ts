/**
 * The simulator (issue 3): build time of N entries and memory (peak RSS of the build, RSS while serving
 * afterwards), and serving speed over loopback (entry bundles from tiles, the v1 retrieve endpoint), each
 * against a same-run baseline: node:http serving a static buffer of the same size to the same client.
 * Servers run in child processes, the client here (8 keep-alive connections, RawClient below).
 *   npx node test/bench/sim.bench.ts                      (BENCH_SIM_SIZES=100000,1000000 by default)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimLog } from '../sim/log.ts';
import { fmt, machine } from './machine.ts';

if (process.argv[2] === '--build') {
  const t = performance.now();
  const log = await SimLog.create({ api: process.argv[3] as 'tiles' | 'v1', entries: Number(process.argv[4]), seed: 'bench', out: process.argv[5]!, log: () => undefined });
  const seconds = (performance.now() - t) / 1000;
  const peakMB = Math.round(process.resourceUsage().maxRSS / 1024);
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  const servingMB = Math.round(process.memoryUsage().rss / 2 ** 20);
  await log.close();
  process.stdout.write(JSON.stringify({ seconds, peakMB, servingMB }));
  process.exit(0);
}

const sizes = (process.env['BENCH_SIM_SIZES'] ?? '100000,1000000').split(',').map(Number);
const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-simbench-'));
const build = (api: string, n: number) => ({
  api,
  n,
  ...(JSON.parse(execFileSync(process.execPath, ['--expose-gc', 'test/bench/sim.bench.ts', '--build', api, String(n), join(tmp, `${api}-${n}`)], { encoding: 'utf8' })) as { seconds: number; peakMB: number; servingMB: number }),
});
const apis = (process.env['BENCH_SIM_APIS'] ?? 'tiles,v1').split(',');
const builds = apis.flatMap((api) => sizes.map((n) => build(api, n)));
rmSync(tmp, { recursive: true, force: true });

/** Starts `node args…` and resolves with the URL it prints as `ready URL`. */
function serve(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

/**
 * A minimal keep-alive HTTP/1.1 client on a raw socket: it frames responses by Content-Length and does not
 * look at the body unless asked. (autocannon's and node:http's clients cost more per byte than the servers
 * under test, and autocannon's even depends on the bytes: it would measure itself, not the simulator.)
 */
class RawClient {
  private readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: { status: number; body?: Buffer }) => void; keep: boolean; status?: number; length?: number; parts: Buffer[]; got: number } | undefined;
  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (d: Buffer) => this.onData(d));
  }
  private onData(d: Buffer): void {
    const p = this.pending;
    if (!p) return;
    if (p.length === undefined) {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      p.status = Number(head.slice(9, 12));
      p.length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      d = this.buf.subarray(end + 4);
      this.buf = Buffer.alloc(0);
    }
    p.got += d.length;
    if (p.keep) p.parts.push(d);
    if (p.got >= p.length) {
      this.pending = undefined;
      p.resolve({ status: p.status!, ...(p.keep ? { body: Buffer.concat(p.parts) } : {}) });
    }
  }
  request(path: string, body?: string, keep = false): Promise<{ status: number; body?: Buffer }> {
    return new Promise((resolve) => {
      this.pending = { resolve, keep, parts: [], got: 0 };
      const head = `${body ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\naccept-encoding: identity\r\n${body ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n`;
      this.socket.write(body ? head + body : head);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Items per second over 8 connections for 6 s (after a 1 s warm-up); `next` makes one request and says how many items it got. */
async function load(url: string, next: (c: RawClient, k: number) => Promise<number>): Promise<number> {
  const clients = Array.from({ length: 8 }, () => new RawClient(Number(new URL(url).port)));
  let k = 0;
  const run = async (ms: number) => {
    const until = performance.now() + ms;
    const counts = await Promise.all(clients.map(async (c) => {
      let items = 0;
      while (performance.now() < until) items += await next(c, k++);
      return items;
    }));
    return counts.reduce((a, b) => a + b, 0);
  };
  await run(1000);
  const start = performance.now();
  const items = await run(6000);
  const rate = items / ((performance.now() - start) / 1000);
  clients.forEach((c) => c.close());
  return rate;
}
const ok = (r: { status: number }, n: number) => {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  return n;
};

const out = mkdtempSync(join(tmpdir(), 'tlogwatch-simbench-serve-'));
const tiles = await serve(['test/sim/main.ts', '--api', 'tiles', '--entries', '65536', '--seed', 'serve', '--out', join(out, 'tiles')]);
const v1 = await serve(['test/sim/main.ts', '--api', 'v1', '--entries', '5000', '--seed', 'serve', '--out', join(out, 'v1')]);
const bundle = Buffer.from(await (await fetch(`${tiles.url}/tile/entries/000`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
const retrieveBody = (start: number) => JSON.stringify({ logIndexes: Array.from({ length: 10 }, (_, i) => start + i) });
const retrieved = Buffer.from(await (await fetch(`${v1.url}/api/v1/log/entries/retrieve`, { method: 'POST', body: retrieveBody(0) })).arrayBuffer());
const [bundleBytes, retrieveBytes] = [bundle.length, retrieved.length];
// Baselines: node:http serving one fixed buffer holding the same bytes as a real response.
const staticServer = (file: string) =>
  serve(['-e', `const b=require('node:fs').readFileSync(${JSON.stringify(file)});const s=require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>r.writeHead(200,{'content-length':b.length,'content-type':'application/octet-stream'}).end(b))});s.listen(0,'127.0.0.1',()=>console.log('ready http://127.0.0.1:'+s.address().port))`]);
writeFileSync(join(out, 'bundle.bin'), bundle);
writeFileSync(join(out, 'retrieve.json'), retrieved);
const baseTiles = await staticServer(join(out, 'bundle.bin'));
const baseV1 = await staticServer(join(out, 'retrieve.json'));

const tilesPath = new URL(tiles.url).pathname.replace(/\/$/, '');
const tilesBase = await load(baseTiles.url, async (c) => ok(await c.request('/x'), 256));
const tilesRate = await load(tiles.url, async (c, k) => ok(await c.request(`${tilesPath}/tile/entries/${String(k % 256).padStart(3, '0')}`), 256));
const v1Base = await load(baseV1.url, async (c) => ok(await c.request('/x', retrieveBody(0)), 10));
const v1Rate = await load(v1.url, async (c, k) => {
  const r = await c.request('/api/v1/log/entries/retrieve', retrieveBody((k * 10) % 4990), true);
  return ok(r, (JSON.parse(r.body!.toString()) as unknown[]).length);
});
for (const s of [tiles, v1, baseTiles, baseV1]) s.child.kill('SIGTERM');
rmSync(out, { recursive: true, force: true });

const mb = (n: number) => `${fmt(n)} MB`;
process.stdout.write(`## Simulator

Machine: ${machine()}. Builds run in a child process each (worker threads: one per core); servers in
child processes, the client here (8 keep-alive connections of a minimal raw-socket HTTP/1.1 client, 6 s
after a 1 s warm-up). Baselines: node:http serving a fixed buffer with the bytes of a real response.

| measurement | result | baseline (same run) | target |
|---|---|---|---|
${builds.map((b) => `| build ${fmt(b.n)} ${b.api} entries (certificates and signatures included) | ${b.seconds.toFixed(1)} s (${fmt(b.n / b.seconds)}/s); peak RSS ${mb(b.peakMB)}, serving RSS ${mb(b.servingMB)} | — | 1,000,000 in < 60 s; RSS flat |`).join('\n')}
| entries served from tiles (full 256-entry bundles of ${fmt(bundleBytes)} bytes) | ${fmt(tilesRate)} entries/s | the same bytes from a static buffer: ${fmt(tilesBase)} entries/s equivalent (${Math.round((100 * tilesRate) / tilesBase)}%) | ≥ 200,000/s |
| entries served by v1 \`entries/retrieve\` (10 per request, ${fmt(retrieveBytes)} bytes) | ${fmt(v1Rate)} entries/s | the same bytes from a static buffer: ${fmt(v1Base)} entries/s equivalent | ≥ 5,000/s |

RSS while serving is what the log holds after its build (tree hashes by level, offsets, times and the v1
lookup tables in typed arrays; bodies on disk) on top of the process's fixed cost: ${apis
  .map((api) => {
    const [a, z] = [builds.find((b) => b.api === api)!, builds.filter((b) => b.api === api).at(-1)!];
    return `${api} ${z.n > a.n ? `+${fmt(((z.servingMB - a.servingMB) * 2 ** 20) / (z.n - a.n))} bytes per entry from ${fmt(a.n)} to ${fmt(z.n)}` : 'one size only'}`;
  })
  .join(', ')}.
`);
