/**
 * `serve`'s API connections. A stop is not held by API clients: clients that hold connections (a
 * slowloris, a trickling body) are cut once in-flight requests have had their grace, so the daemon closes
 * its store within a container's stop grace period (docker-compose.yml: 30 s) instead of waiting out their
 * timeouts. And `api.maxConnections` reaches the server: one more connection is dropped, and counted.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-serve-stop-'));
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 50, seed: 'serve-stop', out: join(tmp, 'sim'), log: () => {} });
}, 60_000);
afterAll(() => stopAll({ sims: [sim], dir: tmp }));

/** A connection to `url` that sends `head` and then a byte every 200 ms; resolves once connected. */
function dripping(url: string, head: string): Promise<{ socket: Socket; closed: Promise<void>; stop(): void }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      const timer = setInterval(() => socket.writable && socket.write('x'), 200);
      resolve({ socket, closed, stop: () => clearInterval(timer) });
    });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
  });
}

describe('stopping serve with API clients holding connections', () => {
  it('closes them and the store promptly', { timeout: 60_000 }, async () => {
    const file = join(tmp, 'stop.yaml');
    writeFileSync(file, `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\n`);
    const d = await startDaemon(parseConfig(readFileSync(file, 'utf8'), 'stop.yaml', {}), createLogger({ level: 'silent' }));
    const slowHeaders = await dripping(d.url, 'GET /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const slowBody = await dripping(d.url, 'POST /api/v1/index/retrieve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"hash":"');
    try {
      const t = performance.now();
      await d.stop();
      const took = performance.now() - t;
      // Well under the 10 s headers and 60 s request timeouts that would otherwise end these connections.
      expect(took).toBeLessThan(5000);
      await Promise.all([slowHeaders.closed, slowBody.closed]);
      expect(d.store.isOpen).toBe(false);
    } finally {
      slowHeaders.stop();
      slowBody.stop();
      slowHeaders.socket.destroy();
      slowBody.socket.destroy();
    }
  });
});

describe('api.maxConnections', () => {
  it('caps the connections serve holds, and tlogwatch_http_connections_dropped_total counts the ones dropped', { timeout: 60_000 }, async () => {
    const file = join(tmp, 'cap.yaml');
    writeFileSync(file, `dataDir: ${join(tmp, 'data-cap')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n  - { name: sim, type: tiles, url: "${sim.url}", start: 0 }\napi: { maxConnections: 16 }\n`);
    const d = await startDaemon(parseConfig(readFileSync(file, 'utf8'), 'cap.yaml', {}), createLogger({ level: 'silent' }));
    const held: Array<Awaited<ReturnType<typeof dripping>>> = [];
    try {
      const { port } = new URL(d.url);
      for (let i = 0; i < 16; i++) held.push(await dripping(d.url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
      const extra = connect(Number(port), '127.0.0.1');
      extra.on('error', () => undefined);
      await new Promise((r) => extra.once('close', r));
      const freed = held.pop()!;
      freed.stop();
      freed.socket.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toMatch(/^tlogwatch_http_connections_dropped_total 1$/m);
    } finally {
      for (const h of held) {
        h.stop();
        h.socket.destroy();
      }
      await d.stop();
    }
  });
});
