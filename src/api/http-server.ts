/**
 * The API's node:http server and the limits it puts on clients. The API shares one event loop and one
 * process's file descriptors with the mirror, so what a client may hold is bounded here, before Hono sees
 * a request. Node's defaults bound none of it usefully (measured on this server over 127.0.0.1):
 *
 * - a connection that sends nothing was closed after 60 s, one that sends a header byte every 2 s
 *   (slowloris) after 90 s: `headersTimeout` is 60 s and is checked only every 30 s
 *   (`connectionsCheckingInterval`);
 * - a body may take `requestTimeout`, 300 s, to arrive;
 * - a client that pipelines requests and never reads the answers was never closed: `server.timeout` is 0,
 *   so a socket with no progress lives for as long as the peer keeps it, holding its queued response;
 * - there is no cap on connections: each costs a file descriptor the mirror's LevelDB tables and upstream
 *   fetches need, and memory.
 *
 * https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener, #serverheaderstimeout,
 * #serverrequesttimeout, #servertimeout; https://nodejs.org/api/net.html#servermaxconnections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { onClientError } from './client-error.ts';

export interface ServerLimits {
  /** Open connections at most; one more is closed at once (Node's `maxConnections`, counted in `onDrop`). */
  maxConnections: number;
  /** Time from a connection's first byte (or the end of the previous request) to the end of the request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included (the largest body is `api.maxBodyBytes`, 1 MiB by default). */
  requestTimeoutMs: number;
  /** A socket with no bytes moving either way this long is closed: a client that stopped reading, or writing. */
  idleTimeoutMs: number;
  /** How long a kept-alive connection may wait for its next request. */
  keepAliveTimeoutMs: number;
}

/**
 * Generous for real clients (a scrape, a CI job, a proxy's pool), short for ones that only hold a slot:
 * the slowest handler measured, the first /metrics over 200k findings, takes 2.3 s (metrics.ts), well
 * under `idleTimeoutMs`.
 */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};

/**
 * How often Node sweeps connections for `headersTimeoutMs` and `requestTimeoutMs`: its default, 30 s, lets
 * a slowloris connection outlive a 10 s `headersTimeoutMs` by up to 30 s. The sweep walks only the
 * connections with a request in progress, so once a second costs little.
 */
const CHECK_INTERVAL_MS = 1000;

/** Node's default (16 KiB) stated here: a larger header block is answered 431 before the app sees it (api/client-error.ts). */
const MAX_HEADER_BYTES = 16 * 1024;

export function createApiServer(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: Readonly<ServerLimits>, onDrop: () => void): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limits.headersTimeoutMs),
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    handler,
  );
  // No 'timeout' listener anywhere (server, request, response), so Node destroys the idle socket.
  server.timeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('drop', onDrop);
  // The 400/408/431 Node answers before the app sees a request: JSON and the security headers, as every answer.
  server.on('clientError', onClientError);
  return server;
}

/**
 * In-flight requests' grace at shutdown: more than the slowest handler measured (2.3 s, above). A
 * client that holds a connection without finishing a request would otherwise hold the stop for up to
 * `requestTimeoutMs`, past a container's stop grace period (30 s in docker-compose.yml), and the store
 * would be killed rather than closed.
 */
export const SHUTDOWN_GRACE_MS = 3000;

/** Stops accepting connections; idle ones close now (Node's `close`), the rest when their request ends or the grace is over. */
export function closeServer(server: Server, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
  });
}
