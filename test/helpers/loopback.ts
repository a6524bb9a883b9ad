/**
 * An app served over real HTTP on 127.0.0.1 (an ephemeral port), as the daemon serves it with
 * @hono/node-server: for tests that must go through Node's HTTP stack rather than `app.request`.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface Loopback {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

export async function serveOnLoopback(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<Loopback> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
