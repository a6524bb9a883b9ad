/**
 * Rule files from a directory, and hot reload. The only monitor module that touches the disk: it reads
 * the files and hands their text to the pure checkRules.
 *
 * Reload contract: a valid edit replaces the whole rule set at once (the next entry evaluated sees it);
 * an invalid edit keeps the rules in force and reports every error with file:line:column. Events are
 * debounced, since editors save in several steps (write temp, rename).
 */
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { TlogwatchError } from '../errors.ts';
import type { RuleSet } from './rules/compiled.ts';
import { checkRules, formatRuleErrors, formatRuleWarnings, MAX_RULE_FILE_BYTES, type RuleError, type RuleFileInput } from './rules/check.ts';

/** YAML files under `dir`, recursively, sorted by path; dot-files and editor backups are skipped. */
export function readRuleFiles(dir: string): RuleFileInput[] {
  const out: RuleFileInput[] = [];
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }).map(String).sort();
  } catch (e) {
    // `rules` (or --rules, `rules check DIR`) that is not a directory: say which setting, not a bare ENOENT.
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : e instanceof Error ? e.message : String(e);
    throw new TlogwatchError('RULES_INVALID', `the rules directory ${dir} ${code === 'ENOENT' || code === 'ENOTDIR' ? why : `cannot be read: ${why}`}`, { kind: 'fatal', cause: e });
  }
  for (const rel of names) {
    const parts = rel.split(/[\\/]/);
    if (parts.some((p) => p.startsWith('.')) || !/\.ya?ml$/i.test(rel)) continue;
    const path = join(dir, rel);
    const st = statSync(path);
    if (!st.isFile()) continue;
    if (st.size > MAX_RULE_FILE_BYTES) throw new TlogwatchError('RULES_INVALID', `${path}: rule file of ${st.size} bytes exceeds ${MAX_RULE_FILE_BYTES}`);
    out.push({ name: path, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/**
 * What to say of a rules directory with no rule file in it (a path one level off, files named `.json`):
 * valid, and nothing is watched, which a monitor must not leave unsaid.
 */
export function noRuleFilesWarning(dir: string): string {
  return `no rule files in ${dir} (*.yaml or *.yml, read recursively; dot-files skipped): no entry is watched`;
}

/**
 * Reads and checks `dir`; throws RULES_INVALID with every error when the rules are not valid. Warnings
 * (valid rules that can never match or fire) go to `onWarnings`.
 */
export function loadRules(dir: string, files: readonly RuleFileInput[] = readRuleFiles(dir), onWarnings?: (message: string, warnings: readonly RuleError[]) => void): RuleSet {
  const r = checkRules(files);
  if (!r.ok) throw new TlogwatchError('RULES_INVALID', `invalid rules in ${dir}:\n${formatRuleErrors(r.errors)}`, { data: { errors: r.errors } });
  if (r.warnings.length) onWarnings?.(`rules in ${dir} have ${r.warnings.length} warning(s):\n${formatRuleWarnings(r.warnings)}`, r.warnings);
  if (files.length === 0) onWarnings?.(noRuleFilesWarning(dir), []);
  return r.ruleSet;
}

export interface RulesWatch {
  /** The rules in force. */
  readonly current: RuleSet;
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last change before reloading, ms (default 100). */
  debounceMs?: number;
  /** Warnings of each rule set loaded (the first and every reload). */
  onWarnings?: (message: string, warnings: readonly RuleError[]) => void;
}

/**
 * Loads `dir` now (throws when invalid) and again after every change under it. `onChange` gets each new
 * valid set, and the set in force again when a rejected edit is undone; `onError` each rejected edit (the
 * previous set stays in force) or watcher failure.
 */
export function watchRules(dir: string, onChange: (rules: RuleSet) => void, onError: (message: string, errors?: readonly RuleError[]) => void, options: WatchOptions = {}): RulesWatch {
  const first = readRuleFiles(dir);
  let current = loadRules(dir, first, options.onWarnings);
  let lastText = JSON.stringify(first);
  // Whether the files as last read were refused: an edit undone back to the rules in force must then say
  // that they are fine again, or the refusal stays the last word on them in the daemon's log.
  let refused = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const reload = () => {
    if (closed) return;
    let files: RuleFileInput[];
    try {
      files = readRuleFiles(dir);
    } catch (e) {
      refused = true;
      onError(`rules in ${dir} not reloaded, the previous rules stay in force: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const text = JSON.stringify(files);
    if (text === lastText) {
      // Touched but unchanged; or a refused edit undone, which makes the rules in force those on disk again.
      if (refused) {
        refused = false;
        onChange(current);
      }
      return;
    }
    const r = checkRules(files);
    if (!r.ok) {
      refused = true;
      onError(`rules in ${dir} not reloaded, the previous rules stay in force:\n${formatRuleErrors(r.errors)}`, r.errors);
      return;
    }
    refused = false;
    lastText = text;
    current = r.ruleSet;
    if (r.warnings.length) options.onWarnings?.(`rules in ${dir} have ${r.warnings.length} warning(s):\n${formatRuleWarnings(r.warnings)}`, r.warnings);
    if (files.length === 0) options.onWarnings?.(noRuleFilesWarning(dir), []);
    onChange(current);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true }, (_event, file) => {
      if (file !== null && relative('.', String(file)).split(/[\\/]/).some((p) => p.startsWith('.'))) return;
      clearTimeout(timer);
      timer = setTimeout(reload, options.debounceMs ?? 100);
    });
    watcher.on('error', (e) => onError(`watching ${dir} for rule changes failed: ${e.message}; restart to pick up changes`));
  } catch (e) {
    onError(`cannot watch ${dir} for rule changes: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    get current() {
      return current;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
