/**
 * `logs[].headerFiles` (config/log-headers.ts), read from real files as `serve` and `backfill` read them
 * (daemon.ts followedLogs): a secret file's newline dropped, the same checks as a value in `headers`,
 * errors that name the log, the header and the file and never the value, and each header given one way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logHeadersOf } from '../../../src/config/log-headers.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { followedLogs } from '../../../src/daemon.ts';
import { configErrorOf, tempFiles } from '../../helpers/config-files.ts';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.ts';

const { dir, file } = tempFiles('tlogwatch-header-files-');
const SECRET = 'Bearer s3cret-f1le-token-9d2c';

/** The configuration of one log `l` with these header keys (YAML flow maps). */
const config = (keys: string) => parseConfig(`logs:\n  - { name: l, type: tiles, url: "https://log.example/api"${keys} }\n`, 'c.yaml', { LOG_KEY: 'key-0123' });

describe('logs[].headerFiles', () => {
  it('reads each file, the one trailing newline a secret file usually has dropped, beside the headers given inline', () => {
    const l = config(`, headers: { X-Api-Key: "\${LOG_KEY}" }, headerFiles: { Authorization: "${file('lf', `${SECRET}\n`)}", X-Tenant: "${file('crlf', 'acme\r\n')}", X-Bare: "${file('bare', 'as-is')}" }`).logs[0]!;
    expect(logHeadersOf(l)).toEqual({ 'X-Api-Key': 'key-0123', Authorization: SECRET, 'X-Tenant': 'acme', 'X-Bare': 'as-is' });
    expect(logHeadersOf(config(', headers: { X-Api-Key: "${LOG_KEY}" }').logs[0]!)).toEqual({ 'X-Api-Key': 'key-0123' });
    expect(logHeadersOf(config('').logs[0]!)).toBeUndefined();
  });

  it('are what the daemon sends to the log: followedLogs reads them', () => {
    const root = parseTrustedRoot(JSON.parse(readFileSync('test/fixtures/realdata/trust/prod/trusted_root.json', 'utf8')));
    const rekor = (keys: string) => parseConfig(`logs:\n  - { name: l, type: rekor-v1, url: "https://rekor.sigstore.dev"${keys} }\n`, 'c.yaml', {});
    const [l] = followedLogs(rekor(`, headerFiles: { Authorization: "${file('followed', `${SECRET}\n`)}" }`), root, new Date());
    expect(l!.follow.headers).toEqual({ Authorization: SECRET });
    expect(configErrorOf(() => followedLogs(rekor(`, headerFiles: { Authorization: "${join(dir, 'absent')}" }`), root, new Date()))).toMatch(/^log l: headerFiles\.Authorization .*absent: cannot read it: ENOENT/);
  });

  it('holds a file to the rules of a value in headers, and no error shows what the file holds', () => {
    const twoNewlines = configErrorOf(() => logHeadersOf(config(`, headerFiles: { Authorization: "${file('two', `${SECRET}\n\n`)}" }`).logs[0]!));
    expect(twoNewlines).toMatch(/^log l: headerFiles\.Authorization .*two: not a usable header value: contains CR, LF or NUL/);
    const spaced = configErrorOf(() => logHeadersOf(config(`, headerFiles: { Authorization: "${file('spaced', ` ${SECRET}`)}" }`).logs[0]!));
    expect(spaced).toMatch(/^log l: headerFiles\.Authorization .*spaced: not a usable header value: not a header field value/);
    expect(configErrorOf(() => logHeadersOf(config(`, headerFiles: { Authorization: "${file('empty', '\n')}" }`).logs[0]!))).toMatch(/empty: not a usable header value/);
    for (const m of [twoNewlines, spaced]) expect(m).not.toContain('s3cret');
  });

  it('refuses a header given both ways (names are case-insensitive), the names headers refuses, and more than 32 in all', () => {
    expect(configErrorOf(() => config(', headers: { Authorization: "${LOG_KEY}" }, headerFiles: { authorization: /run/secrets/a }'))).toMatch(
      /c\.yaml:\d+:\d+: logs\.0\.headerFiles\.authorization: headers\.Authorization is given too: give each header one way/,
    );
    expect(configErrorOf(() => config(', headerFiles: { Host: /run/secrets/h }'))).toMatch(/logs\.0\.headerFiles\.Host: not configurable/);
    expect(configErrorOf(() => config(', headerFiles: { "X Key": /run/secrets/h }'))).toMatch(/logs\.0\.headerFiles\.X Key: not a header field name/);
    expect(configErrorOf(() => config(', headerFiles: { X-A: /a, x-a: /b }'))).toMatch(/logs\.0\.headerFiles\.x-a: X-A is given already/);
    expect(configErrorOf(() => config(', headerFiles: { X-A: "" }'))).toMatch(/logs\.0\.headerFiles\.X-A: a file path/);
    const many = (n: number, prefix: string, value: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}: ${value}`).join(', ');
    expect(configErrorOf(() => config(`, headers: { ${many(20, 'X-H', 'v')} }, headerFiles: { ${many(13, 'X-F', '/f')} }`))).toMatch(/logs\.0\.headerFiles: at most 32 headers \(headers and headerFiles together\)/);
    expect(config(`, headers: { ${many(20, 'X-H', 'v')} }, headerFiles: { ${many(12, 'X-F', '/f')} }`).logs[0]!.headerFiles).toBeDefined();
  });
});
