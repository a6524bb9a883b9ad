/**
 * RE2 (Go `regexp`) patterns from rekor-monitor configs, run by re2js, a port of RE2: the same syntax and
 * meaning as in rekor-monitor (https://github.com/google/re2/wiki/Syntax), and matching in time linear in
 * the value. Backreferences and lookaround are refused, as RE2 refuses them (rekor-monitor would refuse
 * the config). Matching stays UNANCHORED, as Go's `regexp.MatchString` is (reference/rekor.md §4.4).
 */
import { compileRe2Source, type Matcher } from './pattern.ts';

/** Throws an Error saying why the pattern is not valid RE2. */
export function compileRe2(re2: string): Matcher {
  const re = compileRe2Source(re2);
  return { test: (v) => re.test(v) };
}
