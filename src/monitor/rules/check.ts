/**
 * Rule files → a compiled RuleSet, or every problem with its file, line, column and path. Pure: the
 * caller reads the files (loader.ts). YAML 1.2 via the `yaml` package (parseDocument keeps node ranges,
 * so zod's issue paths and compile problems point at the offending key or value).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { requiredKeyError } from '../../util/required-key.ts';
import { keysAt, unknownKeyText } from '../../util/unknown-key.ts';
import { yamlMessage } from '../../util/yaml-message.ts';
import type { z } from 'zod';
import { isRecord } from '../../util/json.ts';
import { DEFAULT_BUILTINS, type BuiltinRules, type CompiledRule, type RuleSet } from './compiled.ts';
import { compileRule, Problems, type Path } from './compile.ts';
import { compileRekorMonitor } from './rekor-monitor.ts';
import { RekorMonitorSchema, RuleFileSchema, type Builtins } from './schema.ts';
import { WatchIndex } from './watch-index.ts';

export interface RuleFileInput {
  name: string;
  text: string;
}

export interface RuleError {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** Where in the document, e.g. `rules[0].expect.timeWindow.timezone`; '' for the whole file. */
  path: string;
  message: string;
}

export type CheckResult = { ok: true; ruleSet: RuleSet; warnings: RuleError[] } | { ok: false; errors: RuleError[]; warnings: RuleError[] };

/** Rule files are small; a larger one is a mistake (or an attack on the parser). */
export const MAX_RULE_FILE_BYTES = 4 * 1024 * 1024;

export function formatPath(path: Path): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** The node at `path`, or its nearest ancestor; `key: true` points at the key of the last step. */
function locate(doc: Document, lc: LineCounter, path: Path, key = false): { line: number; column: number } {
  let node: unknown = doc.contents;
  let range: readonly number[] | undefined = (node as Node | null)?.range ?? undefined;
  for (const [i, k] of path.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(k));
      if (pair && key && i === path.length - 1) {
        range = (pair.key as Node).range ?? range;
        break;
      }
      next = pair?.value;
    } else if (isSeq(node)) next = node.items[Number(k)];
    if (!next || typeof next !== 'object' || !('range' in next)) break;
    node = next;
    range = (next as Node).range ?? range;
  }
  const { line, col } = lc.linePos(range?.[0] ?? 0);
  return { line, column: col };
}

interface FileContext {
  name: string;
  doc: Document;
  lc: LineCounter;
}

const located = (f: FileContext, path: Path, message: string, key = false): RuleError => ({ file: f.name, ...locate(f.doc, f.lc, path, key), path: formatPath(path), message });

/** `schema` is the one that refused the file: an unknown key is answered with the keys it takes there. */
function zodErrors(f: FileContext, error: z.ZodError, schema: z.core.$ZodType): RuleError[] {
  return error.issues.map((i) => {
    const path = i.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (i.code === 'unrecognized_keys') return located(f, [...path, i.keys[0]!], unknownKeyText(i.keys, keysAt(schema, i.path), (k) => k), true);
    return located(f, path, i.message);
  });
}

function compileBuiltins(b: Builtins): BuiltinRules {
  const li = b['log-integrity'];
  const ms = b['mirror-stalled'];
  const ue = b['undecoded-entry'];
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
  const seconds = (d: string) => Number(d.slice(0, -1)) * unit[d.slice(-1) as keyof typeof unit];
  return {
    logIntegrity: li ? { severity: li.severity, labels: li.labels ?? {}, ...(li.owner !== undefined ? { owner: li.owner } : {}) } : DEFAULT_BUILTINS.logIntegrity,
    mirrorStalled: ms
      ? { severity: ms.severity, ...(ms.after !== undefined ? { after: seconds(ms.after) } : {}), labels: ms.labels ?? {}, ...(ms.owner !== undefined ? { owner: ms.owner } : {}), ...(ms.logs ? { logs: new Set(ms.logs) } : {}) }
      : DEFAULT_BUILTINS.mirrorStalled,
    undecodedEntry: ue
      ? { enabled: ue.enabled, severity: ue.severity, watchedOnly: ue.watchedOnly, labels: ue.labels ?? {}, ...(ue.owner !== undefined ? { owner: ue.owner } : {}), ...(ue.logs ? { logs: new Set(ue.logs) } : {}) }
      : DEFAULT_BUILTINS.undecodedEntry,
  };
}

/** Validates and compiles rule files. Files are taken in the order given (loader.ts sorts by name). */
export function checkRules(files: readonly RuleFileInput[]): CheckResult {
  const errors: RuleError[] = [];
  const warnings: RuleError[] = [];
  const rules: CompiledRule[] = [];
  const ids = new Map<string, string>();
  let builtins: { value: BuiltinRules; file: string } | undefined;

  for (const { name, text } of files) {
    if (text.length > MAX_RULE_FILE_BYTES) {
      errors.push({ file: name, line: 1, column: 1, path: '', message: `rule file of ${text.length} bytes exceeds ${MAX_RULE_FILE_BYTES}` });
      continue;
    }
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    const f: FileContext = { name, doc, lc };
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const { line, col } = lc.linePos(e.pos[0]);
        errors.push({ file: name, line, column: col, path: '', message: yamlMessage(e.message.split('\n')[0]!) });
      }
      continue;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      errors.push({ file: name, line: 1, column: 1, path: '', message: yamlMessage(e instanceof Error ? e.message : String(e)) });
      continue;
    }
    if (raw === null || raw === undefined) continue; // an empty file (or only comments) holds no rules
    const top = isRecord(raw) ? raw : {};
    const isRekorMonitor = 'monitoredValues' in top;
    if (isRekorMonitor && ('rules' in top || 'builtins' in top)) {
      errors.push(located(f, ['monitoredValues'], 'a file is either tlogwatch rules or a rekor-monitor config, not both', true));
      continue;
    }
    const p = new Problems();
    if (isRekorMonitor) {
      const r = RekorMonitorSchema.safeParse(raw, { error: requiredKeyError });
      if (!r.success) {
        errors.push(...zodErrors(f, r.error, RekorMonitorSchema));
        continue;
      }
      const rule = compileRekorMonitor(r.data, name, rules.length, p, (w) => warnings.push(located(f, w.path, w.message)));
      addRule(rule, ['tlogwatch', 'id']);
    } else {
      const r = RuleFileSchema.safeParse(raw, { error: requiredKeyError });
      if (!r.success) {
        errors.push(...zodErrors(f, r.error, RuleFileSchema));
        continue;
      }
      (r.data.rules ?? []).forEach((rule, i) => addRule(compileRule(rule, name, rules.length, ['rules', i], p), ['rules', i, 'id']));
      if (r.data.builtins) {
        if (builtins) errors.push(located(f, ['builtins'], `builtins are already set in ${builtins.file}; set them in one file`, true));
        else builtins = { value: compileBuiltins(r.data.builtins), file: name };
      }
    }
    errors.push(...p.list.map((x) => located(f, x.path, x.message)));
    warnings.push(...p.warnings.map((x) => located(f, x.path, x.message)));

    function addRule(rule: CompiledRule, idPath: Path): void {
      const seen = ids.get(rule.id);
      if (seen !== undefined) {
        errors.push(located(f, idPath, `duplicate rule id ${rule.id} (also in ${seen})`));
        return;
      }
      ids.set(rule.id, name);
      rules.push(rule);
    }
  }
  if (errors.length) return { ok: false, errors, warnings };
  return { ok: true, ruleSet: { rules, ...(builtins ? { builtins: builtins.value } : {}), index: new WatchIndex(rules) }, warnings };
}

export function formatRuleErrors(errors: readonly RuleError[], label = ''): string {
  return errors.map((e) => `${e.file}:${e.line}:${e.column}: ${label}${e.path ? `${e.path}: ` : ''}${e.message}`).join('\n');
}

/** Warnings (valid rules that cannot do what they seem to say), in the same file:line:column form. */
export function formatRuleWarnings(warnings: readonly RuleError[]): string {
  return formatRuleErrors(warnings, 'warning: ');
}
