/**
 * When the API's server writes its own refusal (api/client-error.ts), over real sockets on loopback: never
 * into an answer already under way on the connection (a pipelined request that fails to parse while the one
 * before it is being answered), whose client would read the refusal as part of that answer's body; the
 * connection is closed instead. A refusal on a connection with no answer under way is written
 * (malformed-requests.test.ts).
 */
import type { Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onClientError } from '../../../src/api/client-error.ts';
import { createApiServer, DEFAULT_SERVER_LIMITS } from '../../../src/api/http-server.ts';

/** Writes `bytes` and collects everything the server sends until it closes the connection. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.write(bytes);
  });
}

describe("the server's own refusals", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    // /slow sends its head at once and its body later: an answer under way.
    server = createApiServer(
      (req, res) => {
        if (req.url === '/slow') {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' });
          res.flushHeaders();
          setTimeout(() => res.end('done'), 200);
        } else res.end('ok');
      },
      DEFAULT_SERVER_LIMITS,
      () => undefined,
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('are not written into an answer already under way; the connection is closed', async () => {
    const out = await exchange(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nNOT A REQUEST\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).not.toContain('API_BAD_REQUEST');
    expect(out).not.toContain('HTTP/1.1 400');
  });

  it('are not written to a peer that reset the connection (ECONNRESET), which is closed; another error is answered', async () => {
    // The handler on a real socket pair: a reset cannot be timed to land inside Node's parser.
    const raw = createServer();
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const rawPort = (raw.address() as { port: number }).port;
    try {
      for (const [code, answered] of [['ECONNRESET', false], ['HPE_INVALID_METHOD', true]] as const) {
        const accepted = new Promise<Socket>((r) => raw.once('connection', r));
        const client = connect(rawPort, '127.0.0.1');
        let out = '';
        client.on('data', (d: Buffer) => (out += d.toString('latin1')));
        const closed = new Promise((r) => client.on('close', r));
        onClientError(Object.assign(new Error(code), { code }), await accepted);
        await closed;
        expect({ code, answered: out.startsWith('HTTP/1.1 400 Bad Request\r\n') }).toEqual({ code, answered });
      }
    } finally {
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
});
