/**
 * The `undecoded-entry` built-in (src/monitor/eval/undecoded.ts): which values of the rules it looks for,
 * how deep it looks (real Rekor bodies: body JSON → base64 PEM → base64 DER), what it raises and at which
 * severity, its settings, and that no body makes it throw or read past its budget.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTlogEntries } from '../../../src/entries/tlog-entry.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluateUndecoded, literalsIn, SCAN_BUDGET, watchedLiterals } from '../../../src/monitor/eval/undecoded.ts';
import { undecodedFinding } from '../../../src/monitor/finding.ts';
import { DEFAULT_BUILTINS } from '../../../src/monitor/rules/compiled.ts';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { EMAIL_GOOGLE, GH_ATTESTATION, realEntry, ruleSet } from './helpers.ts';

const RULES = `rules:
  - id: googlers
    severity: critical
    owner: security@acme.example
    labels: { team: sec }
    watch: { identities: ['APPU@google.com'] }
  - id: attest-demo
    severity: medium
    watch: { repositories: ['https://github.com/malancas/*'] }
  - id: broad
    severity: high
    watch: { identities: ['https://github.com/*'], issuers: ['https://token.actions.githubusercontent.com'] }
`;
const rs = ruleSet(RULES);
/** Every undecodable entry raised (not only those naming a watched value, the default), so both paths show. */
const config = { ...DEFAULT_BUILTINS.undecodedEntry, watchedOnly: false };

const bodyOf = (file: string) => parseTlogEntries(JSON.parse(readFileSync(file, 'utf8')))[0]!.body;
/** A real entry as the decoder would leave it had it refused the body: no signer, a problem. */
function refused(file: string): { e: Entry; body: Uint8Array } {
  const { signer: _s, signers: _ss, ...e } = realEntry(file);
  return { e: { ...e, problem: { code: 'ENTRY_MALFORMED', message: 'spec.signature.publicKey.content is missing or not base64' } }, body: bodyOf(file) };
}
const text = (s: string) => new Uint8Array(Buffer.from(s));

describe('undecoded-entry', () => {
  it("looks for the rules' identifying literals: exact values, globs past a host, email domains; never an issuer or a bare host", () => {
    const lits = watchedLiterals(rs.rules).map((l) => [l.rule.id, l.text]);
    expect(lits).toEqual([
      ['googlers', 'appu@google.com'],
      ['attest-demo', 'https://github.com/malancas/'],
    ]);
    // Computed once per rule set.
    expect(watchedLiterals(rs.rules)).toBe(watchedLiterals(rs.rules));
    const more = ruleSet(`rules:
  - id: d
    watch: { identities: ['*@acme.example', '*.yml', 'x@y'], digests: ['sha256:${'ab'.repeat(32)}'], buildSigners: [{ regex: 'https://github\\.com/acme/.*' }] }
`);
    expect(watchedLiterals(more.rules).map((l) => l.text)).toEqual(['@acme.example', 'ab'.repeat(32)]);
  });

  it('finds a watched email in the DER of a real hashedrekord body, two base64 layers down, at the watch severity', () => {
    const { e, body } = refused(EMAIL_GOOGLE);
    expect(Buffer.from(body).toString('latin1').toLowerCase()).not.toContain('appu@google.com');
    const c = evaluateUndecoded(e, body, rs.rules, config)!;
    expect(c.severity).toBe('critical');
    expect(c.watched).toEqual([{ rule: 'googlers', source: 'APPU@google.com', literal: 'appu@google.com', layer: 2 }]);
    expect(c.message).toMatch(/^a hashedrekord 0\.0\.1 entry that tlogwatch did not fully decode \(ENTRY_MALFORMED: .*\): no signer was read, so no rule could match it; its body names a watched value: APPU@google\.com \(rule googlers\)$/);
    const f = undecodedFinding(e, c, config, 100);
    expect(f).toMatchObject({ rule: 'undecoded-entry', severity: 'critical', log: e.log, index: e.index, uuid: e.uuid, owner: 'security@acme.example', labels: { team: 'sec' }, status: 'open' });
    expect(f.evidence).toMatchObject({ problem: e.problem, kind: 'hashedrekord', scannedWhole: true });
  });

  it('finds a glob over a repository in the Fulcio claims of a real DSSE body', () => {
    const { e, body } = refused(GH_ATTESTATION);
    const c = evaluateUndecoded(e, body, rs.rules, config)!;
    expect(c.severity).toBe('medium');
    expect(c.watched.map((h) => h.rule)).toEqual(['attest-demo']);
  });

  it('raises an entry naming nothing watched at the configured severity, saying it cannot tell; or not at all with watchedOnly', () => {
    const { e, body } = refused(EMAIL_GOOGLE);
    const none = ruleSet("rules:\n  - id: other\n    severity: critical\n    watch: { identities: ['someone@else.example'] }\n");
    const c = evaluateUndecoded(e, body, none.rules, config)!;
    expect(c).toMatchObject({ severity: 'low', watched: [] });
    expect(c.message).toMatch(/its body names nothing the rules watch, but tlogwatch cannot tell whom it concerns$/);
    expect(undecodedFinding(e, c, config, 1)).not.toHaveProperty('owner');
    expect(evaluateUndecoded(e, body, none.rules, { ...config, watchedOnly: true })).toBeUndefined();
    expect(evaluateUndecoded(e, body, none.rules, DEFAULT_BUILTINS.undecodedEntry)).toBeUndefined();
    expect(evaluateUndecoded(e, body, rs.rules, { ...config, watchedOnly: true })?.severity).toBe('critical');
    // A configured severity above the watch's stays.
    expect(evaluateUndecoded(e, body, rs.rules, { ...config, severity: 'critical' })?.severity).toBe('critical');
    expect(evaluateUndecoded(refused(GH_ATTESTATION).e, refused(GH_ATTESTATION).body, rs.rules, { ...config, severity: 'high' })?.severity).toBe('high');
  });

  it('is silent for an entry without a problem, when disabled, and for logs it is not set for', () => {
    const { e, body } = refused(EMAIL_GOOGLE);
    const { problem: _p, ...ok } = e;
    expect(evaluateUndecoded(ok, body, rs.rules, config)).toBeUndefined();
    expect(evaluateUndecoded(e, body, rs.rules, { ...config, enabled: false })).toBeUndefined();
    expect(evaluateUndecoded(e, body, rs.rules, { ...config, logs: new Set(['other']) })).toBeUndefined();
    expect(evaluateUndecoded(e, body, rs.rules, { ...config, logs: new Set([e.log]) })).toBeDefined();
  });

  it('says what the rules did see when the decoder kept a signer', () => {
    const e = { ...realEntry(EMAIL_GOOGLE), problem: { code: 'ENTRY_MALFORMED' as const, message: 'extension .20 is not a DER UTF8String: left out' } };
    expect(evaluateUndecoded(e, bodyOf(EMAIL_GOOGLE), rs.rules, config)!.message).toContain('the rules judged the signer it could read (appu@google.com), not what it could not');
  });

  it('ignores case, as the watches do for hosts and email domains', () => {
    expect(literalsIn(text('{"x":"HTTPS://GITHUB.COM/Malancas/x"}'), watchedLiterals(rs.rules)).hits.map((h) => h.rule)).toEqual(['attest-demo']);
  });

  it('reads JSON-escaped PEM line breaks and stops at its budget', () => {
    const der = Buffer.concat([Buffer.alloc(40, 0x30), Buffer.from('appu@google.com'), Buffer.alloc(40, 0x02)]);
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{20}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
    const json = JSON.stringify({ spec: { cert: pem } });
    expect(literalsIn(text(json), watchedLiterals(rs.rules)).hits).toEqual([{ rule: 'googlers', source: 'APPU@google.com', literal: 'appu@google.com', layer: 1 }]);
    const big = new Uint8Array(SCAN_BUDGET + 100);
    big.set(Buffer.from('appu@google.com'), SCAN_BUDGET + 10);
    expect(literalsIn(big, watchedLiterals(rs.rules))).toEqual({ hits: [], scannedWhole: false });
    big.set(Buffer.from('appu@google.com'), 10);
    expect(literalsIn(big, watchedLiterals(rs.rules))).toEqual({ hits: [expect.objectContaining({ rule: 'googlers', layer: 0 })], scannedWhole: false });
  });

  it('reads many short base64 values one layer at a time, and finds a watched value in any of them', () => {
    // 200 watched values, as a real rule set may have. What a layer read as one text costs against one read
    // value by value is measured by the bench (test/bench/undecoded.bench.ts, BENCHMARKS.md), not here.
    const many = watchedLiterals(ruleSet(`rules:\n  - id: many\n    watch: { identities: [${Array.from({ length: 200 }, (_, i) => `'u${i}@org${i}.example'`).join(', ')}] }\n`).rules);
    const runs = text(JSON.stringify({ c: Array.from({ length: 1 << 16 }, () => Buffer.alloc(48, 7).toString('base64')) }));
    expect(literalsIn(runs, many)).toEqual({ hits: [], scannedWhole: true });
    const victim = Buffer.concat([Buffer.alloc(20, 0x30), Buffer.from('u7@org7.example'), Buffer.alloc(13)]).toString('base64');
    expect(literalsIn(text(JSON.stringify({ c: [victim, victim], d: 'u8@org8.exampl' })), many).hits).toEqual([{ rule: 'many', source: 'u7@org7.example', literal: 'u7@org7.example', layer: 1 }]);
  });

  it('finds the same in a rule set too large for the one-pass matcher, literal by literal', () => {
    const rule = ruleSet(`rules:\n  - id: many\n    watch: { identities: ['someone@org.example'] }\n`).rules[0]!;
    // 100,000 watched addresses: past the matcher's table (literal-matcher.ts MAX_CELLS), so the search falls back.
    const many = Array.from({ length: 100_000 }, (_, i) => {
      const t = `user${i.toString(36).padStart(8, '0')}@acme.example`;
      return { text: t, anchor: '@', anchorAt: t.indexOf('@'), source: t, rule };
    });
    const inner = Buffer.from(`{"san":"USER${(77_777).toString(36).padStart(8, '0').toUpperCase()}@acme.example"}`.padEnd(60, ' ')).toString('base64');
    expect(literalsIn(text(JSON.stringify({ c: inner, d: 'user00000001@acme.exampl' })), many).hits).toEqual([
      { rule: 'many', source: `user${(77_777).toString(36).padStart(8, '0')}@acme.example`, literal: `user${(77_777).toString(36).padStart(8, '0')}@acme.example`, layer: 1 },
    ]);
  });

  it('never throws, whatever the bytes', () => {
    const lits = watchedLiterals(rs.rules);
    // One base64 run of 10 MiB (a regex over it ran out of stack from 8 MiB on), and one of 4 MiB with PEM breaks JSON-escaped.
    for (const c of [Buffer.alloc(15 << 19, 7).toString('base64'), Buffer.alloc(3 << 20, 7).toString('base64').replace(/.{64}/g, '$&\n')]) {
      expect(literalsIn(text(JSON.stringify({ c })), lits)).toEqual({ hits: [], scannedWhole: true });
    }
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.base64String({ maxLength: 2048 }).map(text), fc.string({ maxLength: 512 }).map((s) => text(Buffer.from(Buffer.from(s).toString('base64')).toString('base64')))), (b) => {
        const r = literalsIn(b, lits);
        expect(r.scannedWhole).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is configured under builtins.undecoded-entry, on and low by default', () => {
    expect(DEFAULT_BUILTINS.undecodedEntry).toEqual({ enabled: true, severity: 'low', watchedOnly: true, labels: {} });
    expect(ruleSet('builtins:\n  log-integrity: {}\n').builtins!.undecodedEntry).toEqual(DEFAULT_BUILTINS.undecodedEntry);
    const set = ruleSet('builtins:\n  undecoded-entry: { severity: medium, watchedOnly: true, logs: [rekor], owner: sre, labels: { a: b } }\n');
    expect(set.builtins!.undecodedEntry).toEqual({ enabled: true, severity: 'medium', watchedOnly: true, logs: new Set(['rekor']), owner: 'sre', labels: { a: 'b' } });
    expect(ruleSet('builtins:\n  undecoded-entry: { enabled: false }\n').builtins!.undecodedEntry!.enabled).toBe(false);
    const bad = checkRules([{ name: 'b.yaml', text: 'builtins:\n  undecoded-entry: { severity: loud }\n' }]);
    expect(bad.ok).toBe(false);
  });
});
