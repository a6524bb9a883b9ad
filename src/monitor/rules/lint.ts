/**
 * Patterns that are legal but cannot do what they seem to say: `rules check` prints them as warnings
 * (compile.ts records them with their path) and the rules still load. The pattern language is in
 * pattern.ts; each check here follows from one of its rules.
 */
import { withImpliedScheme, type FieldKind, type PatternSpec } from './pattern.ts';

/**
 * Fields whose every value is a URL with a host, beyond what the field kind says. An issuer is read only
 * from Fulcio's issuer extensions (.8, else .1), and an OIDC issuer identifier is an https URL (OpenID
 * Connect Discovery 1.0 §2; Fulcio configures its issuers by that URL).
 */
export type UriField = 'repository' | 'owner' | 'buildSigner' | 'buildConfig' | 'issuer';

/** Warnings about one pattern, as messages. `uri`: the field holds only repository (or owner) URIs. */
export function lintPattern(spec: PatternSpec, kind: FieldKind, uri?: UriField): string[] {
  if (kind === 'text') return [];
  if (typeof spec !== 'string') {
    const w = regexHostCase(spec.regex, kind);
    return w === undefined ? [] : [w];
  }
  const out: string[] = [];
  // `*` does not cross `/` (GitHub's filter-pattern convention): a ref always has slashes, and a GitHub
  // workflow identity always has a path below the repository.
  if (spec.includes('/') && /(^|[^*\\])@\*$/.test(spec)) out.push(`${spec}: \`@*\` matches no ref (refs contain /, which * does not cross); write @** or @refs/tags/*`);
  // The same below an owner, a repository or its workflow folder: the one trailing `*` would have to take
  // the rest of `<file>@refs/<kind>/<name>`, which has slashes.
  if (kind === 'identity' && /^(https:\/\/)?github\.com\/[^/*]+(\/[^/*]+)?(\/\.github\/workflows)?\/\*$/i.test(spec)) {
    out.push(`${spec} matches no GitHub workflow identity (those are …/<repo>/.github/workflows/<file>@<ref>, and * does not cross the / in the ref); write ${spec}*${/\/\.github\/workflows\/\*$/i.test(spec) ? '' : ' or use watch.repositories'}`);
  }
  if (kind === 'identity') out.push(...gitlabIdentity(spec));
  if ((kind === 'identity' && out.length === 0) || uri === 'buildSigner' || uri === 'buildConfig') out.push(...githubRef(spec, uri === 'buildConfig' ? 'build config URI' : uri === 'buildSigner' ? 'build signer URI' : 'workflow identity'));
  if (uri) {
    const w = hostless(spec, uri) ?? (uri === 'repository' || uri === 'owner' ? githubShape(spec, uri) : undefined);
    if (w !== undefined) out.push(w);
  }
  return out;
}

/**
 * Every GitHub Actions workflow identity, build signer and build config URI ends in `@<ref>`: Fulcio writes
 * `https://github.com/` + the token's `job_workflow_ref` (or `workflow_ref`), `<owner>/<repo>/<path>@<ref>`,
 * whose ref is `refs/heads/…`, `refs/tags/…` or `refs/pull/…`, or a commit SHA for a reusable workflow
 * called by one (GitHub's OIDC token reference). A github.com pattern with no `@` and no `**` (a workflow
 * file, a repository's URL) or whose ref is a bare name (`@main`, `@v1*`) can never match one: in `watch`,
 * a rule that silently watches nothing.
 */
function githubRef(spec: string, what: string): string[] {
  if (!/^(https:\/\/)?github\.com\//i.test(spec) || spec.includes('**')) return [];
  const at = spec.lastIndexOf('@');
  if (at < 0) {
    const workflow = /\/\.github\/workflows\/[^/]+$/.test(spec);
    const fix = workflow ? `write ${spec}@** (any ref) or ${spec}@refs/tags/*` : 'a repository is watched with watch.repositories (expect.repositories)';
    return [`${spec} matches no GitHub Actions ${what}: those end in the ref that ran (…/<repo>/.github/workflows/<file>@refs/heads/main); ${fix}`];
  }
  const ref = spec.slice(at + 1);
  if (ref.includes('/') || ref.startsWith('*') || /^[0-9a-f]{40}$/i.test(ref)) return [];
  return [`${spec}: @${ref} matches no GitHub ref, which is refs/heads/<branch>, refs/tags/<tag> or refs/pull/<n>/merge (or the commit SHA a reusable workflow was called by); write @refs/heads/${ref} or @refs/tags/${ref}`];
}

/**
 * On github.com a source repository URI (.12) is `https://github.com/<owner>/<repo>` and an owner URI (.16)
 * `https://github.com/<owner>`: nothing after them, no `.git`, no trailing slash (Fulcio writes server_url +
 * the token's `repository` or `repository_owner`). A pattern of another shape (`github.com/acme/*` as an
 * owner, `github.com/acme` as a repository, `…/api.git`, `…/api/`) can never match one.
 */
function githubShape(spec: string, uri: 'repository' | 'owner'): string | undefined {
  const m = /^(?:https:\/\/)?github\.com(\/.*)?$/i.exec(spec);
  if (!m || spec.includes('**')) return undefined;
  const path = m[1] ?? '';
  const segments = path.split('/').slice(1);
  const want = uri === 'owner' ? 1 : 2;
  const name = uri === 'owner' ? 'an owner URI (https://github.com/<owner>)' : 'a repository URI (https://github.com/<owner>/<repo>)';
  if (segments.length === want && segments.every((x) => x !== '') && !/\.git$/i.test(path)) return undefined;
  const base = `${spec} can never match ${name}: nothing follows it, no .git and no trailing slash`;
  if (uri === 'owner' && segments.length >= 2 && segments[0]) return `${base}; an owner is github.com/${segments[0]} (its repositories are watched with repositories: github.com/${segments[0]}/*)`;
  if (uri === 'repository' && segments.length === 1 && segments[0]) return `${base}; github.com/${segments[0]} is an owner (watch it with owners, or write github.com/${segments[0]}/*)`;
  const trimmed = path.replace(/\/+$/, '').replace(/\.git$/i, '').split('/').slice(1, want + 1);
  return trimmed.length === want && trimmed.every((x) => x !== '') ? `${base}; did you mean github.com/${trimmed.join('/')}?` : base;
}

/**
 * Fulcio's GitLab CI identity is `https://<host>/<project path>//<CI config path>@<ref>` (Fulcio's
 * docs/oid-info.md and its GitLab principal: the project's URL, then the config path after a second
 * slash), e.g. `https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main`, the real entry
 * 149945774's. Two ways a glob meant for it matches nothing: one slash before the config path, and a
 * trailing `*` below the project (it would have to take `/<path>@refs/…`, and `*` does not cross `/`).
 * Only on gitlab.com, or for the default config file's name on any host: a self-managed GitLab's host is
 * not otherwise known.
 */
function gitlabIdentity(spec: string): string[] {
  const onGitlabCom = /^(https:\/\/)?gitlab\.com\//i.test(spec);
  const at = spec.indexOf('@');
  if (at > 0) {
    const beforeRef = spec.slice(0, at);
    const path = beforeRef.replace(/^https:\/\//i, '');
    const config = path.slice(path.lastIndexOf('/') + 1);
    if ((onGitlabCom || config === '.gitlab-ci.yml') && /\.ya?ml$/i.test(config) && !path.includes('//') && !beforeRef.includes('**')) {
      const cut = beforeRef.lastIndexOf('/');
      const fixed = `${beforeRef.slice(0, cut)}/${beforeRef.slice(cut)}${spec.slice(at)}`;
      return [`${spec} matches no GitLab CI identity: those have two slashes between the project and the CI config's path (https://gitlab.com/<group>/<project>//<path>@<ref>); for a config at the project's root write ${fixed}`];
    }
    return [];
  }
  if (onGitlabCom && /^[^*]*\/\*$/.test(spec)) {
    return [`${spec} matches no GitLab CI identity (those are https://gitlab.com/<group>/<project>//<CI config path>@<ref>, and * does not cross the / in the ref); write ${spec}*`];
  }
  return [];
}

/**
 * A pattern is scheme-less (`github.com/acme/*` = `https://github.com/acme/*`) only when its first segment
 * is a host name with a dot; otherwise it is exact text (or a glob) from the value's first character. A
 * repository or owner URI starts with `scheme:`, so a first segment with neither `:` nor a star, that is
 * not a host, can never match one: `acme/*` is not `https://github.com/acme/x`.
 */
function hostless(spec: string, uri: UriField): string | undefined {
  const slash = spec.indexOf('/');
  const first = slash < 0 ? spec : spec.slice(0, slash);
  if (first.includes('*') || first.includes(':') || withImpliedScheme('url', spec) !== spec) return undefined;
  if (uri === 'issuer') {
    return `${spec} can never match an OIDC issuer, which is a URL with a host (https://token.actions.githubusercontent.com, https://accounts.google.com): without a host name (a first segment with a dot) a pattern is not read as a URL`;
  }
  const path = spec.replace(/^\/+/, '');
  const guess = `github.com/${path}${uri === 'repository' && !path.includes('/') ? '/*' : ''}`;
  const what = uri === 'repository' ? 'a repository URI' : uri === 'owner' ? 'an owner URI' : uri === 'buildConfig' ? 'a build config URI' : 'a build signer URI';
  return `${spec} can never match ${what} (https://github.com/…): without a host name (a first segment with a dot) a pattern is not read as a URL; did you mean ${guess}?`;
}

/**
 * A regex sees the normalised value (pattern.ts normalise): a URL's scheme and host (and on github.com its
 * owner and repository), or an identity's email domain, in lower case. An upper-case letter written there can never match. `(?i)` anywhere
 * makes the regex case-insensitive: no warning.
 */
function regexHostCase(source: string, kind: 'url' | 'identity'): string | undefined {
  if (/\(\?[a-zA-Z-]*i/.test(source)) return undefined;
  const sep = /:(?:\\?\/){2}/.exec(source);
  let from = 0;
  if (!sep) {
    if (kind !== 'identity') return undefined;
    // An email's domain: after the last `@`, with no `/` (an identity with a slash is no email).
    const at = source.lastIndexOf('@');
    if (at < 0 || source.slice(at).includes('/')) return undefined;
    from = at + 1;
  }
  // On github.com the owner and repository are lower-cased too (pattern.ts normalise): two more segments.
  const github = sep !== null && /^github(\\?\.|\[\.\])com(\\?\/|$)/i.test(source.slice(sep.index + sep[0].length));
  const { upper, end } = capitals(source, from, sep ? { at: sep.index, length: sep[0].length } : undefined, github ? 2 : 0);
  if (upper.size === 0) return undefined;
  const lowered = source
    .split('')
    .map((c, i) => (upper.has(i) ? c.toLowerCase() : c))
    .join('');
  return `{regex: ${source}}: upper-case letters in the ${sep ? (github ? 'scheme, host, owner and repository' : 'scheme and host') : 'email domain'} never match, since the regex sees it in lower case (${source.slice(from, end)}); write {regex: ${lowered}}`;
}

/**
 * Where a regex has literal capitals, from `from` to its end or (with `sep`, the `://`) to the first `/`
 * after the host, or after `segments` more path segments. Not literal: class contents, escapes (`\S`, `\pL`, `\p{Lu}`, `\x41`), group names and
 * flags; `\Q…\E` is.
 */
function capitals(source: string, from: number, sep: { at: number; length: number } | undefined, segments = 0): { upper: Set<number>; end: number } {
  const upper = new Set<number>();
  const inPath = (i: number) => sep !== undefined && i > sep.at;
  let slashes = 0;
  for (let i = from; i < source.length; i++) {
    const c = source[i]!;
    const n = source[i + 1];
    if (sep && i === sep.at) i += sep.length - 1;
    else if ((c === '/' || (c === '\\' && n === '/')) && inPath(i)) {
      if (slashes++ === segments) return { upper, end: i };
      if (c === '\\') i++;
    }
    else if (c === '\\' && n === 'Q') {
      const e = source.indexOf('\\E', i + 2);
      const stop = e < 0 ? source.length : e;
      for (let j = i + 2; j < stop; j++) if (/[A-Z]/.test(source[j]!)) upper.add(j);
      i = e < 0 ? source.length : e + 1;
    } else if (c === '\\' && (n === 'p' || n === 'P' || n === 'x')) {
      const close = source[i + 2] === '{' ? source.indexOf('}', i) : i + (n === 'x' ? 3 : 2);
      i = close < 0 ? source.length : close;
    } else if (c === '\\') i++;
    else if (c === '[') {
      // A class: skip to its `]` (a `]` right after `[` or `[^` is literal).
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      for (; j < source.length && source[j] !== ']'; j++) if (source[j] === '\\') j++;
      i = j;
    } else if (c === '(' && n === '?') {
      // (?P<name>…), (?<name>…), (?flags:…)
      const close = source[i + 2] === 'P' || source[i + 2] === '<' ? source.indexOf('>', i) : i + /^\?[a-zA-Z-]*/.exec(source.slice(i + 1))![0].length;
      i = close < 0 ? source.length : close;
    } else if (c >= 'A' && c <= 'Z') upper.add(i);
  }
  return { upper, end: source.length };
}
