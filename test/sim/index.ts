/**
 * The simulator's programmatic API, for tests, benchmarks and the demo:
 *
 *   const sim = await startSimulator({ api: 'tiles', entries: 1000, out: dir });
 *   sim.url; sim.trustedRootPath; sim.manifestPath; sim.log.faults.enable('fork', 10); await sim.close();
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createSimServer } from './server.ts';
import { SimLog, type SimLogOptions } from './log.ts';
import type { FaultName, FaultSpec } from './faults.ts';

export interface SimulatorOptions extends Omit<SimLogOptions, 'seed'> {
  seed?: string;
  port?: number;
  /** Entries appended per second while running; a checkpoint is published every second. */
  rate?: number;
  /** Tiles URL path prefix (default `/api/v2`, as Rekor v2 serves it). */
  prefix?: string;
  /** Misbehaviour faults from `faults` take effect only after the first checkpoint was served (CLI default). */
  armAfterFirstCheckpoint?: boolean;
}

export interface Simulator {
  url: string;
  log: SimLog;
  trustedRootPath: string;
  manifestPath: string;
  /** Appends n entries now and publishes a checkpoint. */
  append(n: number): void;
  close(): Promise<void>;
}

const ARMED: readonly FaultName[] = ['fork', 'rewrite', 'tile-mismatch', 'drop', 'bad-sig', 'wrong-key', 'shrink', 'stale'];

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const armed: FaultSpec[] = o.armAfterFirstCheckpoint ? (o.faults ?? []).filter((f) => ARMED.includes(f.name)) : [];
  const log = new SimLog({ ...o, seed: o.seed ?? '1', faults: (o.faults ?? []).filter((f) => !armed.includes(f)) });
  const prefix = o.api === 'tiles' ? (o.prefix ?? '/api/v2').replace(/\/+$/, '') : '';
  const server = createSimServer(log, prefix);
  if (armed.length) {
    server.on('request', (req) => {
      if (armed.length && (req.url?.endsWith('/checkpoint') || req.url === '/api/v1/log')) {
        // Arm after this (first) checkpoint response has been produced.
        setImmediate(() => armed.splice(0).forEach((f) => log.faults.enable(f.name, f.param)));
      }
    });
  }
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  log.name = `${host}${prefix}`;
  log.baseUrl = `http://${host}${prefix}`;
  if (o.api === 'v1') log.name = host;
  const trustedRootPath = log.writeTrustedRoot();
  let timer: NodeJS.Timeout | undefined;
  if (o.rate && o.rate > 0) {
    let carry = 0;
    timer = setInterval(() => {
      carry += o.rate!;
      const n = Math.floor(carry);
      carry -= n;
      log.append(n);
      log.publish();
    }, 1000);
  }
  return {
    url: log.baseUrl,
    log,
    trustedRootPath,
    manifestPath: join(o.out, 'manifest.jsonl'),
    append(n: number) {
      log.append(n);
      log.publish();
    },
    async close() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log.close();
    },
  };
}
