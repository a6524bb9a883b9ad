/** JSON parsing for untrusted input: the result is `unknown` and must be narrowed (STYLE.md habit 4). */
export function parseJsonUnknown(text: string): unknown {
  return JSON.parse(text) as unknown;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function getString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}
