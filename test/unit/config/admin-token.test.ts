/**
 * The admin token from `api.adminTokenFile` (config/admin-token.ts), read from real files: a secret file's
 * newline dropped, the same rules as `api.adminToken`, errors that name the key and the file and never the
 * token, and one way to give it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminTokenOf } from '../../../src/config/admin-token.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { configErrorOf, tempFiles } from '../../helpers/config-files.ts';

const { dir, file } = tempFiles('tlogwatch-admin-token-');
const TOKEN = 'f3c9a1b27d5e4a0b9c8d7e6f5a4b3c2d';

const failure = (api: Parameters<typeof adminTokenOf>[0]) => configErrorOf(() => adminTokenOf(api));

describe('api.adminTokenFile', () => {
  it('is read, with the one trailing newline a secret file usually has dropped', () => {
    expect(adminTokenOf(parseConfig(`api: { adminTokenFile: "${file('lf', `${TOKEN}\n`)}" }\n`, 'c.yaml', {}).api)).toBe(TOKEN);
    expect(adminTokenOf({ adminTokenFile: file('crlf', `${TOKEN}\r\n`) })).toBe(TOKEN);
    expect(adminTokenOf({ adminTokenFile: file('bare', TOKEN) })).toBe(TOKEN);
  });

  it('api.adminToken as before, and no token when neither is set', () => {
    expect(adminTokenOf({ adminToken: TOKEN })).toBe(TOKEN);
    expect(adminTokenOf({})).toBeUndefined();
  });

  it('a token the file holds is held to api.adminToken’s rules, and the error does not show it', () => {
    const short = failure({ adminTokenFile: file('short', 'abc123\n') });
    expect(short).toMatch(/^api\.adminTokenFile .*short: not a usable token: at least 16 characters$/);
    expect(short).not.toContain('abc123');
    const spaced = failure({ adminTokenFile: file('spaced', `${TOKEN}\n\n`) });
    expect(spaced).toMatch(/api\.adminTokenFile .*spaced: not a usable token: contains whitespace/);
    expect(spaced).not.toContain(TOKEN);
  });

  it('a file that cannot be read names the key and the file', () => {
    expect(failure({ adminTokenFile: join(dir, 'missing') })).toMatch(/^api\.adminTokenFile .*missing: cannot read it: ENOENT/);
  });

  it('cannot be given with api.adminToken', () => {
    expect(() => parseConfig(`api: { adminToken: ${TOKEN}, adminTokenFile: /run/secrets/t }\n`, 'c.yaml', {})).toThrow(/api\.adminTokenFile: adminToken is set too: give the token one way/);
  });
});
