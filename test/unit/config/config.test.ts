import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { applyOverrides, loadConfig, parseConfig } from '../../../src/config/load.ts';
import { ConfigSchema } from '../../../src/config/schema.ts';
import { channelsOf, followedLogs } from '../../../src/daemon.ts';
import { isTlogwatchError } from '../../../src/errors.ts';
import { configErrorOf } from '../../helpers/config-files.ts';
import { parseTrustedRoot } from '../../../src/trust/trusted-root.ts';
import { replaceNode } from '../../helpers/replace-node.ts';

/** The message of the CONFIG_INVALID error parsing `yaml` throws. */
function errorOf(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(yaml, 'c.yaml', env);
  } catch (e) {
    expect(isTlogwatchError(e, 'CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

const FULL = `
dataDir: /var/lib/tlogwatch
listen: 0.0.0.0:9090
trustedRoot: ./trusted_root.json
tufCacheDir: /var/cache/tlogwatch-tuf
logs:
  - name: rekor-v2
    type: tiles
    url: http://127.0.0.1:3000/api/v2
    origin: log2025-1.rekor.sigstore.dev
    start: latest
    pollInterval: 5s
    concurrency: 8
    batchSize: 1024
    compression: none
  - name: rekor
    type: rekor-v1
    url: https://rekor.sigstore.dev
    start: 0
    requestsPerMinute: 500
index: watched
rules: ./monitor-rules
api:
  adminToken: \${TLOGWATCH_ADMIN_TOKEN}
  rateLimit: { requestsPerMinute: 600, trustedProxies: [10.0.0.0/8, 192.0.2.1, 'fd00::/8'] }
  cors: { origins: [https://dash.example.com] }
  maxBodyBytes: 2097152
  maxConnections: 2048
  searchEntriesInFlight: 2000
notify:
  webhooks:
    - url: https://hooks.example.com/tlogwatch
      secret: \${WEBHOOK_SECRET}
  slack: [{ url: https://hooks.slack.com/services/T/B/X }]
  alertmanager: [{ url: http://127.0.0.1:9093 }]
  # Inside { } and [ ], quote values with \${…}: the braces are YAML flow syntax there.
  email:
    - { smtp: "smtps://bot:\${SMTP_PASSWORD}@smtp.example.com:465", from: tlogwatch@example.com, to: [sec@example.com] }
    - { smtp: "smtp://relay.example.com:25", from: tlogwatch@example.com, to: [sec@example.com], timeout: 30s }
  commands:
    - command: [/usr/local/bin/open-ticket, --queue, SEC]
      timeout: 1m
      env: { TICKET_TOKEN: "\${TICKET_TOKEN}", TICKET_URL: https://tickets.example.com }
    - command: [/usr/bin/logger, -t, tlogwatch]
jobs: { reverify: '*/15 * * * *', trustedRootRefresh: '0 */6 * * *', dailyDigest: '0 9 * * 1-5', compaction: '0 4 * * *' }
stalledAfter: 10m
log: { level: debug }
`;
const ENV = { TLOGWATCH_ADMIN_TOKEN: 'a-very-long-admin-token', WEBHOOK_SECRET: 'webhook-secret-0123456789', SMTP_PASSWORD: 'pw', TICKET_TOKEN: 'ticket-token' };

describe('config: valid documents', () => {
  it('applies defaults to an empty or comment-only file', () => {
    for (const text of ['', '# nothing here\n', '{}\n']) {
      const c = parseConfig(text, 'x.yaml', {});
      expect(c).toMatchObject({ dataDir: './data', listen: '127.0.0.1:8080', index: 'all', logs: [], stalledAfter: 600_000, log: { level: 'info' } });
      expect(c.api).toEqual({ maxBodyBytes: 1 << 20, maxConnections: 1024, searchEntriesInFlight: 1000 });
      expect(c.notify).toEqual({ webhooks: [], slack: [], alertmanager: [], email: [], commands: [] });
      expect(c.jobs.reverify).toBe('*/30 * * * *');
    }
  });

  it('reads every key of a full document', () => {
    const c = parseConfig(FULL, 'full.yaml', ENV);
    expect(c.dataDir).toBe('/var/lib/tlogwatch');
    expect(c.listen).toBe('0.0.0.0:9090');
    expect(c.logs[0]).toEqual({ name: 'rekor-v2', type: 'tiles', url: 'http://127.0.0.1:3000/api/v2', origin: 'log2025-1.rekor.sigstore.dev', start: 'latest', pollInterval: 5000, concurrency: 8, requestsPerMinute: 500, batchSize: 1024, compression: 'none' });
    expect(c.logs[1]).toMatchObject({ name: 'rekor', type: 'rekor-v1', start: 0n, pollInterval: 5000, compression: 'gzip' });
    expect(c.index).toBe('watched');
    expect(c.api).toEqual({ adminToken: 'a-very-long-admin-token', rateLimit: { requestsPerMinute: 600, trustedProxies: ['10.0.0.0/8', '192.0.2.1', 'fd00::/8'] }, cors: { origins: ['https://dash.example.com'] }, maxBodyBytes: 2097152, maxConnections: 2048, searchEntriesInFlight: 2000 });
    expect(c.notify.webhooks[0]!.secret).toBe('webhook-secret-0123456789');
    expect(c.notify.email.map((e) => [e.smtp, e.timeout])).toEqual([['smtps://bot:pw@smtp.example.com:465', 120_000], ['smtp://relay.example.com:25', 30_000]]);
    expect(c.notify.commands).toEqual([
      { command: ['/usr/local/bin/open-ticket', '--queue', 'SEC'], timeout: 60_000, env: { TICKET_TOKEN: 'ticket-token', TICKET_URL: 'https://tickets.example.com' } },
      { command: ['/usr/bin/logger', '-t', 'tlogwatch'], timeout: 30_000, env: {} },
    ]);
    expect(c.jobs.dailyDigest).toBe('0 9 * * 1-5');
    expect(c.stalledAfter).toBe(600_000);
    expect(c.log.level).toBe('debug');
  });

  it('parses durations and start positions, keeping indexes past 2^53 exact', () => {
    const log = (extra: string) => parseConfig(`logs:\n  - name: a\n    type: tiles\n    url: http://x\n${extra}`, 'c.yaml', {}).logs[0]!;
    expect(log('    pollInterval: 500ms\n').pollInterval).toBe(500);
    expect(log('    pollInterval: 2h\n').pollInterval).toBe(7_200_000);
    expect(log('    pollInterval: 1d\n').pollInterval).toBe(86_400_000);
    expect(log('    pollInterval: 250\n').pollInterval).toBe(250);
    expect(log('    start: 9007199254740993\n').start).toBe(9007199254740993n);
    expect(log('    start: "3000000000"\n').start).toBe(3_000_000_000n);
    expect(log('    start: 9223372036854775807\n').start).toBe(2n ** 63n - 1n);
    expect(log('').start).toBe('latest');
  });
});

describe('config: every kind of bad value names the file, line:column, path and reason', () => {
  const log = (extra: string) => `logs:\n  - name: a\n    type: tiles\n    url: http://x\n${extra}`;
  const cases: Array<[string, string, RegExp]> = [
    ['unknown top-level key', 'listen: 127.0.0.1:8080\nlisten2: x\n', /c\.yaml:2:1: \(top level\): unknown key "listen2" \(did you mean "listen"\?\)$/m],
    ['unknown key in a list item', log('    polInterval: 5s\n'), /c\.yaml:5:5: logs\.0: unknown key "polInterval" \(did you mean "pollInterval"\?\)$/m],
    ['unknown nested key', 'api:\n  adminTokn: x\n', /c\.yaml:2:3: api: unknown key "adminTokn" \(did you mean "adminToken"\?\)$/m],
    // Nothing close: the keys that place takes, so the right one need not be looked up.
    ['unknown key like none', 'log:\n  colour: red\n', /c\.yaml:2:3: log: unknown key "colour"; allowed here: level$/m],
    ['unknown keys in a witness policy', 'witnessPolicies:\n  - { origins: [x], keys: [k], quorum: 1, quorom: 1, nme: a }\n', /witnessPolicies\.0: unknown keys "quorom" \(did you mean "quorum"\?\), "nme"; allowed here: origins, keys, quorum$/m],
    ['bad enum', 'logs:\n  - name: a\n    type: tyles\n    url: http://x\n', /c\.yaml:3:11: logs\.0\.type: Invalid option: expected one of "tiles"\|"rekor-v1"/],
    ['bad URL scheme', 'logs:\n  - name: a\n    type: tiles\n    url: ftp://x\n', /c\.yaml:4:10: logs\.0\.url: an http:\/\/ or https:\/\/ URL/],
    ['missing required key', 'logs:\n  - name: a\n    type: tiles\n', /c\.yaml:2:5: logs\.0\.url: required/],
    // Not zod's "Invalid option: expected one of …", which reads as a bad value to someone who wrote none.
    ['missing required key of a closed set', 'logs:\n  - { name: a, url: "http://x" }\n', /c\.yaml:2:5: logs\.0\.type: required: one of "tiles", "rekor-v1"$/m],
    ['bad log name', 'logs:\n  - name: "a b"\n    type: tiles\n    url: http://x\n', /c\.yaml:2:11: logs\.0\.name: letters, digits/],
    ['duplicate log name', 'logs:\n  - {name: a, type: tiles, url: "http://x"}\n  - {name: a, type: tiles, url: "http://y"}\n', /c\.yaml:3:12: logs\.1\.name: duplicate log name \(also logs\.0\.name\)/],
    ['the same log twice', 'logs:\n  - {name: a, type: tiles, url: "https://Log.example/"}\n  - {name: b, type: tiles, url: "https://log.example:443"}\n', /c\.yaml:3:33: logs\.1\.url: the same log as logs\.0 \(a\): each log once/],
    ['a CORS origin with a trailing slash', 'api:\n  cors:\n    origins: ["https://dash.example.com", "https://dash.example.com/"]\n', /c\.yaml:3:43: api\.cors\.origins\.1: an origin as browsers send it, scheme:\/\/host\[:port\] with no path or trailing slash/],
    ['a CORS origin that is a wildcard', 'api:\n  cors:\n    origins: ["*"]\n', /api\.cors\.origins\.0: an origin as browsers send it/],
    ['a trusted proxy that is a host name', 'api:\n  rateLimit: { requestsPerMinute: 60, trustedProxies: [proxy.internal] }\n', /api\.rateLimit\.trustedProxies\.0: an IP address or a CIDR range/],
    ['a trusted proxy range with too many bits', 'api:\n  rateLimit: { requestsPerMinute: 60, trustedProxies: [10.0.0.0/33] }\n', /api\.rateLimit\.trustedProxies\.0: an IP address or a CIDR range/],
    ['a trusted proxy range of two slashes', 'api:\n  rateLimit: { requestsPerMinute: 60, trustedProxies: ["fd00::/8/8"] }\n', /api\.rateLimit\.trustedProxies\.0: an IP address or a CIDR range/],
    ['bad duration', log('    pollInterval: soon\n'), /c\.yaml:5:19: logs\.0\.pollInterval: a duration like 500ms/],
    ['duration too small', log('    pollInterval: 10ms\n'), /c\.yaml:5:19: logs\.0\.pollInterval: pollInterval must be at least 100 ms/],
    ['number out of range', log('    concurrency: 0\n'), /c\.yaml:5:18: logs\.0\.concurrency: Too small: expected number to be >=1/],
    ['bad compression', log('    compression: brotli\n'), /c\.yaml:5:18: logs\.0\.compression: Invalid option: expected one of "gzip"\|"none"/],
    ['wrong type', log('    batchSize: lots\n'), /c\.yaml:5:16: logs\.0\.batchSize: Invalid input: expected number, received string/],
    ['negative start', log('    start: -1\n'), /c\.yaml:5:12: logs\.0\.start: Too small/],
    ['bad start word', log('    start: earliest\n'), /c\.yaml:5:12: logs\.0\.start: "latest" or a log index/],
    ['start past any log index', log('    start: 99999999999999999999999999\n'), /c\.yaml:5:12: logs\.0\.start: a log index is at most 2\^63 - 1 \(9223372036854775807\)/],
    ['quoted start past any log index', log('    start: "9223372036854775808"\n'), /c\.yaml:5:12: logs\.0\.start: a log index is at most 2\^63 - 1/],
    ['bad listen', 'listen: localhost\n', /c\.yaml:1:9: listen: HOST:PORT/],
    ['bad port', 'listen: 127.0.0.1:70000\n', /c\.yaml:1:9: listen: port must be at most 65535/],
    ['bad index mode', 'index: some\n', /c\.yaml:1:8: index: Invalid option: expected one of "all"\|"watched"/],
    ['bad cron', 'jobs:\n  reverify: every hour\n', /c\.yaml:2:13: jobs\.reverify: a cron expression/],
    ['short secret', 'api:\n  adminToken: short\n', /c\.yaml:2:15: api\.adminToken: at least 16 characters/],
    ['bad email', 'notify:\n  email:\n    - smtp: smtp://h\n      from: bot@example.com\n      to: [nope]\n', /c\.yaml:5:12: notify\.email\.0\.to\.0: Invalid email address/],
    ['bad SMTP URL', 'notify:\n  email:\n    - smtp: http://h\n      from: bot@example.com\n      to: [a@example.com]\n', /c\.yaml:3:13: notify\.email\.0\.smtp: an smtp:\/\/ or smtps:\/\/ URL/],
    ['command with no program', 'notify:\n  commands:\n    - command: []\n', /c\.yaml:3:16: notify\.commands\.0\.command: the program to run, then its arguments/],
    ['command line in one string', 'notify:\n  commands:\n    - command: /usr/local/bin/hook --x\n', /c\.yaml:3:16: notify\.commands\.0\.command: a list, \[program, arguments…\]: it runs without a shell/],
    ['empty command argument', 'notify:\n  commands:\n    - command: [/usr/local/bin/hook, ""]\n', /c\.yaml:3:38: notify\.commands\.0\.command\.1: an empty argument/],
    ['NUL in a command argument', 'notify:\n  commands:\n    - command: ["/usr/local/bin/hook", "a\\0b"]\n', /c\.yaml:3:40: notify\.commands\.0\.command\.1: a NUL character cannot be passed to a process/],
    ['command without one', 'notify:\n  commands:\n    - timeout: 5s\n', /c\.yaml:3:7: notify\.commands\.0\.command: required \(expected array\)/],
    ['command timeout too short', 'notify:\n  commands:\n    - { command: [/bin/true], timeout: 10ms }\n', /notify\.commands\.0\.timeout: timeout must be at least 1000 ms/],
    ['command timeout too long', 'notify:\n  commands:\n    - { command: [/bin/true], timeout: 1h }\n', /notify\.commands\.0\.timeout: timeout must be at most 600000 ms \(10m\)/],
    ['email timeout too long', 'notify:\n  email:\n    - { smtp: "smtp://relay.example.com", from: a@example.com, to: [b@example.com], timeout: 11m }\n', /notify\.email\.0\.timeout: timeout must be at most 600000 ms \(10m\)/],
    ['command through a shell', 'notify:\n  commands:\n    - { command: [/bin/true], shell: true }\n', /c\.yaml:3:31: notify\.commands\.0: unknown key "shell"/],
    ['command setting a TLOGWATCH_ variable', 'notify:\n  commands:\n    - { command: [/bin/true], env: { TLOGWATCH_RULE: x } }\n', /c\.yaml:3:38: notify\.commands\.0\.env\.TLOGWATCH_RULE: TLOGWATCH_\* variables are set by tlogwatch for each finding/],
    ['bad command variable name', 'notify:\n  commands:\n    - { command: [/bin/true], env: { MY-VAR: x } }\n', /notify\.commands\.0\.env\.MY-VAR: an environment variable name/],
    ['command variable not a string', 'notify:\n  commands:\n    - { command: [/bin/true], env: { RETRIES: 3 } }\n', /notify\.commands\.0\.env\.RETRIES: Invalid input: expected string, received number/],
    ['more channels than the outbox can key', `notify:\n  commands:\n${'    - command: [/bin/true]\n'.repeat(257)}`, /c\.yaml:2:3: notify: 257 channels; at most 256 in all/],
    ['not a mapping', '- a\n- b\n', /c\.yaml:1:1: \(top level\): Invalid input: expected object, received array/],
    ['YAML syntax', 'api: [1\n', /invalid configuration \(YAML\):\n {2}c\.yaml:\d+:\d+: /],
    ['duplicate YAML key', 'index: all\nindex: watched\n', /c\.yaml:2:1: Map keys must be unique/],
    ['YAML alias to no anchor', 'listen: *nowhere\n', /invalid configuration \(YAML\):\n {2}c\.yaml: Unresolved alias/],
    ['YAML alias bomb', `a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n`, /invalid configuration \(YAML\):\n {2}c\.yaml: .*alias/i],
    ['YAML nested too deeply', `a: ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`, /invalid configuration \(YAML\):\n {2}c\.yaml:\d+:\d+: the document nests too deeply to read/],
    ['TUF mirror without its root', 'tufMirror: https://tuf.internal.example\n', /c\.yaml:\d+:\d+: tufRoot: required with tufMirror https:\/\/tuf\.internal\.example: only the public-good repository's first root is built in/],
    ['TUF with a trusted-root file', 'trustedRoot: root.json\ntufRoot: tuf-root.json\n', /c\.yaml:2:10: tufRoot: has no effect with trustedRoot/],
    ['a checkpoint URL of no log', 'checkpointSources:\n  - name: cdn\n    kind: checkpoint\n    url: https://cdn.example/checkpoint\n', /c\.yaml:2:5: checkpointSources\.0\.logs: a checkpoint URL without \{log\}, \{origin\}, \{originSha256\} serves one log: name exactly one/],
    ['witnesses of a peer', 'checkpointSources:\n  - { name: p, kind: tlogwatch, url: "https://peer.example", witnesses: 2 }\n', /c\.yaml:2:73: checkpointSources\.0\.witnesses: only a distributor serves checkpoints by number of witnesses/],
    ['duplicate source name', 'checkpointSources:\n  - { name: p, kind: tlogwatch, url: "https://a.example" }\n  - { name: p, kind: tlogwatch, url: "https://b.example" }\n', /c\.yaml:3:13: checkpointSources\.1\.name: duplicate source name \(also checkpointSources\.0\.name\)/],
    ['short source token', 'checkpointSources:\n  - { name: p, kind: tlogwatch, url: "https://a.example", token: short }\n', /checkpointSources\.0\.token: at least 16 characters/],
    ['source interval too short', 'checkpointSources:\n  - { name: p, kind: tlogwatch, url: "https://a.example", interval: 1s }\n', /checkpointSources\.0\.interval: interval must be at least 10000 ms/],
    ['source of a log not configured', `${log('')}checkpointSources:\n  - { name: p, kind: tlogwatch, url: "https://a.example", logs: [b] }\n`, /c\.yaml:6:66: checkpointSources\.0\.logs\.0: no log named b in `logs`/],
    ['bad TUF mirror URL', 'tufMirror: tuf.example\ntufRoot: r.json\n', /c\.yaml:1:12: tufMirror: an http:\/\/ or https:\/\/ URL/],
    // The check for one log under two names read every url as a URL, and threw a TypeError at one that was none.
    ['log URL that is none', 'logs:\n  - { name: a, type: tiles, url: log.example }\n', /c\.yaml:2:34: logs\.0\.url: an http:\/\/ or https:\/\/ URL/],
  ];
  for (const [what, yaml, want] of cases) it(what, () => expect(errorOf(yaml)).toMatch(want));

  it('any text gives a configuration or a CONFIG_INVALID error, never another exception', () => {
    const key = fc.constantFrom('dataDir', 'listen', 'trustedRoot', 'tufMirror', 'tufRoot', 'logs', 'index', 'jobs', 'witnesses', 'name', 'type', 'url', 'keys', 'quorum');
    const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('tiles', 'latest', '1e309', 'http://x', '${HOME}', '${NOPE}', '*alias', '&anchor x'));
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({ v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 4 })) })).v;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.dictionary(key, value, { maxKeys: 6 }).map((o) => JSON.stringify(o))), (text) => {
        try {
          parseConfig(text, 'c.yaml', { HOME: '/h' });
        } catch (e) {
          expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
        }
      }),
      { numRuns: 3000 },
    );
  });
  it('the full example with any one value replaced gives a configuration or a CONFIG_INVALID error, never another exception', () => {
    const full = parseYaml(FULL) as unknown;
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('log.example', 'http://', 'ftp://x', 'https://rekor.sigstore.dev', 'tiles', 'latest', '${NOPE}', '', -1, 2 ** 64));
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 5 }), value, (path, v) => {
        try {
          parseConfig(JSON.stringify(replaceNode(full, path, v)), 'c.yaml', ENV);
        } catch (e) {
          expect(e).toMatchObject({ code: 'CONFIG_INVALID' });
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('reports all problems of a file at once', () => {
    const m = errorOf('index: some\nstalledAfter: 10ms\nlisten: nope\n');
    expect(m.split('\n').filter((l) => l.startsWith('  c.yaml:'))).toHaveLength(3);
  });
  it('lists them in the order of the file, not of the schema', () => {
    const m = errorOf('logz: []\napi:\n  admintoken: abc\nlisten: nope\nindex: some\n');
    expect(m.split('\n').filter((l) => l.startsWith('  c.yaml:')).map((l) => l.split(':')[1])).toEqual(['1', '3', '4', '5']);
  });
});

describe('config: checkpoint sources', () => {
  it('reads each kind, with a default interval of 5 minutes and every log by default', () => {
    const c = parseConfig(
      'checkpointSources:\n  - { name: peer, kind: tlogwatch, url: "https://tlogwatch.partner.example" }\n  - { name: dist, kind: distributor, url: "https://distributor.example", witnesses: 3, interval: 15m }\n  - { name: cdn, kind: checkpoint, url: "https://cdn.example/{log}/checkpoint", logs: [a, b] }\n',
      'c.yaml',
      {},
    );
    expect(c.checkpointSources).toEqual([
      { name: 'peer', kind: 'tlogwatch', url: 'https://tlogwatch.partner.example', interval: 300_000 },
      { name: 'dist', kind: 'distributor', url: 'https://distributor.example', witnesses: 3, interval: 900_000 },
      { name: 'cdn', kind: 'checkpoint', url: 'https://cdn.example/{log}/checkpoint', logs: ['a', 'b'], interval: 300_000 },
    ]);
    expect(parseConfig('', 'c.yaml', {}).checkpointSources).toEqual([]);
  });
});

describe('config: credentials in a URL', () => {
  // Every http(s) URL of the configuration: a log's is shown in GET /v1/logs (unauthenticated), /readyz and
  // errors; any is in log lines; fetch (webhooks, Slack, Alertmanager) puts the whole URL in its error.
  const places: Array<[string, string, RegExp]> = [
    ['a log', 'logs:\n  - { name: l, type: tiles, url: "https://${CRED}@log.example/api" }\n', /c\.yaml:2:\d+: logs\.0\.url: credentials in a URL/],
    ['a checkpoint source (a witness, a peer)', 'checkpointSources:\n  - { name: w, kind: checkpoint, url: "https://${CRED}@witness.example/{log}", logs: [a] }\n', /checkpointSources\.0\.url: credentials in a URL.*`token`/],
    ['tufMirror', 'tufMirror: "https://${CRED}@tuf.example"\ntufRoot: ./root.json\n', /tufMirror: credentials in a URL/],
    ['a webhook', 'notify:\n  webhooks: [{ url: "https://${CRED}@hooks.example/x" }]\n', /notify\.webhooks\.0\.url: credentials in a URL/],
    ['a Slack webhook', 'notify:\n  slack: [{ url: "https://${CRED}@hooks.slack.com/services/T/B/X" }]\n', /notify\.slack\.0\.url: credentials in a URL/],
    ['an Alertmanager', 'notify:\n  alertmanager: [{ url: "http://${CRED}@am.example:9093" }]\n', /notify\.alertmanager\.0\.url: credentials in a URL/],
  ];
  for (const [what, yaml, want] of places) {
    it(`are refused in ${what}, and the message does not repeat them`, () => {
      for (const cred of ['user:s3cret-pass', 'only-a-user', ':s3cret-pass']) {
        const m = errorOf(yaml, { CRED: cred });
        expect(m).toMatch(want);
        expect(m).not.toContain(cred.replace(/^:/, ''));
      }
    });
  }
  it('are refused in --log, which is not repeated with them', () => {
    const base = parseConfig('', 'x', {});
    let message = '';
    try {
      applyOverrides(base, { logs: ['tiles=https://user:s3cret-pass@log.example/api'] });
    } catch (e) {
      message = (e as Error).message;
    }
    // The hint is the flag that takes them, as a file: a command line is readable by any user of the host.
    expect(message).toMatch(/^--log tiles=https:\/\/log\.example\/api: credentials in a URL \(user:password@host\) are refused: .*readable by any user of this host \(ps\)\. Give them in a file: --log-header-file NAME=FILE/);
    expect(message).not.toContain('s3cret-pass');
  });
  it('a webhook secret in its path or query is accepted (it is never shown: notifications name the host)', () => {
    const c = parseConfig('notify:\n  webhooks: [{ url: "https://hooks.example/T0/${HOOK}?token=${HOOK}" }]\n', 'c.yaml', { HOOK: 'abcdef0123456789' });
    expect(c.notify.webhooks[0]!.url).toBe('https://hooks.example/T0/abcdef0123456789?token=abcdef0123456789');
  });
});

describe('config: notification channels', () => {
  it('builds every kind in a fixed order, commands last, so outbox rows queued before commands existed keep their channel', () => {
    // The index in this list is the outbox's channel byte (notify/outbox.ts).
    expect(channelsOf(parseConfig(FULL, 'full.yaml', ENV)).map((c) => c.name)).toEqual(['webhook:0', 'slack:0', 'alertmanager:0', 'email:0', 'email:1', 'command:0', 'command:1']);
  });
});

describe('config: environment interpolation', () => {
  it('fills secrets from the environment, anywhere in a string', () => {
    // A secret read from a file often keeps its newline: refused at start, not a 401 for every admin call.
    expect(errorOf('api:\n  adminToken: ${TOKEN}\n', { TOKEN: 'a-very-long-secret-token\n' })).toMatch(/c\.yaml:2:15: api\.adminToken: contains whitespace \(a trailing newline/);
    expect(errorOf('api:\n  adminToken: "${TOKEN}"\n', { TOKEN: 'a-very-long secret-token' })).toMatch(/api\.adminToken: contains whitespace/);
    const c = parseConfig('api:\n  adminToken: ${TOKEN}\nnotify:\n  slack: [{ url: "https://hooks.slack.com/${SLACK_PATH}" }]\n', 'c.yaml', { TOKEN: 'a-very-long-secret-token', SLACK_PATH: 'services/T/B/X' });
    expect(c.api.adminToken).toBe('a-very-long-secret-token');
    expect(c.notify.slack[0]!.url).toBe('https://hooks.slack.com/services/T/B/X');
  });
  it('refuses an unset variable rather than using an empty secret, with its line:column', () => {
    expect(errorOf('api:\n  adminToken: ${NOPE}\n')).toMatch(/c\.yaml:2:15: api\.adminToken: environment variable NOPE is not set/);
  });
  it('keeps $${NAME} literal and rejects a malformed reference', () => {
    expect(parseConfig('rules: "$${HOME}/rules"\n', 'c.yaml', {}).rules).toBe('${HOME}/rules');
    expect(errorOf('rules: ${not-a-name}\n')).toMatch(/c\.yaml:1:8: rules: \$\{not-a-name\} is not an environment variable reference/);
  });
  it('with `unused` keys (an offline command), needs no variable there: still validated, and back to defaults', () => {
    const yaml = [
      'dataDir: /srv/tlogwatch',
      'index: watched',
      'api:\n  adminToken: ${TLOGWATCH_ADMIN_TOKEN}\n  maxBodyBytes: 4096',
      'checkpointSources:\n  - { name: peer, kind: tlogwatch, url: "https://peer.example", token: "${PEER_TOKEN}" }',
      'notify:\n  webhooks: [{ url: "${WEBHOOK_URL}", secret: "${WEBHOOK_SECRET}" }]',
    ].join('\n');
    const unused = ['api', 'checkpointSources', 'notify'] as const;
    const c = parseConfig(yaml, 'c.yaml', {}, { unused });
    expect(c).toMatchObject({ dataDir: '/srv/tlogwatch', index: 'watched', checkpointSources: [], notify: { webhooks: [] } });
    expect(c.api).toEqual(ConfigSchema.shape.api.parse(undefined));
    // Serve's way, strict: every variable is needed.
    expect(errorOf(yaml)).toMatch(/api\.adminToken: environment variable TLOGWATCH_ADMIN_TOKEN is not set[\s\S]*checkpointSources\.0\.token: environment variable PEER_TOKEN is not set/);
    // A key the command reads still needs its variables, and whatever else is wrong is still said.
    const bad = (text: string) => {
      try {
        parseConfig(text, 'c.yaml', {}, { unused });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(bad(`${yaml}\nrules: \${RULES_DIR}\n`)).toMatch(/c\.yaml:\d+:\d+: rules: environment variable RULES_DIR is not set/);
    expect(bad(yaml.replace('maxBodyBytes: 4096', 'maxBodyBytes: 1'))).toMatch(/api\.maxBodyBytes: Too small/);
    expect(bad(yaml.replace('kind: tlogwatch', 'kind: nope'))).toMatch(/checkpointSources\.0\.kind: /);
    expect(bad(yaml.replace('${PEER_TOKEN}', '${not a name}'))).toMatch(/is not an environment variable reference/);
    // Set variables are used as ever where the command reads.
    expect(parseConfig('dataDir: ${D}\napi: { adminToken: "${T}" }\n', 'c.yaml', { D: '/d' }, { unused }).dataDir).toBe('/d');
  });
  it('does not interpolate into keys or treat numbers as strings', () => {
    expect(errorOf('logs:\n  - name: a\n    type: tiles\n    url: http://x\n    concurrency: ${N}\n', { N: '4' })).toMatch(/logs\.0\.concurrency: Invalid input: expected number, received string/);
  });
});

describe('config: CLI overrides and files', () => {
  it('lets every flag override the file', () => {
    const file = parseConfig(FULL, 'full.yaml', ENV);
    const c = applyOverrides(file, { dataDir: '/b', listen: '[::1]:8081', rules: '/r', trustedRoot: '/t.json', logs: ['tiles=http://127.0.0.1:9/api/v2'], start: '0' });
    expect(c).toMatchObject({ dataDir: '/b', listen: '[::1]:8081', rules: '/r', trustedRoot: '/t.json' });
    expect(c.logs).toEqual([{ name: '127.0.0.1_9', type: 'tiles', url: 'http://127.0.0.1:9/api/v2', start: 0n, pollInterval: 5000, concurrency: 8, requestsPerMinute: 500, compression: 'gzip' }]);
    expect(c.api).toEqual(file.api);
  });
  it('batches 1024 entries with index: all and 2048 with watched, unless a log says otherwise', () => {
    const trust = parseTrustedRoot(JSON.parse(readFileSync('test/fixtures/realdata/trust/prod/trusted_root.json', 'utf8')));
    const rekor = (extra: string) => `index: ${extra}\nlogs:\n  - name: r\n    type: rekor-v1\n    url: https://rekor.sigstore.dev\n`;
    const sizes = (yaml: string) => followedLogs(parseConfig(yaml, 'c.yaml', {}), trust, new Date('2026-11-28T00:00:00Z')).map((l) => l.follow.batchSize);
    expect(sizes(rekor('all'))).toEqual([1024]);
    expect(sizes(rekor('watched'))).toEqual([2048]);
    expect(sizes(`${rekor('watched')}    batchSize: 300\n`)).toEqual([300]);
    // Every log of the trusted root when none is configured.
    expect(new Set(sizes('index: watched\n'))).toEqual(new Set([2048]));
  });
  it('names several --log flags apart, and applies --start alone to the file logs', () => {
    const c = applyOverrides(parseConfig('', 'x', {}), { logs: ['tiles=http://127.0.0.1:1/', 'rekor-v1=https://rekor.sigstore.dev'] });
    expect(c.logs.map((l) => [l.name, l.type])).toEqual([['127.0.0.1_1-0', 'tiles'], ['rekor.sigstore.dev-1', 'rekor-v1']]);
    const s = applyOverrides(parseConfig(FULL, 'full.yaml', ENV), { start: 'latest' });
    expect(s.logs.map((l) => l.start)).toEqual(['latest', 'latest']);
  });
  it('rejects bad flags with the flag in the message', () => {
    const base = parseConfig('', 'x', {});
    expect(() => applyOverrides(base, { logs: ['bogus'] })).toThrow(/--log bogus: expected TYPE=URL/);
    expect(() => applyOverrides(base, { logs: ['tiles=notaurl'] })).toThrow(/--log tiles=notaurl: notaurl is not a URL/);
    expect(() => applyOverrides(base, { logs: ['tiles=ftp://x'] })).toThrow(/--log tiles=ftp:\/\/x: url: an http/);
    expect(() => applyOverrides(base, { logs: ['tiles=http://127.0.0.1:9/api/v2', 'tiles=http://127.0.0.1:9/api/v2/'] })).toThrow(/--log tiles=http:\/\/127\.0\.0\.1:9\/api\/v2\/: the same log as --log tiles=http:\/\/127\.0\.0\.1:9\/api\/v2: each log once/);
    expect(() => applyOverrides(base, { listen: 'nope' })).toThrow(/--listen nope: HOST:PORT/);
    expect(() => applyOverrides(base, { start: 'soon' })).toThrow(/--start soon: expected a log index or "latest"/);
    // No logs configured: the trusted root's are followed from latest, so a --start would be silently ignored.
    expect(() => applyOverrides(base, { start: '0' })).toThrow(/--start 0: no logs are configured to start there/);
    expect(() => loadConfig(undefined, { start: 'latest' }, {})).toThrow(/--start latest: no logs are configured/);
  });
  it('gives the --log logs the --log-header-file headers, to logs of one server only', () => {
    const base = parseConfig(FULL, 'full.yaml', ENV);
    const one = applyOverrides(base, { logs: ['tiles=https://log.internal/api/v2'], logHeaderFiles: ['Authorization=/run/secrets/log_auth', 'X-Tenant=/run/secrets/tenant'] });
    expect(one.logs.map((l) => l.headerFiles)).toEqual([{ Authorization: '/run/secrets/log_auth', 'X-Tenant': '/run/secrets/tenant' }]);
    // A private deployment's v1 and tiles logs behind one proxy: both get them.
    const two = applyOverrides(base, { logs: ['tiles=https://log.internal/api/v2', 'rekor-v1=https://log.internal'], logHeaderFiles: ['Authorization=/s'] });
    expect(two.logs.map((l) => l.headerFiles)).toEqual([{ Authorization: '/s' }, { Authorization: '/s' }]);
    // The file's logs keep their own headers when --log is not given.
    expect(applyOverrides(base, {}).logs.map((l) => l.headerFiles)).toEqual([undefined, undefined]);
  });
  it('refuses --log-header-file that could send a credential elsewhere, or that is not NAME=FILE', () => {
    const base = parseConfig('', 'x', {});
    expect(() => applyOverrides(base, { logs: ['tiles=https://log.internal/api/v2', 'tiles=https://log2025-1.rekor.sigstore.dev'], logHeaderFiles: ['Authorization=/s'] })).toThrow(
      /^--log-header-file: the headers would go to every --log, and these are on 2 servers \(https:\/\/log\.internal, https:\/\/log2025-1\.rekor\.sigstore\.dev\): a credential for one must not reach the others/,
    );
    expect(() => applyOverrides(base, { logs: ['tiles=http://127.0.0.1:1/a', 'tiles=http://127.0.0.1:2/a'], logHeaderFiles: ['Authorization=/s'] })).toThrow(/on 2 servers/);
    expect(() => applyOverrides(base, { logHeaderFiles: ['Authorization=/s'] })).toThrow(/^--log-header-file: no --log to send the headers to/);
    const log = ['tiles=https://log.internal/api/v2'];
    expect(() => applyOverrides(base, { logs: log, logHeaderFiles: ['Authorization'] })).toThrow(/^--log-header-file Authorization: expected NAME=FILE, e\.g\. Authorization=\/run\/secrets\/log_auth$/);
    expect(() => applyOverrides(base, { logs: log, logHeaderFiles: ['Authorization=/a', 'Authorization=/b'] })).toThrow(/^--log-header-file Authorization=…: Authorization is given twice$/);
    expect(() => applyOverrides(base, { logs: log, logHeaderFiles: ['Authorization=/a', 'authorization=/b'] })).toThrow(/^--log-header-file authorization=…: Authorization is given already/);
    expect(() => applyOverrides(base, { logs: log, logHeaderFiles: ['Host=/a'] })).toThrow(/^--log-header-file Host=…: not configurable/);
    // The value given where its file belongs: said without repeating it.
    const valueGiven = configErrorOf(() => applyOverrides(base, { logs: log, logHeaderFiles: ['Authorization=Bearer s3cret-t0ken'] }));
    expect(valueGiven).toMatch(/^--log-header-file Authorization=…: not a file, and a header value is not given here: FILE is the path of a file holding the value/);
    expect(valueGiven).not.toContain('s3cret');
  });
  it('loads a file, or defaults without one, and says when a file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-config-'));
    try {
      const path = join(dir, 'tlogwatch.yaml');
      writeFileSync(path, 'dataDir: /from-file\nlisten: 127.0.0.1:1\n');
      expect(loadConfig(path, { listen: '127.0.0.1:2' }, {})).toMatchObject({ dataDir: '/from-file', listen: '127.0.0.1:2' });
      expect(loadConfig(undefined, {}, {}).dataDir).toBe('./data');
      writeFileSync(path, 'listen: nope\n');
      expect(() => loadConfig(path, {}, {})).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:9: listen`));
      expect(() => loadConfig(join(dir, 'missing.yaml'), {}, {})).toThrow(/cannot read the configuration file .*missing\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('TLOGWATCH_LOG_LEVEL overrides log.level (docker-compose.yml sets it), and must be a level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlogwatch-config-'));
    try {
      const path = join(dir, 'tlogwatch.yaml');
      writeFileSync(path, 'log: { level: debug }\n');
      expect(loadConfig(path, {}, {}).log.level).toBe('debug');
      expect(loadConfig(path, {}, { TLOGWATCH_LOG_LEVEL: 'error' }).log.level).toBe('error');
      expect(loadConfig(undefined, {}, { TLOGWATCH_LOG_LEVEL: 'warn' }).log.level).toBe('warn');
      expect(loadConfig(undefined, {}, { TLOGWATCH_LOG_LEVEL: '' }).log.level).toBe('info');
      expect(() => loadConfig(path, {}, { TLOGWATCH_LOG_LEVEL: 'verbose' })).toThrow('TLOGWATCH_LOG_LEVEL=verbose: one of trace, debug, info, warn, error, fatal, silent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config: documentation', () => {
  /** Every key of the schema as `a.b`, `logs[].name`, with its description. */
  function keys(): Array<{ path: string; description: string | undefined }> {
    const out: Array<{ path: string; description: string | undefined }> = [];
    const walk = (s: unknown, prefix: string) => {
      if (typeof s !== 'object' || s === null) return;
      const node = s as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[] };
      for (const [k, v] of Object.entries(node.properties ?? {})) {
        out.push({ path: `${prefix}${k}`, description: (v as { description?: string }).description });
        walk(v, `${prefix}${k}.`);
      }
      if (node.items) walk(node.items, prefix.replace(/\.$/, '[].'));
      for (const u of node.anyOf ?? []) walk(u, prefix);
    };
    walk(z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }), '');
    return out;
  }
  it('describes every key in the schema and in docs/configuration.md', () => {
    const all = keys();
    expect(all.length).toBeGreaterThan(40);
    expect(all.filter((k) => !k.description).map((k) => k.path)).toEqual([]);
    const docs = readFileSync('docs/configuration.md', 'utf8');
    expect(all.filter((k) => !docs.includes(`\`${k.path}\``)).map((k) => k.path)).toEqual([]);
  });
  it('the example in the docs is a valid configuration', () => {
    const docs = readFileSync('docs/configuration.md', 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(docs)![1]!;
    expect(() => parseConfig(example, 'docs/configuration.md', ENV)).not.toThrow();
  });
});

describe('config: logs[].headers', () => {
  const yaml = (headers: string) => `logs:\n  - name: l\n    type: tiles\n    url: https://log.example/api\n    headers:\n${headers}`;
  it('takes header fields, their values from the environment', () => {
    const c = parseConfig(yaml('      Authorization: "Bearer ${LOG_TOKEN}"\n      X-Api-Key: ${LOG_KEY}\n'), 'c.yaml', { LOG_TOKEN: 'tok-0123456789', LOG_KEY: 'k e\ty' });
    expect(c.logs[0]!.headers).toEqual({ Authorization: 'Bearer tok-0123456789', 'X-Api-Key': 'k e\ty' });
    expect(parseConfig(yaml('      {}\n'), 'c.yaml', {}).logs[0]!.headers).toEqual({});
    expect(parseConfig('logs:\n  - { name: l, type: tiles, url: "https://log.example" }\n', 'c.yaml', {}).logs[0]!.headers).toBeUndefined();
  });
  it('refuses a value that would split the request or that Node would refuse, without repeating it', () => {
    for (const secret of ['s3cret-token\n', 's3cret\r\nX-Evil: 1', 's3cret\0', 's3cret ', '', 's3cret\u0100']) {
      const m = errorOf(yaml('      Authorization: "Bearer ${S}"\n'), { S: secret });
      expect(m).toMatch(/c\.yaml:\d+:\d+: logs\.0\.headers\.Authorization: (contains CR, LF or NUL|not a header field value)/);
      if (secret.trim()) expect(m).not.toContain(secret.trim().split(/\s/)[0]);
    }
    expect(errorOf(yaml('      Authorization: "${S}"\n'), { S: '' })).toMatch(/not a header field value/);
  });
  it('refuses connection, framing and routing fields, those tlogwatch sets, names that are no tokens, and one name twice', () => {
    for (const name of ['Host', 'content-length', 'Connection', 'Transfer-Encoding', 'TE', 'Upgrade', 'Keep-Alive', 'Accept-Encoding', 'User-Agent', 'Proxy-Authorization']) {
      expect(errorOf(yaml(`      ${name}: x\n`), {})).toMatch(new RegExp(`logs\\.0\\.headers\\.${name}: not configurable`));
    }
    expect(errorOf(yaml('      "X Key": x\n'), {})).toMatch(/not a header field name/);
    expect(errorOf(yaml('      "X-Key:": x\n'), {})).toMatch(/not a header field name/);
    expect(errorOf(yaml('      Authorization: a\n      authorization: b\n'), {})).toMatch(/headers\.authorization: Authorization is given already/);
  });
});
