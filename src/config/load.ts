/**
 * Loading the configuration: YAML → environment interpolation (`${VAR}`, for secrets) → zod validation
 * → CLI overrides. Every error names the key path, the reason and the line:column in the file.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { TlogwatchError } from '../errors.ts';
import { ConfigSchema, LogConfig, type Config } from './schema.ts';

export interface ConfigOverrides {
  dataDir?: string;
  listen?: string;
  rules?: string;
  trustedRoot?: string;
  /** `TYPE=URL`, repeatable. */
  logs?: string[];
  start?: string;
}

function interpolate(v: unknown, env: NodeJS.ProcessEnv, path: string[]): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) throw new TlogwatchError('CONFIG_INVALID', `${path.join('.')}: environment variable ${name} is not set`, { kind: 'fatal' });
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, [...path, String(i)]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, env, [...path, k])]));
  return v;
}

/** line:column of the node at `path`, or of the key `unknownKey` inside it (for rejected keys). */
function position(doc: ReturnType<typeof parseDocument>, lc: LineCounter, path: ReadonlyArray<PropertyKey>, unknownKey?: string): string {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (isMap(node)) node = node.get(String(key), true);
    else if (isSeq(node)) node = node.get(Number(key), true);
    else break;
  }
  if (unknownKey !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === unknownKey);
    if (pair && isScalar(pair.key)) node = pair.key;
  }
  const range = (node as Node | undefined)?.range ?? (isScalar(node) ? node.range : undefined);
  if (!range) return '';
  const { line, col } = lc.linePos(range[0]);
  return `:${line}:${col}`;
}

export function parseConfig(yamlText: string, sourceName: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lc = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lc.linePos(e.pos[0]);
    throw new TlogwatchError('CONFIG_INVALID', `${sourceName}:${line}:${col}: ${e.message.split('\n')[0]}`, { kind: 'fatal' });
  }
  const raw = interpolate(doc.toJS() ?? {}, env, []);
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? ` ${i.keys.map((k) => JSON.stringify(k)).join(', ')}` : '';
      const at = position(doc, lc, i.path, i.code === 'unrecognized_keys' ? i.keys[0] : undefined);
      return `${sourceName}${at}: ${i.path.join('.') || '(top level)'}: ${i.message}${keys}`;
    });
    throw new TlogwatchError('CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, { kind: 'fatal' });
  }
  return r.data;
}

export function applyOverrides(c: Config, o: ConfigOverrides): Config {
  const out: Config = { ...c };
  if (o.dataDir) out.dataDir = o.dataDir;
  if (o.listen) out.listen = ConfigSchema.shape.listen.parse(o.listen);
  if (o.rules) out.rules = o.rules;
  if (o.trustedRoot) out.trustedRoot = o.trustedRoot;
  if (o.logs?.length) {
    out.logs = o.logs.map((spec, i) => {
      const m = /^(tiles|rekor-v1)=(.+)$/.exec(spec);
      if (!m) throw new TlogwatchError('CONFIG_INVALID', `--log ${spec}: expected TYPE=URL with TYPE tiles or rekor-v1`, { kind: 'fatal' });
      const host = (() => {
        try {
          return new URL(m[2]!).host.replace(/[^a-zA-Z0-9._-]/g, '_');
        } catch {
          return `log${i}`;
        }
      })();
      const r = LogConfig.safeParse({ name: o.logs!.length > 1 ? `${host}-${i}` : host, type: m[1], url: m[2], ...(o.start ? { start: o.start } : {}) });
      if (!r.success) throw new TlogwatchError('CONFIG_INVALID', `--log ${spec}: ${r.error.issues[0]?.message}`, { kind: 'fatal' });
      return r.data;
    });
  } else if (o.start) {
    out.logs = out.logs.map((l) => ({ ...l, start: LogConfig.shape.start.parse(o.start) }));
  }
  return out;
}

export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  let text = '';
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new TlogwatchError('CONFIG_INVALID', `cannot read config ${path}: ${(e as Error).message}`, { kind: 'fatal' });
    }
  }
  return applyOverrides(parseConfig(text, path ?? '(defaults)', env), overrides);
}
