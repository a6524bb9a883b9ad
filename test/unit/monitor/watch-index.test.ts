/**
 * The watch index (src/monitor/rules/watch-index.ts) against an oracle without one: each rule's patterns
 * tested directly on the normalised field value. Patterns and values are drawn from pieces that stress the
 * bucketing (schemes and hosts in other cases, hyphens, percent escapes, `*` and `**`, `@`, ports), so many
 * draws do match. (evaluate.test.ts compares a prebuilt index with one built on first use: not an oracle.)
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { Entry } from '../../../src/entries/types.ts';
import { evaluate } from '../../../src/monitor/eval/evaluate.ts';
import { checkRules } from '../../../src/monitor/rules/check.ts';
import { watchValue } from '../../../src/monitor/eval/values.ts';
import { normalise } from '../../../src/monitor/rules/pattern.ts';

const piece = fc.constantFrom('https://github.com/', 'https://GitHub.com/', 'http://', 'acme', 'Acme', 'my-org', '/', '*', '**', '-', '.', '@', 'x', 'api', '.github/workflows/', 'refs/tags/', 'alice@', 'acme.com', 'ACME.COM', '%41', '?', '#', ':443', 'github.com/');
const text = fc.array(piece, { minLength: 1, maxLength: 7 }).map((a) => a.join(''));
let matched = 0;
it('the watch index agrees with testing every rule’s patterns directly (identity, repository, owner and build-signer globs)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('identities', 'repositories', 'owners', 'buildSigners'), text), { minLength: 1, maxLength: 4 }), fc.array(text, { minLength: 1, maxLength: 3 }), (watches, sans) => {
      const yaml = `rules:\n${watches.map(([sel, g], i) => `  - id: r${i}\n    notify: all\n    watch: { ${sel}: [${JSON.stringify(g)}] }\n`).join('')}`;
      const r = checkRules([{ name: 'r.yaml', text: yaml }]);
      fc.pre(r.ok);
      if (!r.ok) return;
      for (const san of sans) {
        const e = { log: 'l', index: 1, kind: 'hashedrekord', apiVersion: '0.0.1', digests: [], integratedTime: 1, signer: { type: 'x509', fingerprint: `sha256:${'a'.repeat(64)}`, san, issuer: 'https://token.actions.githubusercontent.com', fulcio: { sourceRepositoryURI: san, sourceRepositoryOwnerURI: san, buildSignerURI: san } } } as unknown as Entry;
        // Oracle: each rule's patterns tested directly on the normalised field value, no index.
        const oracle = r.ruleSet.rules.filter((rule) => rule.watch.some((sel) => sel.type === 'pattern' && sel.patterns.some((p) => { const v = watchValue(e.signer!, sel.field); return v !== undefined && p.test(normalise(sel.kind, v)); }))).map((rule) => rule.id);
        if (oracle.length) matched++;
        expect(evaluate(r.ruleSet, e, 1).map((f) => f.ruleId)).toEqual(oracle);
      }
    }),
    { numRuns: 5000 },
  );
  // Not vacuous: ~5% of the draws match some rule (259 of 5,000 in one run).
  expect(matched).toBeGreaterThan(100);
});

it('answers the same from its memo of recent values as without it, through repeats and a flood of distinct values', () => {
  const yaml = `rules:\n${['https://github.com/acme/*', 'https://github.com/acme/**', '*@acme.com', 'https://github.com/*/api/.github/workflows/*@refs/tags/*']
    .map((g, i) => `  - id: r${i}\n    notify: all\n    watch: { identities: [${JSON.stringify(g)}] }\n`)
    .join('')}`;
  const r = checkRules([{ name: 'r.yaml', text: yaml }]);
  if (!r.ok) throw new Error('rules');
  const entry = (san: string) => ({ log: 'l', index: 1, kind: 'hashedrekord', apiVersion: '0.0.1', digests: [], integratedTime: 1, signer: { type: 'x509', fingerprint: `sha256:${'a'.repeat(64)}`, san } }) as unknown as Entry;
  const oracle = (san: string) => r.ruleSet.rules.filter((rule) => rule.watch.some((sel) => sel.type === 'pattern' && sel.patterns.some((p) => p.test(normalise(sel.kind, san))))).map((rule) => rule.id);
  const repeated = ['https://github.com/acme/api', 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1', 'dev@acme.com', 'https://github.com/evil/api'];
  // More distinct values than the memo holds (it is cleared when full), with the repeated ones between them.
  for (let i = 0; i < 10_000; i++) {
    const san = i % 3 === 0 ? repeated[i % repeated.length]! : [`https://github.com/acme/r${i}`, `u${i}@acme.com`, `https://github.com/o${i}/api/.github/workflows/x.yml@refs/tags/v${i}`][Math.floor(i / 3) % 3]!;
    expect(evaluate(r.ruleSet, entry(san), 1).map((f) => f.ruleId)).toEqual(oracle(san));
  }
});
