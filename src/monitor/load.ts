/** Rule checking and loading, for callers outside src/monitor: ./rules/check.ts (pure) and ./loader.ts (disk). */
export { checkRules, formatRuleErrors, formatRuleWarnings, type CheckResult, type RuleError } from './rules/check.ts';
export { loadRules, noRuleFilesWarning, readRuleFiles, watchRules, type RulesWatch } from './loader.ts';
