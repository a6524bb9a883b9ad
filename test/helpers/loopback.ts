/**
 * An app served over real HTTP on 127.0.0.1 (an ephemeral port) through the daemon's own listener (daemon.ts
 * `listen`: its connection and time limits and its answers to requests Node refuses): for tests that must go
 * through Node's HTTP stack as `tlogwatch serve` does, rather than `app.request`.
 */
import { listen } from '../../src/daemon.ts';

export interface Loopback {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  close: () => Promise<void>;
}

export async function serveOnLoopback(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<Loopback> {
  const { server, url } = await listen(app.fetch, '127.0.0.1:0');
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
