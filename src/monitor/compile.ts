/** The compiled rule set, for callers outside src/monitor; the rule language lives in ./rules/. */
export type { BuiltinRules, CompiledRule, MirrorStalledConfig, RuleSet } from './rules/compiled.ts';
