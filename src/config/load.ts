/**
 * Loading the configuration: YAML → environment interpolation (`${VAR}`, for secrets) → zod validation
 * → CLI overrides. Every error names the file, the line:column, the key path and the reason, and all of
 * a file's errors are reported at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { requiredKeyError } from '../util/required-key.ts';
import { keysAt, unknownKeyText } from '../util/unknown-key.ts';
import { yamlMessage } from '../util/yaml-message.ts';
import { hasCredentials, withoutCredentials } from '../util/url.ts';
import type { z } from 'zod';
import { TlogwatchError } from '../errors.ts';
import { ConfigSchema, LogConfig, LogLevel, sameLogUrl, type Config } from './schema.ts';

/** CLI flags of `tlogwatch serve` that override the file (DESIGN.md "Stable contracts"). */
export interface ConfigOverrides {
  dataDir?: string;
  listen?: string;
  rules?: string;
  trustedRoot?: string;
  /** `TYPE=URL`, repeatable; replaces the file's `logs`. */
  logs?: string[];
  /** `NAME=FILE`, repeatable: `headerFiles` of every `logs` log (which must share one origin). */
  logHeaderFiles?: string[];
  /** `N` or `latest`, for every log. */
  start?: string;
}

type Path = ReadonlyArray<PropertyKey>;

const invalid = (message: string) => new TlogwatchError('CONFIG_INVALID', message, { kind: 'fatal' });

/**
 * `:line:col` of the node at `path`, of the key `keyName` inside it (unknown keys), or of the nearest
 * enclosing node when the path is absent from the file (a missing required key points at its parent).
 */
function position(doc: Document, lc: LineCounter, path: Path, keyName?: string): string {
  let node: unknown = doc.contents;
  for (const k of path) {
    const child: unknown = isMap(node) ? node.get(String(k), true) : isSeq(node) ? node.get(Number(k), true) : undefined;
    if (child === undefined) break;
    node = child;
  }
  if (keyName !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === keyName);
    if (pair) node = pair.key;
  }
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  if (!range) return '';
  const { line, col } = lc.linePos(range[0]);
  return `:${line}:${col}`;
}

const ENV_REF = /\$(\$?)\{([^}]*)\}/g;

/** The configuration's top-level keys. */
export type ConfigKey = keyof Config;

/** How a command loads the configuration (loadConfig, parseConfig). */
export interface LoadOptions {
  /**
   * Top-level keys the command never reads (default none: `serve` reads them all). In these an unset
   * `${NAME}` is not an error, so an offline command does not need the daemon's secrets (the admin
   * token, a peer's token) to run. Such a key is validated all the same, but for the strings that hold
   * the unset variables, and comes back with its default value: nothing of it reaches the command.
   */
  unused?: readonly ConfigKey[];
}

/**
 * Replaces `${NAME}` in strings with the environment variable (an unset one is an error, never an empty
 * secret); `$${NAME}` stays literal `${NAME}`. YAML integers come in as bigint and go out as numbers when
 * exact, so an index past 2^53 keeps every digit.
 */
function prepare(v: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[], fail: (path: Path, msg: string) => void, unset: (path: Path, name: string) => void): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof v === 'string') {
    return v.replace(ENV_REF, (_, escaped: string, name: string) => {
      if (escaped) return `\${${name}}`;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        fail(path, `\${${name}} is not an environment variable reference (letters, digits and _)`);
        return '';
      }
      const value = env[name];
      if (value === undefined) unset(path, name);
      return value ?? '';
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => prepare(x, env, [...path, i], fail, unset));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, prepare(x, env, [...path, k], fail, unset)]));
  return v;
}

const pathText = (p: Path) => (p.length === 0 ? '(top level)' : p.map(String).join('.'));

function issueText(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') return unknownKeyText(i.keys, keysAt(ConfigSchema, i.path));
  // A record's key (notify.commands[].env): what is wrong with it rather than zod's "Invalid key in record".
  if (i.code === 'invalid_key' && i.issues[0]) return i.issues[0].message;
  return i.message;
}

const startsWith = (path: Path, prefix: Path) => prefix.length <= path.length && prefix.every((k, i) => String(k) === String(path[i]));

/** Parses and validates a configuration document; `sourceName` prefixes every error (usually the path). */
export function parseConfig(yamlText: string, sourceName: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  const lc = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lc, prettyErrors: false, intAsBigInt: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.slice(0, 10).map((e) => {
      const { line, col } = lc.linePos(e.pos[0]);
      return `${sourceName}:${line}:${col}: ${yamlMessage(e.message.split('\n')[0]!)}`;
    });
    throw invalid(`invalid configuration (YAML):\n  ${lines.join('\n  ')}`);
  }
  const problems: string[] = [];
  const fail = (path: Path, msg: string) => problems.push(`${sourceName}${position(doc, lc, path)}: ${pathText(path)}: ${msg}`);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    // An alias to no anchor, or one that expands too far: the yaml library finds these only here, and
    // throws a bare ReferenceError, which must not reach the user as one.
    throw invalid(`invalid configuration (YAML):\n  ${sourceName}: ${yamlMessage(e instanceof Error ? e.message : String(e))}`);
  }
  // Strings holding a variable that is unset where the command does not read: not validated, and their key reset below.
  const unread: Path[] = [];
  const unset = (path: Path, name: string) => {
    if (opts.unused?.includes(String(path[0]) as ConfigKey)) unread.push(path);
    else fail(path, `environment variable ${name} is not set`);
  };
  const raw = prepare(js ?? {}, env, [], fail, unset);
  if (problems.length === 0) {
    const r = ConfigSchema.safeParse(raw, { error: requiredKeyError });
    const issues = r.success ? [] : r.error.issues.filter((i) => !unread.some((p) => startsWith(i.path, p)));
    if (issues.length === 0 && unread.length === 0 && r.success) return r.data;
    if (issues.length === 0) {
      // Valid but for what the command does not read: that goes back to its defaults, and the rest is
      // validated again as a whole (the checks across keys did not run while a key had issues).
      const reset = new Set(unread.map((p) => String(p[0])));
      const again = ConfigSchema.safeParse(Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([k]) => !reset.has(k))), { error: requiredKeyError });
      if (again.success) return again.data;
      issues.push(...again.error.issues);
    }
    const located = issues.map((i) => {
      // An unknown key, or a bad one of a record, is pointed at itself rather than at its map or its value.
      const at = i.code === 'unrecognized_keys' ? position(doc, lc, i.path, i.keys[0]) : i.code === 'invalid_key' ? position(doc, lc, i.path.slice(0, -1), String(i.path.at(-1))) : position(doc, lc, i.path);
      return { at, text: `${sourceName}${at}: ${pathText(i.path)}: ${issueText(i)}` };
    });
    // In the file's order (zod's is the schema's), so the list reads top to bottom like the file.
    const lineCol = (at: string) => at.split(':').slice(1).map(Number);
    located.sort((a, b) => {
      const [la = 0, ca = 0] = lineCol(a.at);
      const [lb = 0, cb = 0] = lineCol(b.at);
      return la - lb || ca - cb;
    });
    problems.push(...located.map((l) => l.text));
  }
  throw invalid(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

function overrideStart(spec: string): LogConfigStart {
  const r = LogConfig.shape.start.safeParse(spec);
  if (!r.success) throw invalid(`--start ${spec}: expected a log index or "latest"`);
  return r.data;
}
type LogConfigStart = z.output<typeof LogConfig.shape.start>;

const HEADER_FILE_FLAG_HINT = '--log-header-file NAME=FILE, FILE holding the value (`Bearer <token>`, or `Basic ` and the base64 of user:password)';

/**
 * `--log-header-file NAME=FILE` (repeatable): `headerFiles` for the `--log` logs. A flag takes the file, never
 * the value: a command line is readable by any user of the host (`ps`, /proc/PID/cmdline), which is why
 * `notify.commands` are told to take their secrets in `env`, not in arguments.
 */
function headerFilesFromFlags(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=(.+)$/.exec(spec);
    if (!m) throw invalid(`--log-header-file ${spec}: expected NAME=FILE, e.g. Authorization=/run/secrets/log_auth`);
    if (Object.hasOwn(out, m[1]!)) throw invalid(`--log-header-file ${m[1]}=…: ${m[1]} is given twice`);
    // A value where the file belongs (`Authorization=Bearer …`) would be repeated by the error that the
    // file cannot be read, into logs that keep it; it is on the command line for all to see already.
    if (/\s/.test(m[2]!) && !existsSync(m[2]!)) throw invalid(`--log-header-file ${m[1]}=…: not a file, and a header value is not given here: FILE is the path of a file holding the value (a command line is readable by any user of this host, in ps)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * `--log TYPE=URL`: a log named after the URL's host (and its position when there are several), with the
 * `--log-header-file` headers.
 */
function logFromFlag(spec: string, i: number, count: number, start: LogConfigStart | undefined, headerFiles: Record<string, string> | undefined): Config['logs'][number] {
  const m = /^(tiles|rekor-v1)=(.+)$/.exec(spec);
  if (!m) throw invalid(`--log ${spec}: expected TYPE=URL with TYPE tiles or rekor-v1`);
  let host: string;
  try {
    host = new URL(m[2]!).host.replace(/[^a-zA-Z0-9._-]/g, '_');
  } catch {
    throw invalid(`--log ${spec}: ${m[2]} is not a URL`);
  }
  // A URL refused for holding credentials is not repeated with them (util/url.ts).
  const shown = `--log ${m[1]}=${withoutCredentials(m[2]!)}`;
  if (hasCredentials(m[2]!)) {
    throw invalid(`${shown}: credentials in a URL (user:password@host) are refused: tlogwatch shows its URLs (GET /v1/logs, /readyz, log lines), and a command line is readable by any user of this host (ps). Give them in a file: ${HEADER_FILE_FLAG_HINT}`);
  }
  const r = LogConfig.safeParse({ name: count > 1 ? `${host}-${i}` : host, type: m[1], url: m[2], ...(headerFiles ? { headerFiles } : {}) });
  if (!r.success) {
    throw invalid(r.error.issues.map((x) => (x.path[0] === 'headerFiles' && x.path.length > 1 ? `--log-header-file ${String(x.path[1])}=…: ${issueText(x)}` : `${shown}: ${pathText(x.path)}: ${issueText(x)}`)).join('; '));
  }
  return start === undefined ? r.data : { ...r.data, start };
}

/**
 * The `--log` logs, each with the `--log-header-file` headers. Those go to every one of them, so the logs
 * must share one origin (a private deployment's logs behind one proxy): a credential for one server must
 * not reach another, which a mix of a private log and a public one would do.
 */
function logsFromFlags(specs: readonly string[], headerSpecs: readonly string[] | undefined, start: LogConfigStart | undefined): Config['logs'] {
  const headerFiles = headerSpecs?.length ? headerFilesFromFlags(headerSpecs) : undefined;
  const logs = specs.map((spec, i) => logFromFlag(spec, i, specs.length, start, headerFiles));
  const origins = [...new Set(logs.map((l) => new URL(l.url).origin))];
  if (headerFiles && origins.length > 1) {
    throw invalid(`--log-header-file: the headers would go to every --log, and these are on ${origins.length} servers (${origins.join(', ')}): a credential for one must not reach the others. Give each log its own in a configuration file (logs[].headerFiles), or use one --log`);
  }
  // As the schema refuses it in a file: one log under two names would be mirrored, and reported, twice.
  logs.forEach((l, i) => {
    const j = logs.findIndex((x) => sameLogUrl(x.url) === sameLogUrl(l.url));
    if (j < i) throw invalid(`--log ${specs[i]}: the same log as --log ${specs[j]}: each log once`);
  });
  return logs;
}

export function applyOverrides(c: Config, o: ConfigOverrides): Config {
  const out: Config = { ...c };
  if (o.dataDir) out.dataDir = o.dataDir;
  if (o.listen) {
    const r = ConfigSchema.shape.listen.safeParse(o.listen);
    if (!r.success) throw invalid(`--listen ${o.listen}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    out.listen = r.data;
  }
  if (o.rules) out.rules = o.rules;
  if (o.trustedRoot) out.trustedRoot = o.trustedRoot;
  const start = o.start === undefined ? undefined : overrideStart(o.start);
  if (o.logHeaderFiles?.length && !o.logs?.length) {
    throw invalid(`--log-header-file: no --log to send the headers to; a log of the configuration file takes them in logs[].headerFiles`);
  }
  if (o.logs?.length) out.logs = logsFromFlags(o.logs, o.logHeaderFiles, start);
  else if (start !== undefined) {
    // Without configured logs the trusted root's are followed from `latest` (and new shards from 0): a
    // --start there would apply to nothing, and a mirror that quietly began at `latest` is found out only
    // when the history the operator asked for is missing.
    if (out.logs.length === 0) throw invalid(`--start ${o.start}: no logs are configured to start there (\`logs\` in the file, or --log TYPE=URL); the trusted root's logs are followed from latest, and \`tlogwatch backfill\` fills in what came before`);
    out.logs = out.logs.map((l) => ({ ...l, start }));
  }
  return out;
}

/** Reads `path` (or only defaults when undefined), validates it and applies the CLI overrides. */
export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): Config {
  let text = '';
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw invalid(`cannot read the configuration file ${path}: ${(e as Error).message}`);
    }
  }
  return withEnvLogLevel(applyOverrides(parseConfig(text, path ?? '(defaults)', env, opts), overrides), env);
}

/**
 * TLOGWATCH_LOG_LEVEL over the file's `log.level`: the knob a container sets (docker-compose.yml), where
 * changing the level should not need a configuration file mounted. The logger read it only when given no
 * level, and serve and backfill always give the configuration's, so it did nothing.
 */
function withEnvLogLevel(c: Config, env: NodeJS.ProcessEnv): Config {
  const v = env['TLOGWATCH_LOG_LEVEL'];
  if (v === undefined || v === '') return c;
  const r = LogLevel.safeParse(v);
  if (!r.success) throw invalid(`TLOGWATCH_LOG_LEVEL=${v}: one of ${LogLevel.options.join(', ')}`);
  return { ...c, log: { ...c.log, level: r.data } };
}
