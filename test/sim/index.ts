/**
 * The simulator's programmatic API, for tests, benchmarks and the demo (the CLI, main.ts, wraps it):
 *
 *   const sim = await startSimulator({ api: 'tiles', entries: 1000, out: dir });
 *   await fetch(`${sim.url}/checkpoint`);  sim.trustedRootPath;  sim.manifestPath;
 *   sim.faults.enable('fork', 10);  sim.append(50);  await sim.close();
 */
import type { AddressInfo } from 'node:net';
import type { FaultSpec, Faults } from './faults.ts';
import { MISBEHAVIOUR } from './faults.ts';
import { SimLog, type SimLogOptions } from './log.ts';
import { createSimServer } from './server.ts';
import { writeTrustedRoot } from './trust.ts';
import { LogView } from './view.ts';

export interface SimulatorOptions extends Omit<SimLogOptions, 'seed' | 'holdNextInjections'> {
  seed?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Entries appended per second while running; a checkpoint is published every second (Rekor v2 batching). */
  rate?: number;
  /** Tiles URL path prefix (default `/api/v2`, as Rekor v2 serves it; '' for none). */
  prefix?: string;
  /** Misbehaviour faults given in `faults` take effect only once a first checkpoint was served (the CLI does this). */
  armAfterFirstCheckpoint?: boolean;
  /** Answer 401 to every request without exactly this Authorization value: a private log. */
  authorization?: string;
}

export interface Simulator {
  /** The log's base URL: `http://127.0.0.1:P` for v1, plus the prefix for tiles. */
  url: string;
  log: SimLog;
  /** What readers are shown (faults applied). */
  view: LogView;
  /** Switch faults at runtime: `sim.faults.enable('fork', 120)`, `.disable('stale')`. */
  faults: Faults;
  trustedRootPath: string;
  manifestPath: string;
  /** Appends n entries now and publishes a checkpoint. */
  append(n: number): void;
  /** Rekor v1: rotates to a new tree (the old one becomes an inactive shard). */
  rotate(): void;
  close(): Promise<void>;
}

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const faults = o.faults ?? [];
  const deferred: FaultSpec[] = o.armAfterFirstCheckpoint ? faults.filter((f) => (MISBEHAVIOUR as readonly string[]).includes(f.name)) : [];
  const log = await SimLog.create({ ...o, seed: o.seed ?? '1', faults: faults.filter((f) => !deferred.includes(f)), holdNextInjections: (o.rate ?? 0) > 0 });
  const view = new LogView(log);
  const prefix = o.api === 'tiles' ? (o.prefix ?? '/api/v2').replace(/\/+$/, '') : '';
  const server = createSimServer(log, view, prefix, o.authorization);
  if (deferred.length > 0) {
    server.on('request', (req, res) => {
      const path = new URL(req.url ?? '/', 'http://sim').pathname;
      if (path !== `${prefix}/checkpoint` && path !== '/api/v1/log') return;
      res.on('finish', () => {
        for (const f of deferred.splice(0)) {
          log.faults.enable(f.name, f.param, f.every);
          log.say(`fault ${f.name}${f.param !== undefined ? `@${f.param}` : ''} armed after the first checkpoint was served`);
        }
      });
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', resolve);
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  log.baseUrl = `http://${host}${prefix}`;
  log.name = o.api === 'v1' ? host : `${host}${prefix}`;
  const trustedRootPath = writeTrustedRoot(log);
  let timer: NodeJS.Timeout | undefined;
  if (o.rate !== undefined && o.rate > 0) {
    const rate = o.rate;
    let carry = 0;
    timer = setInterval(() => {
      carry += rate;
      const n = Math.floor(carry);
      carry -= n;
      log.append(n);
      log.publish();
    }, 1000);
  }
  let closed: Promise<void> | undefined;
  return {
    url: log.baseUrl,
    log,
    view,
    faults: log.faults,
    trustedRootPath,
    manifestPath: log.manifestPath,
    append(n: number) {
      log.append(n);
      log.publish();
    },
    rotate() {
      log.publish();
      log.rotate();
    },
    close() {
      closed ??= (async () => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await log.close();
      })();
      return closed;
    },
  };
}
