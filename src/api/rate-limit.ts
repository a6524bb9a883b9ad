/**
 * The API's per-client request budget (`api.rateLimit`): a fixed one-minute window per client.
 *
 * Who the client is. The socket's peer, unless that peer is one of `trustedProxies`: then the
 * X-Forwarded-For chain is read from the right, past the trusted proxies, and the first address not one of
 * them is the client (a client can write anything at the left of the chain, so only what trusted proxies
 * appended counts). Without trusted proxies the header is ignored: anyone could name any client in it.
 * Behind a proxy that is not listed, every client is the proxy and shares one budget.
 *
 * An IPv6 client is its /64: one host is routinely given a whole /64 (RFC 6177 §2, RFC 7421) and can send
 * from any address in it, so a budget per /128 would be no budget, and each address a new table entry.
 * An IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4 peer) is that IPv4 address.
 */
import { BlockList, isIP, isIPv4 } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from './errors.ts';

/**
 * What the rate limit does not count: the endpoints a Prometheus scrape and an orchestrator's probes poll.
 * They are cheap, and a client that spends its budget on queries must not also turn the mirror "not
 * ready" or leave a gap in its metrics (a scrape from the same address as the queries, a sidecar).
 */
const OPERATIONAL = new Set(['/healthz', '/readyz', '/metrics']);

/** An address as it names a host: IPv4-mapped IPv6 unmapped, an IPv6 zone dropped. */
function normalise(address: string): string {
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  return mapped !== undefined && isIPv4(mapped) ? mapped : bare;
}

/** The first 64 bits of a valid IPv6 address, as `a:b:c:d::/64`. */
function ipv6Prefix64(address: string): string {
  // An embedded IPv4 address (::1.2.3.4) stands for the last two groups.
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const at = address.indexOf('::');
  const left = groups(at < 0 ? address : address.slice(0, at));
  const right = at < 0 ? [] : groups(address.slice(at + 2));
  const all = at < 0 ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** The rate limit's key for an address: IPv4 as it is, IPv6 its /64, anything else as given. */
function keyOf(address: string): string {
  return isIP(address) === 6 ? ipv6Prefix64(address) : address;
}

/** The trusted proxies (addresses or CIDR ranges, validated by the config schema) as a set to look up. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [address = '', bits] = e.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

const trusts = (proxies: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

/**
 * The client a request counts against: see the module comment. `peer` is the socket's remote address
 * (undefined outside a Node server, e.g. `app.request` in tests), `forwardedFor` the X-Forwarded-For
 * header's value.
 */
export function clientOf(peer: string | undefined, forwardedFor: string | undefined, proxies: BlockList | undefined): string {
  let client = normalise(peer ?? 'local');
  if (proxies && forwardedFor !== undefined && trusts(proxies, client)) {
    const hops = forwardedFor.split(',').map((h) => normalise(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // Not an address (a typo, `unknown`, an obfuscated name of RFC 7239 §6.3): the chain cannot be
      // followed past it, so the request counts against the last proxy that was trusted.
      if (isIP(hop) === 0) break;
      client = hop;
      if (!trusts(proxies, hop)) break;
    }
  }
  return keyOf(client);
}

export interface RateLimitOptions {
  perMinute: number;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); none = the header is ignored. */
  trustedProxies?: readonly string[];
}

/** A fixed-window per-client budget for everything but the operational endpoints. */
export function rateLimit(o: RateLimitOptions): MiddlewareHandler {
  const { perMinute } = o;
  const proxies = o.trustedProxies?.length ? proxyList(o.trustedProxies) : undefined;
  const windows = new Map<string, { start: number; count: number }>();
  let swept = 0;
  return async (c: Context, next: () => Promise<void>) => {
    if (OPERATIONAL.has(c.req.path)) return next();
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    const client = clientOf(env?.incoming?.socket?.remoteAddress, proxies ? c.req.header('x-forwarded-for') : undefined, proxies);
    const now = Date.now();
    let w = windows.get(client);
    if (!w || now - w.start >= 60_000) windows.set(client, (w = { start: now, count: 0 }));
    if (++w.count > perMinute) {
      c.header('retry-after', String(Math.ceil((w.start + 60_000 - now) / 1000)));
      throw apiError('API_RATE_LIMITED', `more than ${perMinute} requests per minute`);
    }
    // Bound the table by dropping windows that have ended, never live ones: clearing it all would give
    // every client, the one being limited too, a fresh budget. At most one sweep a second, so many
    // clients at once cannot make every request walk the table.
    if (windows.size > 10_000 && now - swept >= 1000) {
      swept = now;
      for (const [k, v] of windows) if (now - v.start >= 60_000) windows.delete(k);
    }
    await next();
  };
}
