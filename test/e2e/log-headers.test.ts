/**
 * `logs[].headers` end to end: a private log behind an authenticating proxy on loopback, which answers 401
 * to a request without the right Authorization and passes the rest on to the simulator. The daemon,
 * configured from YAML with the secret from the environment, follows four logs through it: one with the
 * header (verifies), one with it read from a secret file (`headerFiles`, verifies), one without (a 401 its
 * log lines explain), and one the proxy redirects to another port (that server never sees the header; the
 * log verifies through it). The secret appears in no response of the mirror and no log line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logger.ts';
import { startSimulator, type Simulator } from '../sim/index.ts';
import { stopAll } from '../helpers/teardown.ts';

const SECRET = 'pr1vate-log-s3cret-7f3a';
const BASIC = Buffer.from(`mirror:${SECRET}`).toString('base64');

/** Passes `req` on to `target` (path appended), its headers but Host and Authorization kept, and streams the answer back. */
function forward(req: IncomingMessage, res: ServerResponse, target: string): void {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.authorization;
  const up = request(target, { method: req.method ?? 'GET', headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

const listen = async (s: Server) => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

/** The origin a tiles checkpoint names, or the signer name of a Rekor v1 signed tree head (without its tree ID). */
async function originOf(sim: Simulator, api: 'tiles' | 'v1'): Promise<string> {
  if (api === 'tiles') return (await (await fetch(`${sim.url}/checkpoint`)).text()).split('\n')[0]!;
  const sth = ((await (await fetch(`${sim.url}/api/v1/log`)).json()) as { signedTreeHead: string }).signedTreeHead;
  return sth.split('\n')[0]!.replace(/ - \d+$/, '');
}

interface LogView {
  name: string;
  url: string;
  verifiedSize: number | null;
  transientError?: { code: string; message: string };
}

describe.each(['tiles', 'v1'] as const)('a private %s log behind an authenticating proxy', (api) => {
  const tmp = mkdtempSync(join(tmpdir(), `tlogwatch-headers-${api}-`));
  const logLines: string[] = [];
  /** What the server a redirect points at was sent: any Authorization, and whether the secret was anywhere. */
  const elsewhere: Array<{ authorization: string | undefined; secret: boolean }> = [];
  const refused: string[] = [];
  let sim: Simulator;
  let proxy: Server;
  let other: Server;
  let d: Daemon;

  beforeAll(async () => {
    sim = await startSimulator({ api, entries: 300, seed: `headers-${api}`, out: join(tmp, 'sim'), log: () => {} });
    other = createServer((req, res) => {
      elsewhere.push({ authorization: req.headers.authorization, secret: JSON.stringify(req.headers).includes(SECRET) || JSON.stringify(req.headers).includes(BASIC) });
      forward(req, res, `${sim.url}${req.url!.replace(/^\/x/, '')}`);
    });
    const otherUrl = await listen(other);
    proxy = createServer((req, res) => {
      const m = /^\/(good|filed|nokey|moved)(\/.*)$/.exec(req.url ?? '');
      if (!m) return void res.writeHead(404).end();
      if (req.headers.authorization !== `Basic ${BASIC}`) {
        refused.push(m[1]!);
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="private log"' }).end();
      }
      // The log's storage moved elsewhere: the request is redirected to another port (another origin).
      if (m[1] === 'moved') return void res.writeHead(307, { location: `${otherUrl}/x${m[2]!}` }).end();
      forward(req, res, `${sim.url}${m[2]!}`);
    });
    const proxyUrl = await listen(proxy);
    const origin = await originOf(sim, api);
    const type = api === 'tiles' ? 'tiles' : 'rekor-v1';
    const log = (name: string, headers: string) =>
      `  - { name: ${name}, type: ${type}, url: '${proxyUrl}/${name}', origin: '${origin}', start: 0, pollInterval: 200ms, requestsPerMinute: 0${headers} }\n`;
    const withKey = ', headers: { Authorization: "Basic ${LOG_BASIC}" }';
    // A Docker or Kubernetes secret: the whole value, with the newline `echo` leaves.
    const secretFile = join(tmp, 'log_auth');
    writeFileSync(secretFile, `Basic ${BASIC}\n`);
    const config = parseConfig(
      `dataDir: ${join(tmp, 'data')}\nlisten: 127.0.0.1:0\ntrustedRoot: ${sim.trustedRootPath}\nlogs:\n${log('good', withKey)}${log('filed', `, headerFiles: { Authorization: '${secretFile}' }`)}${log('nokey', '')}${log('moved', withKey)}`,
      'test.yaml',
      { LOG_BASIC: BASIC },
    );
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    d = await startDaemon(config, createLogger({ level: 'debug', destination }));
  }, 60_000);
  afterAll(() => stopAll({ daemons: [d], sims: [sim], servers: [proxy, other], dir: tmp }));

  it('verifies the log with the header, inline or from a file, explains the 401 without it, and keeps the header from another origin and from everything it shows', { timeout: 60_000 }, async () => {
    let views: LogView[] = [];
    for (let i = 0; i < 300; i++) {
      views = (await (await fetch(`${d.url}/v1/logs`)).json()) as LogView[];
      const by = (n: string) => views.find((v) => v.name === n);
      if (by('good')?.verifiedSize === 300 && by('filed')?.verifiedSize === 300 && by('moved')?.verifiedSize === 300 && by('nokey')?.transientError && logLines.some((l) => l.includes('"nokey"'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const by = (n: string) => views.find((v) => v.name === n)!;
    expect(by('good').verifiedSize).toBe(300);
    expect(by('filed').verifiedSize).toBe(300);
    expect(by('moved').verifiedSize).toBe(300);
    // Without the header: never bootstrapped (listed in /v1/logs from its configuration, with the 401 as its
    // transient error), the proxy's 401 and what to configure in the log lines, and the 401s counted.
    expect(views.map((v) => v.name).sort()).toEqual(['filed', 'good', 'moved', 'nokey']);
    expect(by('nokey')).toMatchObject({ verifiedSize: null, transientError: { code: 'SOURCE_HTTP_STATUS', message: expect.stringContaining('HTTP 401 from') } });
    expect(await (await fetch(`${d.url}/readyz`)).json()).toEqual({ status: 'unavailable', problems: ['nokey: not bootstrapped yet'] });
    const failed = logLines.map((l) => JSON.parse(l) as { log?: string; err?: string }).find((l) => l.log === 'nokey');
    expect(failed?.err).toMatch(/^SOURCE_HTTP_STATUS: HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/nokey\/\S+: the server asks for authentication \(a log's goes in logs\[\]\.headers/);
    expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/^tlogwatch_upstream_errors_total\{log="nokey",code="401"\} [1-9]\d*$/m);
    expect(refused.every((n) => n === 'nokey')).toBe(true);
    expect(refused.length).toBeGreaterThan(0);
    // The redirect's target was asked for entries and checkpoints, never with the header or the secret.
    expect(elsewhere.length).toBeGreaterThan(0);
    expect(elsewhere.filter((e) => e.authorization !== undefined || e.secret)).toEqual([]);

    const shown = [
      JSON.stringify(views),
      await (await fetch(`${d.url}/readyz`)).text(),
      await (await fetch(`${d.url}/metrics`)).text(),
      await (await fetch(`${d.url}/v1/logs/good/checkpoints`)).text(),
      logLines.join(''),
    ].join('\n');
    for (const s of [SECRET, BASIC]) expect(shown).not.toContain(s);
  });
});
