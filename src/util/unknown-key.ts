/**
 * What to say about a key an object schema does not take (a typo in the configuration or a rules file):
 * the key it most likely meant, else the keys that place takes. zod's `unrecognized_keys` issue names the
 * key alone, which leaves a newcomer to find the right spelling in the docs.
 */
import { z } from 'zod';

/** Wrappers that hold the schema of the value itself (`.optional()`, `.default()`, …, a pipe's input). */
function unwrap(s: z.core.$ZodType): z.core.$ZodType {
  for (;;) {
    if (s instanceof z.core.$ZodOptional || s instanceof z.core.$ZodDefault || s instanceof z.core.$ZodNullable || s instanceof z.core.$ZodReadonly || s instanceof z.core.$ZodPrefault || s instanceof z.core.$ZodCatch || s instanceof z.core.$ZodNonOptional) s = s._zod.def.innerType;
    else if (s instanceof z.core.$ZodPipe) s = s._zod.def.in;
    else if (s instanceof z.core.$ZodLazy) s = s._zod.def.getter();
    else return s;
  }
}

/**
 * The keys the object at `path` (an issue's path) takes, or undefined when the schema there is not an
 * object it can tell. Through a union, the keys of every object it allows there.
 */
export function keysAt(schema: z.core.$ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  const s = unwrap(schema);
  if (s instanceof z.core.$ZodUnion) {
    const keys = new Set(s._zod.def.options.flatMap((o) => keysAt(o, path) ?? []));
    return keys.size > 0 ? [...keys] : undefined;
  }
  if (path.length === 0) return s instanceof z.core.$ZodObject ? Object.keys(s._zod.def.shape) : undefined;
  const [step, ...rest] = path;
  if (s instanceof z.core.$ZodObject) {
    const child = s._zod.def.shape[String(step)];
    return child ? keysAt(child, rest) : undefined;
  }
  if (s instanceof z.core.$ZodArray) return keysAt(s._zod.def.element, rest);
  if (s instanceof z.core.$ZodRecord) return keysAt(s._zod.def.valueType, rest);
  return undefined;
}

/** Edit distance (insertions, deletions, substitutions), case ignored: `polInterval` is 1 from `pollInterval`. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[y.length]!;
}

/** The allowed key `key` is most likely a misspelling of: within 2 edits, and fewer than half its length. */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const k of allowed) {
    const d = distance(key, k);
    if (d <= 2 && d * 2 < Math.max(key.length, k.length) && (!best || d < best.d)) best = { key: k, d };
  }
  return best?.key;
}

/**
 * `unknown key "polInterval" (did you mean "pollInterval"?)`, or, with no close one, the keys that place
 * takes. `quote` spells a key as the file's messages do (the configuration quotes them, rules do not);
 * `noun` is what a key is called there (an API's query `parameter`).
 */
export function unknownKeyText(keys: readonly string[], allowed: readonly string[] | undefined, quote: (k: string) => string = (k) => JSON.stringify(k), noun = 'key'): string {
  const named = keys.map((k) => {
    const near = allowed && closestKey(k, allowed);
    return near ? `${quote(k)} (did you mean ${quote(near)}?)` : quote(k);
  });
  const unmatched = allowed !== undefined && allowed.length > 0 && keys.some((k) => !closestKey(k, allowed));
  return `unknown ${noun}${keys.length > 1 ? 's' : ''} ${named.join(', ')}${unmatched ? `; allowed here: ${allowed.join(', ')}` : ''}`;
}
