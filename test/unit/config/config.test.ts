import { describe, expect, it } from 'vitest';
import { applyOverrides, parseConfig } from '../../../src/config/load.ts';

describe('config', () => {
  it('applies defaults to an empty file', () => {
    const c = parseConfig('', 'x.yaml');
    expect(c.listen).toBe('127.0.0.1:8080');
    expect(c.index).toBe('all');
    expect(c.logs).toEqual([]);
  });
  it('parses logs, durations and start positions', () => {
    const c = parseConfig(
      'logs:\n  - name: rekor-v2\n    type: tiles\n    url: http://127.0.0.1:3000/api/v2\n    start: 0\n    pollInterval: 2s\n  - name: v1\n    type: rekor-v1\n    url: https://rekor.sigstore.dev\n',
      'x.yaml',
    );
    expect(c.logs[0]).toMatchObject({ name: 'rekor-v2', start: 0n, pollInterval: 2000, concurrency: 8 });
    expect(c.logs[1]!.start).toBe('latest');
  });
  it('rejects unknown keys and bad values with the path, the reason and line:column', () => {
    expect(() => parseConfig('listen: 127.0.0.1:8080\nlisten2: x\n', 'c.yaml')).toThrow(/c\.yaml:2:1: \(top level\): .*"listen2"/s);
    expect(() => parseConfig('logs:\n  - name: a\n    type: tiles\n    url: ftp://x\n', 'c.yaml')).toThrow(/c\.yaml:4:10: logs\.0\.url/);
    expect(() => parseConfig('logs:\n  - name: a\n    type: tyles\n    url: http://x\n', 'c.yaml')).toThrow(/c\.yaml:3:11: logs\.0\.type/);
    expect(() => parseConfig('logs:\n  - name: a\n    type: tiles\n    url: http://x\n    pollInterval: soon\n', 'c.yaml')).toThrow(/logs\.0\.pollInterval: a duration/);
    expect(() => parseConfig('api: [1\n', 'c.yaml')).toThrow(/c\.yaml:\d+:\d+: /);
  });
  it('interpolates secrets from the environment and refuses unset ones', () => {
    const c = parseConfig('api:\n  adminToken: ${TOKEN}\n', 'c.yaml', { TOKEN: 'a-very-long-secret-token' });
    expect(c.api.adminToken).toBe('a-very-long-secret-token');
    expect(() => parseConfig('api:\n  adminToken: ${NOPE}\n', 'c.yaml', {})).toThrow(/api\.adminToken: environment variable NOPE is not set/);
  });
  it('lets CLI flags override the file', () => {
    const c = applyOverrides(parseConfig('dataDir: /a\n', 'c.yaml'), { dataDir: '/b', logs: ['tiles=http://127.0.0.1:9/api/v2'], start: '0' });
    expect(c.dataDir).toBe('/b');
    expect(c.logs).toHaveLength(1);
    expect(c.logs[0]).toMatchObject({ type: 'tiles', start: 0n, name: '127.0.0.1_9' });
    expect(() => applyOverrides(c, { logs: ['bogus'] })).toThrow(/TYPE=URL/);
  });
});
