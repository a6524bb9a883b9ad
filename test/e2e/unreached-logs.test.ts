/**
 * `GET /v1/logs` lists every configured log, those whose upstream has never answered included: the daemon,
 * configured from YAML, follows a simulator's log, the same log's origin at a port that refuses connections,
 * and at a server that answers 401 to everything. Over real HTTP, each unreached log is listed from its
 * configuration (name, type, origin, URL), `bootstrapping`, with no sizes, and why in `transientError` once
 * a round has failed; every answer fits the OpenAPI schema, and /readyz says each is not bootstrapped.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/api/openapi.ts';
import type { LogView } from '../../src/api/views.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tlogwatch-unreached-'));
let sim: Simulator;
let locked: Server;
let d: Daemon;
let refusedUrl: string;
let lockedUrl: string;
let origin: string;

const listen = async (s: Server) => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  sim = await startSimulator({ api: 'tiles', entries: 100, seed: 'unreached', out: join(tmp, 'sim'), log: () => {} });
  // A port nothing listens on: bound, then closed, so connections to it are refused.
  const gone = createServer();
  refusedUrl = `${await listen(gone)}/refused`;
  await new Promise((r) => gone.close(r));
  locked = createServer((_req, res) => void res.writeHead(401, { 'www-authenticate': 'Bearer realm="log"' }).end());
  lockedUrl = `${await listen(locked)}/locked`;
  origin = (await (await fetch(`${sim.url}/checkpoint`)).text()).split('\n')[0]!;
  const log = (name: string, url: string, start: string) => `  - { name: ${name}, type: tiles, url: '${url}', origin: '${origin}', start: ${start}, pollInterval: 200ms, requestsPerMinute: 0 }\n`;
  const config = parseConfig(`dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n${log('good', sim.url, '0')}${log('refused', refusedUrl, 'latest')}${log('locked', lockedUrl, '0')}`, 'test.yaml', {});
  d = await startDaemon(config, createLogger({ level: 'silent' }));
}, 60_000);
afterAll(() => stopAll({ daemons: [d], sims: [sim], servers: [locked], dir: tmp }));

describe('GET /v1/logs with logs whose upstream never answered', () => {
  it('lists them from their configuration, with the error that keeps them from bootstrapping', { timeout: 60_000 }, async () => {
    const oa = buildOpenApi() as { paths: Record<string, { get: { responses: { 200: { content: { 'application/json': { schema: object } } } } } }> };
    const fitsSchema = new Ajv({ strict: false, allowUnionTypes: true }).compile(oa.paths['/v1/logs']!.get.responses[200].content['application/json'].schema);
    const views = async () => {
      const res = await fetch(`${d.url}/v1/logs`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as LogView[];
      expect(fitsSchema(body), JSON.stringify(fitsSchema.errors)).toBe(true);
      return new Map(body.map((v) => [v.name, v]));
    };
    // Listed from the first answer, before any round has ended.
    expect([...(await views()).keys()]).toEqual(['good', 'refused', 'locked']);

    // A refused connection is retried with backoff (7 attempts, ~8 s on average) before the round gives up.
    let by = await views();
    for (let i = 0; i < 300 && !(by.get('good')?.verifiedSize === 100 && by.get('refused')?.transientError && by.get('locked')?.transientError); i++) {
      await new Promise((r) => setTimeout(r, 100));
      by = await views();
    }
    const unreached = { type: 'tiles', origin: origin, state: 'bootstrapping', verifiedSize: null, verifiedRoot: null, upstreamSize: null, lag: null, lastVerifiedAt: null, mirroredFrom: null };
    expect(by.get('good')).toMatchObject({ origin: origin, state: 'following', verifiedSize: 100, mirroredFrom: 0 });
    expect(by.get('refused')).toMatchObject({ ...unreached, url: refusedUrl, transientError: { code: 'SOURCE_NETWORK', message: expect.stringContaining('ECONNREFUSED') } });
    expect(by.get('locked')).toMatchObject({ ...unreached, url: lockedUrl, transientError: { code: 'SOURCE_HTTP_STATUS', message: expect.stringContaining('HTTP 401 from') } });
    // Neither is stale: the mirror has seen no checkpoint of them to be behind (the upstream errors and /readyz say what is wrong).
    for (const n of ['refused', 'locked']) expect(by.get(n)?.stalled).toBeUndefined();
    expect(await (await fetch(`${d.url}/readyz`)).json()).toEqual({ status: 'unavailable', problems: ['refused: not bootstrapped yet', 'locked: not bootstrapped yet'] });
  });
});
