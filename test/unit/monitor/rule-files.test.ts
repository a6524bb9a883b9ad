/** Rule files: validation with file:line:column, compilation, the examples, and the generated JSON Schema. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRuleFiles } from '../../../src/monitor/loader.ts';
import { checkRules, formatRuleErrors, type RuleError } from '../../../src/monitor/rules/check.ts';
import { DEFAULT_BUILTINS } from '../../../src/monitor/rules/compiled.ts';
import { rulesJsonSchema } from '../../../src/monitor/rules/json-schema.ts';

const errorsOf = (files: Array<{ name: string; text: string }>): RuleError[] => {
  const r = checkRules(files);
  return r.ok ? [] : r.errors;
};

describe('the examples', () => {
  it('are valid, warning-free, and compile to the rules the README describes', () => {
    const r = checkRules(readRuleFiles('monitor-rules/examples'));
    if (!r.ok) throw new Error(formatRuleErrors(r.errors));
    expect(r.warnings).toEqual([]);
    expect(r.ruleSet.rules.map((x) => [x.id, x.mode, x.severity])).toEqual([
      ['acme-people', 'expect', 'medium'],
      ['acme-release', 'expect', 'high'],
      ['acme-shared-workflows', 'expect', 'high'],
      ['globex-rekor-monitor', 'report', 'medium'],
    ]);
    expect(r.ruleSet.builtins).toMatchObject({ logIntegrity: { severity: 'critical', owner: 'sre@acme.example' }, mirrorStalled: { severity: 'high', after: 900 } });
  });
  it('monitor-rules/schema.json is the one generated from the zod schema (regenerate: npx node scripts/rules-schema.ts)', () => {
    expect(JSON.parse(readFileSync('monitor-rules/schema.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(rulesJsonSchema())));
  });
  it('the schema documents every key (editors show the descriptions)', () => {
    const text = JSON.stringify(rulesJsonSchema());
    for (const key of ['identities', 'repositories', 'buildSigners', 'sourceRefs', 'timeWindow', 'holidays', 'suppress', 'monitoredValues', 'mirror-stalled']) expect(text).toContain(`"${key}"`);
  });
});

describe('errors carry file, line, column and path', () => {
  it('shape errors from the schema, at the offending node or key', () => {
    const errs = errorsOf([
      { name: 'a.yaml', text: 'rules:\n  - id: x\n    watch: {}\n    expect: { issuers: [x] }\n' },
      { name: 'b.yaml', text: 'rules:\n  - id: y\n    watch: { repositories: [a] }\n    expect: { issuers: [x] }\n    colour: red\n' },
      { name: 'c.yaml', text: 'rules:\n  - id: Bad Id\n    severity: urgent\n    watch: { digests: [md5:abc] }\n' },
      { name: 'd.yaml', text: 'rules:\n  - id: z\n    watch: { owners: [x] }\n    notify: all\n    suppress:\n      - until: 2027-13-01\n        reason: r\n      - reason: nothing to match on\n' },
    ]);
    expect(errs.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual([
      'a.yaml:3:12 rules[0].watch: watch needs at least one selector',
      expect.stringMatching(/^b\.yaml:5:5 rules\[0\]\.colour: unknown key colour; allowed here: id, .*\bseverity\b/),
      'c.yaml:2:9 rules[0].id: an id of lower-case letters, digits, dot, dash, underscore (max 64)',
      expect.stringMatching(/^c\.yaml:3:15 rules\[0\]\.severity: /),
      'c.yaml:4:24 rules[0].watch.digests[0]: a digest like sha256:<64 hex> (or sha384:, sha512:)',
      'd.yaml:6:16 rules[0].suppress[0].until: a date YYYY-MM-DD (through the end of that day, UTC) or an RFC 3339 time',
      'd.yaml:8:9 rules[0].suppress[1]: give digest, identity, expectations or until',
    ]);
  });
  it('a date the calendar does not have (02-30, 04-31), which Date.parse would roll into the next month', () => {
    const file = (until: string, holidays: string) =>
      `rules:\n  - id: d\n    watch: { owners: [github.com/acme] }\n    expect: { timeWindow: { timezone: UTC, holidays: [${holidays}] } }\n    suppress:\n      - until: '${until}'\n        reason: r\n`;
    const errs = errorsOf([{ name: 'f.yaml', text: file('2027-02-29', "'2026-04-31', '02-30'") }, { name: 'g.yaml', text: file('2027-02-30T10:00:00Z', "'2028-02-29', '02-29', '12-31'") }]);
    expect(errs.map((e) => `${e.file}:${e.line} ${e.path}: ${e.message}`)).toEqual([
      'f.yaml:4 rules[0].expect.timeWindow.holidays[0]: no such day: that month is shorter',
      'f.yaml:4 rules[0].expect.timeWindow.holidays[1]: no such day: that month is shorter',
      'f.yaml:6 rules[0].suppress[0].until: no such day: that month is shorter',
      'g.yaml:6 rules[0].suppress[0].until: no such day: that month is shorter',
    ]);
    expect(errorsOf([{ name: 'h.yaml', text: file('2028-02-29T23:59:59+01:00', "'2028-02-29', '02-29', '04-30'") }])).toEqual([]);
  });
  it('a required key left out (a misspelt `watch`) says so, not zod\'s "expected object, received undefined"', () => {
    const errs = errorsOf([{ name: 'm.yaml', text: 'rules:\n  - id: m\n    wacth: { owners: [github.com/acme] }\n    expect: { issuers: [x] }\n' }]);
    expect(errs.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual(['m.yaml:2:5 rules[0].watch: required (expected object)', 'm.yaml:3:5 rules[0].wacth: unknown key wacth (did you mean watch?)']);
    const rm = errorsOf([{ name: 'n.yaml', text: 'monitoredValues:\n  certIdentities: [{ issuers: [x] }]\n' }]);
    expect(rm.map((e) => `${e.path}: ${e.message}`)).toEqual(['monitoredValues.certIdentities[0].certSubject: required (expected string)']);
  });
  it('an unknown key names the key it most likely misspells', () => {
    const errs = errorsOf([{ name: 'f.yaml', text: 'rules:\n  - id: f\n    watch: { repositorys: [a], owners: [x] }\n    expect: { runnerEnviroment: [github-hosted] }\n' }]);
    expect(errs.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual([
      'f.yaml:3:14 rules[0].watch.repositorys: unknown key repositorys (did you mean repositories?)',
      'f.yaml:4:15 rules[0].expect.runnerEnviroment: unknown key runnerEnviroment (did you mean runnerEnvironment?)',
    ]);
    const rm = errorsOf([{ name: 'g.yaml', text: 'monitoredValues:\n  certIdentities: [{ certSubject: x }]\n  fingerprint: [ab]\n' }]);
    expect(rm.map((e) => e.message)).toContain('unknown key fingerprint (did you mean fingerprints?)');
  });
  it('compile errors (patterns, timezones) at the pattern', () => {
    const errs = errorsOf([{ name: 'e.yaml', text: "rules:\n  - id: e\n    watch:\n      identities:\n        - ok\n        - { regex: '(' }\n    expect:\n      timeWindow: { timezone: Mars/Olympus }\n" }]);
    expect(errs.map((e) => [e.line, e.column, e.path])).toEqual([
      [6, 20, 'rules[0].watch.identities[1].regex'],
      [8, 31, 'rules[0].expect.timeWindow.timezone'],
    ]);
    expect(errs[1]!.message).toMatch(/unknown timezone Mars\/Olympus/);
  });
  it('YAML syntax errors, duplicate keys, duplicate ids across files, builtins set twice', () => {
    const errs = errorsOf([
      { name: 'f.yaml', text: 'rules: [\n' },
      { name: 'g.yaml', text: 'rules:\n  - id: g\n    id: h\n    watch: { owners: [x] }\n' },
      { name: 'h.yaml', text: 'rules:\n  - { id: same, notify: all, watch: { owners: [x] } }\nbuiltins: { mirror-stalled: { after: 5m } }\n' },
      { name: 'i.yaml', text: 'rules:\n  - { id: same, notify: all, watch: { owners: [y] } }\nbuiltins: { log-integrity: {} }\n' },
    ]);
    expect(errs.map((e) => `${e.file}:${e.line} ${e.path} ${e.message.slice(0, 40)}`)).toEqual([
      expect.stringMatching(/^f\.yaml:2 {2}/),
      expect.stringMatching(/^g\.yaml:3 {2}Map keys must be unique/),
      'i.yaml:2 rules[0].id duplicate rule id same (also in h.yaml)',
      'i.yaml:3 builtins builtins are already set in h.yaml; set ',
    ]);
  });
  it('formatRuleErrors prints file:line:column: path: message', () => {
    expect(formatRuleErrors([{ file: 'a.yaml', line: 3, column: 12, path: 'rules[0].watch', message: 'm' }])).toBe('a.yaml:3:12: rules[0].watch: m');
  });
});

describe('warnings: legal, but probably not what was meant', () => {
  it('a rule that can never fire, `@*` after a workflow, an org-level identity glob, a short digest', () => {
    const r = checkRules([
      {
        name: 'w.yaml',
        text: "rules:\n  - id: w\n    watch:\n      identities: ['https://github.com/acme/*', 'https://github.com/acme/api/.github/workflows/release.yml@*']\n      digests: ['sha256:00']\n",
      },
    ]);
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => `${w.line} ${w.path}`)).toEqual(['2 rules[0].expect', '4 rules[0].watch.identities[0]', '4 rules[0].watch.identities[1]', '5 rules[0].watch.digests[0]']);
  });
});

describe('compilation', () => {
  it('normalises fingerprints and digests to the Entry record form', () => {
    const r = checkRules([{ name: 'n.yaml', text: `rules:\n  - id: n\n    watch: { fingerprints: ['${'AB'.repeat(32)}'], digests: ['sha256:${'CD'.repeat(32)}'] }\n    expect: { keys: ['sha256:${'EF'.repeat(32)}'] }\n` }]);
    if (!r.ok) throw new Error('invalid');
    const [rule] = r.ruleSet.rules;
    expect(rule!.watch).toMatchObject([{ type: 'fingerprint', values: [`sha256:${'ab'.repeat(32)}`] }, { type: 'digest', values: [`sha256:${'cd'.repeat(32)}`] }]);
    expect([...rule!.expect.keys!]).toEqual([`sha256:${'ef'.repeat(32)}`]);
  });
  it('defaults: severity high, notify violations, builtins critical/high after 10 minutes', () => {
    const r = checkRules([{ name: 'd.yaml', text: 'rules:\n  - { id: d, watch: { owners: [x] }, expect: { triggers: [push] } }\n' }]);
    if (!r.ok) throw new Error('invalid');
    expect(r.ruleSet.rules[0]).toMatchObject({ severity: 'high', notify: 'violations', name: 'd', labels: {} });
    expect(r.ruleSet.builtins).toBeUndefined();
    expect(DEFAULT_BUILTINS).toMatchObject({ logIntegrity: { severity: 'critical' }, mirrorStalled: { severity: 'high' } });
    // No delay of its own: the daemon's stalledAfter applies.
    expect(DEFAULT_BUILTINS.mirrorStalled.after).toBeUndefined();
  });
  it('empty and comment-only files hold no rules; a huge file is refused', () => {
    const r = checkRules([{ name: 'empty.yaml', text: '' }, { name: 'comments.yaml', text: '# nothing yet\n' }]);
    expect(r.ok && r.ruleSet.rules).toEqual([]);
    expect(errorsOf([{ name: 'big.yaml', text: ' '.repeat(5 * 1024 * 1024) }])[0]!.message).toMatch(/exceeds/);
  });
  it('a YAML alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(errorsOf([{ name: 'bomb.yaml', text: bomb }])[0]!.message).toMatch(/alias/i);
  });
  it('a document nested thousands of levels deep is refused with a message that says so', () => {
    const deep = `rules: ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`;
    expect(errorsOf([{ name: 'deep.yaml', text: deep }])[0]).toMatchObject({ file: 'deep.yaml', message: expect.stringMatching(/^the document nests too deeply to read/) });
  });
});
