/**
 * The sources' transport over TLS and through a forward proxy, against real servers on 127.0.0.1: public
 * logs are HTTPS, and a monitor often runs behind an egress proxy with a private CA. Certificates are
 * test/fixtures/tls (a test CA and two server certificates; see its README).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src/sources/http.ts';
import { proxySettings, useEnvProxy } from '../../../src/sources/transport.ts';

const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/tls/${f}`, import.meta.url)), 'utf8');
const CA = fixture('ca.pem');
const CA_PATH = fileURLToPath(new URL('../../fixtures/tls/ca.pem', import.meta.url));
const HTTP_MODULE = fileURLToPath(new URL('../../../src/sources/http.ts', import.meta.url));

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/moved') return void res.writeHead(302, { location: '/bundle' }).end();
  if (req.url === '/bundle') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(300_000, 'e')));
  res.end(`tls ${req.url}`);
}

async function listen<S extends HttpServer | HttpsServer>(s: S, scheme: 'http' | 'https'): Promise<S & { url: string }> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return Object.assign(s, { url: `${scheme}://127.0.0.1:${(s.address() as AddressInfo).port}` });
}

let good: HttpsServer & { url: string };
let wrongName: HttpsServer & { url: string };
let handshakes = 0;
const defaultCAs = getCACertificates('default');

beforeAll(async () => {
  good = await listen(createHttpsServer({ cert: fixture('localhost.pem'), key: fixture('localhost-key.pem') }, handler), 'https');
  good.on('secureConnection', () => handshakes++);
  wrongName = await listen(createHttpsServer({ cert: fixture('other.pem'), key: fixture('other-key.pem') }, handler), 'https');
});
afterAll(async () => {
  await Promise.all([good, wrongName].map((s) => new Promise((r) => s.close(r))));
});
afterEach(() => setDefaultCACertificates(defaultCAs));

const client = () => new HttpClient({ retries: 1, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5000 });
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('HttpClient over TLS', () => {
  it('refuses a server whose certificate does not chain to a trusted CA, saying why', async () => {
    await expect(client().request(`${good.url}/x`, { endpoint: 't', parse: text })).rejects.toThrow(/SOURCE_NETWORK|network error/);
    await expect(client().request(`${good.url}/x`, { endpoint: 't', parse: text })).rejects.toThrow(/certificate/i);
  });

  it('with the CA trusted: reads gzip bodies, follows redirects, and keeps one TLS connection alive', async () => {
    setDefaultCACertificates([...defaultCAs, CA]);
    const c = client();
    const before = handshakes;
    expect(await c.request(`${good.url}/a`, { endpoint: 't', parse: text })).toBe('tls /a');
    expect((await c.request(`${good.url}/moved`, { endpoint: 't', parse: (b) => b }))?.length).toBe(300_000);
    expect(await c.request(`${good.url}/b`, { endpoint: 't', parse: text })).toBe('tls /b');
    expect(handshakes - before).toBe(1);
  });

  it('refuses a trusted certificate issued for another name', async () => {
    setDefaultCACertificates([...defaultCAs, CA]);
    await expect(client().request(`${wrongName.url}/x`, { endpoint: 't', parse: text })).rejects.toThrow(/altnames|not in the cert/i);
  });
});

describe('proxies (Node built-in proxy support, opt-in)', () => {
  it('reads the opt-in from NODE_USE_ENV_PROXY, node flags or NODE_OPTIONS', () => {
    expect(useEnvProxy({ NODE_USE_ENV_PROXY: '1' }, [])).toBe(true);
    expect(useEnvProxy({}, ['--use-env-proxy'])).toBe(true);
    expect(useEnvProxy({ NODE_OPTIONS: '--max-old-space-size=512 --use-env-proxy' }, [])).toBe(true);
    expect(useEnvProxy({ HTTPS_PROXY: 'http://proxy:3128' }, [])).toBe(false);
    expect(useEnvProxy({ NODE_USE_ENV_PROXY: '0' }, [])).toBe(false);
  });

  it('reports the proxy settings for the start-up log, without credentials, and variables the missing opt-in ignores', () => {
    expect(proxySettings({ HTTPS_PROXY: 'http://u:pw@proxy.internal:3128' }, [])).toEqual({ enabled: false, ignored: ['HTTPS_PROXY'] });
    expect(proxySettings({}, [])).toEqual({ enabled: false });
    expect(
      proxySettings({ NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: 'http://U:pw@upper:1', https_proxy: 'http://user:secret@proxy.internal:3128', http_proxy: 'http://plain:8080', NO_PROXY: 'localhost,127.0.0.1' }, []),
    ).toEqual({ enabled: true, https: 'http://***@proxy.internal:3128/', http: 'http://plain:8080/', noProxy: 'localhost,127.0.0.1' });
    expect(proxySettings({ HTTPS_PROXY: 'not a url' }, ['--use-env-proxy'])).toEqual({ enabled: true, https: '(not a URL)' });
  });

  // A forward proxy: CONNECT tunnels for https, absolute-form requests for http (answered here).
  let proxy: HttpServer & { url: string };
  const seen: string[] = [];
  beforeAll(async () => {
    proxy = await listen(
      createHttpServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end(`proxied ${req.url}`);
      }),
      'http',
    );
    proxy.on('connect', (req: IncomingMessage, socket, head) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
  });
  afterAll(() => new Promise((r) => proxy.close(r)));

  /** Runs the client in a fresh node (the agents read the environment once, at import). */
  function fetchInChild(env: NodeJS.ProcessEnv, urls: string[]): Promise<string[]> {
    const script = `import { HttpClient } from ${JSON.stringify(HTTP_MODULE)};
const c = new HttpClient({ retries: 0, timeoutMs: 5000 });
const out = [];
for (const u of process.argv.slice(1)) out.push(Buffer.from(await c.request(u, { endpoint: 't', parse: (b) => b })).toString('utf8').slice(0, 40));
console.log(JSON.stringify(out));`;
    return new Promise((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script, ...urls], { env: { PATH: process.env['PATH'], NODE_EXTRA_CA_CERTS: CA_PATH, ...env } }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as string[]),
      ),
    );
  }

  it('with NODE_USE_ENV_PROXY=1, https goes through a CONNECT tunnel (private CA from NODE_EXTRA_CA_CERTS) and http through the proxy', async () => {
    seen.length = 0;
    const out = await fetchInChild({ NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }, [`${good.url}/via-tunnel`, 'http://log.invalid/checkpoint']);
    expect(out).toEqual(['tls /via-tunnel', 'proxied http://log.invalid/checkpoint']);
    expect(seen).toEqual([`CONNECT ${new URL(good.url).host}`, 'GET http://log.invalid/checkpoint']);
  });

  it('without the opt-in, or for a NO_PROXY host, connects directly', async () => {
    seen.length = 0;
    expect(await fetchInChild({ HTTPS_PROXY: proxy.url }, [`${good.url}/direct`])).toEqual(['tls /direct']);
    expect(await fetchInChild({ NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, [`${good.url}/no-proxy`])).toEqual(['tls /no-proxy']);
    expect(seen).toEqual([]);
  });
});
