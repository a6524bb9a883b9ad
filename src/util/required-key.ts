/**
 * What to say about a key a schema requires and a file leaves out. zod's own message is about the value
 * it found, `Invalid input: expected object, received undefined` or, for a closed set of values,
 * `Invalid option: expected one of "tiles"|"rekor-v1"`, which reads as a bad value to someone who wrote
 * none. Used as the error map of a parse (`schema.safeParse(v, { error: requiredKeyError })`): a schema's
 * own messages still win, and every other issue keeps zod's.
 */
import type { z } from 'zod';

export function requiredKeyError(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input !== undefined) return undefined;
  if (issue.code === 'invalid_type') return `required (expected ${issue.expected})`;
  if (issue.code === 'invalid_value') return `required: one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return undefined;
}
