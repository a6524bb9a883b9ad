/** A JSON value with one node replaced by another, for structure-aware hostile-input properties. */

/** `doc` with the node `choices` leads to (each number picks a key or element, modulo their count) replaced by `replacement`. */
export function replaceNode(doc: unknown, choices: number[], replacement: unknown): unknown {
  if (choices.length === 0 || doc === null || typeof doc !== 'object') return replacement;
  const [c, ...rest] = choices;
  if (Array.isArray(doc)) {
    if (doc.length === 0) return replacement;
    const i = c! % doc.length;
    return doc.map((v, j) => (j === i ? replaceNode(v, rest, replacement) : v));
  }
  const keys = Object.keys(doc);
  if (keys.length === 0) return replacement;
  const k = keys[c! % keys.length]!;
  return { ...doc, [k]: replaceNode((doc as Record<string, unknown>)[k], rest, replacement) };
}
