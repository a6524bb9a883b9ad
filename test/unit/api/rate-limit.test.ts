/**
 * Who a request counts against (api/rate-limit.ts `clientOf`): an IPv6 client is its /64, an IPv4-mapped
 * address its IPv4 address, and X-Forwarded-For is read only from trusted proxies, from the right.
 */
import { describe, expect, it } from 'vitest';
import { clientOf, proxyList } from '../../../src/api/rate-limit.ts';

describe('the rate limit’s client', () => {
  it('is an IPv6 peer’s /64, however the address is written', () => {
    for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:7', '2001:db8:1:2::9%eth0', '2001:db8:1:2::1.2.3.4']) {
      expect(clientOf(a, undefined, undefined), a).toBe('2001:db8:1:2::/64');
    }
    expect(clientOf('2001:db8:1:3::1', undefined, undefined)).toBe('2001:db8:1:3::/64');
    expect(clientOf('::1', undefined, undefined)).toBe('0:0:0:0::/64');
    expect(clientOf('2001:db8::', undefined, undefined)).toBe('2001:db8:0:0::/64');
  });

  it('is an IPv4 peer’s address, also as a dual-stack listener sees it (IPv4-mapped), not one /64 for all of IPv4', () => {
    expect(clientOf('192.0.2.7', undefined, undefined)).toBe('192.0.2.7');
    expect(clientOf('::ffff:192.0.2.7', undefined, undefined)).toBe('192.0.2.7');
    expect(clientOf('::ffff:192.0.2.8', undefined, undefined)).toBe('192.0.2.8');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy, or when none is configured', () => {
    expect(clientOf('192.0.2.7', '198.51.100.1', undefined)).toBe('192.0.2.7');
    expect(clientOf('192.0.2.7', '198.51.100.1', proxyList(['10.0.0.0/8']))).toBe('192.0.2.7');
  });

  it('from a trusted proxy, is the rightmost address the trusted proxies did not add', () => {
    const proxies = proxyList(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);
    expect(clientOf('10.1.2.3', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // A client's own X-Forwarded-For is kept at the left; what it claims there does not count.
    expect(clientOf('10.1.2.3', '203.0.113.9, 198.51.100.1', proxies)).toBe('198.51.100.1');
    // Proxies in a chain, each trusted, are skipped.
    expect(clientOf('10.1.2.3', '203.0.113.9, 198.51.100.1, 192.0.2.1, 10.9.9.9', proxies)).toBe('198.51.100.1');
    expect(clientOf('::ffff:10.1.2.3', ' 2001:db8:5:6::1 ', proxies)).toBe('2001:db8:5:6::/64');
    expect(clientOf('fd00::1', '::ffff:198.51.100.1', proxies)).toBe('198.51.100.1');
    // A proxy listed as a dual-stack listener shows it (IPv4-mapped) is that IPv4 address.
    expect(clientOf('192.0.2.9', '198.51.100.1', proxyList(['::ffff:192.0.2.9']))).toBe('198.51.100.1');
    // Only proxies in the chain: the leftmost of them.
    expect(clientOf('10.1.2.3', '10.0.0.9', proxies)).toBe('10.0.0.9');
    // A hop that is no address stops the walk: the request counts against the last trusted proxy.
    expect(clientOf('10.1.2.3', '198.51.100.1, unknown', proxies)).toBe('10.1.2.3');
    expect(clientOf('10.1.2.3', '', proxies)).toBe('10.1.2.3');
  });
});
