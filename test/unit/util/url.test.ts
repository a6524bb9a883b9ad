/**
 * Credentials in a URL (src/util/url.ts): the configuration refuses them (test/unit/config/config.test.ts);
 * a log state stored before that is shown in GET /v1/logs without them.
 */
import { describe, expect, it } from 'vitest';
import { logView } from '../../../src/api/views.ts';
import { CompactRange } from '../../../src/merkle/compact.ts';
import type { LogState } from '../../../src/store/codec.ts';
import { hasCredentials, withoutCredentials } from '../../../src/util/url.ts';

describe('credentials in a URL', () => {
  it('are found as a user, a password or both, and dropped with nothing else changed', () => {
    for (const [url, has, shown] of [
      ['https://user:pass@log.example:8443/api/v2?x=1#f', true, 'https://log.example:8443/api/v2?x=1#f'],
      ['https://user@log.example/', true, 'https://log.example/'],
      ['https://:pass@log.example/', true, 'https://log.example/'],
      ['https://log.example/api/v2', false, 'https://log.example/api/v2'],
      ['https://log.example/p@th?token=t', false, 'https://log.example/p@th?token=t'],
      ['not a url', false, 'not a url'],
    ] as const) {
      expect({ url, has: hasCredentials(url), shown: withoutCredentials(url) }).toEqual({ url, has, shown });
    }
  });

  it('in a log state stored before they were refused are not shown in /v1/logs', () => {
    const s: LogState = { name: 'l', type: 'tiles', url: 'https://user:s3cret@log.example/api', origin: 'log.example', status: 'bootstrapping', frontier: CompactRange.empty().serialize(), startIndex: 0n };
    expect(logView(s).url).toBe('https://log.example/api');
  });
});
