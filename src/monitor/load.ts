/**
 * Rule files: validation with file:line:column errors (`tlogwatch rules check`), loading a directory, and
 * hot reload. An invalid edit keeps the rules in force and reports why.
 */
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { compileRekorMonitor, compileRule, type RuleSet } from './compile.ts';
import { RekorMonitorSchema, RuleFileSchema } from './schema.ts';

export interface RuleError {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export type CheckResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleError[] };

function locate(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: ReadonlyArray<PropertyKey>): { line: number; column: number } {
  let node: unknown = doc.contents;
  for (const k of path) {
    if (isMap(node)) node = node.get(String(k), true);
    else if (isSeq(node)) node = node.get(Number(k), true);
    else break;
  }
  const range = (node as Node | undefined)?.range ?? (isScalar(node) ? node.range : undefined);
  const { line, col } = lc.linePos(range?.[0] ?? 0);
  return { line, column: col };
}

export function checkRules(files: ReadonlyArray<{ name: string; text: string }>): CheckResult {
  const errors: RuleError[] = [];
  const rules: RuleSet['rules'] = [];
  const ids = new Map<string, string>();
  for (const { name, text } of files) {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const { line, col } = lc.linePos(e.pos[0]);
        errors.push({ file: name, line, column: col, path: '', message: e.message.split('\n')[0]! });
      }
      continue;
    }
    const raw = doc.toJS() as unknown;
    const isRekorMonitor = typeof raw === 'object' && raw !== null && 'monitoredValues' in raw;
    const r = isRekorMonitor ? RekorMonitorSchema.safeParse(raw) : RuleFileSchema.safeParse(raw);
    if (!r.success) {
      for (const i of r.error.issues) {
        const extra = i.code === 'unrecognized_keys' ? `: ${i.keys.join(', ')}` : '';
        errors.push({ file: name, ...locate(doc, lc, i.path), path: i.path.join('.'), message: i.message + extra });
      }
      continue;
    }
    try {
      if (isRekorMonitor) rules.push(compileRekorMonitor(r.data as never, name));
      else
        for (const [i, rule] of (r.data as { rules: Array<Parameters<typeof compileRule>[0]> }).rules.entries()) {
          const seen = ids.get(rule.id);
          if (seen) {
            errors.push({ file: name, ...locate(doc, lc, ['rules', i, 'id']), path: `rules.${i}.id`, message: `duplicate rule id ${rule.id} (also in ${seen})` });
            continue;
          }
          ids.set(rule.id, name);
          rules.push(compileRule(rule, name));
        }
    } catch (e) {
      errors.push({ file: name, line: 1, column: 1, path: '', message: (e as Error).message });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, ruleSet: { rules } };
}

export function readRuleFiles(dir: string): Array<{ name: string; text: string }> {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ name: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
}

export function formatRuleErrors(errors: readonly RuleError[]): string {
  return errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.path ? `${e.path}: ` : ''}${e.message}`).join('\n');
}

/** Loads `dir` now and on every change (debounced); `onChange` gets each valid rule set, `onError` each rejected edit. */
export function watchRules(dir: string, onChange: (rs: RuleSet) => void, onError: (message: string) => void): { current: RuleSet; close(): void } {
  const load = (): RuleSet | undefined => {
    try {
      const r = checkRules(readRuleFiles(dir));
      if (r.ok) return r.ruleSet;
      onError(`rules in ${dir} not reloaded, the previous rules stay in force:\n${formatRuleErrors(r.errors)}`);
    } catch (e) {
      onError(`rules in ${dir} not reloaded: ${(e as Error).message}`);
    }
    return undefined;
  };
  const first = load();
  if (!first) throw new Error(`invalid rules in ${dir}`);
  const state = { current: first, close: () => {} };
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const next = load();
        if (next) {
          state.current = next;
          onChange(next);
        }
      }, 100);
    });
  } catch (e) {
    onError(`cannot watch ${dir} for changes: ${(e as Error).message}`);
  }
  state.close = () => {
    clearTimeout(timer);
    watcher?.close();
  };
  return state;
}
