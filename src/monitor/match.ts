/**
 * Patterns for rule fields, compiled once. Matching is ANCHORED by default: unanchored regexes in other
 * monitors match `evil.com/acme` for `acme`, a false positive at best and a bypass at worst.
 *
 * - a plain string is an exact match;
 * - a string with `*` is a glob: `*` matches any run of characters except `/`, `**` matches anything;
 * - `{regex: '…'}` is an explicit regular expression, anchored (`^(?:…)$`) unless `anchored: false`
 *   (only rekor-monitor compatibility files use unanchored regexes, because there they mean that).
 * Case follows the field: URLs compare scheme and host case-insensitively and the path exactly; emails
 * compare case-insensitively; other values exactly. A pattern without a scheme (`github.com/acme/*`)
 * matches URL values with their scheme removed.
 */
export type PatternSpec = string | { regex: string; anchored?: boolean };

export interface Pattern {
  source: string;
  /** A literal every matching value starts with: a cheap prefilter before the regex. */
  prefix: string;
  test(value: string): boolean;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Lower-cases what is case-insensitive in a value: URL scheme and host; a whole email address. */
export function normaliseValue(v: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s.exec(v);
  if (m) return m[1]!.toLowerCase() + m[2]!.toLowerCase() + m[3]!;
  if (/^[^@\s/]+@[^@\s/]+$/.test(v)) return v.toLowerCase();
  return v;
}

const stripScheme = (v: string) => v.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');

export function compilePattern(spec: PatternSpec): Pattern {
  if (typeof spec !== 'string') {
    const re = new RegExp(spec.anchored === false ? spec.regex : `^(?:${spec.regex})$`, 'u');
    return { source: `/${spec.regex}/`, prefix: '', test: (v) => re.test(v) };
  }
  const noScheme = !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(spec) && /^[^/@\s]+\.[^/@\s]+\//.test(spec);
  const pattern = normaliseValue(noScheme ? `https://${spec}` : spec);
  const adjust = noScheme ? (v: string) => `https://${stripScheme(normaliseValue(v))}` : normaliseValue;
  if (!pattern.includes('*')) return { source: spec, prefix: pattern, test: (v) => adjust(v) === pattern };
  const body = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : esc(part)))
    .join('');
  const re = new RegExp(`^${body}$`, 'su');
  const prefix = pattern.slice(0, pattern.indexOf('*'));
  return { source: spec, prefix, test: (v) => re.test(adjust(v)) };
}

export interface PatternSet {
  patterns: Pattern[];
  matches(value: string | undefined): Pattern | undefined;
}

export function compileSet(specs: readonly PatternSpec[] | undefined): PatternSet | undefined {
  if (!specs || specs.length === 0) return undefined;
  const patterns = specs.map(compilePattern);
  const exact = new Map<string, Pattern>();
  const wild: Pattern[] = [];
  for (const p of patterns) {
    if (typeof p.source === 'string' && !p.source.includes('*') && !p.source.startsWith('/')) exact.set(p.prefix, p);
    else wild.push(p);
  }
  return {
    patterns,
    matches(value) {
      if (value === undefined) return undefined;
      const hit = exact.get(normaliseValue(value)) ?? exact.get(`https://${stripScheme(normaliseValue(value))}`);
      if (hit && hit.test(value)) return hit;
      for (const p of wild) if (p.test(value)) return p;
      return undefined;
    },
  };
}
